/**
 * Stripe's pace, on demand: how long an answer takes (`latency_ms` ±
 * `latency_jitter_ms`), how many requests an account may make a second
 * (`rate_limit`, Stripe's is 25 in test mode and 100 live; 0 is no limit)
 * and a share of requests answered 500 (`error_rate`, 0 to 1). Set at start
 * (`paybridge sandbox --latency-ms 250 --rate-limit 25`) or at run time
 * (`POST /_sandbox/config`), so a test can seed fast and then switch to
 * Stripe's pace. The limit is per account, as Stripe's is: two keys of one
 * account share it, and a platform acting on a connected account spends the
 * connected account's.
 */
import { apiError, invalidRequest, StripeError } from '../stripe/errors.js';

export interface PaceConfig {
  latency_ms: number;
  latency_jitter_ms: number;
  rate_limit: number;
  error_rate: number;
}

const RATE_LIMITED =
  'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.';

const LIMITS: Record<keyof PaceConfig, [min: number, max: number]> = {
  latency_ms: [0, 60_000],
  latency_jitter_ms: [0, 60_000],
  rate_limit: [0, 100_000],
  error_rate: [0, 1],
};

export class Pace {
  private config: PaceConfig;
  private buckets = new Map<string, { tokens: number; at: number }>();
  /** Requests refused by the rate limit since the pace was last set: what a bench or a test reads to count 429s. */
  private refused = 0;

  constructor(initial: Partial<PaceConfig> = {}) {
    this.config = { latency_ms: 0, latency_jitter_ms: 0, rate_limit: 0, error_rate: 0 };
    this.set(initial);
  }

  get current(): PaceConfig & { rate_limited: number } {
    return { ...this.config, rate_limited: this.refused };
  }

  /** Changes the given settings (numbers, or numeric strings as a form sends them); refuses the whole change on any bad one. */
  set(change: Record<string, unknown>): PaceConfig & { rate_limited: number } {
    const next = { ...this.config };
    for (const [name, raw] of Object.entries(change)) {
      if (raw === undefined) continue;
      if (!(name in LIMITS)) throw invalidRequest(`Received unknown parameter: ${name}. The sandbox's pace takes ${Object.keys(LIMITS).join(', ')}.`, { param: name, code: 'parameter_unknown' });
      const [min, max] = LIMITS[name as keyof PaceConfig];
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value) || value < min || value > max) throw invalidRequest(`Invalid ${name}: give a number from ${min} to ${max}.`, { param: name });
      next[name as keyof PaceConfig] = value;
    }
    if (next.rate_limit !== this.config.rate_limit) this.buckets.clear();
    this.config = next;
    this.refused = 0;
    return this.current;
  }

  /** Milliseconds to hold this answer: the latency, moved by up to the jitter either way. */
  delay(): number {
    const { latency_ms: base, latency_jitter_ms: jitter } = this.config;
    if (!base && !jitter) return 0;
    return Math.max(0, base + (Math.random() * 2 - 1) * jitter);
  }

  /**
   * The error to answer instead of running a request on `account`, if any: 429 above the account's rate (a token
   * bucket holding one second of requests, as Stripe's allows short bursts), or a 500 at the configured rate.
   */
  admit(account: string): StripeError | undefined {
    const { rate_limit: rate, error_rate: errorRate } = this.config;
    if (rate) {
      const now = Date.now();
      const bucket = this.buckets.get(account) ?? { tokens: rate, at: now };
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
      this.buckets.set(account, bucket);
      if (bucket.tokens < 1) {
        this.refused++;
        // Stripe names which limiter refused; it documents no Retry-After for rate limits.
        return invalidRequest(RATE_LIMITED, { code: 'rate_limit', headers: { 'stripe-rate-limited-reason': 'global-rate' } }, 429);
      }
      bucket.tokens -= 1;
    }
    if (errorRate && Math.random() < errorRate) {
      const e = apiError('An unknown error occurred');
      return new StripeError(500, e.type, e.message, { headers: { 'stripe-should-retry': 'true' } });
    }
    return undefined;
  }
}
