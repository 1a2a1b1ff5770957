/**
 * Stripe's webhooks, in: the signature is checked against every configured
 * secret (several during a rotation) within Stripe's five-minute tolerance,
 * the event is stored once per connection (a retried event is a duplicate
 * of its row), Stripe gets its 200 at once, and a worker processes stored
 * events afterwards: connections revoked, payment sessions moved on, records
 * synced, and the event passed to the app's webhook endpoints. A crash
 * between the 200 and the processing loses nothing: the row is still pending.
 */
import Stripe from 'stripe';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { invalidRequest } from '../sandbox/errors.js';
import { connections as connectionsTable, stripeEventsIn } from '../store/schema.js';
import type { Connection, Connections } from './connections.js';
import { emitGatewayEvent, type Runtime } from './runtime.js';
import type { PaymentSessions } from './sessions.js';
import type { Syncs } from './syncs.js';
import { QueueWorker } from './worker.js';

/** Stripe's own default: a signature older than this is refused, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
const MAX_ATTEMPTS = 8;

/** The event, if `header` signs `payload` with any of `secrets` within the tolerance; otherwise Stripe's reason. */
export function verifyStripeEvent(payload: string, header: string, secrets: string[], toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): Stripe.Event {
  let last: Error | undefined;
  for (const secret of secrets) {
    try {
      return Stripe.webhooks.constructEvent(payload, header, secret, toleranceSeconds);
    } catch (e) {
      // A signature that matched but is too old says more than the other secrets' mismatches.
      if (!last || /tolerance/i.test((e as Error).message)) last = e as Error;
    }
  }
  throw invalidRequest(`Webhook signature verification failed: ${last?.message ?? 'no signing secret is configured'}`, { code: 'signature_invalid' });
}

export class StripeEventsIn {
  private readonly worker = new QueueWorker('Stripe event processing', () => this.work());

  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly sessions: PaymentSessions, private readonly syncs: Syncs) {}

  start(intervalMs = 250): void {
    this.worker.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Stores a verified event for `connection` (or for the platform); false when it was already stored. */
  async store(event: Stripe.Event, payload: string, connection?: Connection): Promise<boolean> {
    const scope = connection?.id ?? 'platform';
    const inserted = await this.rt.db.insert(stripeEventsIn).values({
      id: `${event.id}:${scope}`, connectionId: connection?.id ?? null, eventId: event.id, eventType: event.type, payload,
    }).onConflictDoNothing().returning({ id: stripeEventsIn.id });
    if (inserted.length) this.worker.wake();
    return inserted.length > 0;
  }

  private async work(): Promise<boolean> {
    const claimed = await this.rt.db.execute(sql`
      UPDATE stripe_events_in SET locked_until = now() + make_interval(secs => ${this.rt.config.leaseSeconds})
      WHERE id IN (SELECT id FROM stripe_events_in WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
        ORDER BY seq LIMIT 20 FOR UPDATE SKIP LOCKED)
      RETURNING id, connection_id, payload, attempts`);
    const rows = claimed.rows as { id: string; connection_id: string | null; payload: string; attempts: number }[];
    for (const row of rows) {
      try {
        await this.process(JSON.parse(row.payload) as Stripe.Event, row.connection_id);
        await this.rt.db.update(stripeEventsIn).set({ status: 'processed', processedAt: new Date(), lockedUntil: null, error: null }).where(eq(stripeEventsIn.id, row.id));
        await new Promise((r) => setImmediate(r));
      } catch (e) {
        const attempts = row.attempts + 1;
        await this.rt.db.update(stripeEventsIn).set({
          status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', attempts, error: (e as Error).message, lockedUntil: null,
          nextAttemptAt: new Date(Date.now() + Math.min(1000 * 2 ** attempts, 600_000)),
        }).where(eq(stripeEventsIn.id, row.id));
      }
    }
    return rows.length > 0;
  }

  private async process(event: Stripe.Event, connectionId: string | null): Promise<void> {
    if (event.type === 'account.application.deauthorized' && event.account) await this.conns.markRevoked(event.account, 'Stripe sent account.application.deauthorized');
    if (event.type.startsWith('checkout.session.')) await this.sessions.onCheckoutEvent(event.type, event.data.object);
    const own = connectionId ? await this.conns.load(connectionId) : undefined;
    // The platform's endpoint hears about every connected account; each OAuth connection on that account gets the event.
    const targets = connectionId ? (own ? [own] : []) : event.account
      ? (await this.rt.db.select().from(connectionsTable).where(and(eq(connectionsTable.accountId, event.account), isNull(connectionsTable.deletedAt)))).filter((c) => c.kind !== 'api_key')
      : [];
    for (const conn of targets) {
      await this.syncs.onEvent(conn, event as unknown as { type: string; created: number; data: { object: Record<string, unknown> } });
      await emitGatewayEvent(this.rt, conn.appId, conn.mode, event.type, { ...(event.data.object as object), paybridge_connection: conn.id } as Record<string, unknown>, `${event.id}:${conn.id}`);
    }
  }
}
