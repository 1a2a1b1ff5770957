/**
 * Calls to Stripe (or the sandbox, or any Stripe-compatible host): kept-alive
 * connections, an `Idempotency-Key` on every POST that lacks one, and
 * retries on network errors, 409, 429 and 5xx with exponential backoff,
 * honouring `Retry-After` and `Stripe-Should-Retry` as Stripe's SDKs do.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';

export interface UpstreamRequest {
  method: string;
  /** Path with query string: `/v1/customers?limit=3`. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface UpstreamAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  attempts: number;
  durationMs: number;
  idempotencyKey?: string;
  /** Set when no answer came back at all (every attempt failed to connect). */
  networkError?: string;
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, baseDelayMs: 250, maxDelayMs: 5000 };

export interface UpstreamTimeouts {
  connectMs: number;
  /** Stripe's SDKs wait 80 s for an answer: so does PayBridge, and no longer. */
  headersMs: number;
  bodyMs: number;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = { connectMs: 10_000, headersMs: 80_000, bodyMs: 30_000 };

const RETRYABLE = new Set([409, 429, 500, 502, 503, 504]);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Upstream {
  private readonly dispatcher: Agent;
  private readonly origin: string;
  private readonly basePath: string;

  /** `socketPath`: reach `base` through this Unix socket instead (the embedded sandbox's). */
  constructor(readonly base: string, private readonly retry: RetryPolicy = DEFAULT_RETRY, socketPath?: string, readonly timeouts: UpstreamTimeouts = DEFAULT_TIMEOUTS) {
    // Every call is bounded: connecting, waiting for the answer's headers, and each pause in its body. A call that
    // breaks one of them fails alone; the pool's other sockets carry on.
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000, connections: 128, pipelining: 1, headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.bodyMs,
      connect: { timeout: timeouts.connectMs, ...(socketPath ? { socketPath } : {}) },
    });
    // Parsed once: handing undici a URL string per request had it parse one per request.
    const url = new URL(base);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/$/, '');
  }

  async send(req: UpstreamRequest): Promise<UpstreamAnswer> {
    const started = performance.now();
    const headers = { ...req.headers };
    let idempotencyKey = headers['idempotency-key'];
    if (req.method === 'POST' && !idempotencyKey) {
      // A retried POST must not charge twice: every POST gets a key, kept across retries.
      idempotencyKey = `pb-${randomUUID()}`;
      headers['idempotency-key'] = idempotencyKey;
    }
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const res = await this.exchange(req.method, this.basePath + req.path, headers, req.body);
        const delay = this.retryDelay(res.status, res.headers, attempt);
        if (delay === undefined) {
          return { ...res, attempts: attempt, durationMs: performance.now() - started, idempotencyKey };
        }
        await sleep(delay);
      } catch (e) {
        if (attempt > this.retry.maxRetries) {
          return { status: 0, headers: {}, body: Buffer.alloc(0), attempts: attempt, durationMs: performance.now() - started, idempotencyKey, networkError: (e as Error).message };
        }
        await sleep(this.backoff(attempt));
      }
    }
  }

  /**
   * One request and its whole answer. Through undici's handler interface rather than `request()`: that wraps
   * every answer in a Readable stream, a few microseconds a call that the proxy's throughput felt.
   */
  private exchange(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let settled = false;
      const answerHeaders: Record<string, string> = {};
      const chunks: Buffer[] = [];
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      try {
        this.dispatcher.dispatch({ origin: this.origin, path, method: method as 'GET', headers, body }, {
          // Its presence is what tells undici this handler speaks the current interface.
          onRequestStart: () => undefined,
          onResponseStart: (_controller, statusCode, received) => {
            status = statusCode;
            for (const k in received) {
              const v = received[k];
              if (v !== undefined && !HOP_BY_HOP.has(k)) answerHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
            }
          },
          onResponseData: (_controller, chunk) => void chunks.push(chunk),
          onResponseEnd: () => {
            settled = true;
            resolve({ status, headers: answerHeaders, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
          },
          onResponseError: (_controller, error) => fail(error),
          // A request undici refuses before sending (a bad header, say) is reported here by some versions.
          onError: (error: Error) => fail(error),
        } as Parameters<Agent['dispatch']>[1]);
      } catch (e) {
        fail(e as Error);
      }
    });
  }

  /** How long to wait before retrying an answer, or undefined to return it. */
  private retryDelay(status: number, headers: Record<string, string>, attempt: number): number | undefined {
    if (attempt > this.retry.maxRetries) return undefined;
    const should = headers['stripe-should-retry'];
    if (should === 'false') return undefined;
    if (should !== 'true' && !RETRYABLE.has(status)) return undefined;
    const retryAfter = Number(headers['retry-after']);
    if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, this.retry.maxDelayMs);
    return this.backoff(attempt);
  }

  /** Exponential backoff with jitter: base, 2×base, 4×base… capped. */
  private backoff(attempt: number): number {
    const exp = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
    return exp / 2 + Math.random() * (exp / 2);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
