/**
 * Retention: what is older than `PAYBRIDGE_RETENTION_DAYS` (30 by default) is
 * deleted in the background — request logs, PayBridge's events, Stripe's
 * events once processed, webhook deliveries once finished, payment sessions
 * once final — a thousand rows per statement, so no pass holds a table for
 * long and any number of instances may prune at once. Work still pending is
 * never pruned; expired dashboard sessions, sign-in counters and creation
 * counters go as soon as they are spent.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../store/db.js';

const BATCH = 1000;

/** Per table: the rows that are due, given the cutoff. Each table has a primary key `id` but the counters. */
const RULES: { table: string; key: string; due: (cutoff: SQL) => SQL }[] = [
  { table: 'request_logs', key: 'id', due: (c) => sql`created_at < ${c}` },
  { table: 'gateway_events', key: 'id', due: (c) => sql`created_at < ${c}` },
  { table: 'stripe_events_in', key: 'id', due: (c) => sql`status IN ('processed', 'failed') AND received_at < ${c}` },
  { table: 'app_webhook_deliveries', key: 'id', due: (c) => sql`status IN ('succeeded', 'failed', 'canceled') AND updated_at < ${c}` },
  { table: 'payment_sessions', key: 'id', due: (c) => sql`status IN ('succeeded', 'failed', 'expired', 'canceled') AND updated_at < ${c}` },
  { table: 'connect_sessions', key: 'id', due: (c) => sql`expires_at < ${c}` },
];

export type PruneCounts = Record<string, number>;

export class Retention {
  private timer?: NodeJS.Timeout;
  private running?: Promise<PruneCounts>;

  constructor(private readonly db: Db, private readonly days: number) {}

  /** Prunes now, then once an hour (never while the previous pass runs). */
  start(firstAfterMs = 60_000, everyMs = 3600_000): void {
    if (!this.days) return;
    const tick = () => {
      void this.prune().catch((e) => console.error('[paybridge] retention:', (e as Error).message));
      this.timer = setTimeout(tick, everyMs).unref();
    };
    this.timer = setTimeout(tick, firstAfterMs).unref();
  }

  /** One pass over every table; answers how many rows each lost. */
  prune(): Promise<PruneCounts> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<PruneCounts> {
    const counts: PruneCounts = {};
    if (this.days) {
      const cutoff = sql`now() - make_interval(days => ${this.days})`;
      for (const rule of RULES) {
        counts[rule.table] = 0;
        for (;;) {
          const done = await this.db.execute(sql`DELETE FROM ${sql.raw(rule.table)} WHERE ${sql.raw(rule.key)} IN
            (SELECT ${sql.raw(rule.key)} FROM ${sql.raw(rule.table)} WHERE ${rule.due(cutoff)} LIMIT ${BATCH})`);
          const n = Number((done as { rowCount?: number; affectedRows?: number }).rowCount ?? (done as { affectedRows?: number }).affectedRows ?? 0);
          counts[rule.table] += n;
          if (n < BATCH) break;
          // Other statements get their turn between batches.
          await new Promise((r) => setImmediate(r));
        }
      }
    }
    await this.db.execute(sql`DELETE FROM admin_sessions WHERE expires_at < now()`);
    await this.db.execute(sql`DELETE FROM sign_in_attempts WHERE next_allowed_at < now() - interval '1 day'`);
    await this.db.execute(sql`DELETE FROM create_counts WHERE window_start < ${Math.floor(Date.now() / 60_000) - 60}`);
    return counts;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
