/**
 * Failures on demand, for testing retry logic against the answers Stripe
 * gives under load: `POST /_sandbox/faults` queues 409 (`lock_timeout`),
 * 429 (`rate_limit`) or 5xx answers for the next matching requests. (A
 * steady rate limit, latency and error rate are Stripe's pace: pace.ts.)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError, invalidRequest, StripeError } from '../stripe/errors.js';

interface Fault {
  status: number;
  remaining: number;
  method?: string;
  path?: string;
  retryAfter?: number;
}

const LOCK_TIMEOUT =
  'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.';
const RATE_LIMIT = 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.';

function errorFor(status: number, retryAfter?: number): StripeError {
  const headers: Record<string, string> = { 'stripe-should-retry': 'true' };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (status === 409) return invalidRequest(LOCK_TIMEOUT, { code: 'lock_timeout', headers }, 409);
  if (status === 429) return invalidRequest(RATE_LIMIT, { code: 'rate_limit', headers }, 429);
  const e = apiError('An unknown error occurred');
  return new StripeError(status, e.type, e.message, { headers });
}

export class Faults {
  private queue: Fault[] = [];

  /** The error to answer instead of running the request, if any. */
  check(req: FastifyRequest): StripeError | undefined {
    if (!req.url.startsWith('/v1/')) return undefined;
    if (this.queue.length) {
      const path = req.url.split('?')[0];
      const fault = this.queue.find((f) => (!f.method || f.method === req.method) && (!f.path || path.startsWith(f.path)));
      if (fault) {
        if (--fault.remaining <= 0) this.queue.splice(this.queue.indexOf(fault), 1);
        return errorFor(fault.status, fault.retryAfter);
      }
    }
    return undefined;
  }

  register(app: FastifyInstance): void {
    app.post<{ Body: { status?: string | number; count?: string | number; method?: string; path?: string; retry_after?: string | number } }>('/_sandbox/faults', async (req) => {
      const b = req.body ?? {};
      const status = Number(b.status);
      if (![409, 429, 500, 502, 503].includes(status)) throw invalidRequest('Invalid status: must be one of 409, 429, 500, 502, 503', { param: 'status' });
      const count = b.count === undefined ? 1 : Number(b.count);
      if (!Number.isInteger(count) || count < 1) throw invalidRequest('Invalid count: must be a positive integer', { param: 'count' });
      this.queue.push({ status, remaining: count, method: b.method?.toUpperCase(), path: b.path, retryAfter: b.retry_after === undefined ? undefined : Number(b.retry_after) });
      return { object: 'sandbox.faults', pending: this.queue.map((f) => ({ status: f.status, remaining: f.remaining, method: f.method ?? null, path: f.path ?? null })) };
    });
    app.delete('/_sandbox/faults', async () => {
      this.queue = [];
      return { object: 'sandbox.faults', pending: [] };
    });
  }
}
