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
export class RateLimiter {
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
