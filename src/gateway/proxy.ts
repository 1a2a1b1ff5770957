/**
 * The proxy: a request for a connection goes to Stripe with that
 * connection's credentials and Stripe's answer comes back unchanged.
 * Two doors lead in: `/proxy/:connection/v1/...` with an app key, and plain
 * `/v1/...` with a connection key (`pbk_test_…`), which any Stripe SDK can
 * use by pointing host/port/protocol at PayBridge; connection keys carry
 * Stripe's restricted-key permissions and are checked against the same
 * resource table the sandbox uses.
 */
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import qs from 'qs';
import { permissionFor, PERMISSION_NAMES } from '../stripe/routes.js';
import { invalidRequest, permissionError, StripeError } from '../stripe/errors.js';
import { connectionKeys, oauthClients } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Mode } from './config.js';
import { answerFields, failIfUnusable, stripeErrorOf, type Connection, type Connections } from './connections.js';
import { hintOf, newGatewayId, randomToken, sha256 } from './ids.js';
import { ConcurrencyGate, countCreation, RateLimiter, SharedRateLimiter, type Limiter } from './limits.js';
import type { OAuthConnections } from './oauth.js';
import { canonicalStripePath } from './paths.js';
import type { Runtime } from './runtime.js';
import type { UpstreamAnswer } from './upstream.js';

export interface ProxyRequest {
  method: string;
  /** `/v1/...` with its query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer;
  /**
   * On a Connect OAuth connection, as the platform itself (no Stripe-Account): a destination charge is the
   * platform's, paying the connection's account. Set only by PayBridge's own calls, never from a client's request.
   */
  asPlatform?: boolean;
}

type Level = 'read' | 'write' | 'none';
interface ConnectionKey {
  id: string;
  connectionId: string;
  appId: string;
  mode: Mode;
  permissions: Record<string, Level>;
  /** An MCP OAuth grant (its secret is an access token, taken at /mcp only). */
  oauth: boolean;
  /** When an OAuth access token stops working (ms); plain keys do not expire. */
  expiresAt?: number;
}

/**
 * Headers a client may send on to Stripe. Not `Stripe-Account` (the connection decides the account) and not
 * `Stripe-Context`, which supersedes it: that one only for API-key connections of apps the operator allowed.
 */
const FORWARDED = ['content-type', 'stripe-version', 'idempotency-key'];

/** Whose rate limit a call spends: its Stripe account's (several connections may reach one account), per mode. */
const limitKey = (conn: Connection): string => `${conn.mode}:${conn.accountId ?? conn.id}`;

export class Proxy {
  private limiters: Record<Mode, Limiter>;
  private readonly perApp: ConcurrencyGate;
  private keyCache = new Map<string, { key: ConnectionKey | null; at: number }>();

  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly oauth: OAuthConnections) {
    // Stripe limits each account, however many connections or instances call it: on a shared PostgreSQL the bucket
    // is in the database; on embedded storage there is one instance, and it is in memory.
    const limiter = (perSecond: number): Limiter => (rt.dbKind === 'postgres' ? new SharedRateLimiter(rt.db, perSecond) : new RateLimiter(perSecond));
    this.limiters = { test: limiter(rt.config.rateLimit.test), live: limiter(rt.config.rateLimit.live) };
    this.perApp = new ConcurrencyGate(rt.config.appConcurrency);
  }

  /** `ANY /proxy/:connection/v1/...` with an app key; `req.path` as the client sent it (checked here first). */
  async forApp(app: AppKey, connectionId: string, req: ProxyRequest): Promise<UpstreamAnswer> {
    req = canonical(req);
    const conn = await this.conns.require(app, connectionId);
    // `paybridge mcp --connection` names the tool behind each call, so the log shows what an agent did.
    const tool = req.headers['paybridge-mcp-tool'];
    return this.forward(app, conn, req, typeof tool === 'string' && /^[a-z_]{1,64}$/.test(tool) ? `mcp:${tool}` : 'proxy');
  }

  /** `ANY /v1/...` with a connection key: the key's permissions first, as Stripe checks a restricted key's. */
  async forConnectionKey(secret: string, req: ProxyRequest, at: 'api' | 'mcp' = 'api'): Promise<UpstreamAnswer> {
    const key = await this.lookupKey(secret);
    if (!key) throw new StripeError(401, 'invalid_request_error', `Invalid API Key provided: ${hintOf(secret)}`, { code: 'api_key_invalid' });
    // An MCP access token is issued for /mcp (its OAuth resource), not as a Stripe API key.
    if (key.oauth && at !== 'mcp') throw new StripeError(401, 'invalid_request_error', 'This is an MCP access token: it is taken at /mcp only.', { code: 'api_key_invalid' });
    this.noteUse(key.id);
    // The permission is looked up on the path Stripe will see, never on one that ../ or escapes could change.
    req = canonical(req);
    const path = req.path.split('?')[0];
    const needed = permissionFor(req.method, path);
    if (!needed) {
      throw permissionError(`The connection key '${hintOf(secret)}' cannot call ${req.method} ${path}: PayBridge does not know which permission it needs. Use the proxy with an app key instead.`);
    }
    const granted = key.permissions[needed.permission] ?? 'none';
    if (!(granted === 'write' || granted === needed.level)) {
      const singular = needed.permission.replace(/ies$/, 'y').replace(/s$/, '');
      throw permissionError(`The provided key '${hintOf(secret)}' does not have the required permissions for this endpoint on connection '${key.connectionId}'. Having the 'rak_${singular}_${needed.level}' permission would allow this request to continue.`);
    }
    const app: AppKey = { appId: key.appId, mode: key.mode, keyId: key.id };
    const conn = await this.conns.require(app, key.connectionId);
    // The MCP server names the tool behind each call it makes with the key, so the log shows what an agent did.
    const tool = req.headers['paybridge-mcp-tool'];
    return this.forward(app, conn, req, typeof tool === 'string' && /^[a-z_]{1,64}$/.test(tool) ? `mcp:${tool}` : 'connection_key');
  }

  /** What a connection key grants (its connection and permissions), or null for an unknown or revoked key. */
  async connectionKeyGrant(secret: string): Promise<{ connectionId: string; permissions: Record<string, Level>; oauth: boolean } | null> {
    const key = await this.lookupKey(secret);
    return key && { connectionId: key.connectionId, permissions: key.permissions, oauth: key.oauth };
  }

  private forward(app: AppKey, conn: Connection, req: ProxyRequest, source: string): Promise<UpstreamAnswer> {
    return this.perApp.run(app.appId, () => this.forwardNow(app, conn, req, source));
  }

  private async forwardNow(app: AppKey, conn: Connection, req: ProxyRequest, source: string): Promise<UpstreamAnswer> {
    failIfUnusable(conn);
    await this.limiters[conn.mode as Mode].acquire(limitKey(conn));
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const context = req.headers['stripe-context'];
    if (typeof context === 'string' && conn.kind === 'api_key' && conn.keyType === 'secret' && this.rt.config.stripeContextApps.includes(app.appId)) headers['stripe-context'] = context;
    const send = async (c: Connection) => {
      const credentials = await this.oauth.credentialsFor(c);
      headers.authorization = credentials.authorization;
      if (credentials.stripeAccount && !(req.asPlatform && c.kind === 'oauth')) headers['stripe-account'] = credentials.stripeAccount;
      return this.rt.api.send({ method: req.method, path: req.path, headers, body: req.method === 'GET' || req.method === 'DELETE' ? undefined : req.body });
    };
    let answer = await send(conn);
    if (conn.kind === 'stripe_app' && answer.status === 401 && stripeErrorOf(answer)?.code === 'api_key_expired') {
      // The token expired earlier than we thought (or another instance rotated it): refresh once and replay.
      headers['idempotency-key'] ??= answer.idempotencyKey!;
      answer = await send(await this.oauth.refresh(conn, 'rejected'));
    }
    const error = stripeErrorOf(answer);
    if (this.rt.tracer.enabled) {
      const traceparent = req.headers.traceparent;
      this.rt.tracer.record({
        name: `stripe ${req.method} ${req.path.split('?')[0]}`, startMs: Date.now() - answer.durationMs, endMs: Date.now(),
        traceparent: typeof traceparent === 'string' ? traceparent : undefined, error: !!error,
        attributes: {
          'http.request.method': req.method, 'url.path': req.path.split('?')[0], 'http.response.status_code': answer.status,
          'paybridge.connection': conn.id, 'paybridge.attempts': answer.attempts, 'stripe.request_id': answer.headers['request-id'], 'stripe.error_code': error?.code,
        },
      });
    }
    this.rt.logs.record({
      appId: app.appId, connectionId: conn.id, mode: conn.mode, method: req.method, path: req.path.split('?')[0], ...answerFields(answer, error), source,
      request: req.body?.length ? { contentType: req.headers['content-type'], raw: req.body } : null,
    });
    void this.conns.observe(conn, answer).catch(() => undefined);
    if (answer.networkError) {
      throw new StripeError(502, 'api_connection_error', `PayBridge could not reach Stripe after ${answer.attempts} attempts: ${answer.networkError}`, { code: 'upstream_unreachable' });
    }
    return answer;
  }

  /**
   * A call PayBridge itself makes on a connection (payment sessions, …):
   * same credentials, retries, limits and logs as proxied calls. Answers the
   * parsed object, or throws Stripe's error as a StripeError with its fields.
   */
  async request(app: AppKey, conn: Connection, method: string, path: string, params?: Record<string, unknown>, idempotencyKey?: string, source = 'paybridge', o: { asPlatform?: boolean } = {}): Promise<any> {
    return JSON.parse((await this.requestBytes(app, conn, method, path, params, idempotencyKey, source, o)).toString('utf8') || '{}');
  }

  /** As `request`, answering the bytes Stripe sent (a backfill hands them to the database as they came). */
  async requestBytes(app: AppKey, conn: Connection, method: string, path: string, params?: Record<string, unknown>, idempotencyKey?: string, source = 'paybridge', o: { asPlatform?: boolean } = {}): Promise<Buffer> {
    return (await this.requestAnswer(app, conn, method, path, params, idempotencyKey, source, o)).body;
  }

  /** As `request`, answering Stripe's whole answer (its headers say, e.g., whether it replayed an idempotent call). */
  async requestAnswer(app: AppKey, conn: Connection, method: string, path: string, params?: Record<string, unknown>, idempotencyKey?: string, source = 'paybridge', o: { asPlatform?: boolean } = {}): Promise<UpstreamAnswer> {
    const encoded = params && Object.keys(params).length ? qs.stringify(params, { arrayFormat: 'indices' }) : '';
    if (method !== 'POST' && encoded) path += `${path.includes('?') ? '&' : '?'}${encoded}`;
    const body = method === 'POST' && encoded ? Buffer.from(encoded) : undefined;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const answer = await this.forward(app, conn, { method, path, headers, body, asPlatform: o.asPlatform }, source);
    if (answer.status >= 400) {
      const e = errorOf(answer.body);
      const { type, message, code, decline_code, param, doc_url, ...extra } = e;
      throw new StripeError(answer.status, type ?? 'api_error', message ?? `Stripe answered HTTP ${answer.status}`, { code, decline_code, param, doc_url, extra });
    }
    return answer;
  }

  async createKey(app: AppKey, connectionId: string, p: { permissions?: unknown }): Promise<Record<string, unknown>> {
    const conn = await this.conns.require(app, connectionId);
    const permissions = checkedPermissions(p.permissions);
    await countCreation(this.rt.db, app.appId, 'connection keys', this.rt.config.createsPerMinute);
    const secret = `pbk_${conn.mode}_${randomToken(32)}`;
    const id = newGatewayId('ckey', 16);
    await this.rt.db.insert(connectionKeys).values({ id, connectionId: conn.id, appId: app.appId, mode: conn.mode, keyHash: sha256(secret), hint: hintOf(secret), permissions });
    return { id, object: 'connection_key', connection: conn.id, secret, hint: hintOf(secret), permissions, livemode: conn.mode === 'live' };
  }

  /**
   * A grant for an MCP client the admin consented to (OAuth): a connection key with no usable secret yet; its
   * access token, issued when the client exchanges its code, becomes the key's secret (mcp-oauth.ts).
   */
  async createGrant(app: AppKey, connectionId: string, permissions: unknown, clientId: string): Promise<{ id: string; connection: Connection }> {
    const conn = await this.conns.require(app, connectionId);
    const checked = checkedPermissions(permissions);
    await countCreation(this.rt.db, app.appId, 'connection keys', this.rt.config.createsPerMinute);
    const id = newGatewayId('ckey', 16);
    await this.rt.db.insert(connectionKeys).values({
      id, connectionId: conn.id, appId: app.appId, mode: conn.mode, keyHash: sha256(randomToken(32)), hint: 'OAuth', permissions: checked, oauthClientId: clientId, expiresAt: new Date(),
    });
    return { id, connection: conn };
  }

  /** `GET /v1/connections/:id/keys`: the connection's keys, newest first, with hints and never their secrets. */
  async listKeys(app: AppKey, connectionId: string) {
    const conn = await this.conns.require(app, connectionId);
    const rows = await this.rt.db.select().from(connectionKeys).where(and(eq(connectionKeys.connectionId, conn.id), eq(connectionKeys.appId, app.appId))).orderBy(desc(connectionKeys.createdAt));
    // What a key on this connection can be given: a restricted key's own permissions, or everything.
    const clientIds = [...new Set(rows.map((k) => k.oauthClientId).filter((c): c is string => !!c))];
    const clientNames = new Map(clientIds.length
      ? (await this.rt.db.select().from(oauthClients).where(inArray(oauthClients.id, clientIds))).map((c) => [c.id, (c.metadata as { client_name?: string }).client_name ?? null] as const)
      : []);
    const grantable = conn.permissions ? Object.fromEntries(Object.entries(conn.permissions as Record<string, string>).filter(([, l]) => l !== 'none'))
      : Object.fromEntries(PERMISSION_NAMES.map((n) => [n, 'write']));
    return {
      object: 'list', url: `/v1/connections/${conn.id}/keys`, has_more: false, grantable_permissions: grantable,
      data: rows.map((k) => ({ id: k.id, object: 'connection_key', connection: k.connectionId, hint: k.hint, permissions: k.permissions, livemode: k.mode === 'live', created: Math.floor(k.createdAt.getTime() / 1000),
        last_used: k.lastUsedAt ? Math.floor(k.lastUsedAt.getTime() / 1000) : null, revoked: k.revokedAt !== null,
        oauth_client: k.oauthClientId ? { id: k.oauthClientId, name: clientNames.get(k.oauthClientId) ?? null } : null })),
    };
  }

  /** Revokes every connection key of an app in one mode (with its app key's rotation, when the operator asks). */
  async revokeAllKeys(app: AppKey, mode: Mode): Promise<number> {
    const rows = await this.rt.db.update(connectionKeys).set({ revokedAt: new Date() })
      .where(and(eq(connectionKeys.appId, app.appId), eq(connectionKeys.mode, mode), isNull(connectionKeys.revokedAt))).returning({ id: connectionKeys.id });
    this.keyCache.clear();
    return rows.length;
  }

  async revokeKey(app: AppKey, connectionId: string, keyId: string): Promise<boolean> {
    const rows = await this.rt.db.update(connectionKeys).set({ revokedAt: new Date() })
      .where(and(eq(connectionKeys.id, keyId), eq(connectionKeys.connectionId, connectionId), eq(connectionKeys.appId, app.appId), isNull(connectionKeys.revokedAt))).returning();
    this.keyCache.clear();
    return rows.length > 0;
  }

  /** After a revocation elsewhere (an OAuth client revoking its token): no cached key outlives it here. */
  forgetCachedKeys(): void {
    this.keyCache.clear();
  }

  /** Last use of each connection key, written at most once a minute per key and never on the request's path. */
  private lastUseWrite = new Map<string, number>();
  private noteUse(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUseWrite.get(keyId) ?? 0) < 60_000) return;
    this.lastUseWrite.set(keyId, now);
    if (this.lastUseWrite.size > 10_000) this.lastUseWrite.clear();
    void this.rt.db.update(connectionKeys).set({ lastUsedAt: new Date(now) }).where(eq(connectionKeys.id, keyId)).catch(() => undefined);
  }

  private async lookupKey(secret: string): Promise<ConnectionKey | null> {
    const key = await this.lookupKeyCached(secret);
    // An OAuth access token stops working when it expires, cached or not.
    return key && (key.expiresAt === undefined || key.expiresAt > Date.now()) ? key : null;
  }

  private async lookupKeyCached(secret: string): Promise<ConnectionKey | null> {
    const cached = this.keyCache.get(secret);
    if (cached && Date.now() - cached.at < 5000) return cached.key;
    const [row] = await this.rt.db.select().from(connectionKeys).where(eq(connectionKeys.keyHash, sha256(secret)));
    const key = row && !row.revokedAt
      ? { id: row.id, connectionId: row.connectionId, appId: row.appId, mode: row.mode as Mode, permissions: row.permissions as Record<string, Level>, oauth: !!row.oauthClientId, expiresAt: row.expiresAt?.getTime() }
      : null;
    if (this.keyCache.size > 10_000) this.keyCache.clear();
    this.keyCache.set(secret, { key, at: Date.now() });
    return key;
  }
}

/** The request with its path checked and canonicalised (`canonicalStripePath`), query string kept as sent. */
function canonical(req: ProxyRequest): ProxyRequest {
  const { path, query } = canonicalStripePath(req.path);
  return { ...req, path: query ? `${path}?${query}` : path };
}

/** The `error` of a Stripe error answer; an empty one when the body is not Stripe's JSON (a proxy's HTML page, say). */
function errorOf(body: Buffer): Record<string, any> {
  try {
    return JSON.parse(body.toString('utf8')).error ?? {};
  } catch {
    return {};
  }
}

/** A connection key's permissions as asked for, each a known resource at a known level. */
function checkedPermissions(permissions: unknown): Record<string, string> {
  if (!permissions || typeof permissions !== 'object' || Array.isArray(permissions)) {
    throw invalidRequest('Missing required param: permissions (e.g. {"customers": "write", "payment_intents": "read"}).', { param: 'permissions', code: 'parameter_missing' });
  }
  for (const [resource, level] of Object.entries(permissions as Record<string, unknown>)) {
    if (!PERMISSION_NAMES.includes(resource)) throw invalidRequest(`Unknown permission resource: ${resource}. Known: ${PERMISSION_NAMES.join(', ')}`, { param: `permissions[${resource}]` });
    if (typeof level !== 'string' || !['read', 'write', 'none'].includes(level)) throw invalidRequest(`Invalid permission level for ${resource}: ${String(level)}. Use read, write or none.`, { param: `permissions[${resource}]` });
  }
  return permissions as Record<string, string>;
}
