/**
 * Syncs: a connection's Stripe data kept in the database. A backfill pages
 * through each model's list (resumable: the cursor is saved after every
 * page), then Stripe's events keep records current. Every record carries the
 * time of the version it holds, and an upsert only replaces an older one,
 * so events arriving out of order never overwrite newer data.
 */
import { sql, type SQL } from 'drizzle-orm';
import { invalidRequest, StripeError } from '../stripe/errors.js';
import type { AppKey } from './apps.js';
import type { Connection, Connections } from './connections.js';
import type { Proxy } from './proxy.js';
import { emitGatewayEvent, emitGatewayEvents, type GatewayEventInput, type Runtime } from './runtime.js';
import type { Mode } from './config.js';
import { QueueWorker } from './worker.js';
import { scanListPage } from './list-scan.js';
import { permissionFor } from '../stripe/routes.js';
import { describeFailure, Outbound, refusedUrlReason } from '../net/outbound.js';

/**
 * Model → its list path, the event type prefixes that change it, and what is expanded on it (read from Stripe
 * then, events included, since an event carries the object unexpanded).
 */
/**
 * `platform` marks the platform's own objects about a connected account: on a Connect OAuth connection they are
 * read as the platform (no Stripe-Account) and only the connection's account's are kept — fees by their `account`,
 * transfers by `destination`. They change by the platform's own events, which connections do not receive, so a
 * new sync (or a later one) brings them up to date.
 */
export const MODELS: Record<string, { path: string; events: string[]; expand?: string; platform?: 'account' | 'destination' }> = {
  customers: { path: '/v1/customers', events: ['customer.created', 'customer.updated', 'customer.deleted'] },
  products: { path: '/v1/products', events: ['product.'] },
  prices: { path: '/v1/prices', events: ['price.'] },
  subscriptions: { path: '/v1/subscriptions?status=all', events: ['customer.subscription.'] },
  // An invoice's payments link it to the charges that paid it: revenue by product comes from its lines.
  invoices: { path: '/v1/invoices?expand[]=data.payments', events: ['invoice.'], expand: 'payments' },
  payment_intents: { path: '/v1/payment_intents', events: ['payment_intent.'] },
  charges: { path: '/v1/charges', events: ['charge.succeeded', 'charge.failed', 'charge.captured', 'charge.refunded', 'charge.updated', 'charge.pending', 'charge.expired'] },
  refunds: { path: '/v1/refunds', events: ['refund.'] },
  disputes: { path: '/v1/disputes', events: ['charge.dispute.'] },
  payouts: { path: '/v1/payouts', events: ['payout.'] },
  application_fees: { path: '/v1/application_fees', events: [], platform: 'account' },
  transfers: { path: '/v1/transfers', events: [], platform: 'destination' },
};

/** Whether `model` is read as the platform for `conn` (a Connect OAuth connection), and how it is narrowed to its account. */
const platformScope = (conn: Connection, model: string) => (conn.kind === 'oauth' && conn.accountId ? MODELS[model].platform : undefined);

export function modelOfEvent(type: string): string | undefined {
  return Object.entries(MODELS).find(([, m]) => m.events.some((e) => (e.endsWith('.') ? type.startsWith(e) : type === e)))?.[0];
}

/** How many models of one connection are backfilled at the same time: all of them, so the largest does not wait for the others. */
const MODELS_AT_ONCE = Object.keys(MODELS).length;
/** Pages written per statement: fewer, larger statements cost less per record (measured: 5 to 10 pages gained most). */
const PAGES_PER_WRITE = 10;

interface Version {
  object: Record<string, any>;
  version: number;
  deleted: boolean;
}

export interface SyncEvent {
  type: string;
  created: number;
  data: { object: Record<string, any> };
}

/** Whether an event removes its object. A subscription's `.deleted` is its cancellation: Stripe still returns it, as canceled. */
const isDeletion = (type: string) => type.endsWith('.deleted') && type !== 'customer.subscription.deleted';

/** One `records.added` / `records.updated` / `records.deleted` event per record a write changed. */
function announce(conn: Connection, model: string, items: Version[], changes: { added: string[]; updated: string[] }): GatewayEventInput[] {
  const deleted = new Set(items.filter((i) => i.deleted).map((i) => String(i.object.id)));
  const type = (id: string, added: boolean) => (deleted.has(id) ? 'records.deleted' : added ? 'records.added' : 'records.updated');
  return [...changes.added.map((id) => [id, true] as const), ...changes.updated.map((id) => [id, false] as const)]
    .map(([id, added]) => ({ appId: conn.appId, mode: conn.mode, type: type(id, added), data: { connection: conn.id, model, id } }));
}

/** A page of a Stripe list: the ids of its objects, and the bytes they came in. */
interface ListPage {
  ids: string[];
  body: Buffer;
}

/** Thrown by a backfill's write when its connection was deleted (on this instance or another). */
class SyncGone extends Error {}

const JSONB_OPEN = Buffer.from([1, 0x5b]);
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * JSON texts (list pages, as the bytes Stripe sent) as one array in jsonb's binary input format: a version byte,
 * then the text. Parsing and serializing them again here cost more than the database's own parse, and as text
 * PGlite spent longer taking the parameter in than parsing it.
 */
export function jsonbArrayOf(texts: Buffer[]): Buffer {
  return Buffer.concat([JSONB_OPEN, ...texts.flatMap((t, i) => (i ? [COMMA, t] : [t])), CLOSE]);
}

interface Progress {
  cursor: string | null;
  count: number;
  /** The range the pages belong to (its `hi`). */
  range: number;
}

/** A `created` range of a model's backfill: [lo, hi), read from `cursor` on; the rest is what its reader knows. */
interface Range {
  lo: number;
  hi: number;
  cursor: string | null;
  done: boolean;
  /** `created` of the last object read: the range has got this far down. */
  position?: number;
  /** `created` of the first object read, for the step of the first probe. */
  newest?: number;
  more?: boolean;
  pages?: number;
}

/** The upper bound of a model's first range: all of time (a bigint column, and a whole double). */
const ALL_TIME = 2 ** 53 - 1;
/** Ranges of one model read at the same time: enough to keep Stripe's rate limit busy at a few hundred ms a page. */
const RANGES_AT_ONCE = 8;
/** Pages a model's first range reads before the rest of its history is split into ranges: smaller models never are. */
const PAGES_BEFORE_SPLIT = 2;
/** How many times a page refused with 429 (after the upstream's own retries) is asked for again before the model fails. */
const RATE_LIMITED_ATTEMPTS = 20;

export class Syncs {
  private running = new Map<string, Promise<void>>();
  /** Connections being deleted: their backfills stop at the next page. */
  private readonly dropping = new Set<string>();
  private readonly resumer = new QueueWorker('sync resume', () => this.resumeOrphans());
  private stopping = false;

  private readonly outbound: Outbound;

  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly proxy: Proxy) {
    this.outbound = new Outbound(rt.config.allowPrivateUrls, { timeoutMs: 10_000, maxSockets: 4, userAgent: 'PayBridge/1.0 (sync alerts)' });
  }

  /** Backfill pages: one statement, and one `records.added` / `records.updated` event per model listing the ids. */
  private async upsertPages(conn: Connection, model: string, pages: ListPage[], versionAt: number, progress: Progress): Promise<void> {
    const { added, updated, gone } = await this.write(conn, model, { pages, version: versionAt }, progress);
    if (gone) throw new SyncGone();
    const events = [['records.added', added], ['records.updated', updated]] as const;
    await emitGatewayEvents(this.rt, events.filter(([, ids]) => ids.length).map(([type, ids]) => ({ appId: conn.appId, mode: conn.mode, type, data: { connection: conn.id, model, ids } })));
  }

  /**
   * Writes versions of objects as records in one statement (one row per object: elements of a JSON array of
   * versions, or the objects of list pages), each unless the stored version is newer. Only rows whose content
   * changed are rewritten, so the conflict check is the primary key's and nothing else is read: a page costs the
   * same however many records the model already holds. Unchanged rows still have their version moved forward.
   */
  private async write(conn: Connection, model: string, source: { items: Version[] } | { pages: ListPage[]; version: number }, progress?: Progress) {
    // A backfill page also moves its model's cursor, in the same statement.
    const saveProgress = progress
      ? sql`, progress AS (UPDATE sync_state SET synced = synced + ${progress.count}, locked_until = ${this.lease()}, updated_at = now()
          WHERE connection_id = ${conn.id} AND model = ${model}),
        range_progress AS (UPDATE sync_ranges SET cursor = ${progress.cursor} WHERE connection_id = ${conn.id} AND model = ${model} AND hi = ${progress.range})`
      : sql``;
    const rows = 'items' in source
      ? sql`SELECT ${conn.id}, ${model}, e->'o'->>'id', e->'o', (e->'o'->>'created')::bigint, (e->>'v')::bigint, (e->>'d')::boolean
          FROM jsonb_array_elements(${JSON.stringify(source.items.map((i) => ({ o: i.object, v: i.version, d: i.deleted })))}::jsonb) AS e`
      : sql`SELECT ${conn.id}, ${model}, e->>'id', e, (e->>'created')::bigint, ${source.version}::bigint, false
          FROM jsonb_array_elements(${jsonbArrayOf(source.pages.map((p) => p.body))}::jsonb) AS p, jsonb_array_elements(p->'data') AS e
          ${platformScope(conn, model) === 'account' ? sql`WHERE e->>'account' = ${conn.accountId}` : sql``}`;
    const upsert = sql`
      WITH written AS (INSERT INTO records (connection_id, model, id, data, stripe_created, version_at, deleted)
      ${rows}
      ON CONFLICT (connection_id, model, id) DO UPDATE SET data = EXCLUDED.data, version_at = EXCLUDED.version_at,
        deleted = EXCLUDED.deleted, stripe_created = EXCLUDED.stripe_created, updated_at = now(), seq = DEFAULT
      WHERE records.version_at <= EXCLUDED.version_at AND (records.data IS DISTINCT FROM EXCLUDED.data OR records.deleted <> EXCLUDED.deleted)
      RETURNING records.id, (xmax = 0) AS added)${saveProgress}
      SELECT COALESCE(json_agg(id) FILTER (WHERE added), '[]')::text AS added, COALESCE(json_agg(id) FILTER (WHERE NOT added), '[]')::text AS updated
      FROM written`;
    const versions = 'items' in source
      ? source.items.map((i) => ({ id: String(i.object.id), v: i.version }))
      : source.pages.flatMap((p) => p.ids.map((id) => ({ id, v: source.version })));
    const written = await this.rt.db.transaction(async (tx) => {
      // Records are written only while their model's sync state exists: deleting a connection removes that state
      // first, and this lock makes a write on another instance either finish before that removal or see it.
      const syncing = await tx.execute(sql`SELECT 1 FROM sync_state WHERE connection_id = ${conn.id} AND model = ${model} FOR KEY SHARE`);
      if (!syncing.rows.length) return undefined;
      // A backfill's pages commit with their cursor, so a crash that loses the last commits loses the cursor too, and
      // the resumed backfill reads those pages again: its writes need not wait for the disk (measured: a tenth faster).
      if (progress) await tx.execute(sql`SET LOCAL synchronous_commit = off`);
      // The ids written come back as two JSON arrays in one row: a row per record cost more to return than to write.
      const row = (await tx.execute(upsert)).rows[0] as { added: string; updated: string };
      const changes = { added: JSON.parse(row.added) as string[], updated: JSON.parse(row.updated) as string[] };
      if (changes.added.length + changes.updated.length < versions.length) {
        const done = new Set([...changes.added, ...changes.updated]);
        const unchanged = JSON.stringify(versions.filter((i) => !done.has(i.id)));
        await tx.execute(sql`UPDATE records r SET version_at = (u->>'v')::bigint FROM jsonb_array_elements(${unchanged}::jsonb) AS u
          WHERE r.connection_id = ${conn.id} AND r.model = ${model} AND r.id = u->>'id' AND r.version_at < (u->>'v')::bigint`);
      }
      return changes;
    });
    return written ? { ...written, gone: false } : { added: [], updated: [], gone: true };
  }

  /** An event of a connection: the object it carries is that version of the record. */
  async onEvent(conn: Connection, event: SyncEvent): Promise<void> {
    await this.onEvents([{ conn, event }]);
  }

  /**
   * Events of connections, many at a time: per connection and model, one read of the stored versions, one
   * write, and one insert of the `records.*` events. An object's newest event in the batch is its version.
   */
  async onEvents(batch: { conn: Connection; event: SyncEvent }[]): Promise<void> {
    if (!batch.length) return;
    // Records are kept only for connections whose sync was started: the others' events are not stored as records.
    const ids = JSON.stringify([...new Set(batch.map((b) => b.conn.id))]);
    const syncing = new Set(((await this.rt.db.execute(sql`SELECT DISTINCT connection_id FROM sync_state
      WHERE connection_id IN (SELECT jsonb_array_elements_text(${ids}::jsonb))`)).rows as { connection_id: string }[]).map((r) => r.connection_id));
    const groups = new Map<string, { conn: Connection; model: string; events: SyncEvent[] }>();
    for (const { conn, event } of batch) {
      if (!syncing.has(conn.id)) continue;
      const model = modelOfEvent(event.type);
      if (!model) continue;
      const key = `${conn.id} ${model}`;
      if (!groups.has(key)) groups.set(key, { conn, model, events: [] });
      groups.get(key)!.events.push(event);
    }
    const announcements: GatewayEventInput[] = [];
    for (const { conn, model, events } of groups.values()) {
      const latest = new Map<string, { event: SyncEvent; tie: boolean }>();
      for (const event of events) {
        const id = String(event.data.object.id);
        const seen = latest.get(id);
        if (!seen || event.created > seen.event.created) latest.set(id, { event, tie: false });
        else if (event.created === seen.event.created) latest.set(id, { event, tie: true });
      }
      const objectIds = JSON.stringify([...latest.keys()]);
      const stored = new Map(((await this.rt.db.execute(sql`SELECT id, version_at FROM records
        WHERE connection_id = ${conn.id} AND model = ${model} AND id IN (SELECT jsonb_array_elements_text(${objectIds}::jsonb))`)).rows as { id: string; version_at: string | number }[])
        .map((r) => [r.id, Number(r.version_at)]));
      const items: Version[] = [];
      for (const [id, { event, tie }] of latest) {
        const deleted = isDeletion(event.type);
        // Versions are whole seconds: an event from the same second as the stored version (or as another event of the
        // object) may be older or newer than it, so the object is read from Stripe instead, as Stripe advises.
        const expand = MODELS[model].expand;
        if (!deleted && (expand || tie || stored.get(id) === event.created)) {
          const fetchedAt = Math.floor(Date.now() / 1000);
          const current = await this.proxy.request({ appId: conn.appId, mode: conn.mode as Mode, keyId: 'sync' }, conn, 'GET', `${MODELS[model].path.split('?')[0]}/${encodeURIComponent(id)}${expand ? `?expand[]=${expand}` : ''}`, undefined, undefined, 'sync')
            .catch(() => undefined);
          if (current) {
            items.push({ object: current, version: fetchedAt, deleted: current.deleted === true });
            continue;
          }
        }
        items.push({ object: event.data.object, version: event.created, deleted });
      }
      announcements.push(...announce(conn, model, items, await this.write(conn, model, { items })));
    }
    await emitGatewayEvents(this.rt, announcements);
  }

  /** Starts (or resumes) the backfill of every model; answers at once. `alert_url` names where errors are posted. */
  async start(app: AppKey, connectionId: string, p: { alert_url?: unknown } = {}) {
    const conn = await this.conns.require(app, connectionId);
    if (p.alert_url !== undefined) {
      if (typeof p.alert_url !== 'string') throw invalidRequest('alert_url must be an http(s) URL (a Slack-compatible incoming webhook), or empty to remove it.', { param: 'alert_url' });
      const refused = p.alert_url === '' ? undefined : refusedUrlReason(p.alert_url, this.rt.config.allowPrivateUrls);
      if (refused) throw invalidRequest(`Invalid alert_url: ${refused}.`, { param: 'alert_url', code: 'url_invalid' });
      await this.conns.update(conn.id, { syncAlertUrl: p.alert_url || null });
    }
    for (const model of Object.keys(MODELS)) {
      await this.rt.db.execute(sql`
        INSERT INTO sync_state (connection_id, model, status, started_at) VALUES (${conn.id}, ${model}, 'backfilling', now())
        ON CONFLICT (connection_id, model) DO UPDATE SET status = 'backfilling', error = NULL, started_at = COALESCE(sync_state.started_at, now()), updated_at = now()
        WHERE sync_state.status <> 'backfilling'`);
    }
    this.resume(app, conn);
    return this.status(app, connectionId);
  }

  /** Runs the pending backfills of a connection (after start, or after a restart). */
  resume(app: AppKey, conn: Connection): Promise<void> {
    let run = this.running.get(conn.id);
    if (!run) {
      run = this.backfill(app, conn).finally(() => this.running.delete(conn.id));
      this.running.set(conn.id, run);
    }
    return run;
  }

  /** Resolves when the connection's running backfill is over (tests, shutdown). */
  async settled(connectionId: string): Promise<void> {
    await this.running.get(connectionId);
  }

  /** Looks for backfills nobody holds (their instance stopped or crashed) and takes them over. */
  startResuming(intervalMs = 5000): void {
    this.resumer.start(intervalMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.resumer.stop();
    await Promise.all(this.running.values());
    this.outbound.close();
  }

  /**
   * A deleted connection's copy of its Stripe data goes with it: its backfill stops, then its records and sync
   * state are removed (its events are no longer stored, having no sync state).
   */
  async forget(connectionId: string): Promise<void> {
    this.dropping.add(connectionId);
    try {
      await this.running.get(connectionId);
      // In the order a page's write takes its locks (sync_state, then records and sync_ranges): the delete of the sync
      // state waits for a write in flight on another instance, which then finds no state. Ranges first had deadlocked
      // with such a write (it held the state and wanted its range; this held the range and wanted the state).
      await this.rt.db.transaction(async (tx) => {
        await tx.execute(sql`DELETE FROM sync_state WHERE connection_id = ${connectionId}`);
        await tx.execute(sql`DELETE FROM sync_ranges WHERE connection_id = ${connectionId}`);
        await tx.execute(sql`DELETE FROM records WHERE connection_id = ${connectionId}`);
      });
    } finally {
      this.dropping.delete(connectionId);
    }
  }

  private async resumeOrphans(): Promise<boolean> {
    const orphans = (await this.rt.db.execute(sql`SELECT DISTINCT connection_id FROM sync_state
      WHERE status = 'backfilling' AND (locked_until IS NULL OR locked_until < now())`)).rows as { connection_id: string }[];
    for (const { connection_id: id } of orphans) {
      if (this.running.has(id)) continue;
      const conn = await this.conns.load(id, true);
      if (conn) void this.resume({ appId: conn.appId, mode: conn.mode as Mode, keyId: 'sync' }, conn);
    }
    return false;
  }

  private lease = () => sql`now() + make_interval(secs => ${this.rt.config.leaseSeconds})`;

  private async backfill(app: AppKey, conn: Connection): Promise<void> {
    // The models this run holds: claimed with a lease renewed after every page, so another instance takes them over only after a crash.
    const states = (await this.rt.db.execute(sql`UPDATE sync_state SET locked_until = ${this.lease()}
      WHERE connection_id = ${conn.id} AND status = 'backfilling' AND (locked_until IS NULL OR locked_until < now())
      RETURNING model, cursor`)).rows as { model: string; cursor: string | null }[];
    // A few models at a time: one model's pages are read while another's are written.
    const queue = [...states];
    await Promise.all(Array.from({ length: Math.min(MODELS_AT_ONCE, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await this.backfillModel(app, conn, next.model, next.cursor);
    }));
    if (!states.length || this.stopping || this.dropping.has(conn.id)) return;
    const left = (await this.rt.db.execute(sql`SELECT count(*) FILTER (WHERE status NOT IN ('synced', 'skipped'))::int AS n, count(*)::int AS models FROM sync_state WHERE connection_id = ${conn.id}`)).rows[0] as { n: number; models: number };
    if (left.models > 0 && left.n === 0) await emitGatewayEvent(this.rt, conn.appId, conn.mode, 'sync.completed', { connection: conn.id });
  }

  /**
   * One model's backfill, in `created` ranges read side by side. It starts as one range over all time, from the
   * model's saved cursor; a model with more than a couple of pages is then split into ranges that cover the rest of
   * its history (the range being read keeps its cursor and the newest part), and whenever a range is done the range
   * with the most time left is split again, so the reads stay in parallel to the end. Each range's cursor is saved
   * with the pages it wrote: a restart resumes every range where it stopped. Every range goes through the
   * connection's rate limit, and a 429 slows the range down instead of failing it.
   */
  private async backfillModel(app: AppKey, conn: Connection, model: string, cursor: string | null): Promise<void> {
    const base = MODELS[model].path;
    // A model the key is known not to read is skipped without asking Stripe (a restricted key's probed permissions).
    const needed = permissionFor('GET', base.split('?')[0])?.permission;
    const granted = (conn.permissions as Record<string, string> | null)?.[needed ?? ''];
    if (needed && granted === 'none') return this.skip(conn, model, needed);
    try {
      let ranges = (await this.rt.db.execute(sql`SELECT lo::float8 AS lo, hi::float8 AS hi, cursor, done FROM sync_ranges WHERE connection_id = ${conn.id} AND model = ${model} ORDER BY hi`)).rows as unknown as Range[];
      if (!ranges.some((r) => !r.done)) {
        await this.rt.db.execute(sql`DELETE FROM sync_ranges WHERE connection_id = ${conn.id} AND model = ${model}`);
        ranges = [{ lo: 0, hi: ALL_TIME, cursor, done: false }];
        await this.rt.db.execute(sql`INSERT INTO sync_ranges (connection_id, model, lo, hi, cursor) VALUES (${conn.id}, ${model}, 0, ${ALL_TIME}, ${cursor})`);
      }
      const finished = await this.readRanges(app, conn, model, ranges.filter((r) => !r.done));
      if (!finished) {
        // A clean stop hands the model back at once; a restart resumes every range from its saved cursor.
        await this.rt.db.execute(sql`UPDATE sync_state SET locked_until = NULL WHERE connection_id = ${conn.id} AND model = ${model}`);
        return;
      }
      // The oldest object read stays the model's cursor, as a backfill read in one range leaves it.
      // Ranges may read a few objects twice (a page in flight when its range was split): the count is the records'.
      await this.rt.db.execute(sql`UPDATE sync_state SET status = 'synced', cursor = COALESCE((SELECT cursor FROM sync_ranges WHERE connection_id = ${conn.id} AND model = ${model} AND lo = 0), cursor),
        synced = (SELECT count(*) FROM records WHERE connection_id = ${conn.id} AND model = ${model})::int,
        locked_until = NULL, finished_at = now(), updated_at = now() WHERE connection_id = ${conn.id} AND model = ${model}`);
      await this.rt.db.execute(sql`DELETE FROM sync_ranges WHERE connection_id = ${conn.id} AND model = ${model}`);
    } catch (e) {
      if (e instanceof SyncGone) return; // the connection was deleted meanwhile, its records with it
      // Stripe refusing the key's permission is not a failure to alert on: the model is skipped, and says why.
      if (e instanceof StripeError && e.status === 403 && e.type === 'permission_error') return this.skip(conn, model, needed ?? model);
      const message = (e as Error).message;
      await this.rt.db.execute(sql`UPDATE sync_state SET status = 'error', error = ${message}, locked_until = NULL, updated_at = now() WHERE connection_id = ${conn.id} AND model = ${model}`);
      await emitGatewayEvent(this.rt, conn.appId, conn.mode, 'sync.failed', { connection: conn.id, model, error: message });
      await this.alert(conn, model, message);
    }
  }

  /** Reads `open` ranges side by side, splitting as places free up; answers whether all were read (false: stopped). */
  private async readRanges(app: AppKey, conn: Connection, model: string, open: Range[]): Promise<boolean> {
    const queue = [...open];
    const active = new Set<Range>();
    const running = new Set<Promise<void>>();
    let failure: unknown;
    let stopped = false;
    let floor: number | undefined;
    let wake: () => void = () => undefined;
    const woken = () => new Promise<void>((resolve) => (wake = resolve));
    let nudge = woken();
    const start = (range: Range) => {
      active.add(range);
      const run: Promise<void> = this.readRange(app, conn, model, range, () => wake())
        .then((outcome) => {
          if (outcome === 'stopped') stopped = true;
        })
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => {
          active.delete(range);
          running.delete(run);
          wake();
        });
      running.add(run);
    };
    for (;;) {
      while (queue.length && running.size < RANGES_AT_ONCE && failure === undefined && !stopped) start(queue.shift()!);
      if (!running.size) break;
      await Promise.race([nudge, ...running]);
      nudge = woken();
      if (failure !== undefined || stopped) continue;
      if (running.size >= RANGES_AT_ONCE || queue.length) continue;
      // A free place: the range with the most time left gives part of it to a new range.
      const candidates = [...active].filter((r) => r.more && r.position !== undefined && (r.hi !== ALL_TIME || r.pages! >= PAGES_BEFORE_SPLIT));
      const widest = candidates.sort((a, b) => b.position! - Math.max(b.lo, floor ?? 0) - (a.position! - Math.max(a.lo, floor ?? 0)))[0];
      if (!widest) continue;
      if (widest.hi === ALL_TIME && widest.lo === 0 && floor === undefined) floor = await this.oldestBound(app, conn, model, widest);
      const pieces = widest.hi === ALL_TIME && widest.lo === 0 ? RANGES_AT_ONCE - running.size + 1 : 2;
      queue.push(...(await this.split(conn, model, widest, Math.max(widest.lo, floor ?? 0), pieces)));
    }
    await Promise.allSettled(running);
    if (failure !== undefined) throw failure;
    return !stopped && !this.stopping && !this.dropping.has(conn.id);
  }

  /**
   * Splits the part of `range` not yet read (`lo` up to where it has got to) into `pieces`: the range keeps the
   * newest part and its cursor, the others are new ranges with no cursor. The lowest new range starts where `range`
   * did (objects older than `from` are still covered); `from` only places the cuts.
   */
  private async split(conn: Connection, model: string, range: Range, from: number, pieces: number): Promise<Range[]> {
    const top = range.position!;
    const cuts: number[] = [];
    for (let i = 1; i < pieces; i++) {
      const cut = Math.floor(from + ((top - from) * i) / pieces);
      if (cut > (cuts.at(-1) ?? range.lo) && cut <= top) cuts.push(cut);
    }
    if (!cuts.length) return [];
    const bounds = [range.lo, ...cuts];
    const added = bounds.slice(0, -1).map((lo, i) => ({ lo, hi: bounds[i + 1], cursor: null, done: false }) as Range);
    await this.rt.db.transaction(async (tx) => {
      await tx.execute(sql`UPDATE sync_ranges SET lo = ${cuts.at(-1)!} WHERE connection_id = ${conn.id} AND model = ${model} AND hi = ${range.hi}`);
      for (const r of added) await tx.execute(sql`INSERT INTO sync_ranges (connection_id, model, lo, hi) VALUES (${conn.id}, ${model}, ${r.lo}, ${r.hi}) ON CONFLICT DO NOTHING`);
    });
    range.lo = cuts.at(-1)!;
    return added;
  }

  /**
   * A lower bound of the model's oldest `created`, below where `range` has got to: steps back twice as far each
   * time until nothing is older (a few requests; Stripe's lists cannot be read oldest first).
   */
  private async oldestBound(app: AppKey, conn: Connection, model: string, range: Range): Promise<number> {
    const top = range.position!;
    let step = Math.max(1, (range.newest ?? top) - top);
    for (let t = top - step; t > 0; step *= 2, t = top - step) {
      const page = await this.readPage(app, conn, model, { lo: 0, hi: t, cursor: null, done: false }, null, 1);
      if (!page.ids.length) return t;
    }
    return 0;
  }

  /** One list page of a range (`limit` objects after `after`), waiting out 429s with a growing pause. */
  private async readPage(app: AppKey, conn: Connection, model: string, range: Range, after: string | null, limit = 100): Promise<ListPage & { hasMore: boolean; fetchedAt: number; lastCreated?: number }> {
    const base = MODELS[model].path;
    const scope = platformScope(conn, model);
    const filter = `${range.lo > 0 ? `&created[gte]=${range.lo}` : ''}${range.hi < ALL_TIME ? `&created[lt]=${range.hi}` : ''}${scope === 'destination' ? `&destination=${encodeURIComponent(conn.accountId!)}` : ''}`;
    const path = `${base}${base.includes('?') ? '&' : '?'}limit=${limit}${filter}${after ? `&starting_after=${after}` : ''}`;
    for (let attempt = 0; ; attempt++) {
      const fetchedAt = Math.floor(Date.now() / 1000);
      try {
        const body = await this.proxy.requestBytes(app, conn, 'GET', path, undefined, undefined, 'sync', { asPlatform: !!scope });
        return { ...scanListPage(body), body, fetchedAt };
      } catch (e) {
        // The upstream already retried a few times; a storm of 429s only slows the range down.
        if (!(e instanceof StripeError && e.status === 429) || attempt >= RATE_LIMITED_ATTEMPTS || this.stopping || this.dropping.has(conn.id)) throw e;
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2)));
      }
    }
  }

  /** A range's pages from its cursor on; the next page is read while the current ones are written. */
  private async readRange(app: AppKey, conn: Connection, model: string, range: Range, onPage: () => void): Promise<'done' | 'stopped'> {
    const read = (after: string | null) => {
      const page = this.readPage(app, conn, model, range, after);
      page.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
      return page;
    };
    // At most one write in flight per range, so its pages are stored in order, each batch with the cursor after it.
    let writing: Promise<void> = Promise.resolve();
    let cursor = range.cursor;
    range.pages = 0;
    range.more = true;
    try {
      let reading = read(cursor);
      let batch: Awaited<ReturnType<typeof read>>[] = [];
      for (;;) {
        const page = await reading;
        if (this.stopping || this.dropping.has(conn.id)) {
          await writing;
          return 'stopped';
        }
        const last = page.ids.at(-1) ?? cursor;
        if (page.hasMore) reading = read(last);
        range.more = page.hasMore;
        range.pages += 1;
        if (range.pages === 1) range.newest ??= page.fetchedAt;
        if (page.lastCreated !== undefined) range.position = page.lastCreated;
        batch.push(page);
        cursor = last;
        onPage();
        if (batch.length < PAGES_PER_WRITE && page.hasMore && range.pages > PAGES_BEFORE_SPLIT) continue;
        // The next pages are read while these are written: the slower of the two sets the pace, not their sum.
        const pages = batch;
        batch = [];
        await writing;
        writing = this.upsertPages(conn, model, pages, pages[0].fetchedAt, { cursor: last, count: pages.reduce((n, p) => n + p.ids.length, 0), range: range.hi });
        writing.catch(() => undefined); // awaited before the next write or at the end; this only keeps it from going unhandled meanwhile
        if (!page.hasMore) break;
      }
      await writing;
      await this.rt.db.execute(sql`UPDATE sync_ranges SET done = true, cursor = ${cursor} WHERE connection_id = ${conn.id} AND model = ${model} AND hi = ${range.hi}`);
      range.done = true;
      return 'done';
    } catch (e) {
      await writing.catch(() => undefined); // its cursor must not land after the error
      throw e;
    }
  }

  private async skip(conn: Connection, model: string, permission: string): Promise<void> {
    await this.rt.db.execute(sql`UPDATE sync_state SET status = 'skipped', error = ${`Not permitted by this key (it needs ${permission} read).`}, locked_until = NULL, finished_at = now(), updated_at = now()
      WHERE connection_id = ${conn.id} AND model = ${model}`);
  }

  /** Posts a sync error to the connection's (or the gateway's) Slack-compatible incoming webhook; never throws. */
  private async alert(conn: Connection, model: string, message: string): Promise<void> {
    const fresh = await this.conns.load(conn.id, true);
    const url = fresh?.syncAlertUrl ?? this.rt.config.alertWebhookUrl;
    if (!url) return;
    const text = `:warning: PayBridge could not sync *${model}* for connection \`${conn.id}\` (${conn.accountId ?? 'unknown account'}, ${conn.mode} mode): ${message}`;
    try {
      const res = await this.outbound.post(url, JSON.stringify({ text }), {});
      if (res.status < 200 || res.status >= 300) console.error(`[paybridge] sync alert answered HTTP ${res.status}`);
    } catch (e) {
      console.error('[paybridge] could not send the sync alert:', describeFailure(e));
    }
  }

  async status(app: AppKey, connectionId: string) {
    const conn = await this.conns.require(app, connectionId);
    const rows = (await this.rt.db.execute(sql`SELECT model, status, synced, error, started_at, finished_at,
        (SELECT count(*) FROM sync_ranges r WHERE r.connection_id = s.connection_id AND r.model = s.model AND NOT r.done)::int AS ranges
      FROM sync_state s WHERE connection_id = ${conn.id} ORDER BY model`)).rows as Record<string, any>[];
    const seconds = (t: unknown) => (t ? Math.floor(new Date(t as string).getTime() / 1000) : null);
    return {
      object: 'sync', connection: conn.id,
      // `ranges`: how many created ranges of the model are still being read (a large model's backfill reads several at once).
      models: rows.map((r) => ({ model: r.model, status: r.status, synced: r.synced, ranges: r.ranges, error: r.error ?? null, last_synced_at: r.status === 'synced' ? seconds(r.finished_at) : null })),
    };
  }

  /** `GET /v1/records`: a model's records, oldest change first, from a cursor (the last seen `seq`). */
  async records(app: AppKey, q: { connection?: string; model?: string; modified_after?: string; cursor?: string; limit?: string }) {
    if (!q.connection) throw invalidRequest('Missing required param: connection.', { param: 'connection', code: 'parameter_missing' });
    if (!q.model || !MODELS[q.model]) throw invalidRequest(`model must be one of ${Object.keys(MODELS).join(', ')}.`, { param: 'model' });
    const conn = await this.conns.require(app, q.connection);
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
    const where: SQL[] = [sql`connection_id = ${conn.id}`, sql`model = ${q.model}`];
    if (q.modified_after) where.push(sql`updated_at > to_timestamp(${Number(q.modified_after)})`);
    if (q.cursor) where.push(sql`seq > ${Number(q.cursor)}`);
    const rows = (await this.rt.db.execute(sql`SELECT id, data, deleted, seq, extract(epoch from updated_at)::bigint AS modified FROM records WHERE ${sql.join(where, sql` AND `)} ORDER BY seq LIMIT ${limit + 1}`)).rows as Record<string, any>[];
    const page = rows.slice(0, limit);
    return {
      object: 'list', url: '/v1/records', has_more: rows.length > limit, next_cursor: page.at(-1) ? String(page.at(-1)!.seq) : null,
      data: page.map((r) => ({ id: r.id, object: 'record', model: q.model, deleted: r.deleted, modified: Number(r.modified), data: r.data })),
    };
  }

  /** Reports by SQL over synced records. */
  async revenue(app: AppKey, connectionId: string) {
    const conn = await this.conns.require(app, connectionId);
    // A charge that paid an invoice is split over the invoice's lines by amount, each line counted under its
    // product's name; a charge with no invoice counts under its description (or "No product").
    const rows = (await this.rt.db.execute(sql`
      WITH lines AS (
        SELECT pay->'payment'->>'payment_intent' AS intent, line->'pricing'->'price_details'->>'product' AS product, (line->>'amount')::numeric AS amount
        FROM records i, jsonb_array_elements(COALESCE(i.data->'payments'->'data', '[]'::jsonb)) AS pay, jsonb_array_elements(i.data->'lines'->'data') AS line
        WHERE i.connection_id = ${conn.id} AND i.model = 'invoices' AND NOT i.deleted AND pay->'payment'->>'payment_intent' IS NOT NULL
      ),
      totals AS (SELECT intent, SUM(amount) AS total FROM lines GROUP BY intent),
      shares AS (
        SELECT c.stripe_created, c.data, l.product, CASE WHEN l.intent IS NULL OR t.total = 0 THEN 1 ELSE l.amount / t.total END AS share, c.id
        FROM records c LEFT JOIN lines l ON l.intent = c.data->>'payment_intent' LEFT JOIN totals t ON t.intent = l.intent
        WHERE c.connection_id = ${conn.id} AND c.model = 'charges' AND NOT c.deleted AND c.data->>'status' = 'succeeded'
      )
      SELECT to_char(to_timestamp(s.stripe_created), 'YYYY-MM') AS month,
        COALESCE(p.data->>'name', s.product, NULLIF(s.data->>'description', ''), 'No product') AS product, s.data->>'currency' AS currency,
        ROUND(SUM((s.data->>'amount_captured')::numeric * s.share)) AS gross, ROUND(SUM((s.data->>'amount_refunded')::numeric * s.share)) AS refunds, COUNT(DISTINCT s.id) AS count
      FROM shares s LEFT JOIN records p ON p.connection_id = ${conn.id} AND p.model = 'products' AND p.id = s.product
      GROUP BY 1, 2, 3 ORDER BY 1, 2`)).rows as Record<string, any>[];
    return { object: 'report', report: 'revenue', connection: conn.id, rows: rows.map((r) => ({ month: r.month, product: r.product, currency: r.currency, gross: Number(r.gross), refunds: Number(r.refunds), net: Number(r.gross) - Number(r.refunds), count: Number(r.count) })) };
  }

  /** MRR per currency from live subscriptions (prices normalised to a month), and churn over the last 30 days. */
  async subscriptions(app: AppKey, connectionId: string) {
    const conn = await this.conns.require(app, connectionId);
    const since = Math.floor(Date.now() / 1000) - 30 * 86_400;
    const mrr = (await this.rt.db.execute(sql`
      SELECT item->'price'->>'currency' AS currency,
        SUM((item->'price'->>'unit_amount')::numeric * COALESCE((item->>'quantity')::numeric, 1)
          * CASE item->'price'->'recurring'->>'interval' WHEN 'year' THEN 1.0 / 12 WHEN 'week' THEN 52.0 / 12 WHEN 'day' THEN 365.0 / 12 ELSE 1 END
          / COALESCE((item->'price'->'recurring'->>'interval_count')::numeric, 1)) AS mrr,
        COUNT(DISTINCT r.id) AS subscriptions
      FROM records r, jsonb_array_elements(r.data->'items'->'data') AS item
      WHERE r.connection_id = ${conn.id} AND r.model = 'subscriptions' AND NOT r.deleted AND r.data->>'status' IN ('active', 'trialing', 'past_due')
      GROUP BY 1 ORDER BY 1`)).rows as Record<string, any>[];
    const counts = (await this.rt.db.execute(sql`
      SELECT COUNT(*) FILTER (WHERE data->>'status' IN ('active', 'trialing', 'past_due')) AS live,
        COUNT(*) FILTER (WHERE data->>'status' = 'canceled' AND (data->>'canceled_at')::bigint >= ${since}) AS churned
      FROM records WHERE connection_id = ${conn.id} AND model = 'subscriptions' AND NOT deleted`)).rows[0] as { live: string; churned: string };
    const live = Number(counts.live);
    const churned = Number(counts.churned);
    return {
      object: 'report', report: 'subscriptions', connection: conn.id,
      mrr: mrr.map((r) => ({ currency: r.currency, mrr: Math.round(Number(r.mrr)), subscriptions: Number(r.subscriptions) })),
      active: live, churned_30d: churned, churn_rate_30d: live + churned ? Math.round((churned / (live + churned)) * 10_000) / 10_000 : 0,
    };
  }

  /** The app's connections in the key's mode, or the one named: the reports' scope. */
  private async scope(app: AppKey, connectionId: string | undefined): Promise<SQL> {
    if (connectionId !== undefined) return sql`c.id = ${(await this.conns.require(app, connectionId)).id}`;
    return sql`c.app_id = ${app.appId} AND c.mode = ${app.mode} AND c.deleted_at IS NULL`;
  }

  /** The platform's application fees by connection and month, net of what was refunded (synced `application_fees`). */
  async platformFees(app: AppKey, connectionId?: string) {
    const where = await this.scope(app, connectionId);
    const rows = (await this.rt.db.execute(sql`
      SELECT r.connection_id, c.account_id, to_char(to_timestamp(r.stripe_created), 'YYYY-MM') AS month, r.data->>'currency' AS currency,
        SUM((r.data->>'amount')::bigint) AS fees, SUM((r.data->>'amount_refunded')::bigint) AS refunded, COUNT(*) AS count
      FROM records r JOIN connections c ON c.id = r.connection_id
      WHERE ${where} AND r.model = 'application_fees' AND NOT r.deleted
      GROUP BY 1, 2, 3, 4 ORDER BY 3, 1, 4`)).rows as Record<string, any>[];
    return {
      object: 'report', report: 'platform_fees', connection: connectionId ?? null,
      rows: rows.map((r) => ({ connection: r.connection_id, account: r.account_id, month: r.month, currency: r.currency, fees: Number(r.fees), refunded: Number(r.refunded), net: Number(r.fees) - Number(r.refunded), count: Number(r.count) })),
    };
  }

  /**
   * Each connection's gross and net by month (synced charges: what was captured, less refunds and the platform's
   * fees net of fee refunds; before Stripe's processing fees), and what it paid out (synced payouts).
   */
  async connectionTotals(app: AppKey, connectionId?: string) {
    const where = await this.scope(app, connectionId);
    const rows = (await this.rt.db.execute(sql`
      SELECT r.connection_id, c.account_id, to_char(to_timestamp(r.stripe_created), 'YYYY-MM') AS month, r.data->>'currency' AS currency,
        SUM((r.data->>'amount_captured')::bigint) AS gross, SUM((r.data->>'amount_refunded')::bigint) AS refunds,
        SUM(COALESCE((r.data->>'application_fee_amount')::bigint, 0) - COALESCE((f.data->>'amount_refunded')::bigint, 0)) AS platform_fees, COUNT(*) AS count
      FROM records r JOIN connections c ON c.id = r.connection_id
      LEFT JOIN records f ON f.connection_id = r.connection_id AND f.model = 'application_fees' AND f.id = r.data->>'application_fee'
      WHERE ${where} AND r.model = 'charges' AND NOT r.deleted AND r.data->>'status' = 'succeeded'
      GROUP BY 1, 2, 3, 4 ORDER BY 3, 1, 4`)).rows as Record<string, any>[];
    const payouts = (await this.rt.db.execute(sql`
      SELECT r.connection_id, to_char(to_timestamp(r.stripe_created), 'YYYY-MM') AS month, r.data->>'currency' AS currency,
        SUM((r.data->>'amount')::bigint) FILTER (WHERE r.data->>'status' = 'paid') AS paid, COUNT(*) FILTER (WHERE r.data->>'status' = 'failed') AS failed
      FROM records r JOIN connections c ON c.id = r.connection_id
      WHERE ${where} AND r.model = 'payouts' AND NOT r.deleted GROUP BY 1, 2, 3 ORDER BY 2, 1, 3`)).rows as Record<string, any>[];
    return {
      object: 'report', report: 'connections', connection: connectionId ?? null,
      rows: rows.map((r) => ({
        connection: r.connection_id, account: r.account_id, month: r.month, currency: r.currency, gross: Number(r.gross), refunds: Number(r.refunds),
        platform_fees: Number(r.platform_fees), net: Number(r.gross) - Number(r.refunds) - Number(r.platform_fees), count: Number(r.count),
      })),
      payouts: payouts.map((p) => ({ connection: p.connection_id, month: p.month, currency: p.currency, paid: Number(p.paid ?? 0), failed: Number(p.failed) })),
    };
  }

  async failedPayments(app: AppKey, connectionId: string, hours: number) {
    const conn = await this.conns.require(app, connectionId);
    const since = Math.floor(Date.now() / 1000) - hours * 3600;
    // The customer's email and name from synced customers, else what the charge's billing details say.
    const rows = (await this.rt.db.execute(sql`
      SELECT c.id, c.data, cu.data->>'email' AS email, cu.data->>'name' AS name FROM records c
      LEFT JOIN records cu ON cu.connection_id = ${conn.id} AND cu.model = 'customers' AND cu.id = c.data->>'customer'
      WHERE c.connection_id = ${conn.id} AND c.model = 'charges' AND c.data->>'status' = 'failed' AND c.stripe_created >= ${since}
      ORDER BY c.stripe_created DESC`)).rows as { id: string; data: any; email: string | null; name: string | null }[];
    return {
      object: 'report', report: 'failed_payments', connection: conn.id, hours,
      rows: rows.map(({ id, data, email, name }) => ({
        charge: id, customer: data.customer, customer_email: email ?? data.billing_details?.email ?? data.receipt_email ?? null, customer_name: name ?? data.billing_details?.name ?? null,
        amount: data.amount, currency: data.currency, failure_code: data.failure_code, decline_reason: data.outcome?.reason ?? null, message: data.failure_message, created: data.created,
      })),
    };
  }
}
