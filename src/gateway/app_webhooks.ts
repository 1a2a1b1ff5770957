/**
 * Webhooks to apps: apps register endpoints and receive PayBridge's events
 * (`session.*`, `connection.*`) and the Stripe events of their connections,
 * signed as Stripe signs (`PayBridge-Signature: t=…,v1=…`, which
 * `stripe.webhooks.constructEvent` verifies with the endpoint's `whsec_`).
 * Delivery is at-least-once from a queue in the database: an event is
 * queued for every matching endpoint when it is recorded, workers claim due
 * rows with `FOR UPDATE SKIP LOCKED` (so several instances never send one
 * attempt twice), and any non-2xx answer or timeout is retried with
 * exponential backoff for up to three days.
 */
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { invalidRequest, resourceMissing } from '../stripe/errors.js';
import { signatureHeader } from '../stripe/signature.js';
import type { Queryable } from '../store/db.js';
import { appWebhookDeliveries, appWebhookEndpoints } from '../store/schema.js';
import type { AppKey } from './apps.js';
import { newGatewayId, randomToken } from './ids.js';
import { describeFailure, Outbound, refusedUrlReason } from '../net/outbound.js';
import { countCreation } from './limits.js';
import { storableText } from './logs.js';
import { emitGatewayEvent, gatewayEventRow, type Runtime } from './runtime.js';
import { QueueWorker } from './worker.js';

const MAX_AGE_MS = 3 * 24 * 3600 * 1000;
const TIMEOUT_MS = 10_000;

export interface AppEvent {
  id: string;
  type: string;
  appId: string;
  mode: string;
  data: Record<string, unknown>;
  created: number;
  /** A Stripe event's own id, shown to the app as `id`, and the connection it came through. */
  stripeEventId?: string | null;
  connectionId?: string | null;
}

const matches = (patterns: string[], type: string) => patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));

export class AppWebhooks {
  private readonly worker = new QueueWorker('webhook delivery', () => this.work());

  /** Retry delays: `base` ms doubling per attempt, capped at an hour (tests shorten the base). */
  /** A claimed delivery is another instance's for `leaseSeconds`: longer than a batch of sends can take, shorter than a crash should delay it. */
  private readonly outbound: Outbound;

  constructor(private readonly rt: Runtime, private readonly baseDelayMs = 30_000, private readonly maxAgeMs = MAX_AGE_MS, private readonly leaseSeconds = 60) {
    this.outbound = new Outbound(rt.config.allowPrivateUrls, { timeoutMs: TIMEOUT_MS, userAgent: 'PayBridge/1.0 (webhooks)' });
  }

  async createEndpoint(app: AppKey, p: { url?: unknown; enabled_events?: unknown; description?: unknown }) {
    if (typeof p.url !== 'string') throw invalidRequest('Missing required param: url (an http(s) URL).', { param: 'url', code: 'parameter_missing' });
    const refused = refusedUrlReason(p.url, this.rt.config.allowPrivateUrls);
    if (refused) throw invalidRequest(`Invalid url: ${refused}.`, { param: 'url', code: 'url_invalid' });
    const events = p.enabled_events;
    if (!Array.isArray(events) || events.length === 0 || events.some((e) => typeof e !== 'string' || !/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/.test(e))) {
      throw invalidRequest('enabled_events must be a list of event types, e.g. ["session.succeeded", "payment_intent.*"] or ["*"].', { param: 'enabled_events' });
    }
    if (p.description !== undefined && (typeof p.description !== 'string' || p.description.length > 500)) throw invalidRequest('description must be text of at most 500 characters.', { param: 'description' });
    const [{ count }] = (await this.rt.db.execute(sql`SELECT count(*)::int AS count FROM app_webhook_endpoints WHERE app_id = ${app.appId} AND mode = ${app.mode} AND deleted_at IS NULL`)).rows as { count: number }[];
    const max = this.rt.config.maxEndpointsPerApp;
    if (Number(count) >= max) throw invalidRequest(`An app may have at most ${max} webhook endpoints per mode: delete one first.`, { code: 'webhook_endpoint_limit', param: 'url' });
    await countCreation(this.rt.db, app.appId, 'webhook endpoints', this.rt.config.createsPerMinute);
    const secret = `whsec_${randomToken(32)}`;
    const id = newGatewayId('we_pb', 16);
    const [row] = await this.rt.db.insert(appWebhookEndpoints).values({
      id, appId: app.appId, mode: app.mode, url: p.url, enabledEvents: events, secretId: await this.rt.vault.seal(secret, 'app_webhook_secret'), description: typeof p.description === 'string' ? p.description : null,
    }).returning();
    return { ...this.view(row), secret };
  }

  private view(e: typeof appWebhookEndpoints.$inferSelect) {
    return {
      id: e.id, object: 'webhook_endpoint', url: e.url, enabled_events: e.enabledEvents, status: e.status, disabled_reason: e.disabledReason,
      description: e.description, livemode: e.mode === 'live', created: Math.floor(e.createdAt.getTime() / 1000),
    };
  }

  async listEndpoints(app: AppKey) {
    const rows = await this.rt.db.select().from(appWebhookEndpoints).where(and(eq(appWebhookEndpoints.appId, app.appId), eq(appWebhookEndpoints.mode, app.mode), isNull(appWebhookEndpoints.deletedAt)));
    // At most maxEndpointsPerApp endpoints: one small query each for how their last delivery went.
    const data = await Promise.all(rows.map(async (r) => ({ ...this.view(r), health: await this.health(r.id) })));
    return { object: 'list', url: '/v1/webhook_endpoints', has_more: false, data };
  }

  /**
   * How an endpoint is doing, from its most recent attempted delivery: `ok` (it answered 2xx), `failing` (it did
   * not; with the answer or the network error, and how many deliveries wait for a retry), or `unknown` (nothing sent yet).
   */
  private async health(endpointId: string) {
    const [last] = await this.rt.db.select().from(appWebhookDeliveries)
      .where(and(eq(appWebhookDeliveries.endpointId, endpointId), gt(appWebhookDeliveries.attempts, 0))).orderBy(desc(appWebhookDeliveries.updatedAt)).limit(1);
    if (!last) return { status: 'unknown', last_attempt: null, retrying: 0 };
    const [{ retrying }] = await this.rt.db.select({ retrying: sql<number>`count(*)::int` }).from(appWebhookDeliveries)
      .where(and(eq(appWebhookDeliveries.endpointId, endpointId), eq(appWebhookDeliveries.status, 'pending'), gt(appWebhookDeliveries.attempts, 0)));
    return {
      status: last.status === 'succeeded' ? 'ok' : 'failing',
      last_attempt: { at: Math.floor(last.updatedAt.getTime() / 1000), http_status: last.lastStatus, error: last.lastError, response: last.lastResponse, event_type: last.eventType },
      retrying,
    };
  }

  async deleteEndpoint(app: AppKey, id: string) {
    const rows = await this.rt.db.update(appWebhookEndpoints).set({ deletedAt: new Date(), status: 'disabled' })
      .where(and(eq(appWebhookEndpoints.id, id), eq(appWebhookEndpoints.appId, app.appId), isNull(appWebhookEndpoints.deletedAt))).returning();
    if (!rows.length) throw resourceMissing('webhook_endpoint', id, 'id');
    return { id, object: 'webhook_endpoint', deleted: true };
  }

  /** `GET /v1/gateway_events/:id/deliveries`: every endpoint's delivery of one event, with its last answer. */
  async deliveriesOfEvent(app: AppKey, eventId: string) {
    const event = await gatewayEventRow(this.rt, app.appId, app.mode, eventId);
    if (!event) throw resourceMissing('event', eventId, 'id');
    const rows = await this.rt.db.select({ d: appWebhookDeliveries, url: appWebhookEndpoints.url }).from(appWebhookDeliveries)
      .innerJoin(appWebhookEndpoints, eq(appWebhookEndpoints.id, appWebhookDeliveries.endpointId))
      .where(and(eq(appWebhookDeliveries.eventId, event.id), eq(appWebhookDeliveries.appId, app.appId))).orderBy(desc(appWebhookDeliveries.seq));
    return {
      object: 'list', url: `/v1/gateway_events/${eventId}/deliveries`, has_more: false,
      data: rows.map(({ d, url }) => ({ id: d.id, object: 'webhook_delivery', endpoint: d.endpointId, endpoint_url: url, status: d.status, attempts: d.attempts, last_status: d.lastStatus, last_error: d.lastError, last_response: d.lastResponse })),
    };
  }

  async deliveries(app: AppKey, endpointId: string) {
    const rows = await this.rt.db.select().from(appWebhookDeliveries)
      .where(and(eq(appWebhookDeliveries.endpointId, endpointId), eq(appWebhookDeliveries.appId, app.appId))).orderBy(desc(appWebhookDeliveries.seq)).limit(100);
    return {
      object: 'list', url: `/v1/webhook_endpoints/${endpointId}/deliveries`, has_more: false,
      data: rows.map((d) => ({
        id: d.id, object: 'webhook_delivery', event: d.eventId, type: d.eventType, status: d.status, attempts: d.attempts,
        last_status: d.lastStatus, last_error: d.lastError, last_response: d.lastResponse, next_attempt_at: d.status === 'pending' ? Math.floor(d.nextAttemptAt.getTime() / 1000) : null,
      })),
    };
  }

  /** Sends a delivery again, now (manual replay). */
  async replay(app: AppKey, deliveryId: string) {
    const rows = await this.rt.db.update(appWebhookDeliveries).set({ status: 'pending', nextAttemptAt: new Date(), lockedUntil: null, updatedAt: new Date() })
      .where(and(eq(appWebhookDeliveries.id, deliveryId), eq(appWebhookDeliveries.appId, app.appId))).returning();
    if (!rows.length) throw resourceMissing('webhook_delivery', deliveryId, 'id');
    this.worker.wake();
    return { id: deliveryId, object: 'webhook_delivery', status: 'pending' };
  }

  /**
   * Queues events for every enabled endpoint of their app and mode that wants them, an event id once per endpoint:
   * one read of the endpoints per app and mode, one insert for all deliveries.
   */
  async enqueueAll(events: AppEvent[], db: Queryable = this.rt.db): Promise<void> {
    const rows: (typeof appWebhookDeliveries.$inferInsert)[] = [];
    const scopes = new Map<string, AppEvent[]>();
    for (const e of events) scopes.set(`${e.appId}\u0000${e.mode}`, [...(scopes.get(`${e.appId}\u0000${e.mode}`) ?? []), e]);
    for (const group of scopes.values()) {
      const endpoints = await db.select().from(appWebhookEndpoints)
        .where(and(eq(appWebhookEndpoints.appId, group[0].appId), eq(appWebhookEndpoints.mode, group[0].mode), eq(appWebhookEndpoints.status, 'enabled'), isNull(appWebhookEndpoints.deletedAt)));
      if (!endpoints.length) continue;
      for (const event of group) {
        const wanted = endpoints.filter((e) => matches(e.enabledEvents as string[], event.type));
        if (!wanted.length) continue;
        const payload = JSON.stringify({
          id: event.stripeEventId ?? event.id, object: 'event', type: event.type, created: event.created, livemode: event.mode === 'live',
          ...(event.connectionId ? { connection: event.connectionId } : {}), data: { object: event.data },
        }, null, 2);
        const data = event.data as { id?: unknown; session?: { id?: unknown }; connection?: unknown };
        const objectId = String(data.id ?? data.session?.id ?? data.connection ?? event.id);
        for (const e of wanted) rows.push({ id: newGatewayId('whd'), endpointId: e.id, appId: event.appId, eventId: event.id, eventType: event.type, objectId, payload });
      }
    }
    if (!rows.length) return;
    await db.insert(appWebhookDeliveries).values(rows).onConflictDoNothing();
    this.worker.wake();
  }

  start(intervalMs = 250): void {
    this.worker.start(intervalMs);
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    this.outbound.close();
  }

  /** Claims and sends one batch of due deliveries; true if there was any. */
  private async work(): Promise<boolean> {
    const claimed = await this.rt.db.execute(sql`
      UPDATE app_webhook_deliveries SET locked_until = now() + make_interval(secs => ${this.leaseSeconds}), updated_at = now()
      WHERE id IN (
        SELECT d.id FROM app_webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND (d.locked_until IS NULL OR d.locked_until < now())
          -- an object's later events wait until its earlier ones are delivered (or given up)
          AND NOT EXISTS (SELECT 1 FROM app_webhook_deliveries e WHERE e.endpoint_id = d.endpoint_id AND e.object_id = d.object_id
            AND e.seq < d.seq AND e.status = 'pending')
        ORDER BY d.seq LIMIT 20 FOR UPDATE SKIP LOCKED)
      RETURNING id, endpoint_id, payload, attempts, created_at`);
    const rows = claimed.rows as { id: string; endpoint_id: string; payload: string; attempts: number; created_at: string | Date }[];
    if (!rows.length) return false;
    await Promise.all(rows.map((r) => this.send(r)));
    return true;
  }

  private async send(r: { id: string; endpoint_id: string; payload: string; attempts: number; created_at: string | Date }): Promise<void> {
    const [endpoint] = await this.rt.db.select().from(appWebhookEndpoints).where(eq(appWebhookEndpoints.id, r.endpoint_id));
    if (!endpoint || endpoint.deletedAt) {
      await this.rt.db.update(appWebhookDeliveries).set({ status: 'canceled', lockedUntil: null }).where(eq(appWebhookDeliveries.id, r.id));
      return;
    }
    const secret = await this.rt.vault.open(endpoint.secretId);
    let status = 0;
    let error: string | null = null;
    let response: string | null = null;
    try {
      // Through the one guarded module: no redirect is followed, no inward address reached, little read back.
      const res = await this.outbound.post(endpoint.url, r.payload, { 'paybridge-signature': signatureHeader(secret, r.payload) });
      status = res.status;
      response = res.body;
    } catch (e) {
      error = describeFailure(e);
    }
    const attempts = r.attempts + 1;
    if (status >= 200 && status < 300) {
      await this.rt.db.update(appWebhookDeliveries).set({ status: 'succeeded', attempts, lastStatus: status, lastError: null, lastResponse: storableText(response), lockedUntil: null, updatedAt: new Date() }).where(eq(appWebhookDeliveries.id, r.id));
      return;
    }
    const age = Date.now() - new Date(r.created_at).getTime();
    const delay = Math.min(this.baseDelayMs * 2 ** (attempts - 1), 3600_000);
    const giveUp = age + delay > this.maxAgeMs;
    await this.rt.db.update(appWebhookDeliveries).set({
      status: giveUp ? 'failed' : 'pending', attempts, lastStatus: status || null, lastError: error ?? `HTTP ${status}`, lastResponse: storableText(response),
      nextAttemptAt: new Date(Date.now() + delay), lockedUntil: null, updatedAt: new Date(),
    }).where(eq(appWebhookDeliveries.id, r.id));
    if (giveUp && endpoint.status === 'enabled') {
      // An endpoint that has failed for days is switched off, and the app is told (on its other endpoints and in its events).
      const reason = `Deliveries failed for three days (last: ${error ?? `HTTP ${status}`}).`;
      await this.rt.db.update(appWebhookEndpoints).set({ status: 'disabled', disabledReason: reason }).where(eq(appWebhookEndpoints.id, endpoint.id));
      await emitGatewayEvent(this.rt, endpoint.appId, endpoint.mode, 'webhook_endpoint.disabled', { id: endpoint.id, url: endpoint.url, reason });
    }
  }
}
