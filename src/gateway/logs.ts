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
  /** proxy | connection_key | verify | oauth | test */
  source: string;
  request: unknown;
}

const SECRET_FIELD = /(number|cvc|cvv|exp_month|exp_year|secret|password|token|api_key|client_secret|account_number|routing_number|iban|ssn|id_number)/i;

/** Replaces secret-looking values anywhere in a parsed body with "[redacted]". */
export function redact(value: unknown, key = ''): unknown {
  if (key && SECRET_FIELD.test(key)) return '[redacted]';
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  if (typeof value === 'string' && /^(sk|rk|pk|pb|pbk|whsec|rt|ac)_(test_|live_)?[A-Za-z0-9]{8,}/.test(value)) return '[redacted]';
  return value;
}

export function parsedBody(contentType: string | undefined, body: Buffer | undefined): unknown {
  if (!body?.length) return null;
  const text = body.toString('utf8');
  try {
    return redact(contentType?.includes('json') ? JSON.parse(text) : qs.parse(text, { depth: 5, parameterLimit: 500 }));
  } catch {
    return '[unparseable body]';
  }
}

const COLUMNS = ['id', 'app_id', 'connection_id', 'mode', 'method', 'path', 'status', 'duration_ms', 'attempts', 'stripe_request_id', 'idempotency_key', 'error_type', 'error_code', 'source', 'request', 'created_at'];

/** An entry as buffered: the caller's object untouched, its id and time beside it. */
interface Buffered {
  entry: LogEntry;
  id: string;
  at: number;
}

/** One entry's values in COLUMNS order; its body is parsed and redacted here, when the batch is written, not while the request waits. */
function columnValues({ entry: e, id, at }: Buffered): unknown[] {
  return [id, e.appId, e.connectionId, e.mode, e.method, e.path, e.status, e.durationMs, e.attempts, e.stripeRequestId,
    e.idempotencyKey, e.errorType, e.errorCode, e.source, bodyOf(e.request), new Date(at).toISOString()];
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
  return request ?? null;
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
      for (let at = 0; at < pending.length; at += 500) {
        try {
          const batch = pending.slice(at, at + 500).map(columnValues);
          if (this.copyCsv) {
            await this.copyCsv('request_logs', COLUMNS, batch.map((values) => values.map(csvValue).join(',')).join('\n'));
            continue;
          }
          // One JSON parameter for the whole batch: building a 500-row INSERT value by value cost more than the proxying it logs.
          const rows = batch.map((values) => Object.fromEntries(COLUMNS.map((c, i) => [c, values[i]])));
          await this.db.execute(sql`INSERT INTO request_logs (id, app_id, connection_id, mode, method, path, status, duration_ms, attempts,
            stripe_request_id, idempotency_key, error_type, error_code, source, request, created_at)
            SELECT id, app_id, connection_id, mode, method, path, status, duration_ms, attempts, stripe_request_id, idempotency_key,
              error_type, error_code, source, request, created_at
            FROM json_populate_recordset(NULL::request_logs, ${JSON.stringify(rows)}::json)`);
        } catch (err) {
          // Logging must never take the gateway down; say so and drop the batch.
          console.error('[paybridge] could not write request logs:', (err as Error).message);
        }
      }
    });
    return this.flushing;
  }

  async list(appId: string, mode: string, f: LogFilter & { limit: number; startingAfter?: string }) {
    await this.flush();
    const where: SQL[] = [eq(requestLogs.appId, appId), eq(requestLogs.mode, mode)];
    if (f.connection) where.push(eq(requestLogs.connectionId, f.connection));
    if (f.status !== undefined) where.push(statusCondition(f.status));
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
        (count(*) FILTER (WHERE (status IS NULL OR status >= 400) AND NOT (source = 'verify' AND status IN (403, 404))))::int AS errors
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
    error: r.errorType ? { type: r.errorType, code: r.errorCode } : null, source: r.source, request: r.request,
    created: Math.floor(r.createdAt.getTime() / 1000), livemode: r.mode === 'live',
  };
}
