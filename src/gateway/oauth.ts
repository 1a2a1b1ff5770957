/**
 * Connections made by OAuth, and the credentials every connection presents.
 *  - Connect sessions: `POST /v1/connect_sessions` returns Stripe's authorize
 *    (or Stripe Apps install) URL with a single-use, expiring state; the
 *    callback exchanges the code and stores the tokens in the vault.
 *  - Stripe Apps tokens last an hour. They are refreshed shortly before
 *    expiry or on Stripe's 401 `api_key_expired`, under a PostgreSQL advisory
 *    lock held for the whole exchange, after re-reading the connection: with
 *    several gateway instances each connection is refreshed exactly once, and
 *    the rotated refresh token is stored in the same transaction as the new
 *    access token. Repeated failures mark the connection `refresh_failed`.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { invalidRequest, StripeError } from '../stripe/errors.js';
import { connections, connectSessions } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Mode } from './config.js';
import { answerFields, stripeErrorOf, type Connection, type Connections } from './connections.js';
import { newGatewayId, randomToken, sha256 } from './ids.js';
import { countCreation } from './limits.js';
import { checkRedirectUrl } from './paths.js';
import { emitGatewayEvent, type Runtime } from './runtime.js';

const SESSION_TTL_MS = 15 * 60 * 1000;
/** Refresh attempts that fail in a row before a connection is marked `refresh_failed`. */
const MAX_REFRESH_FAILURES = 3;

export type Flow = 'oauth' | 'stripe_app';

export class OAuthConnections {
  /** One refresh in flight per connection within this process; the database lock covers other processes. */
  private refreshing = new Map<string, Promise<void>>();
  /** Decrypted credentials by vault id (vault ids change when a token rotates). */
  private secrets = new Map<string, string>();

  constructor(private readonly rt: Runtime, private readonly conns: Connections) {}

  private platform(mode: Mode, flow: Flow): { clientId: string; secretKey: string } {
    const p = this.rt.platform[mode];
    if (!p.clientId || !p.secretKey) {
      const upper = mode.toUpperCase();
      throw invalidRequest(`${flow === 'oauth' ? 'Connect OAuth' : 'Stripe Apps OAuth'} is not configured for ${mode} mode: set STRIPE_CLIENT_ID_${upper} and STRIPE_SECRET_KEY_${upper}.`, { code: 'oauth_not_configured' });
    }
    return { clientId: p.clientId, secretKey: p.secretKey };
  }

  async createSession(app: AppKey, p: { mode?: unknown; return_url?: unknown; flow?: unknown }) {
    const mode = (p.mode ?? app.mode) as Mode;
    if (mode !== 'test' && mode !== 'live') throw invalidRequest('mode must be test or live.', { param: 'mode' });
    if (mode !== app.mode) throw invalidRequest(`mode is ${mode}, but the request used a ${app.mode} mode PayBridge key.`, { param: 'mode', code: 'mode_mismatch' });
    // Without a return_url the person lands on PayBridge's own result page.
    const returnUrl = p.return_url === undefined ? `${this.rt.publicUrl}/connected` : checkRedirectUrl(p.return_url, 'return_url');
    const flow: Flow = p.flow === undefined || p.flow === 'oauth' ? 'oauth' : p.flow === 'stripe_app' ? 'stripe_app' : (() => { throw invalidRequest('flow must be oauth or stripe_app.', { param: 'flow' }); })();
    const platform = this.platform(mode, flow);
    await countCreation(this.rt.db, app.appId, 'connect sessions', this.rt.config.createsPerMinute);
    const state = randomToken(32);
    const id = newGatewayId('csess');
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.rt.db.insert(connectSessions).values({ id, appId: app.appId, mode, flow, stateHash: sha256(state), returnUrl, expiresAt });
    const redirectUri = `${this.rt.publicUrl}/oauth/callback`;
    const query = new URLSearchParams({ client_id: platform.clientId, state, redirect_uri: redirectUri });
    const url = flow === 'oauth'
      ? `${this.rt.config.stripeConnectBase ?? this.rt.connect.base}/oauth/authorize?response_type=code&scope=read_write&${query}`
      : `${this.rt.config.stripeConnectBase ?? this.rt.connect.base}/oauth/v2/authorize?${query}`;
    return { id, object: 'connect_session', flow, livemode: mode === 'live', url, return_url: returnUrl, expires_at: Math.floor(expiresAt.getTime() / 1000) };
  }

  /** Stripe sends the person back here; answers where to send them next. */
  async callback(q: { code?: string; state?: string; error?: string; error_description?: string }): Promise<string> {
    if (!q.state) throw invalidRequest('Missing state.', { param: 'state' });
    // Taking the session and marking it used is one statement: a replayed callback finds nothing.
    const [session] = await this.rt.db.update(connectSessions).set({ usedAt: new Date() })
      .where(and(eq(connectSessions.stateHash, sha256(q.state)), isNull(connectSessions.usedAt), gt(connectSessions.expiresAt, new Date())))
      .returning();
    if (!session) throw invalidRequest('This authorization link is invalid, expired or already used. Start again from your application.', { code: 'connect_session_invalid' });
    const back = new URL(session.returnUrl);
    back.searchParams.set('connect_session', session.id);
    if (q.error || !q.code) {
      back.searchParams.set('error', q.error ?? 'access_denied');
      if (q.error_description) back.searchParams.set('error_description', q.error_description);
      return back.toString();
    }
    const app: AppKey = { appId: session.appId, mode: session.mode as Mode, keyId: '' };
    const conn = await this.exchange(app, session.flow as Flow, q.code);
    await this.rt.db.update(connectSessions).set({ connectionId: conn.id }).where(eq(connectSessions.id, session.id));
    back.searchParams.set('connection', conn.id);
    return back.toString();
  }

  private async tokenRequest(app: AppKey, flow: Flow, params: Record<string, string>, conn: Connection | null) {
    const platform = this.platform(app.mode, flow);
    const upstream = flow === 'oauth' ? this.rt.connect : this.rt.api;
    const path = flow === 'oauth' ? '/oauth/token' : '/v1/oauth/token';
    const answer = await upstream.send({ method: 'POST', path, headers: { authorization: `Bearer ${platform.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
    const error = stripeErrorOf(answer);
    this.rt.logs.record({ appId: app.appId, connectionId: conn?.id ?? null, mode: app.mode, method: 'POST', path, ...answerFields(answer, error), source: 'oauth', request: { grant_type: params.grant_type } });
    if (error) return { error };
    return { tokens: JSON.parse(answer.body.toString('utf8')) as { access_token: string; refresh_token: string; stripe_user_id: string; stripe_publishable_key?: string; scope?: string; livemode: boolean } };
  }

  private async exchange(app: AppKey, flow: Flow, code: string): Promise<Connection> {
    const { tokens, error } = await this.tokenRequest(app, flow, { grant_type: 'authorization_code', code }, null);
    if (!tokens) throw invalidRequest(`Stripe did not accept the authorization code: ${error!.message ?? error!.code}`, { code: 'oauth_exchange_failed' });
    if (tokens.livemode !== (app.mode === 'live')) throw invalidRequest('Stripe returned credentials for the other mode.', { code: 'mode_mismatch' });
    const secretId = await this.rt.vault.seal(tokens.access_token, 'oauth_access_token');
    const refreshSecretId = await this.rt.vault.seal(tokens.refresh_token, 'oauth_refresh_token');
    const [conn] = await this.rt.db.insert(connections).values({
      id: newGatewayId('conn'), appId: app.appId, mode: app.mode, kind: flow, accountId: tokens.stripe_user_id, keyType: 'oauth',
      scope: tokens.scope ?? null, publishableKey: tokens.stripe_publishable_key ?? null, secretId, refreshSecretId,
      accessExpiresAt: flow === 'stripe_app' ? new Date(Date.now() + this.rt.config.stripeAppTokenTtlSeconds * 1000) : null,
      status: 'active', lastSuccessAt: new Date(),
    }).returning();
    return conn;
  }

  private async secret(vaultId: string): Promise<string> {
    let plain = this.secrets.get(vaultId);
    if (!plain) {
      plain = await this.rt.vault.open(vaultId);
      if (this.secrets.size > 10_000) this.secrets.clear();
      this.secrets.set(vaultId, plain);
    }
    return plain;
  }

  /** The Authorization (and Stripe-Account) a request on this connection carries; refreshes a Stripe Apps token due soon. */
  async credentialsFor(conn: Connection): Promise<{ authorization: string; stripeAccount: string | null }> {
    if (conn.kind === 'oauth') return { authorization: `Bearer ${this.platform(conn.mode as Mode, 'oauth').secretKey}`, stripeAccount: conn.accountId };
    if (conn.kind === 'stripe_app') {
      if (conn.status === 'refresh_failed') {
        throw new StripeError(401, 'invalid_request_error', `Connection ${conn.id} could not refresh its Stripe access token (${conn.lastError}). Reinstall the app or retry later.`, { code: 'connection_refresh_failed' });
      }
      const due = conn.accessExpiresAt && conn.accessExpiresAt.getTime() - Date.now() < this.rt.config.refreshMarginSeconds * 1000;
      if (due) conn = await this.refresh(conn, 'expiring');
    }
    return { authorization: `Bearer ${await this.secret(conn.secretId!)}`, stripeAccount: null };
  }

  /**
   * Refreshes a Stripe Apps connection once, however many requests and
   * instances ask at the same moment; returns the connection as it is after.
   */
  async refresh(conn: Connection, reason: 'expiring' | 'rejected'): Promise<Connection> {
    let inFlight = this.refreshing.get(conn.id);
    if (!inFlight) {
      inFlight = this.refreshUnderLock(conn, reason).finally(() => this.refreshing.delete(conn.id));
      this.refreshing.set(conn.id, inFlight);
    }
    await inFlight;
    const after = await this.conns.load(conn.id, true);
    if (!after) throw new StripeError(404, 'invalid_request_error', `No such connection: '${conn.id}'`, { code: 'resource_missing' });
    return after;
  }

  private async refreshUnderLock(seen: Connection, reason: 'expiring' | 'rejected'): Promise<void> {
    const app: AppKey = { appId: seen.appId, mode: seen.mode as Mode, keyId: '' };
    let failed: { message: string; failures: number } | undefined;
    await this.rt.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${'paybridge-refresh:' + seen.id}))`);
      const [current] = await tx.select().from(connections).where(eq(connections.id, seen.id));
      if (!current || current.deletedAt) return;
      // Someone else refreshed while we waited for the lock: their token is ours.
      if (current.secretId !== seen.secretId) return;
      const stillFresh = current.accessExpiresAt && current.accessExpiresAt.getTime() - Date.now() >= this.rt.config.refreshMarginSeconds * 1000;
      if (reason === 'expiring' && stillFresh) return;
      const refreshToken = await this.rt.vault.open(current.refreshSecretId!, tx);
      const { tokens, error } = await this.tokenRequest(app, 'stripe_app', { grant_type: 'refresh_token', refresh_token: refreshToken }, current);
      if (!tokens) {
        const failures = current.refreshFailures + 1;
        const message = `refresh failed: ${error?.message ?? error?.code ?? 'unknown error'}`;
        await tx.update(connections).set({
          refreshFailures: failures, lastError: message, lastErrorAt: new Date(), updatedAt: new Date(),
          ...(failures >= MAX_REFRESH_FAILURES ? { status: 'refresh_failed' } : {}),
        }).where(eq(connections.id, current.id));
        failed = { message, failures };
        return;
      }
      const secretId = await this.rt.vault.seal(tokens.access_token, 'oauth_access_token', tx);
      const refreshSecretId = await this.rt.vault.seal(tokens.refresh_token, 'oauth_refresh_token', tx);
      await tx.update(connections).set({
        secretId, refreshSecretId, accessExpiresAt: new Date(Date.now() + this.rt.config.stripeAppTokenTtlSeconds * 1000),
        refreshFailures: 0, refreshCount: sql`${connections.refreshCount} + 1`, status: 'active', lastSuccessAt: new Date(), updatedAt: new Date(),
      }).where(eq(connections.id, current.id));
    });
    this.conns.forget(seen.id);
    if (failed) {
      if (failed.failures === MAX_REFRESH_FAILURES) {
        await emitGatewayEvent(this.rt, seen.appId, seen.mode, 'connection.refresh_failed', { connection: seen.id, account: seen.accountId, reason: failed.message });
      }
      throw new StripeError(401, 'invalid_request_error', `Connection ${seen.id}: ${failed.message}`, { code: failed.failures >= MAX_REFRESH_FAILURES ? 'connection_refresh_failed' : 'connection_refresh_error' });
    }
  }

  /** Deleting an OAuth connection revokes its access at Stripe first. */
  async deauthorize(conn: Connection): Promise<void> {
    if (conn.kind !== 'oauth' || conn.status === 'revoked') return;
    const platform = this.platform(conn.mode as Mode, 'oauth');
    const answer = await this.rt.connect.send({
      method: 'POST', path: '/oauth/deauthorize', headers: { authorization: `Bearer ${platform.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: platform.clientId, stripe_user_id: conn.accountId! }).toString(),
    });
    const error = stripeErrorOf(answer);
    // Already disconnected at Stripe is as good as done.
    if (error && error.code !== 'invalid_client') throw invalidRequest(`Stripe did not deauthorize the account: ${error.message ?? error.code}`, { code: 'deauthorize_failed' });
  }
}
