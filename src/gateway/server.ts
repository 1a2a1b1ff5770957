/**
 * The gateway's HTTP surface (Fastify). PayBridge's own API speaks JSON (form
 * bodies work too, for curl) and answers errors in Stripe's shape; the proxy
 * routes pass bodies through as raw bytes.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import qs from 'qs';
import { eq, inArray } from 'drizzle-orm';
import { apiError, invalidRequest, resourceMissing, StripeError } from '../stripe/errors.js';
import { settings } from '../store/schema.js';
import type { AdminAuth } from './admin.js';
import { registerAdminRoutes, registerDashboard } from './dashboard.js';
import { bearer, type AppKey, type Apps } from './apps.js';
import type { Mode } from './config.js';
import { connectionView, type Connection, type Connections } from './connections.js';
import type { OAuthConnections } from './oauth.js';
import type { Proxy, ProxyRequest } from './proxy.js';
import { STATUS_FILTER } from './logs.js';
import { PROBES } from './probe.js';
import { registerSessionPages } from './pages.js';
import type { Actions } from './actions.js';
import type { AppWebhooks } from './app_webhooks.js';
import type { Syncs } from './syncs.js';
import { verifyStripeEvent, type StripeEventsIn } from './inbound.js';
import { getGatewayEvent, listGatewayEvents } from './runtime.js';
import { sessionView, type PaymentSessions } from './sessions.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { inProcessTarget } from '../mcp/callers.js';
import { buildMcpServer, type Permissions, type Target as McpTarget } from '../mcp/server.js';
import { ToolFailure, markReplayed } from '../mcp/tools.js';
import type { Retention } from './retention.js';
import { mountMcpOAuth, type McpOAuth } from './mcp-oauth.js';
import type { ConnectAccounts } from './connect-accounts.js';
import type { Runtime } from './runtime.js';
import type { UpstreamAnswer } from './upstream.js';

export interface Services {
  rt: Runtime;
  apps: Apps;
  connections: Connections;
  oauth: OAuthConnections;
  proxy: Proxy;
  sessions: PaymentSessions;
  actions: Actions;
  appWebhooks: AppWebhooks;
  syncs: Syncs;
  admin: AdminAuth;
  inbound: StripeEventsIn;
  retention: Retention;
  mcpOAuth: McpOAuth;
  connect: ConnectAccounts;
}

const HIDDEN_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'date']);

function sendError(reply: FastifyReply, e: StripeError): FastifyReply {
  return reply.code(e.status).headers(e.fields.headers ?? {}).type('application/json').send(JSON.stringify(e.toJSON()));
}

/** Headers every answer carries: no framing, no sniffing, no referrer, a strict CSP; no caching unless an asset. */
function secureHeaders(reply: FastifyReply, asset: boolean): void {
  reply.header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  if (!asset && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large (at most 16 KB).'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time: send headers and body without pausing.'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'Request Timeout', 'The request headers did not arrive in time.'],
};

/** Node's HTTP parser refused the bytes before Fastify saw a request: answer in Stripe's shape all the same. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
  const [status, reason, message] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'The request is not valid HTTP.'];
  const body = JSON.stringify(new StripeError(status, 'invalid_request_error', message, { code: 'request_invalid' }).toJSON());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The name of the first parameter holding a NUL (`metadata[a]`), or undefined. */
function findUnstorable(value: unknown, name = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? name || 'body' : undefined;
  if (!value || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    const child = name ? `${name}[${k}]` : k;
    if (k.includes('\u0000')) return child;
    const found = findUnstorable(v, child);
    if (found) return found;
  }
  return undefined;
}

function sendUpstream(reply: FastifyReply, answer: UpstreamAnswer): FastifyReply {
  for (const [k, v] of Object.entries(answer.headers)) if (!HIDDEN_HEADERS.has(k)) reply.header(k, v);
  return reply.code(answer.status).send(answer.body);
}

/**
 * A proxied request with its path exactly as the client sent it (from `/v1/`): not Fastify's decoded parameter,
 * which would turn `%00` into a NUL and `%2e%2e` into `..` before the proxy's path check could see them.
 */
const proxyRequest = (req: FastifyRequest, from = 0): ProxyRequest => {
  const at = req.url.indexOf('/v1/', from);
  return { method: req.method, path: at === -1 ? req.url : req.url.slice(at), headers: req.headers, body: req.body as Buffer | undefined };
};

export function buildGatewayServer(s: Services): FastifyInstance {
  const { rt } = s;
  const app = Fastify({
    logger: false, bodyLimit: 1024 * 1024, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Slow clients are cut off: headers and body must arrive within the request timeout (checked twice a second).
    serverFactory: (handler) => createServer({ requestTimeout: rt.config.requestTimeoutMs, headersTimeout: Math.min(rt.config.requestTimeoutMs, 20_000), connectionsCheckingInterval: 500, maxHeaderSize: 16 * 1024 }, handler),
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _req, reply) => void sendError(reply, invalidRequest(`Invalid request: ${error.message}`, { code: 'request_invalid' })),
  });
  // Every route, for the generated-input test that walks them all.
  const routeList: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routeList.push({ method, url: r.url });
  });
  app.decorate('routeList', routeList);
  // A path parameter holding a NUL names nothing PayBridge could have stored: a 400 on every route, proxy included.
  app.addHook('preHandler', async (req) => {
    const bad = findUnstorable(req.params);
    if (bad) throw invalidRequest(`Invalid ${bad}: it holds a NUL character.`, { param: bad, code: 'parameter_invalid_string' });
  });
  app.addHook('onSend', async (req, reply, payload) => {
    secureHeaders(reply, req.url.startsWith('/assets/'));
    return payload;
  });
  // MCP's OAuth endpoints (the SDK's), ahead of Fastify's body parsing.
  mountMcpOAuth(app, s.mcpOAuth, () => rt.publicUrl);
  const auth = (req: FastifyRequest): Promise<AppKey> => {
    // The dashboard signs in with a cookie instead of a key (and proves each change with its CSRF token).
    if (!req.headers.authorization && s.admin.hasCookie(req)) return s.admin.appKey(req);
    const secret = bearer(req.headers.authorization);
    if (!/^pb_(test|live)_/.test(secret)) {
      throw new StripeError(401, 'invalid_request_error', "PayBridge's own API takes an app key (pb_test_… or pb_live_…).", { code: 'api_key_invalid' });
    }
    return s.apps.authenticate(secret);
  };
  const limit = (v: unknown) => {
    const n = v === undefined ? 10 : Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 100) throw invalidRequest('Invalid limit: must be between 1 and 100', { param: 'limit' });
    return n;
  };

  // PayBridge's own API: JSON or form bodies.
  app.register(async (api) => {
    // A parameter given twice, or holding a NUL byte (which PostgreSQL cannot store), is the client's mistake: a 400.
    api.addHook('preHandler', async (req) => {
      for (const [key, value] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
        if (typeof value !== 'string') throw invalidRequest(`Invalid ${key}: give it once, as a single value.`, { param: key, code: 'parameter_repeated' });
      }
      const bad = findUnstorable(req.query) ?? findUnstorable(req.body);
      if (bad) throw invalidRequest(`Invalid ${bad}: it holds a NUL character.`, { param: bad, code: 'parameter_invalid_string' });
    });
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, body ? JSON.parse(body as string) : {});
      } catch {
        done(invalidRequest('Invalid JSON body.'), undefined);
      }
    });
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, qs.parse(body as string, { depth: 5 })));

    api.get('/v1/app', async (req) => {
      const key = await auth(req);
      const found = await s.apps.get(key.appId);
      return { id: found.id, object: 'app', name: found.name, livemode: key.mode === 'live', keys: await s.apps.listKeys(key.appId) };
    });
    api.post<{ Body: { mode?: Mode; revoke_connection_keys?: unknown; expires_in?: unknown } }>('/v1/app/keys/rotate', async (req) => {
      const key = await auth(req);
      const mode = req.body?.mode ?? key.mode;
      if (mode !== 'test' && mode !== 'live') throw invalidRequest('mode must be test or live.', { param: 'mode' });
      const revokeKeys = req.body?.revoke_connection_keys;
      if (revokeKeys !== undefined && typeof revokeKeys !== 'boolean' && revokeKeys !== 'true' && revokeKeys !== 'false') {
        throw invalidRequest('revoke_connection_keys must be true or false.', { param: 'revoke_connection_keys' });
      }
      // When the old key stops: now, or after one of the windows Stripe offers when rolling a key.
      const expiresIn = req.body?.expires_in === undefined ? 0 : Number(req.body.expires_in);
      if (![0, 3600, 86_400, 604_800].includes(expiresIn)) throw invalidRequest('expires_in must be 0 (now), 3600 (1 hour), 86400 (24 hours) or 604800 (7 days).', { param: 'expires_in' });
      const issued = await s.apps.rotate(key.appId, mode, expiresIn);
      // Connection keys were handed out under the old app key; the operator decides whether they go with it.
      const revoked = revokeKeys === true || revokeKeys === 'true' ? await s.proxy.revokeAllKeys(key, mode) : 0;
      return { object: 'api_key', id: issued.id, mode, secret: issued.secret, hint: issued.hint, previous_key: issued.previous ?? null, connection_keys_revoked: revoked };
    });

    api.delete<{ Params: { id: string } }>('/v1/app/keys/:id', async (req) => {
      const key = await auth(req);
      if (!(await s.apps.revoke(key.appId, req.params.id))) throw invalidRequest(`No such API key: '${req.params.id}'`, { code: 'resource_missing', param: 'id' }, 404);
      return { id: req.params.id, object: 'api_key', revoked: true };
    });

    api.post<{ Body: Record<string, unknown> }>('/v1/connections', async (req) => connectionView(await s.connections.createFromApiKey(await auth(req), req.body ?? {}), rt.publicUrl));
    api.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/v1/connections/:id', async (req) => connectionView(await s.connections.configure(await auth(req), req.params.id, req.body ?? {}), rt.publicUrl));
    api.get('/v1/connections', async (req) => s.connections.list(await auth(req)));
    api.get<{ Params: { id: string } }>('/v1/connections/:id', async (req) => connectionView(await s.connections.require(await auth(req), req.params.id), rt.publicUrl));
    api.delete<{ Params: { id: string } }>('/v1/connections/:id', async (req) => {
      const key = await auth(req);
      const conn = await s.connections.require(key, req.params.id);
      await s.oauth.deauthorize(conn);
      // The webhook endpoint PayBridge registered on the account goes too (best effort: the key may be rolled already).
      if (conn.webhookEndpointId) await s.proxy.request(key, conn, 'DELETE', `/v1/webhook_endpoints/${conn.webhookEndpointId}`).catch(() => undefined);
      await s.connections.remove(conn.id);
      await s.syncs.forget(conn.id);
      return { id: conn.id, object: 'connection', deleted: true };
    });
    api.post<{ Params: { id: string } }>('/v1/connections/:id/test', async (req) => {
      const key = await auth(req);
      let conn = await s.connections.require(key, req.params.id);
      try {
        // Testing a connection whose token refresh kept failing tries the refresh once more.
        if (conn.kind === 'stripe_app' && conn.status === 'refresh_failed') conn = await s.oauth.refresh(conn, 'rejected');
        const credentials = await s.oauth.credentialsFor(conn);
        // A restricted key is tested with something its detected permissions allow, not with a read it may lack.
        const granted = Object.entries((conn.permissions ?? {}) as Record<string, string>).filter(([, level]) => level === 'read' || level === 'write').map(([name]) => name);
        const probe = conn.keyType === 'restricted' ? PROBES.find(([name]) => name === 'balance' && granted.includes(name)) ?? PROBES.find(([name]) => granted.includes(name)) : undefined;
        const path = conn.keyType === 'restricted' ? probe?.[1] ?? '/v1/balance' : '/v1/account';
        const answer = await s.connections.call(key, conn, 'test', { method: 'GET', path, authorization: credentials.authorization, stripeAccount: credentials.stripeAccount });
        await s.connections.observe(conn, answer);
        if (answer.status === 200) {
          const message = conn.keyType === 'restricted' ? `Connection successful — restricted key, ${granted.length} permission${granted.length === 1 ? '' : 's'}` : 'Connection successful';
          return { object: 'connection_test', ok: true, message, connection: conn.id, account: conn.accountId, livemode: conn.mode === 'live', latency_ms: Math.round(answer.durationMs) };
        }
        const error = JSON.parse(answer.body.toString('utf8') || '{}').error ?? {};
        const after = await s.connections.load(conn.id, true);
        return { object: 'connection_test', ok: false, message: error.message ?? `Stripe answered HTTP ${answer.status}`, code: error.code ?? null, status: after?.status, connection: conn.id };
      } catch (e) {
        if (!(e instanceof StripeError)) throw e;
        return { object: 'connection_test', ok: false, message: e.message, code: e.fields.code ?? null, connection: conn.id };
      }
    });
    api.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/v1/connections/:id/keys', async (req) => s.proxy.createKey(await auth(req), req.params.id, req.body ?? {}));
    api.get<{ Params: { id: string } }>('/v1/connections/:id/keys', async (req) => s.proxy.listKeys(await auth(req), req.params.id));
    api.delete<{ Params: { id: string; key: string } }>('/v1/connections/:id/keys/:key', async (req) => {
      const done = await s.proxy.revokeKey(await auth(req), req.params.id, req.params.key);
      if (!done) throw invalidRequest(`No such connection key: '${req.params.key}'`, { code: 'resource_missing', param: 'key' }, 404);
      return { id: req.params.key, object: 'connection_key', deleted: true };
    });

    api.post<{ Body: Record<string, unknown> }>('/v1/connect_sessions', async (req) => s.oauth.createSession(await auth(req), req.body ?? {}));

    const idempotencyKey = (req: FastifyRequest) => (typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined);
    api.post<{ Body: Record<string, unknown> }>('/v1/sessions', async (req) => s.sessions.view(await s.sessions.create(await auth(req), req.body ?? {}, idempotencyKey(req))));
    api.get<{ Querystring: Record<string, string> }>('/v1/sessions', async (req) =>
      s.sessions.list(await auth(req), { status: req.query.status, mode: req.query.mode, connection: req.query.connection, limit: limit(req.query.limit), startingAfter: req.query.starting_after }));
    api.get<{ Params: { id: string } }>('/v1/sessions/:id', async (req) => {
      const session = await s.sessions.require(await auth(req), req.params.id);
      return s.sessions.view(await s.sessions.refresh(session).catch(() => session));
    });
    api.get<{ Params: { id: string } }>('/v1/sessions/:id/timeline', async (req) => s.sessions.timeline(await auth(req), req.params.id));
    api.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/v1/sessions/:id/charge', async (req) => s.sessions.charge(await auth(req), req.params.id, req.body ?? {}, idempotencyKey(req)));
    api.post<{ Params: { id: string } }>('/v1/sessions/:id/cancel', async (req) => sessionView(await s.sessions.cancel(await auth(req), req.params.id), rt.publicUrl));

    api.post<{ Body: unknown }>('/v1/actions', async (req) => s.actions.save(await auth(req), req.body));
    api.get('/v1/actions', async (req) => s.actions.list(await auth(req)));
    api.get<{ Params: { name: string } }>('/v1/actions/:name', async (req) => s.actions.get(await auth(req), req.params.name));
    api.get<{ Params: { name: string } }>('/v1/actions/:name/versions', async (req) => s.actions.versions(await auth(req), req.params.name));
    api.post<{ Params: { connection: string; name: string }; Querystring: { trace?: string }; Body: Record<string, unknown> }>('/v1/actions/:connection/:name', async (req) =>
      s.actions.run(await auth(req), req.params.connection, req.params.name, req.body ?? {}, { idempotencyKey: idempotencyKey(req), trace: req.query.trace === 'true' }));

    api.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/v1/connections/:id/sync', async (req) => s.syncs.start(await auth(req), req.params.id, req.body ?? {}));
    api.get<{ Params: { id: string } }>('/v1/connections/:id/sync', async (req) => s.syncs.status(await auth(req), req.params.id));
    api.get<{ Params: { id: string } }>('/v1/connections/:id/connect', async (req) => s.connect.summary(await auth(req), req.params.id));
    api.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/v1/connections/:id/onboarding_link', async (req) => s.connect.onboardingLink(await auth(req), req.params.id, req.body ?? {}));
    api.get<{ Querystring: Record<string, string> }>('/v1/reports/platform_fees', async (req) => s.syncs.platformFees(await auth(req), req.query.connection));
    api.get<{ Querystring: Record<string, string> }>('/v1/reports/connections', async (req) => s.syncs.connectionTotals(await auth(req), req.query.connection));
    api.get<{ Querystring: Record<string, string> }>('/v1/records', async (req) => s.syncs.records(await auth(req), req.query));
    api.get<{ Querystring: Record<string, string> }>('/v1/reports/revenue', async (req) => s.syncs.revenue(await auth(req), req.query.connection ?? ''));
    api.get<{ Querystring: Record<string, string> }>('/v1/reports/subscriptions', async (req) => s.syncs.subscriptions(await auth(req), req.query.connection ?? ''));
    api.get<{ Querystring: Record<string, string> }>('/v1/reports/failed_payments', async (req) => {
      const hours = Number(req.query.hours ?? 24);
      if (!Number.isInteger(hours) || hours < 1) throw invalidRequest('hours must be a positive whole number.', { param: 'hours' });
      return s.syncs.failedPayments(await auth(req), req.query.connection ?? '', hours);
    });

    api.get<{ Querystring: Record<string, string> }>('/v1/logs', async (req) => {
      const key = await auth(req);
      const q = req.query;
      if (q.status !== undefined && !STATUS_FILTER.test(q.status)) throw invalidRequest('Invalid status: an HTTP status code, 2xx, 4xx, 5xx or error', { param: 'status' });
      return rt.logs.list(key.appId, key.mode, { connection: q.connection, status: q.status, method: q.method, path: q.path, limit: limit(q.limit), startingAfter: q.starting_after });
    });
    api.get<{ Querystring: Record<string, string> }>('/v1/logs/stats', async (req) => {
      const key = await auth(req);
      const hours = Number(req.query.hours ?? 24);
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) throw invalidRequest('hours must be a whole number from 1 to 720.', { param: 'hours' });
      return rt.logs.stats(key.appId, key.mode, hours, req.query.connection);
    });
    api.get<{ Params: { id: string } }>('/v1/logs/:id', async (req) => {
      const key = await auth(req);
      return (await rt.logs.get(key.appId, key.mode, req.params.id)) ?? Promise.reject(resourceMissing('request log', req.params.id, 'id'));
    });
    api.get<{ Querystring: Record<string, string> }>('/v1/gateway_events', async (req) => {
      const key = await auth(req);
      return listGatewayEvents(rt, key.appId, key.mode, { type: req.query.type, limit: limit(req.query.limit), startingAfter: req.query.starting_after });
    });
    api.get<{ Params: { id: string } }>('/v1/gateway_events/:id/deliveries', async (req) => s.appWebhooks.deliveriesOfEvent(await auth(req), req.params.id));
    api.get<{ Params: { id: string } }>('/v1/gateway_events/:id', async (req) => {
      const key = await auth(req);
      return (await getGatewayEvent(rt, key.appId, key.mode, req.params.id)) ?? Promise.reject(resourceMissing('event', req.params.id, 'id'));
    });

    registerAdminRoutes(api, s);

    api.post<{ Body: Record<string, unknown> }>('/v1/webhook_endpoints', async (req) => s.appWebhooks.createEndpoint(await auth(req), req.body ?? {}));
    api.get('/v1/webhook_endpoints', async (req) => s.appWebhooks.listEndpoints(await auth(req)));
    api.delete<{ Params: { id: string } }>('/v1/webhook_endpoints/:id', async (req) => s.appWebhooks.deleteEndpoint(await auth(req), req.params.id));
    api.get<{ Params: { id: string } }>('/v1/webhook_endpoints/:id/deliveries', async (req) => s.appWebhooks.deliveries(await auth(req), req.params.id));
    api.post<{ Params: { id: string } }>('/v1/webhook_deliveries/:id/replay', async (req) => s.appWebhooks.replay(await auth(req), req.params.id));
  });

  // The proxy: raw bodies, passed through untouched.
  app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    raw.all<{ Params: { id: string; '*': string } }>('/proxy/:id/v1/*', async (req, reply) => {
      const key = await auth(req);
      return sendUpstream(reply, await s.proxy.forApp(key, req.params.id, proxyRequest(req, '/proxy/'.length)));
    });
    // Stripe's webhooks: the platform's Connect endpoint, and the endpoint of each API-key connection's account.
    // Here, where bodies stay raw bytes: signatures are over the exact bytes. Verified and stored, then answered
    // at once; StripeEventsIn processes them after the 200.
    const receive = async (req: FastifyRequest, secrets: string[], own?: Connection) => {
      if (!secrets.length) throw invalidRequest('No webhook signing secret is configured for this endpoint (STRIPE_WEBHOOK_SECRET, or webhook_secret on the connection).', { code: 'webhook_secret_missing' }, 404);
      const payload = (req.body as Buffer | undefined)?.toString('utf8') ?? '';
      const event = verifyStripeEvent(payload, String(req.headers['stripe-signature'] ?? ''), secrets);
      const stored = await s.inbound.store(event, payload, own);
      return { received: true, duplicate: !stored };
    };
    // The embedded platform's endpoint secret is set once at start; read it once a minute, not once a webhook.
    let platformSecrets: { at: number; secrets: string[] } | undefined;
    raw.post('/webhooks/stripe', async (req) => {
      if (!platformSecrets?.secrets.length || Date.now() - platformSecrets.at > 60_000) {
        const embedded = (await rt.db.select().from(settings).where(inArray(settings.key, ['platform_webhook', 'platform_own_webhook']))).map((r) => (r.value as { secret_id: string }).secret_id);
        platformSecrets = { at: Date.now(), secrets: [...rt.config.webhookSecrets, ...(await Promise.all(embedded.map((id) => rt.vault.open(id))))] };
      }
      return receive(req, platformSecrets.secrets);
    });
    const connectionEndpoint = async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const conn = await s.connections.load(req.params.id);
      if (!conn) throw invalidRequest(`No such connection: '${req.params.id}'`, { code: 'resource_missing' }, 404);
      return receive(req, conn.webhookSecretId ? [await rt.vault.open(conn.webhookSecretId)] : [], conn);
    };
    raw.post<{ Params: { id: string } }>('/webhooks/stripe/:id', connectionEndpoint);
    // Where endpoints registered by earlier versions point.
    raw.post<{ Params: { id: string } }>('/webhooks/connections/:id', connectionEndpoint);

    const toolFailure = (e: unknown) => {
      throw e instanceof StripeError ? new ToolFailure(e.message, e.fields.code, e.fields.decline_code) : e;
    };
    const replayedOf = (answer: { headers: Record<string, string> }) => answer.headers['idempotent-replayed'] === 'true';

    /** MCP tools for a connection key: its connection, only its permissions, each call checked and logged as the key's. */
    const connectionKeyTools = async (req: FastifyRequest): Promise<McpTarget[]> => {
      const secret = bearer(req.headers.authorization);
      const grant = await s.proxy.connectionKeyGrant(secret);
      if (!grant) throw new StripeError(401, 'invalid_request_error', 'Invalid connection key.', { code: 'api_key_invalid' });
      const conn = await s.connections.load(grant.connectionId);
      return [inProcessTarget(async (tool, method, path, params, idempotency) => {
        const encoded = params && Object.keys(params).length ? qs.stringify(params, { arrayFormat: 'indices' }) : '';
        const read = method === 'GET' || method === 'DELETE';
        const headers: Record<string, string> = { 'paybridge-mcp-tool': tool, 'content-type': 'application/x-www-form-urlencoded' };
        if (idempotency) headers['idempotency-key'] = idempotency;
        const answer = await s.proxy.forConnectionKey(secret, { method, path: read && encoded ? `${path}?${encoded}` : path, headers, body: read ? undefined : Buffer.from(encoded) }, 'mcp').catch(toolFailure);
        const body = JSON.parse(answer.body.toString('utf8') || '{}');
        if (answer.status >= 400) throw new ToolFailure(body.error?.message ?? `Stripe answered ${answer.status}`, body.error?.code, body.error?.decline_code);
        return markReplayed(body, replayedOf(answer));
      }, { permissions: grant.permissions as Permissions, connection: grant.connectionId, account: conn?.accountId ?? null, name: conn?.accountName ?? null, livemode: conn?.mode === 'live' })];
    };

    /** One of an app's connections as an MCP target: the in-process proxy, reports from synced records once synced. */
    const appConnectionTarget = (key: AppKey, conn: Connection): McpTarget => inProcessTarget(
      async (tool, method, path, params, idempotency) => {
        const answer = await s.proxy.requestAnswer(key, conn, method, path, params, idempotency, `mcp:${tool}`).catch(toolFailure);
        return markReplayed(JSON.parse(answer.body.toString('utf8') || '{}'), replayedOf(answer));
      },
      { permissions: (conn.permissions as Permissions | null) ?? undefined, connection: conn.id, account: conn.accountId, name: conn.accountName ?? null, livemode: conn.mode === 'live' },
      async (name, params) => {
        const sync = await s.syncs.status(key, conn.id);
        if (sync.models.find((m) => m.model === (name === 'subscriptions' ? 'subscriptions' : 'charges'))?.status !== 'synced') return undefined;
        const report = name === 'revenue' ? await s.syncs.revenue(key, conn.id)
          : name === 'subscriptions' ? await s.syncs.subscriptions(key, conn.id)
          : await s.syncs.failedPayments(key, conn.id, params.hours ?? 24);
        return { source: 'synced records', ...report };
      },
    );

    /**
     * MCP tools for an app key: bound to the connection the request names (`?connection=` or a PayBridge-Connection
     * header), or, naming none, to the app: every usable connection, each tool taking `connection`.
     */
    const appKeyTools = async (req: FastifyRequest<{ Querystring: { connection?: string } }>): Promise<{ targets: McpTarget[]; appBound: boolean }> => {
      const key = await auth(req);
      const connectionId = req.query.connection ?? (req.headers['paybridge-connection'] as string | undefined);
      if (connectionId) return { targets: [appConnectionTarget(key, await s.connections.require(key, connectionId))], appBound: false };
      const all = await s.connections.loadAll(key);
      return { targets: all.filter((c) => c.status !== 'revoked').map((c) => appConnectionTarget(key, c)), appBound: true };
    };

    // MCP over Streamable HTTP: with a connection key (its connection, its permissions), or with an app key.
    raw.post<{ Querystring: { connection?: string } }>('/mcp', async (req, reply) => {
      let bound: { targets: McpTarget[]; appBound: boolean };
      try {
        bound = /^pbk_(test|live)_/.test(bearer(req.headers.authorization)) ? { targets: await connectionKeyTools(req), appBound: false } : await appKeyTools(req);
      } catch (e) {
        // MCP's authorization: a client without a token learns where to get one (RFC 9728's resource metadata).
        if (e instanceof StripeError && e.status === 401) {
          e.fields.headers = { ...e.fields.headers, 'www-authenticate': `Bearer resource_metadata="${s.mcpOAuth.resourceMetadataUrl}"` };
        }
        throw e;
      }
      const { targets, appBound } = bound;
      const server = buildMcpServer(targets, { appBound });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      // The MCP transport writes the answer itself, past Fastify's onSend hook: the same headers, set on the socket's answer.
      secureHeaders(reply, false);
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string);
      reply.hijack();
      let body: unknown;
      try {
        body = JSON.parse((req.body as Buffer | undefined)?.toString('utf8') || 'null');
      } catch {
        body = undefined;
      }
      await transport.handleRequest(req.raw, reply.raw, body);
      reply.raw.on('close', () => void server.close());
    });
    raw.all<{ Params: { '*': string } }>('/v1/*', async (req, reply) => {
      const secret = bearer(req.headers.authorization);
      if (!/^pbk_(test|live)_/.test(secret)) {
        throw invalidRequest(`Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). PayBridge forwards Stripe API calls made with a connection key (pbk_…), or at /proxy/{connection}/v1/… with an app key.`, {}, 404);
      }
      return sendUpstream(reply, await s.proxy.forConnectionKey(secret, proxyRequest(req)));
    });
  });

  registerSessionPages(app, s.sessions);
  app.get('/health', async () => ({ ok: true }));
  registerDashboard(app, s);

  app.setNotFoundHandler((req, reply) => sendError(reply, invalidRequest(`Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}).`, {}, 404)));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof StripeError) return sendError(reply, err);
    // PostgreSQL's data exceptions (class 22: a number out of range, a string it cannot store) come from a value
    // the client sent that a check above missed: still the client's mistake, answered as one, and logged to be fixed.
    const sqlState = (err as { cause?: { code?: unknown } }).cause?.code ?? err.code;
    if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
      console.error('[paybridge] a value reached the database unchecked on', req.method, req.url.split('?')[0], err.message);
      return sendError(reply, invalidRequest('A value in this request is out of range or cannot be stored.', { code: 'parameter_invalid' }));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, invalidRequest(`Invalid request: ${err.message}`, {}, status === 413 ? 413 : 400));
    console.error('[paybridge] gateway fault on', req.method, req.url.split('?')[0], err);
    return sendError(reply, apiError('An unknown error occurred in PayBridge.'));
  });
  return app;
}
