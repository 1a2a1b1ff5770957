/**
 * Events without webhooks: an API-key connection that has no webhook endpoint (its key may not create one, and
 * no signing secret was configured) gets Stripe's events by reading `GET /v1/events` from where it last got to, and
 * each event found is stored and processed exactly as a received webhook is (the same table, the same dedup by
 * event id), so payment sessions, records and apps' webhooks work the same. Each poll is one call within the
 * connection's rate limit; one instance at a time polls a connection (a lease in its row).
 */
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { AppKey } from './apps.js';
import type { Mode } from './config.js';
import type { Connection, Connections } from './connections.js';
import type { StripeEventsIn } from './inbound.js';
import type { Proxy } from './proxy.js';
import type { Runtime } from './runtime.js';
import { QueueWorker } from './worker.js';

/** The last `created` second read, and the ids already seen in it (events of one second may come in two polls). */
interface Cursor {
  created: number;
  ids: string[];
}

/** Connections polled per pass, at most: the rest wait for the next one. */
const PER_PASS = 50;

export class EventPoller {
  private readonly worker = new QueueWorker('Stripe event polling', () => this.pass());

  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly proxy: Proxy, private readonly inbound: StripeEventsIn) {}

  start(intervalMs = this.rt.config.eventsPollMs): void {
    if (intervalMs > 0) this.worker.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** One pass: every connection due for a poll, leased to this instance for a few poll intervals. */
  private async pass(): Promise<boolean> {
    const leaseMs = Math.max(5000, this.rt.config.eventsPollMs * 5);
    const due = (await this.rt.db.execute(sql`
      UPDATE connections SET events_polled_until = now() + make_interval(secs => ${leaseMs / 1000})
      WHERE id IN (SELECT id FROM connections
        WHERE kind = 'api_key' AND webhook_secret_id IS NULL AND deleted_at IS NULL AND status = 'active'
          AND coalesce(permissions->>'events', 'read') <> 'none' AND (events_polled_until IS NULL OR events_polled_until < now())
        ORDER BY id LIMIT ${PER_PASS} FOR UPDATE SKIP LOCKED)
      RETURNING id, events_cursor, created_at`)).rows as { id: string; events_cursor: Cursor | null; created_at: string | Date }[];
    await Promise.all(due.map(async (row) => {
      try {
        const conn = await this.conns.load(row.id, true);
        if (conn) await this.poll(conn, row.events_cursor ?? { created: Math.floor(new Date(row.created_at).getTime() / 1000), ids: [] });
      } catch (e) {
        console.error(`[paybridge] polling events of ${row.id}:`, (e as Error).message);
      } finally {
        // Due again at the next pass: the lease only keeps two instances from polling it at once.
        await this.rt.db.execute(sql`UPDATE connections SET events_polled_until = NULL WHERE id = ${row.id}`);
      }
    }));
    return false;
  }

  /** Reads the events since `cursor`, oldest first, stores the new ones and moves the cursor past them. */
  private async poll(conn: Connection, cursor: Cursor): Promise<void> {
    const app: AppKey = { appId: conn.appId, mode: conn.mode as Mode, keyId: 'events' };
    const found: Stripe.Event[] = [];
    let after: string | undefined;
    // Every page since the cursor (usually one): Stripe lists newest first, so a backlog must be read whole before
    // the oldest of it is known.
    for (;;) {
      const body = await this.proxy.requestBytes(app, conn, 'GET', `/v1/events?limit=100&created[gte]=${cursor.created}${after ? `&starting_after=${after}` : ''}`, undefined, undefined, 'events_poll');
      const list = JSON.parse(body.toString('utf8')) as { data: Stripe.Event[]; has_more: boolean };
      found.push(...list.data);
      if (!list.has_more || !list.data.length) break;
      after = list.data.at(-1)!.id;
    }
    const seen = new Set(cursor.ids);
    // Stripe lists newest first; they are processed in the order they happened.
    const fresh = found.filter((e) => !seen.has(e.id)).sort((a, b) => a.created - b.created);
    if (!fresh.length) return;
    // Stored together (one insert), in the order they happened.
    await Promise.all(fresh.map((event) => this.inbound.store(event, JSON.stringify(event), conn)));
    const newest = fresh.at(-1)!.created;
    const ids = [...(newest === cursor.created ? cursor.ids : []), ...fresh.filter((e) => e.created === newest).map((e) => e.id)];
    await this.rt.db.execute(sql`UPDATE connections SET events_cursor = ${JSON.stringify({ created: newest, ids })}::jsonb WHERE id = ${conn.id}`);
  }
}
