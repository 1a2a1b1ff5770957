/**
 * PayBridge as the OAuth authorization server of its own `/mcp`, per the MCP
 * specification's authorization section: an MCP client registers itself
 * (dynamic client registration), sends the admin to the consent page with a
 * PKCE S256 challenge, and exchanges the code for an access token and a
 * rotating refresh token.
 *
 * The protocol's endpoints, their validation and their OAuth-shaped errors
 * are the MCP SDK's (`mcpAuthRouter`, an Express router, run on the raw
 * request before Fastify reads the body); this module is their store. A
 * consent makes a grant — a connection key limited to the connection and
 * permissions the admin chose — whose hash is always its current access
 * token's: the proxy then checks, logs and revokes OAuth calls exactly as a
 * connection key's, and revoking the key in the dashboard ends the grant.
 */
import express from 'express';
import type { Response } from 'express';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidClientMetadataError, InvalidGrantError, InvalidTargetError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { invalidRequest } from '../stripe/errors.js';
import { PERMISSION_NAMES } from '../stripe/routes.js';
import { connectionKeys, oauthClients, oauthRequests } from '../store/schema.js';
import type { AppKey } from './apps.js';
import { newGatewayId, randomToken, sha256 } from './ids.js';
import type { Proxy } from './proxy.js';
import type { Runtime } from './runtime.js';

const ACCESS_TTL_S = 3600;
const REFRESH_TTL_S = 30 * 86_400;
const CONSENT_TTL_MS = 10 * 60_000;
const CODE_TTL_MS = 60_000;
/** The OAuth routes, handed to the SDK's router before Fastify parses anything. */
const OAUTH_PATHS = /^\/(authorize|token|register|revoke|\.well-known\/oauth-(authorization-server|protected-resource)(\/mcp)?)(\?|$)/;

type Level = 'read' | 'write';

/** A loopback host: plain http is acceptable only there (RFC 8252), as for the redirect URIs of native apps. */
const loopback = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

export class McpOAuth implements OAuthServerProvider {
  constructor(private readonly rt: Runtime, private readonly proxy: Proxy) {}

  /** The protected resource tokens are issued for (known once the gateway listens). */
  get resource(): string {
    return `${this.rt.publicUrl.replace(/\/$/, '')}/mcp`;
  }

  /** Where an MCP client finds how to authorize (the `resource_metadata` of a 401 at /mcp). */
  get resourceMetadataUrl(): string {
    return `${this.rt.publicUrl.replace(/\/$/, '')}/.well-known/oauth-protected-resource`;
  }

  readonly clientsStore: OAuthRegisteredClientsStore = {
    getClient: async (clientId) => {
      const [row] = await this.rt.db.select().from(oauthClients).where(eq(oauthClients.id, clientId));
      if (!row) return undefined;
      const secret = row.secretId ? await this.rt.vault.open(row.secretId) : undefined;
      return { ...(row.metadata as OAuthClientInformationFull), client_id: row.id, ...(secret ? { client_secret: secret } : {}) };
    },
    registerClient: async (client) => {
      for (const uri of client.redirect_uris) {
        const u = new URL(uri);
        // A code sent over plain http to another machine could be read on the way; custom schemes are native apps'.
        if (u.protocol === 'http:' && !loopback(u.hostname)) throw new InvalidClientMetadataError(`redirect_uri ${uri} must use https (plain http only to localhost).`);
      }
      const id = newGatewayId('mcpc', 20);
      const { client_secret, ...metadata } = client;
      const secretId = client_secret ? await this.rt.vault.seal(client_secret, 'mcp_client_secret') : null;
      await this.rt.db.insert(oauthClients).values({ id, secretId, metadata });
      return { ...client, client_id: id, client_id_issued_at: Math.floor(Date.now() / 1000) };
    },
  };

  /** The authorization request, kept for the consent page; the browser goes there (the dashboard asks to sign in first). */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    if (params.resource && params.resource.href.replace(/\/$/, '') !== this.resource) {
      const back = new URL(params.redirectUri);
      back.searchParams.set('error', new InvalidTargetError('').errorCode);
      back.searchParams.set('error_description', `This authorization server issues tokens for ${this.resource} only.`);
      if (params.state) back.searchParams.set('state', params.state);
      return res.redirect(302, back.href);
    }
    const id = newGatewayId('mcpr', 24);
    await this.rt.db.insert(oauthRequests).values({
      id, clientId: client.client_id, expiresAt: new Date(Date.now() + CONSENT_TTL_MS),
      params: { state: params.state ?? null, scopes: params.scopes ?? [], redirectUri: params.redirectUri, codeChallenge: params.codeChallenge },
    });
    res.redirect(302, `${this.rt.publicUrl.replace(/\/$/, '')}/#/authorize/${id}`);
  }

  /** What the consent page shows: who asks, where the answer goes, what it asks for. */
  async request(id: string) {
    const row = await this.pending(id);
    const client = (await this.clientsStore.getClient(row.clientId))!;
    const params = row.params as { scopes: string[]; redirectUri: string };
    return {
      id: row.id, object: 'mcp_authorization_request', client_id: client.client_id, client_name: client.client_name ?? null, client_uri: client.client_uri ?? null,
      redirect_uri: params.redirectUri, requested_permissions: permissionsOfScopes(params.scopes), expires: Math.floor(row.expiresAt.getTime() / 1000),
    };
  }

  /** The admin's answer: a grant and a single-use code, or the client told it was refused. Answers where the browser goes. */
  async decide(id: string, app: AppKey | undefined, p: { approve: boolean; connection?: unknown; permissions?: unknown }): Promise<{ redirect_to: string }> {
    const row = await this.pending(id);
    const params = row.params as { state: string | null; redirectUri: string };
    const back = new URL(params.redirectUri);
    if (params.state) back.searchParams.set('state', params.state);
    // RFC 9207: the issuer exactly as the metadata gives it.
    back.searchParams.set('iss', new URL(this.rt.publicUrl).href);
    if (!p.approve || !app) {
      await this.rt.db.update(oauthRequests).set({ usedAt: new Date() }).where(eq(oauthRequests.id, row.id));
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'The PayBridge admin declined.');
      return { redirect_to: back.href };
    }
    if (typeof p.connection !== 'string' || !p.connection) throw invalidRequest('Choose the connection the agent may act on.', { param: 'connection', code: 'parameter_missing' });
    const granted = Object.entries((p.permissions ?? {}) as Record<string, unknown>).filter(([, l]) => l !== 'none');
    if (!granted.length) throw invalidRequest('Give the agent at least one permission.', { param: 'permissions', code: 'parameter_missing' });
    const grant = await this.proxy.createGrant(app, p.connection, Object.fromEntries(granted), row.clientId);
    const code = randomToken(32);
    const claimed = await this.rt.db.update(oauthRequests).set({ codeHash: sha256(code), keyId: grant.id, expiresAt: new Date(Date.now() + CODE_TTL_MS) })
      .where(and(eq(oauthRequests.id, row.id), isNull(oauthRequests.codeHash), isNull(oauthRequests.usedAt))).returning({ id: oauthRequests.id });
    if (!claimed.length) throw invalidRequest('This authorization was already answered.', { code: 'resource_missing' }, 404);
    back.searchParams.set('code', code);
    return { redirect_to: back.href };
  }

  private async pending(id: string) {
    const [row] = await this.rt.db.select().from(oauthRequests)
      .where(and(eq(oauthRequests.id, id), isNull(oauthRequests.usedAt), isNull(oauthRequests.codeHash), gt(oauthRequests.expiresAt, new Date())));
    if (!row) throw invalidRequest('This authorization request has expired or was already answered: start again from the MCP client.', { code: 'resource_missing' }, 404);
    return row;
  }

  private async codeRow(client: OAuthClientInformationFull, code: string) {
    const [row] = await this.rt.db.select().from(oauthRequests)
      .where(and(eq(oauthRequests.codeHash, sha256(code)), eq(oauthRequests.clientId, client.client_id), isNull(oauthRequests.usedAt), gt(oauthRequests.expiresAt, new Date())));
    if (!row) throw new InvalidGrantError('The authorization code is invalid, expired or already used.');
    return row;
  }

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, code: string): Promise<string> {
    return ((await this.codeRow(client, code)).params as { codeChallenge: string }).codeChallenge;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, code: string, _verifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    const row = await this.codeRow(client, code);
    const params = row.params as { redirectUri: string };
    if (redirectUri !== undefined && redirectUri !== params.redirectUri) throw new InvalidGrantError('redirect_uri is not the one the code was issued for.');
    if (resource && resource.href.replace(/\/$/, '') !== this.resource) throw new InvalidTargetError(`Tokens are issued for ${this.resource} only.`);
    // Single use, even when two exchanges race: only one marks the code used.
    const used = await this.rt.db.update(oauthRequests).set({ usedAt: new Date() })
      .where(and(eq(oauthRequests.id, row.id), isNull(oauthRequests.usedAt))).returning({ id: oauthRequests.id });
    if (!used.length) throw new InvalidGrantError('The authorization code was already used.');
    return this.issue(row.keyId!, { clientId: client.client_id });
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, _scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    if (resource && resource.href.replace(/\/$/, '') !== this.resource) throw new InvalidTargetError(`Tokens are issued for ${this.resource} only.`);
    const [key] = await this.rt.db.select({ id: connectionKeys.id }).from(connectionKeys)
      .where(and(eq(connectionKeys.refreshHash, sha256(refreshToken)), eq(connectionKeys.oauthClientId, client.client_id), isNull(connectionKeys.revokedAt)));
    if (!key) throw new InvalidGrantError('The refresh token is invalid, revoked or was already used.');
    return this.issue(key.id, { clientId: client.client_id, refreshHash: sha256(refreshToken) });
  }

  /** A new access token and refresh token for the grant, replacing the old ones in one statement (rotation). */
  private async issue(keyId: string, o: { clientId: string; refreshHash?: string }): Promise<OAuthTokens> {
    const [key] = await this.rt.db.select().from(connectionKeys).where(eq(connectionKeys.id, keyId));
    if (!key || key.revokedAt) throw new InvalidGrantError('This grant was revoked.');
    const access = `pbk_${key.mode}_oat_${randomToken(32)}`;
    const refresh = `pbr_${key.mode}_${randomToken(40)}`;
    const conditions = [eq(connectionKeys.id, keyId), eq(connectionKeys.oauthClientId, o.clientId), isNull(connectionKeys.revokedAt)];
    if (o.refreshHash) conditions.push(eq(connectionKeys.refreshHash, o.refreshHash));
    const updated = await this.rt.db.update(connectionKeys)
      .set({ keyHash: sha256(access), refreshHash: sha256(refresh), expiresAt: new Date(Date.now() + ACCESS_TTL_S * 1000), hint: `pbk_${key.mode}_oat_…${access.slice(-4)}` })
      .where(and(...conditions)).returning({ id: connectionKeys.id });
    if (!updated.length) throw new InvalidGrantError('The refresh token was already used.');
    // The replaced access token stops working here at once (other instances' caches hold a key up to 5 s).
    this.proxy.forgetCachedKeys();
    const scope = Object.entries(key.permissions as Record<string, string>).filter(([, l]) => l !== 'none').map(([r, l]) => `${r}:${l}`).join(' ');
    return { access_token: access, token_type: 'Bearer', expires_in: ACCESS_TTL_S, refresh_token: refresh, scope };
  }

  async verifyAccessToken(token: string) {
    const grant = await this.proxy.connectionKeyGrant(token);
    if (!grant?.oauth) throw new InvalidTokenError('Invalid or expired access token.');
    return { token, clientId: '', scopes: Object.entries(grant.permissions).map(([r, l]) => `${r}:${l}`), resource: new URL(this.resource) };
  }

  /** RFC 7009: revoking either token ends the grant. An unknown token is not an error. */
  async revokeToken(client: OAuthClientInformationFull, request: { token: string }): Promise<void> {
    const hash = sha256(request.token);
    for (const column of [connectionKeys.keyHash, connectionKeys.refreshHash]) {
      await this.rt.db.update(connectionKeys).set({ revokedAt: new Date() })
        .where(and(eq(column, hash), eq(connectionKeys.oauthClientId, client.client_id), isNull(connectionKeys.revokedAt)));
    }
    this.proxy.forgetCachedKeys();
  }
}

/** `customers:read payment_intents:write` (scopes a client asked for) → the permissions the consent page starts from. */
function permissionsOfScopes(scopes: string[]): Record<string, Level> {
  const out: Record<string, Level> = {};
  for (const scope of scopes) {
    const [resource, level] = scope.split(':');
    if (PERMISSION_NAMES.includes(resource) && (level === 'read' || level === 'write') && out[resource] !== 'write') out[resource] = level;
  }
  return out;
}

/**
 * Mounts the SDK's OAuth endpoints: `/.well-known/oauth-authorization-server`, `/.well-known/oauth-protected-resource`
 * (also at `/…/mcp`, RFC 9728's path form), `/authorize`, `/token`, `/register`, `/revoke`. They are built on first
 * use, when the public URL is known. The SDK refuses an issuer that is not https (or loopback): then OAuth is off,
 * /mcp takes keys only, and these paths say why.
 */
export function mountMcpOAuth(app: FastifyInstance, provider: McpOAuth, publicUrl: () => string): void {
  let handler: express.Express | Error | undefined;
  const build = (): express.Express | Error => {
    try {
      const router = mcpAuthRouter({ provider, issuerUrl: new URL(publicUrl()), resourceServerUrl: new URL(provider.resource), resourceName: 'PayBridge Stripe tools' });
      const built = express();
      built.disable('x-powered-by');
      // The root form of the protected resource's metadata, which the 401 at /mcp names.
      built.use((req, _res, next) => {
        if (req.url.split('?')[0] === '/.well-known/oauth-protected-resource') req.url = '/.well-known/oauth-protected-resource/mcp';
        next();
      });
      built.use(router);
      return built;
    } catch (e) {
      return new Error(`MCP OAuth is off: ${(e as Error).message} (the public URL is ${publicUrl()}; set PAYBRIDGE_PUBLIC_URL to its https address). /mcp takes connection and app keys.`);
    }
  };
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done) => {
    if (!OAUTH_PATHS.test(req.url)) return done();
    handler ??= build();
    if (handler instanceof Error) return done(invalidRequest(handler.message, { code: 'oauth_unavailable' }, 404));
    reply.hijack();
    reply.raw.setHeader('x-content-type-options', 'nosniff');
    reply.raw.setHeader('referrer-policy', 'no-referrer');
    handler(req.raw as express.Request, reply.raw as express.Response);
  });
}
