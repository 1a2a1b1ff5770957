/**
 * Request logs: every call PayBridge makes to Stripe, kept off the hot path.
 * Entries go to an in-memory buffer that a timer writes in batches (one
 * multi-row INSERT), so a proxied request never waits for the database.
 * Bodies are stored parsed and redacted: secrets and card data never land.
 */
import { and, desc, eq, gte, ilike, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import qs from 'qs';
import type { Db } from '../store/db.js';
import { requestLogs } from '../store/schema.js';
import { newGatewayId } from './ids.js';

export interface LogEntry {
  appId: string;
  connectionId: string | null;
  mode: string;
  method: string;
  path: string;
  status: number | null;
  durationMs: number;
  attempts: number;
  stripeRequestId: string | null;
  idempotencyKey: string | null;
  errorType: string | null;
  errorCode: string | null;
  /** Stripe's message for a failed call. */
  errorMessage?: string | null;
  /** A failed call's answer, as Stripe sent it: stored parsed, redacted and capped like request bodies. */
  response?: { contentType?: string; raw: Buffer } | null;
  /** proxy | connection_key | verify | key_check | oauth | test | paybridge | mcp:<tool> */
  source: string;
  request: unknown;
}

const SECRET_FIELD = /(number|cvc|cvv|exp_month|exp_year|secret|password|token|api_key|client_secret|account_number|routing_number|iban|ssn|id_number)/i;

/** A key or token anywhere in a string: Stripe's, PayBridge's, a webhook secret, an OAuth token. */
const SECRET_VALUE = /\b(sk|rk|pk|pb|pbk|pbr|whsec|rt|ac|sk_org)_(test_|live_)?[A-Za-z0-9_]{8,}/g;

/** Replaces secret-looking values anywhere in a parsed body with "[redacted]", inside longer strings too. */
export function redact(value: unknown, key = ''): unknown {
  if (key && SECRET_FIELD.test(key)) return '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  if (typeof value === 'string') return value.replace(SECRET_VALUE, '[redacted]');
  return value;
}

/** How much of a body is logged: the rest is cut and the entry marked truncated (a refused 650 KB body is still 650 KB). */
export const LOGGED_BODY_BYTES = 64 * 1024;

export function parsedBody(contentType: string | undefined, body: Buffer | undefined): unknown {
  if (!body?.length) return null;
  const text = body.subarray(0, LOGGED_BODY_BYTES).toString('utf8');
  try {
    return storable(redact(contentType?.includes('json') ? JSON.parse(text) : qs.parse(text, { depth: 5, parameterLimit: 500 })));
  } catch {
    return body.length > LOGGED_BODY_BYTES ? '[truncated body]' : '[unparseable body]';
  }
}

/**
 * A value PostgreSQL's text and jsonb accept: NUL and unpaired surrogates (which neither can hold) are written out
 * as their escapes, so `a\u0000b` is stored as the six characters `a\u0000b`. Invalid UTF-8 has already become
 * U+FFFD when the bytes were decoded.
 */
export function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storable(v)]));
  return value;
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function storableText(s: string): string;
export function storableText(s: string | null): string | null;
export function storableText(s: string | null): string | null {
  return s === null ? null : s.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const COLUMNS = ['id', 'app_id', 'connection_id', 'mode', 'method', 'path', 'status', 'duration_ms', 'attempts', 'stripe_request_id', 'idempotency_key', 'error_type', 'error_code', 'error_message', 'response', 'source', 'request', 'request_truncated', 'created_at'];

/** An entry as buffered: the caller's object untouched, its id and time beside it. */
interface Buffered {
  entry: LogEntry;
  id: string;
  at: number;
}

/** One entry's values in COLUMNS order; its body is parsed and redacted here, when the batch is written, not while the request waits. */
function columnValues({ entry: e, id, at }: Buffered): unknown[] {
  const raw = (e.request as { raw?: Buffer } | null)?.raw;
  return [id, e.appId, e.connectionId, e.mode, storableText(e.method), storableText(e.path), e.status, e.durationMs, e.attempts, e.stripeRequestId,
    e.idempotencyKey && storableText(e.idempotencyKey), e.errorType, e.errorCode, e.errorMessage ? storableText(String(redact(e.errorMessage.slice(0, 1000)))) : null,
    e.response ? parsedBody(e.response.contentType ?? 'application/json', e.response.raw) : null, e.source, bodyOf(e.request), Buffer.isBuffer(raw) && raw.length > LOGGED_BODY_BYTES, new Date(at).toISOString()];
}

/** The last resort for a row its batch could not store: every string made plain ASCII, the body dropped but said so. */
function safeValues(values: unknown[]): unknown[] {
  const ascii = (v: unknown) => (typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : v);
  return values.map((v, i) => (COLUMNS[i] === 'request' || COLUMNS[i] === 'response' ? (v === null ? null : '[body not storable]') : ascii(v)));
}

/** One CSV field: empty for NULL, numbers bare, anything else quoted (JSON for objects). */
function csvValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `"${text.includes('"') ? text.replace(/"/g, '""') : text}"`;
}

function bodyOf(request: unknown): unknown {
  const raw = request as { contentType?: string; raw?: Buffer } | null;
  if (raw && Buffer.isBuffer(raw.raw)) return parsedBody(raw.contentType, raw.raw);
  return request === undefined || request === null ? null : storable(request);
}

export class RequestLog {
  private buffer: Buffered[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** A flush is queued and has not started: more requests for one join it. */
  private flushQueued = false;

  constructor(private readonly db: Db, flushMs = 200, private readonly copyCsv?: (table: string, columns: string[], csv: string) => Promise<void>) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  record(entry: LogEntry): void {
    this.buffer.push({ entry, id: newGatewayId('log'), at: Date.now() });
    if (this.buffer.length >= 500) void this.flush();
  }

  /** Writes what is buffered; resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.flushQueued) return this.flushing;
    this.flushQueued = true;
    this.flushing = this.flushing.then(async () => {
      this.flushQueued = false;
      // Only what is buffered now: draining until empty wrote a small batch after every write under steady load,
      // each with a statement's fixed cost (about a hundred COPYs a second at 6,000 requests a second).
      const pending = this.buffer.splice(0);
      for (let at = 0; at < pending.length; at += 500) await this.write(pending.slice(at, at + 500).map(columnValues));
    });
    return this.flushing;
  }

  /**
   * Writes rows in one statement. A batch the database refuses is split in halves until the row it refuses is
   * alone, and that row is stored in a safe form: one app's odd bytes never cost other apps their entries.
   */
  private async write(batch: unknown[][], safe = false): Promise<void> {
    try {
      if (this.copyCsv) {
        await this.copyCsv('request_logs', COLUMNS, batch.map((values) => values.map(csvValue).join(',')).join('\n'));
        return;
      }
      // One JSON parameter for the whole batch: building a 500-row INSERT value by value cost more than the proxying it logs.
      const rows = batch.map((values) => Object.fromEntries(COLUMNS.map((c, i) => [c, values[i]])));
      await this.db.execute(sql`INSERT INTO request_logs (id, app_id, connection_id, mode, method, path, status, duration_ms, attempts,
        stripe_request_id, idempotency_key, error_type, error_code, error_message, response, source, request, request_truncated, created_at)
        SELECT id, app_id, connection_id, mode, method, path, status, duration_ms, attempts, stripe_request_id, idempotency_key,
          error_type, error_code, error_message, response, source, request, request_truncated, created_at
        FROM json_populate_recordset(NULL::request_logs, ${JSON.stringify(rows)}::json)`);
    } catch (err) {
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.write(batch.slice(0, half));
        await this.write(batch.slice(half));
      } else if (!safe) {
        await this.write([safeValues(batch[0])], true);
      } else {
        // Logging must never take the gateway down; say so (without the row, which may hold what made it fail).
        console.error('[paybridge] could not write a request log entry:', (err as Error).message);
      }
    }
  }

  async list(appId: string, mode: string, f: LogFilter & { limit: number; startingAfter?: string }) {
    await this.flush();
    const where: SQL[] = [eq(requestLogs.appId, appId), eq(requestLogs.mode, mode)];
    if (f.connection) where.push(eq(requestLogs.connectionId, f.connection));
    if (f.status !== undefined) {
      where.push(statusCondition(f.status));
      // A filter for failures leaves out the refusals a key check asked for; an exact status still finds them.
      if (!/^\d{3}$/.test(f.status)) where.push(sql`NOT (${requestLogs.source} = 'key_check' AND ${requestLogs.status} IN (403, 404))`);
    }
    if (f.method) where.push(eq(requestLogs.method, f.method.toUpperCase()));
    if (f.path) where.push(ilike(requestLogs.path, `%${f.path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    if (f.startingAfter) {
      const [cursor] = await this.db.select({ seq: requestLogs.seq }).from(requestLogs).where(eq(requestLogs.id, f.startingAfter));
      if (cursor) where.push(lt(requestLogs.seq, cursor.seq!));
    }
    const rows = await this.db.select().from(requestLogs).where(and(...where)).orderBy(desc(requestLogs.seq)).limit(f.limit + 1);
    return { object: 'list', url: '/v1/logs', has_more: rows.length > f.limit, data: rows.slice(0, f.limit).map(logView) };
  }

  async get(appId: string, mode: string, id: string) {
    await this.flush();
    const [row] = await this.db.select().from(requestLogs).where(and(eq(requestLogs.id, id), eq(requestLogs.appId, appId), eq(requestLogs.mode, mode)));
    return row ? logView(row) : undefined;
  }

  /**
   * Requests and errors per time bucket over the last `hours`, zeros included, for the dashboard's chart.
   * The 403s and 404s of a restricted key's permission probe are answers it asked for, not errors.
   */
  async stats(appId: string, mode: string, hours: number, connection?: string) {
    await this.flush();
    const bucket = (hours * 3600) / 48;
    const since = Math.floor((Date.now() / 1000 - hours * 3600) / bucket) * bucket;
    const rows = await this.db.execute(sql`SELECT floor(extract(epoch from created_at) / ${bucket})::bigint AS b, count(*)::int AS requests,
        (count(*) FILTER (WHERE (status IS NULL OR status >= 400) AND NOT (source = 'key_check' AND status IN (403, 404))))::int AS errors
      FROM request_logs WHERE app_id = ${appId} AND mode = ${mode} AND created_at >= to_timestamp(${since})
        ${connection ? sql`AND connection_id = ${connection}` : sql``}
      GROUP BY b`);
    const counted = new Map((rows as unknown as { rows: { b: string | number; requests: number; errors: number }[] }).rows.map((r) => [Number(r.b), r]));
    const first = since / bucket;
    const buckets = Array.from({ length: 49 }, (_, i) => {
      const r = counted.get(first + i);
      return { start: (first + i) * bucket, requests: r?.requests ?? 0, errors: r?.errors ?? 0 };
    });
    return { object: 'request_stats', hours, bucket_seconds: bucket, buckets, total: { requests: sum(buckets, 'requests'), errors: sum(buckets, 'errors') } };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export interface LogFilter {
  connection?: string;
  /** An exact status, `2xx`/`4xx`/`5xx`, or `error` (4xx, 5xx and no answer). */
  status?: string;
  method?: string;
  /** Part of the path, e.g. `/v1/customers`. */
  path?: string;
}

export const STATUS_FILTER = /^(\d{3}|[245]xx|error)$/;

function statusCondition(status: string): SQL {
  if (status === 'error') return or(isNull(requestLogs.status), gte(requestLogs.status, 400))!;
  if (status.endsWith('xx')) {
    const low = Number(status[0]) * 100;
    return and(gte(requestLogs.status, low), lt(requestLogs.status, low + 100))!;
  }
  return eq(requestLogs.status, Number(status));
}

const sum = (rows: Record<string, number>[], key: string) => rows.reduce((n, r) => n + r[key], 0);

function logView(r: typeof requestLogs.$inferSelect) {
  return {
    id: r.id, object: 'request_log', connection: r.connectionId, method: r.method, path: r.path, status: r.status,
    duration_ms: r.durationMs, attempts: r.attempts, stripe_request_id: r.stripeRequestId, idempotency_key: r.idempotencyKey,
    error: r.errorType ? { type: r.errorType, code: r.errorCode, message: r.errorMessage } : null, response: r.response, source: r.source, request: r.request, request_truncated: r.requestTruncated,
    created: Math.floor(r.createdAt.getTime() / 1000), livemode: r.mode === 'live',
  };
}
