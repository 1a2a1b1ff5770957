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
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { invalidRequest } from '../stripe/errors.js';
import { connections as connectionsTable, stripeEventsIn } from '../store/schema.js';
import type { Connection, Connections } from './connections.js';
import { emitGatewayEvents, type Runtime } from './runtime.js';
import type { PaymentSessions } from './sessions.js';
import type { SyncEvent, Syncs } from './syncs.js';
import { QueueWorker } from './worker.js';

interface Claimed {
  id: string;
  connection_id: string | null;
  payload: string;
  attempts: number;
  seq: string | number;
}

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

  /**
   * Stores a verified event for `connection` (or for the platform); false when it was already stored.
   * Events arriving together are stored in one insert (a group commit): each answer still waits for its
   * row to be committed, but a burst of webhooks costs one write instead of one each.
   */
  store(event: Stripe.Event, payload: string, connection?: Connection): Promise<boolean> {
    const row = { id: `${event.id}:${connection?.id ?? 'platform'}`, connectionId: connection?.id ?? null, eventId: event.id, eventType: event.type, payload };
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts a flush unless one runs. An event stored after a flush's last batch but before it is marked done would
   * otherwise wait for the next store to be flushed: the finished flush looks again.
   */
  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.waiting.length) this.kick();
    });
  }

  private waiting: { row: typeof stripeEventsIn.$inferInsert; resolve: (fresh: boolean) => void; reject: (e: unknown) => void }[] = [];
  private flushing?: Promise<void>;
  /** Events this instance stored and holds the lease on, to be processed without reading them back. */
  private handoff: (Claimed & { storedAt: number })[] = [];
  private sweptAt = 0;

  private async flush(): Promise<void> {
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, 500);
      try {
        // Stored already leased to this instance: it processes them from memory, and only a crash leaves them
        // for the sweep below, once the lease runs out.
        const lease = sql`now() + make_interval(secs => ${this.rt.config.leaseSeconds})`;
        const inserted = new Map((await this.rt.db.insert(stripeEventsIn).values(batch.map((b) => ({ ...b.row, lockedUntil: lease }))).onConflictDoNothing()
          .returning({ id: stripeEventsIn.id, seq: stripeEventsIn.seq })).map((r) => [r.id, r.seq]));
        const storedAt = Date.now();
        // The same event twice in one batch: the first is new, the second a duplicate.
        for (const b of batch) {
          const seq = inserted.get(b.row.id!);
          inserted.delete(b.row.id!);
          if (seq !== undefined) this.handoff.push({ id: b.row.id!, connection_id: b.row.connectionId ?? null, payload: b.row.payload, attempts: 0, seq, storedAt });
          b.resolve(seq !== undefined);
        }
        this.worker.wake();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
  }

  /** The next batch: handed over from `flush`, or else pending events claimed from the database. */
  private async claim(): Promise<Claimed[]> {
    // An event that waited in memory for half its lease is left to the sweep, which another instance may already run.
    const stale = Date.now() - (this.rt.config.leaseSeconds * 1000) / 2;
    while (this.handoff.length && this.handoff[0].storedAt < stale) this.handoff.shift();
    // The database is still swept once a second under a steady stream, so retries and a crashed instance's events are not starved.
    if (this.handoff.length && Date.now() - this.sweptAt < 1000) return this.handoff.splice(0, 100);
    this.sweptAt = Date.now();
    const claimed = await this.rt.db.execute(sql`
      UPDATE stripe_events_in SET locked_until = now() + make_interval(secs => ${this.rt.config.leaseSeconds})
      WHERE id IN (SELECT id FROM stripe_events_in WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
        ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED)
      RETURNING id, connection_id, payload, attempts, seq`);
    const swept = (claimed.rows as unknown as Claimed[]).sort((a, b) => Number(a.seq) - Number(b.seq));
    return swept.length ? swept : this.handoff.splice(0, 100);
  }

  private async work(): Promise<boolean> {
    const rows = await this.claim();
    if (!rows.length) return false;
    try {
      await this.process(rows);
      await this.rt.db.update(stripeEventsIn).set({ status: 'processed', processedAt: new Date(), lockedUntil: null, error: null }).where(inArray(stripeEventsIn.id, rows.map((r) => r.id)));
    } catch {
      // One bad event must not hold up the others: each is tried alone, and only the failing ones are retried later.
      for (const row of rows) {
        try {
          await this.process([row]);
          await this.rt.db.update(stripeEventsIn).set({ status: 'processed', processedAt: new Date(), lockedUntil: null, error: null }).where(eq(stripeEventsIn.id, row.id));
        } catch (e) {
          const attempts = row.attempts + 1;
          await this.rt.db.update(stripeEventsIn).set({
            status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending', attempts, error: (e as Error).message, lockedUntil: null,
            nextAttemptAt: new Date(Date.now() + Math.min(1000 * 2 ** attempts, 600_000)),
          }).where(eq(stripeEventsIn.id, row.id));
        }
      }
    }
    return true;
  }

  /**
   * Stored events, oldest first: connections revoked, payment sessions moved on, then for every connection an
   * event concerns, its records synced and the event recorded and queued for the app, a batch at a time.
   */
  private async process(rows: Claimed[]): Promise<void> {
    const pairs: { conn: Connection; event: Stripe.Event }[] = [];
    const byAccount = new Map<string, Connection[]>();
    for (const row of rows) {
      const event = JSON.parse(row.payload) as Stripe.Event;
      // An event acts only where it came from. A connection's endpoint is verified with a secret its app may have
      // chosen, so what arrives there is believed for that connection alone; account-wide effects (a
      // deauthorization revokes every app's connection to the account) need the platform's own endpoint and secret.
      if (event.type === 'account.application.deauthorized' && event.account && !row.connection_id) await this.conns.markRevoked(event.account, 'Stripe sent account.application.deauthorized');
      if (event.type.startsWith('checkout.session.')) {
        await this.sessions.onCheckoutEvent(event.data.object, row.connection_id ? { connection: row.connection_id } : { account: event.account ?? null });
      }
      let targets: Connection[] = [];
      if (row.connection_id) {
        const own = await this.conns.load(row.connection_id);
        targets = own ? [own] : [];
      } else if (event.account) {
        // The platform's endpoint hears about every connected account; each OAuth connection on that account gets the event.
        if (!byAccount.has(event.account)) {
          byAccount.set(event.account, (await this.rt.db.select().from(connectionsTable).where(and(eq(connectionsTable.accountId, event.account), isNull(connectionsTable.deletedAt))))
            .filter((c) => c.kind !== 'api_key'));
        }
        targets = byAccount.get(event.account)!;
      }
      for (const conn of targets) pairs.push({ conn, event });
    }
    await this.syncs.onEvents(pairs as unknown as { conn: Connection; event: SyncEvent }[]);
    await emitGatewayEvents(this.rt, pairs.map(({ conn, event }) => ({
      appId: conn.appId, mode: conn.mode, type: event.type, id: `${event.id}:${conn.id}`, stripeEventId: event.id, connectionId: conn.id,
      data: { ...(event.data.object as object), paybridge_connection: conn.id } as Record<string, unknown>,
    })));
  }
}
