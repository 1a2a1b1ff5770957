/**
 * Limits that keep one app (or one connection) from crowding out the others:
 * a per-connection token bucket under Stripe's rate limit, a cap on the calls
 * one app has in flight (so it cannot hold every upstream socket), and a
 * per-app count of creations (connect sessions, keys, endpoints) kept in the
 * database, so every instance counts against the same window.
 */
import { sql } from 'drizzle-orm';
import { StripeError } from '../stripe/errors.js';
import type { Queryable } from '../store/db.js';

const tooMany = (message: string) => new StripeError(429, 'invalid_request_error', message, { code: 'rate_limit', headers: { 'retry-after': '1' } });

/** Per-key token bucket; a request over the rate waits for its turn rather than failing, up to a limit. */
export class RateLimiter implements Limiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number, private readonly maxWaitMs = 10_000) {}

  async acquire(key: string): Promise<void> {
    if (!this.perSecond) return;
    const started = Date.now();
    for (;;) {
      const now = Date.now();
      const b = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
      b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
      this.buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      if (now - started > this.maxWaitMs) throw tooMany('Too many requests for this connection: PayBridge keeps each connection under Stripe\'s rate limit. Retry with backoff.');
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - b.tokens) / this.perSecond) * 1000)));
    }
  }
}

/** A limiter of calls per second per key: in this process, or shared by every instance. */
export interface Limiter {
  acquire(key: string): Promise<void>;
}

/**
 * One rate limit for every instance on a shared PostgreSQL: a token bucket per key in `rate_buckets` (a second's
 * worth at most), from which each instance leases a few tokens at a time — one round trip per lease, not per call.
 * A lease not spent within a second is dropped, so no instance saves up more than the rate allows: together the
 * instances stay under it.
 */
export class SharedRateLimiter implements Limiter {
  private leases = new Map<string, { tokens: number; until: number }>();
  private leasing = new Map<string, Promise<number>>();
  private known = new Set<string>();
  constructor(private readonly db: Queryable, private readonly perSecond: number, private readonly maxWaitMs = 10_000) {}

  async acquire(key: string): Promise<void> {
    if (!this.perSecond) return;
    const started = Date.now();
    for (;;) {
      const lease = this.leases.get(key);
      if (lease && lease.tokens >= 1 && Date.now() < lease.until) {
        lease.tokens -= 1;
        return;
      }
      // One lease request per key at a time; the calls waiting on it share what it brings.
      let leasing = this.leasing.get(key);
      if (!leasing) {
        leasing = this.lease(key).finally(() => this.leasing.delete(key));
        this.leasing.set(key, leasing);
      }
      const waitMs = await leasing;
      if (!waitMs) continue;
      if (Date.now() - started + waitMs > this.maxWaitMs) throw tooMany("Too many requests for this Stripe account: PayBridge keeps every instance together under Stripe's rate limit. Retry with backoff.");
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** Takes up to a fifth of a second's tokens from the shared bucket; answers how long to wait when there were none. */
  private async lease(key: string): Promise<number> {
    const rate = this.perSecond;
    const batch = Math.max(1, Math.floor(rate / 5));
    if (!this.known.has(key)) {
      await this.db.execute(sql`INSERT INTO rate_buckets (key, tokens) VALUES (${key}, ${rate}) ON CONFLICT (key) DO NOTHING`);
      this.known.add(key);
    }
    const row = (await this.db.execute(sql`
      WITH cur AS (SELECT LEAST(${rate}::float8, tokens + EXTRACT(EPOCH FROM clock_timestamp() - updated_at)::float8 * ${rate}) AS avail
        FROM rate_buckets WHERE key = ${key} FOR UPDATE),
      g AS (SELECT avail, LEAST(${batch}::float8, floor(avail)) AS granted FROM cur)
      UPDATE rate_buckets SET tokens = g.avail - g.granted, updated_at = clock_timestamp() FROM g WHERE key = ${key}
      RETURNING g.granted::float8 AS granted, g.avail::float8 AS avail`)).rows[0] as { granted: number; avail: number } | undefined;
    if (!row) {
      this.known.delete(key);
      return 1;
    }
    if (row.granted >= 1) {
      this.leases.set(key, { tokens: row.granted, until: Date.now() + 1000 });
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - row.avail) / rate) * 1000));
  }
}

/** At most `limit` calls in flight per key; the rest wait in line (up to `maxWaitMs`, then 429). */
export class ConcurrencyGate {
  private active = new Map<string, number>();
  private queues = new Map<string, (() => void)[]>();
  constructor(private readonly limit: number, private readonly maxWaitMs = 10_000) {}

  /** Runs `fn` once the key has a free place. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.enter(key);
    try {
      return await fn();
    } finally {
      this.leave(key);
    }
  }

  private async enter(key: string): Promise<void> {
    const n = this.active.get(key) ?? 0;
    if (n < this.limit) {
      this.active.set(key, n + 1);
      return;
    }
    const queue = this.queues.get(key) ?? [];
    this.queues.set(key, queue);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(admit), 1);
        reject(tooMany(`Too many calls in flight for this app (at most ${this.limit} at once). Retry with backoff.`));
      }, this.maxWaitMs);
      // The place is handed over by leave(): the count stays as it is.
      const admit = () => {
        clearTimeout(timer);
        resolve();
      };
      queue.push(admit);
    });
  }

  private leave(key: string): void {
    const next = this.queues.get(key)?.shift();
    if (next) return next();
    const n = (this.active.get(key) ?? 1) - 1;
    if (n <= 0) {
      this.active.delete(key);
      this.queues.delete(key);
    } else this.active.set(key, n);
  }
}

/**
 * Counts one creation of `what` by `appId` in the current minute, atomically in the database; refuses it with 429
 * once the app has made `perMinute` of them. Answers the count so far.
 */
export async function countCreation(db: Queryable, appId: string, what: string, perMinute: number): Promise<number> {
  const window = Math.floor(Date.now() / 60_000);
  const result = await db.execute(sql`INSERT INTO create_counts (key, window_start, count) VALUES (${`${appId}:${what}`}, ${window}, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = create_counts.count + 1 RETURNING count`);
  const count = Number((result.rows[0] as { count: number }).count);
  if (count > perMinute) throw tooMany(`Too many ${what} created: at most ${perMinute} a minute per app. Retry in a minute.`);
  return count;
}
