/**
 * What every gateway module shares: configuration, the database, the
 * vault, the clients for Stripe's API and Connect hosts, request logs, and
 * PayBridge's own events. Built once by startGateway.
 */
import { and, desc, eq, inArray, like, lt, or, type SQL } from 'drizzle-orm';
import type { Db, Queryable } from '../store/db.js';
import { gatewayEvents } from '../store/schema.js';
import type { GatewayConfig, Mode, PlatformCredentials } from './config.js';
import { newGatewayId } from './ids.js';
import type { RequestLog } from './logs.js';
import type { Tracer } from './tracing.js';
import type { Upstream } from './upstream.js';
import type { Vault } from './vault.js';

export interface Runtime {
  config: GatewayConfig;
  db: Db;
  /** Which database: a shared PostgreSQL (several instances may use it) or this process's PGlite. */
  dbKind: 'pglite' | 'postgres';
  vault: Vault;
  api: Upstream;
  connect: Upstream;
  logs: RequestLog;
  tracer: Tracer;
  /** Client id and secret key of the platform per mode (the embedded sandbox supplies its own). */
  platform: Record<Mode, PlatformCredentials>;
  /** Where Stripe sends people back after OAuth: this gateway's public URL. */
  publicUrl: string;
  /** Queues events for apps' webhook endpoints (set once the gateway is built). */
  appWebhooks?: { enqueueAll(events: { id: string; type: string; appId: string; mode: string; data: Record<string, unknown>; created: number; stripeEventId?: string | null; connectionId?: string | null }[], db?: Queryable): Promise<void> };
}

export interface GatewayEventInput {
  appId: string;
  mode: string;
  type: string;
  data: Record<string, unknown>;
  id?: string;
  /** A Stripe event's own id and the connection it came through (the row id stays one per connection). */
  stripeEventId?: string;
  connectionId?: string;
}

/**
 * Records one of PayBridge's own events (`connection.refresh_failed`, …) and queues it for the app's endpoints.
 * An event id is recorded once; queuing is idempotent too (one delivery per endpoint and event), and runs again
 * for a recorded event, so a crash between the two steps is repaired when the event is processed again.
 */
export async function emitGatewayEvent(rt: Runtime, appId: string, mode: string, type: string, data: Record<string, unknown>, id?: string, db: Queryable = rt.db): Promise<boolean> {
  return (await emitGatewayEvents(rt, [{ appId, mode, type, data, id }], db))[0];
}

/** `emitGatewayEvent` for many events: one insert, one queuing; answers for each whether it was new. */
export async function emitGatewayEvents(rt: Runtime, events: GatewayEventInput[], db: Queryable = rt.db): Promise<boolean[]> {
  if (!events.length) return [];
  const rows = events.map((e) => ({ id: e.id ?? newGatewayId('pbevt'), appId: e.appId, mode: e.mode, type: e.type, data: e.data, stripeEventId: e.stripeEventId ?? null, connectionId: e.connectionId ?? null }));
  const inserted = await db.insert(gatewayEvents).values(rows).onConflictDoNothing().returning({ id: gatewayEvents.id, createdAt: gatewayEvents.createdAt });
  const created = new Map(inserted.map((r) => [r.id, r.createdAt]));
  const known = rows.filter((r) => !created.has(r.id)).map((r) => r.id);
  if (known.length) for (const r of await db.select({ id: gatewayEvents.id, createdAt: gatewayEvents.createdAt }).from(gatewayEvents).where(inArray(gatewayEvents.id, known))) created.set(r.id, r.createdAt);
  await rt.appWebhooks?.enqueueAll(rows.map((r) => ({ ...r, created: Math.floor((created.get(r.id) ?? new Date()).getTime() / 1000) })), db);
  const fresh = new Set(inserted.map((r) => r.id));
  return rows.map((r) => fresh.has(r.id));
}

const eventView = (r: typeof gatewayEvents.$inferSelect) => ({
  id: r.stripeEventId ?? r.id, object: 'gateway_event', type: r.type, connection: r.connectionId, data: r.data, created: Math.floor(r.createdAt.getTime() / 1000), livemode: r.mode === 'live',
});

/** An event by the id the app sees: PayBridge's own, or a Stripe event's (the newest, if several connections brought it). */
const byShownId = (id: string) => or(eq(gatewayEvents.id, id), eq(gatewayEvents.stripeEventId, id))!;

/** `GET /v1/gateway_events`: newest first, filtered by type (or a `type.*` prefix), paginated with `starting_after`. */
export async function listGatewayEvents(rt: Runtime, appId: string, mode: string, f: { type?: string; limit: number; startingAfter?: string }) {
  const where: SQL[] = [eq(gatewayEvents.appId, appId), eq(gatewayEvents.mode, mode)];
  if (f.type) where.push(f.type.endsWith('.*') ? like(gatewayEvents.type, `${f.type.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : eq(gatewayEvents.type, f.type));
  if (f.startingAfter) {
    const [cursor] = await rt.db.select({ seq: gatewayEvents.seq }).from(gatewayEvents)
      .where(and(eq(gatewayEvents.appId, appId), eq(gatewayEvents.mode, mode), byShownId(f.startingAfter))).orderBy(desc(gatewayEvents.seq)).limit(1);
    if (cursor) where.push(lt(gatewayEvents.seq, cursor.seq!));
  }
  const rows = await rt.db.select().from(gatewayEvents).where(and(...where)).orderBy(desc(gatewayEvents.seq)).limit(f.limit + 1);
  return { object: 'list', url: '/v1/gateway_events', has_more: rows.length > f.limit, data: rows.slice(0, f.limit).map(eventView) };
}

export async function getGatewayEvent(rt: Runtime, appId: string, mode: string, id: string) {
  const row = await gatewayEventRow(rt, appId, mode, id);
  return row ? eventView(row) : undefined;
}

/** The stored event an app knows by `id` (PayBridge's id, or Stripe's for a Stripe event). */
export async function gatewayEventRow(rt: Runtime, appId: string, mode: string, id: string) {
  const [row] = await rt.db.select().from(gatewayEvents).where(and(byShownId(id), eq(gatewayEvents.appId, appId), eq(gatewayEvents.mode, mode))).orderBy(desc(gatewayEvents.seq)).limit(1);
  return row;
}
