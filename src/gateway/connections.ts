/**
 * Connections: one Stripe account reached with one credential, owned by an
 * app and kept to one mode. Created from a pasted API key (verified against
 * Stripe first) or by OAuth (oauth.ts). The credential lives in the vault;
 * API answers show a hint of it at most. Health follows Stripe's answers.
 */
import { and, eq, isNull, ne } from 'drizzle-orm';
import { invalidRequest, resourceMissing, StripeError } from '../stripe/errors.js';
import { connections } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Mode } from './config.js';
import { hintOf, newGatewayId } from './ids.js';
import { emitGatewayEvent, type Runtime } from './runtime.js';
import { probePermissions } from './probe.js';
import type { UpstreamAnswer } from './upstream.js';

export type Connection = typeof connections.$inferSelect;

const seconds = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null);

/** What a log entry keeps of Stripe's answer: its ids, and for a failure Stripe's error and the answer itself. */
export function answerFields(answer: UpstreamAnswer, error = stripeErrorOf(answer)) {
  return {
    status: answer.status || null, durationMs: Math.round(answer.durationMs), attempts: answer.attempts, stripeRequestId: answer.headers['request-id'] ?? null,
    idempotencyKey: answer.idempotencyKey ?? null, errorType: error?.type ?? null, errorCode: error?.code ?? null, errorMessage: error?.message ?? null,
    response: error && answer.body?.length ? { contentType: answer.headers['content-type'], raw: answer.body } : null,
  };
}

export function stripeErrorOf(answer: UpstreamAnswer): { type?: string; code?: string; message?: string } | undefined {
  if (answer.status >= 200 && answer.status < 300) return undefined;
  if (answer.networkError) return { type: 'api_connection_error', message: answer.networkError };
  try {
    const parsed = JSON.parse(answer.body.toString('utf8'));
    return parsed.error && typeof parsed.error === 'object' ? parsed.error : { type: 'oauth_error', code: parsed.error, message: parsed.error_description };
  } catch {
    return { type: 'api_error', message: `HTTP ${answer.status}` };
  }
}

/** The answer shown for a connection: never a secret, a hint of the key at most. */
function checkWebhookSecret(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^whsec_\w+$/.test(value)) throw invalidRequest('webhook_secret must be a webhook signing secret (whsec_…).', { param: 'webhook_secret' });
  return value;
}

export function connectionView(c: Connection, publicUrl?: string) {
  return {
    id: c.id,
    object: 'connection',
    type: c.kind,
    livemode: c.mode === 'live',
    account: c.accountId,
    account_name: c.accountName ?? null,
    default_for_sessions: c.defaultForSessions ?? false,
    key_type: c.keyType,
    key_hint: c.keyHint,
    permissions: c.permissions ?? null,
    scope: c.scope,
    publishable_key: c.publishableKey,
    status: c.status,
    health: {
      status: c.status,
      last_success_at: seconds(c.lastSuccessAt),
      last_error: c.lastError ? { message: c.lastError, at: seconds(c.lastErrorAt) } : null,
      refresh_failures: c.refreshFailures,
      access_token_expires_at: seconds(c.accessExpiresAt),
    },
    metadata: c.metadata,
    // Where Stripe sends this account's events; `webhook_secret` (or PayBridge's own registration) makes them verifiable.
    webhook: c.kind === 'api_key' && publicUrl ? { url: `${publicUrl}/webhooks/stripe/${c.id}`, signing_secret: c.webhookSecretId ? (c.webhookEndpointId ? 'registered' : 'configured') : null } : null,
    created: seconds(c.createdAt),
  };
}

export class Connections {
  /** Connections read recently, so the proxy's hot path rarely touches the database. */
  private cache = new Map<string, { conn: Connection; at: number }>();
  /** Debounces "last success" writes to one per connection every few seconds. */
  private lastSuccessWrite = new Map<string, number>();

  /** Runs after a connection is stored (index.ts registers its webhook endpoint). */
  afterCreate?: (app: AppKey, conn: Connection) => Promise<void>;

  constructor(private readonly rt: Runtime) {}

  async load(id: string, fresh = false): Promise<Connection | undefined> {
    const cached = this.cache.get(id);
    if (!fresh && cached && Date.now() - cached.at < 2000) return cached.conn;
    const [conn] = await this.rt.db.select().from(connections).where(and(eq(connections.id, id), isNull(connections.deletedAt)));
    if (conn) this.cache.set(id, { conn, at: Date.now() });
    else this.cache.delete(id);
    return conn;
  }

  forget(id: string): void {
    this.cache.delete(id);
  }

  /** The app's connection in the key's mode, or Stripe's 404. */
  async require(app: AppKey, id: string): Promise<Connection> {
    const conn = await this.load(id);
    if (!conn || conn.appId !== app.appId || conn.mode !== app.mode) throw resourceMissing('connection', id, 'connection');
    return conn;
  }

  /** The app's connections in the key's mode, newest first. */
  async loadAll(app: AppKey): Promise<Connection[]> {
    const rows = await this.rt.db.select().from(connections)
      .where(and(eq(connections.appId, app.appId), eq(connections.mode, app.mode), isNull(connections.deletedAt)));
    return rows.reverse();
  }

  async list(app: AppKey) {
    return { object: 'list', url: '/v1/connections', has_more: false, data: (await this.loadAll(app)).map((c) => connectionView(c, this.rt.publicUrl)) };
  }

  /** `POST /v1/connections {secret_key}`: verify the key with Stripe, learn its account and permissions, then keep it. */
  async createFromApiKey(app: AppKey, p: { secret_key?: unknown; publishable_key?: unknown; metadata?: unknown; webhook_secret?: unknown }): Promise<Connection> {
    if (typeof p.secret_key !== 'string' || !p.secret_key) throw invalidRequest('Missing required param: secret_key.', { param: 'secret_key', code: 'parameter_missing' });
    const key = p.secret_key.trim();
    const m = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.exec(key);
    if (!m) throw invalidRequest('secret_key must be a Stripe secret key (sk_test_…, sk_live_…) or restricted key (rk_…).', { param: 'secret_key', code: 'parameter_invalid_string' });
    const mode = m[2] as Mode;
    if (mode !== app.mode) {
      throw invalidRequest(`This is a ${mode} mode Stripe key, but the request used a ${app.mode} mode PayBridge key. Use your pb_${mode}_ key to connect ${mode} mode accounts.`, { param: 'secret_key', code: 'mode_mismatch' });
    }
    if (p.publishable_key !== undefined && (typeof p.publishable_key !== 'string' || !new RegExp(`^pk_${mode}_`).test(p.publishable_key))) {
      throw invalidRequest(`publishable_key must be a ${mode} mode publishable key (pk_${mode}_…).`, { param: 'publishable_key' });
    }
    const webhookSecret = checkWebhookSecret(p.webhook_secret);
    const restricted = m[1] === 'rk';
    const account = await this.verify(app, key, restricted);
    const permissions = restricted ? await this.probe(app, key) : null;
    const metadata = typeof p.metadata === 'object' && p.metadata ? p.metadata as Record<string, string> : {};
    const secretId = await this.rt.vault.seal(key, 'stripe_key');
    const id = newGatewayId('conn');
    const [conn] = await this.rt.db.insert(connections).values({
      id, appId: app.appId, mode, kind: 'api_key', accountId: account.id, accountName: account.name, keyType: restricted ? 'restricted' : 'secret', permissions,
      publishableKey: (p.publishable_key as string | undefined) ?? null, secretId, status: 'active', lastSuccessAt: new Date(),
      keyHint: hintOf(key), metadata, webhookSecretId: webhookSecret ? await this.rt.vault.seal(webhookSecret, 'stripe_webhook_secret') : null,
    }).returning();
    await this.afterCreate?.(app, conn);
    return (await this.load(conn.id, true)) ?? conn;
  }

  /** `POST /v1/connections/:id {webhook_secret}`: the signing secret of an endpoint the account owner registered at `/webhooks/stripe/:id`. */
  /**
   * `POST /v1/connections/:id`: its Stripe webhook signing secret, and whether payment sessions that name no
   * connection use it (one default per app and mode; setting it moves it here).
   */
  async configure(app: AppKey, id: string, p: { webhook_secret?: unknown; default_for_sessions?: unknown }): Promise<Connection> {
    const conn = await this.require(app, id);
    const secret = checkWebhookSecret(p.webhook_secret);
    const flag = p.default_for_sessions === undefined ? undefined : p.default_for_sessions === true || p.default_for_sessions === 'true' ? true : p.default_for_sessions === false || p.default_for_sessions === 'false' ? false : null;
    if (flag === null) throw invalidRequest('default_for_sessions must be true or false.', { param: 'default_for_sessions', code: 'parameter_invalid_boolean' });
    if (!secret && flag === undefined) throw invalidRequest('Give webhook_secret or default_for_sessions.', { param: 'webhook_secret', code: 'parameter_missing' });
    if (flag !== undefined && flag && conn.status !== 'active') throw invalidRequest(`This connection is ${conn.status}: only an active connection can take new payment sessions.`, { param: 'default_for_sessions' });
    if (secret) await this.update(conn.id, { webhookSecretId: await this.rt.vault.seal(secret, 'stripe_webhook_secret') });
    if (flag !== undefined) {
      await this.rt.db.transaction(async (tx) => {
        if (flag) await tx.update(connections).set({ defaultForSessions: false }).where(and(eq(connections.appId, app.appId), eq(connections.mode, app.mode)));
        await tx.update(connections).set({ defaultForSessions: flag, updatedAt: new Date() }).where(eq(connections.id, conn.id));
      });
      this.cache.clear();
    }
    return (await this.load(conn.id, true))!;
  }

  /** The key's account and, when the key may read it, the account's name. */
  private async verify(app: AppKey, key: string, restricted: boolean): Promise<{ id: string | null; name: string | null }> {
    const answer = await this.call(app, null, 'key_check', { method: 'GET', path: '/v1/account', authorization: `Bearer ${key}` });
    const error = stripeErrorOf(answer);
    if (!error) {
      const account = JSON.parse(answer.body.toString('utf8'));
      const name = account.business_profile?.name ?? account.settings?.dashboard?.display_name ?? null;
      return { id: account.id ?? null, name: typeof name === 'string' ? name.slice(0, 200) : null };
    }
    // A restricted key without account access still names its account in Stripe's 403.
    const named = /on account '(acct_\w+)'/.exec(error.message ?? '');
    if (restricted && answer.status === 403 && named) return { id: named[1], name: null };
    throw invalidRequest(`Stripe did not accept this key: ${error.message ?? `HTTP ${answer.status}`}`, { param: 'secret_key', code: error.code ?? 'stripe_key_invalid' });
  }

  private async probe(app: AppKey, key: string): Promise<Record<string, string>> {
    // Tagged as key checks: their 403s and 404s are the answers asked for, not failures of the connection.
    return probePermissions(async (method, path) => (await this.call(app, null, 'key_check', { method, path, authorization: `Bearer ${key}` })).status);
  }

  /** One logged call to Stripe on behalf of a connection (or of the app, before one exists). */
  async call(app: AppKey, conn: Connection | null, source: string, r: { method: string; path: string; authorization: string; stripeAccount?: string | null; body?: string }): Promise<UpstreamAnswer> {
    const headers: Record<string, string> = { authorization: r.authorization };
    if (r.stripeAccount) headers['stripe-account'] = r.stripeAccount;
    if (r.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const answer = await this.rt.api.send({ method: r.method, path: r.path, headers, body: r.body });
    this.rt.logs.record({ appId: app.appId, connectionId: conn?.id ?? null, mode: app.mode, method: r.method, path: r.path.split('?')[0], ...answerFields(answer), source, request: null });
    return answer;
  }

  /**
   * Health from one of Stripe's answers: a success refreshes "last success"
   * (at most every few seconds), a revoked or expired credential marks the
   * connection so, other errors are remembered as the last error.
   */
  async observe(conn: Connection, answer: UpstreamAnswer): Promise<void> {
    const error = stripeErrorOf(answer);
    if (!error) {
      const last = this.lastSuccessWrite.get(conn.id) ?? 0;
      if (Date.now() - last < 5000 && conn.status === 'active') return;
      this.lastSuccessWrite.set(conn.id, Date.now());
      await this.update(conn.id, { lastSuccessAt: new Date(), ...(conn.status === 'revoked' ? {} : { status: 'active' }) });
      return;
    }
    const revoked = (answer.status === 401 && ['api_key_expired', 'api_key_invalid'].includes(error.code ?? '')) || (answer.status === 403 && error.code === 'account_invalid');
    if (revoked && conn.kind !== 'stripe_app') {
      await this.update(conn.id, { status: 'revoked', lastError: error.message ?? 'revoked', lastErrorAt: new Date() });
      return;
    }
    if (answer.status >= 500 || answer.networkError || answer.status === 401 || answer.status === 403) {
      await this.update(conn.id, { lastError: error.message ?? `HTTP ${answer.status}`, lastErrorAt: new Date() });
    }
  }

  async update(id: string, values: Partial<typeof connections.$inferInsert>): Promise<void> {
    await this.rt.db.update(connections).set({ ...values, updatedAt: new Date() }).where(eq(connections.id, id));
    this.cache.delete(id);
  }

  async markRevoked(accountId: string, reason: string): Promise<number> {
    // The status and its event are one transaction: a crash keeps both or neither.
    const rows = await this.rt.db.transaction(async (tx) => {
      const revoked = await tx.update(connections).set({ status: 'revoked', lastError: reason, lastErrorAt: new Date(), updatedAt: new Date() })
        .where(and(eq(connections.accountId, accountId), eq(connections.kind, 'oauth'), isNull(connections.deletedAt), ne(connections.status, 'revoked'))).returning();
      for (const row of revoked) await emitGatewayEvent(this.rt, row.appId, row.mode, 'connection.revoked', { connection: row.id, account: accountId, reason }, undefined, tx);
      return revoked;
    });
    for (const row of rows) this.cache.delete(row.id);
    return rows.length;
  }

  async remove(id: string): Promise<void> {
    await this.update(id, { deletedAt: new Date(), status: 'deleted' });
  }
}

export function failIfUnusable(conn: Connection): void {
  if (conn.status === 'revoked') {
    throw new StripeError(401, 'invalid_request_error', `Connection ${conn.id} was revoked at Stripe (${conn.lastError ?? 'access removed'}). Connect the account again.`, { code: 'connection_revoked' });
  }
}
