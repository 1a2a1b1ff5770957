/**
 * OAuth as Stripe runs it, for both ways a platform gets at another account:
 *  - Connect OAuth: `GET /oauth/authorize` (a page with "Connect" / "Cancel"),
 *    `POST /oauth/token`, `POST /oauth/deauthorize`; what `stripe.oauth.*` calls.
 *  - Stripe Apps OAuth: `GET /oauth/v2/authorize` (an install page listing the
 *    app's permissions), `POST /v1/oauth/token` with the developer's secret key;
 *    access tokens last an hour and every refresh rotates the refresh token.
 * Answers and errors follow OAuth's shape: `{error, error_description}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readApiKey } from '../auth.js';
import { StripeError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { transact, type PipelineDeps } from '../pipeline.js';
import { escapeHtml, page } from '../pages/html.js';
import type { StripeObject } from '../store/store.js';
import { CONNECTIONS, newAccount } from './accounts.js';
import { appFor, describePermission, registerAppAdmin, type App } from './apps.js';
import { issueCode, OAuthError, publishableKeyFor, redeemCode, refreshTokens, revokeAccess, type TokenSet } from './credentials.js';

const CLIENT_ID = /^ca_[A-Za-z0-9]+$/;

type Flow = 'connect' | 'stripe_app';
interface AuthorizeQuery {
  response_type?: string;
  client_id?: string;
  scope?: string;
  state?: string;
  redirect_uri?: string;
  'stripe_user[email]'?: string;
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const hidden = (fields: Record<string, string | undefined>) =>
  Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`).join('');

function errorPage(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).type('text/html').send(page('Authorization error', `<span class="badge">Test mode</span><h1>Something went wrong</h1><p>${escapeHtml(message)}</p>`));
}

/** The platform's connected accounts a person may pick from on the authorize page. */
function accountChoices(deps: PipelineDeps): string {
  const options = [...deps.store.collection(deps.env.platform, 'accounts').descending()]
    .filter((a) => !a.deleted)
    .slice(0, 20)
    .map((a) => `<option value="${escapeHtml(a.id)}">${escapeHtml(a.business_profile?.name ?? a.email ?? a.id)} (${escapeHtml(a.id)})</option>`)
    .join('');
  return `<label for="account" style="display:block;margin:12px 0 6px;font-size:13px">Account</label>
    <select id="account" name="account" style="width:100%;padding:10px;border:1px solid #d5dbe1;border-radius:6px"><option value="new">Create a new test account</option>${options}</select>`;
}

/** Connects (or reconnects) an account to the platform for a client, emitting Stripe's event. */
function authorizeAccount(ctx: Ctx, requested: string | undefined, email: string | undefined, clientId: string): StripeObject {
  let account = requested && requested !== 'new' ? ctx.get('accounts', requested) : undefined;
  if (!account || account.deleted) {
    account = newAccount(ctx, { type: 'standard', email, business_profile: { name: 'Connected test account' } }, { onboarded: true });
    ctx.put('accounts', account);
  }
  ctx.put(CONNECTIONS, { id: account.id, active: true });
  return account;
}

function emitOnAccount(deps: PipelineDeps, account: string, type: string, clientId: string, name: string): void {
  transact(deps, account, (ctx) => ctx.emit(type, { id: clientId, object: 'application', name }));
}

/** The platform (or app developer) secret key of a token request, from the header or `client_secret`. */
function platformKey(req: FastifyRequest): string {
  const body = (req.body ?? {}) as Record<string, string>;
  const authorization = req.headers.authorization ?? (body.client_secret ? `Bearer ${body.client_secret}` : undefined);
  if (!authorization) {
    throw new OAuthError('invalid_client', 'No authentication was provided. Send your secret API key using the Authorization header, or as a client_secret POST parameter.', 401);
  }
  try {
    const key = readApiKey(authorization);
    if (key.kind !== 'secret') throw new OAuthError('invalid_client', 'The secret API key of the platform is required.', 401);
    return key.key;
  } catch (e) {
    if (e instanceof StripeError) throw new OAuthError('invalid_client', e.message, 401);
    throw e;
  }
}

function tokenAnswer(deps: PipelineDeps, tokens: TokenSet) {
  return {
    access_token: tokens.access_token,
    livemode: false,
    refresh_token: tokens.refresh_token,
    scope: tokens.scope,
    stripe_publishable_key: publishableKeyFor(deps.store, tokens.account),
    stripe_user_id: tokens.account,
    token_type: 'bearer',
  };
}

function exchange(deps: PipelineDeps, body: Record<string, string>, flow: Flow) {
  const ttl = flow === 'stripe_app' ? deps.env.oauthTokenTtl : null;
  if (!body.grant_type) throw new OAuthError('invalid_request', 'No grant type specified');
  if (body.grant_type === 'authorization_code') {
    if (!body.code) throw new OAuthError('invalid_request', 'No authorization code provided');
    return tokenAnswer(deps, redeemCode(deps.store, body.code, flow, ttl));
  }
  if (body.grant_type === 'refresh_token') {
    if (!body.refresh_token) throw new OAuthError('invalid_request', 'No refresh token provided');
    if (body.scope && !['read_only', 'read_write'].includes(body.scope)) throw new OAuthError('invalid_scope', `Invalid scope: ${body.scope}`);
    return tokenAnswer(deps, refreshTokens(deps.store, body.refresh_token, flow, ttl, flow === 'connect' ? body.scope : undefined));
  }
  throw new OAuthError('unsupported_grant_type', `Unsupported grant type: ${body.grant_type}`);
}

export function registerOAuth(app: FastifyInstance, deps: PipelineDeps, resourcePermissions: Map<string, string>): void {
  const { env } = deps;

  const oauthErrors = async (reply: FastifyReply, fn: () => unknown) => {
    try {
      return reply.send(await fn());
    } catch (e) {
      if (e instanceof OAuthError) return reply.code(e.status).send({ error: e.error, error_description: e.description });
      throw e;
    }
  };

  // Connect OAuth

  const authorizePage = async (req: FastifyRequest<{ Querystring: AuthorizeQuery }>, reply: FastifyReply) => {
    const q = req.query;
    if (!q.client_id || !CLIENT_ID.test(q.client_id)) return errorPage(reply, `Invalid client_id: '${q.client_id ?? ''}'. Use your platform's client id (ca_…).`);
    if ((q.response_type ?? 'code') !== 'code') return errorPage(reply, `Invalid response_type: '${q.response_type}'. Only 'code' is supported.`);
    const scope = q.scope ?? 'read_only';
    if (!['read_only', 'read_write'].includes(scope)) return errorPage(reply, `Invalid scope: '${scope}'. Use read_only or read_write.`);
    if (q.redirect_uri && !/^https?:\/\//.test(q.redirect_uri)) return errorPage(reply, `Invalid redirect_uri: '${q.redirect_uri}'.`);
    return reply.type('text/html').send(page('Connect with Stripe', `
      <span class="badge">Test mode</span>
      <h1>Connect your Stripe account</h1>
      <p>The platform <strong>${escapeHtml(q.client_id)}</strong> asks to connect to your account with <strong>${scope === 'read_write' ? 'read and write' : 'read-only'}</strong> access.</p>
      <form method="post" action="/oauth/authorize">
        ${hidden({ client_id: q.client_id, scope, state: q.state, redirect_uri: q.redirect_uri, email: q['stripe_user[email]'] })}
        ${accountChoices(deps)}
        <button class="primary" type="submit" name="decision" value="approve">Connect</button>
        <button class="secondary" type="submit" name="decision" value="deny">Cancel</button>
      </form>`));
  };
  app.get('/oauth/authorize', authorizePage);
  app.get('/express/oauth/authorize', authorizePage);

  app.post<{ Body: Record<string, string> }>('/oauth/authorize', async (req, reply) => {
    const b = req.body ?? {};
    if (!b.client_id || !CLIENT_ID.test(b.client_id)) return errorPage(reply, 'Invalid client_id.');
    const done = (params: Record<string, string | undefined>) => (b.redirect_uri
      ? reply.redirect(withParams(b.redirect_uri, { ...params, state: b.state }), 302)
      : reply.type('text/html').send(page('Authorization finished', `<h1>Authorization finished</h1><pre>${escapeHtml(JSON.stringify(params, null, 2))}</pre>`)));
    if (b.decision !== 'approve') return done({ error: 'access_denied', error_description: 'The user denied your request' });
    const account = transact(deps, env.platform, (ctx) => authorizeAccount(ctx, b.account, b.email, b.client_id));
    emitOnAccount(deps, account.id, 'account.application.authorized', b.client_id, 'Sandbox platform');
    const code = issueCode(deps.store, { account: account.id, client_id: b.client_id, flow: 'connect', scope: b.scope ?? 'read_only' });
    return done({ code, scope: b.scope ?? 'read_only' });
  });

  app.post<{ Body: Record<string, string> }>('/oauth/token', async (req, reply) => oauthErrors(reply, () => {
    platformKey(req);
    return exchange(deps, req.body ?? {}, 'connect');
  }));

  app.post<{ Body: Record<string, string> }>('/oauth/deauthorize', async (req, reply) => oauthErrors(reply, () => {
    platformKey(req);
    const { client_id: clientId, stripe_user_id: account } = req.body ?? {};
    if (!clientId || !account) throw new OAuthError('invalid_request', 'client_id and stripe_user_id are required');
    if (!revokeAccess(deps.store, account, clientId)) {
      throw new OAuthError('invalid_client', `This application is not connected to stripe account ${account}, or that account does not exist.`, 401);
    }
    transact(deps, env.platform, (ctx) => ctx.put(CONNECTIONS, { id: account, active: false }));
    emitOnAccount(deps, account, 'account.application.deauthorized', clientId, 'Sandbox platform');
    return { stripe_user_id: account };
  }));

  // Stripe Apps OAuth

  const installPage = (app_: App, q: AuthorizeQuery) => page(`Install ${app_.name}`, `
    <span class="badge">Test mode</span>
    <h1>Install ${escapeHtml(app_.name)}</h1>
    <p>${escapeHtml(app_.name)} will be able to:</p>
    <ul>${app_.permissions.map((p) => `<li>${escapeHtml(describePermission(p))}</li>`).join('') || '<li>Nothing beyond being installed</li>'}</ul>
    <form method="post" action="/oauth/v2/authorize">
      ${hidden({ client_id: q.client_id, state: q.state, redirect_uri: q.redirect_uri })}
      ${accountChoices(deps)}
      <button class="primary" type="submit" name="decision" value="approve">Install</button>
      <button class="secondary" type="submit" name="decision" value="deny">Cancel</button>
    </form>`);

  const checkRedirect = (app_: App, uri: string | undefined): string | undefined => {
    const target = uri ?? app_.allowed_redirect_uris[0];
    if (!target) return undefined;
    if (app_.allowed_redirect_uris.length && !app_.allowed_redirect_uris.includes(target)) return undefined;
    return target;
  };

  app.get<{ Querystring: AuthorizeQuery }>('/oauth/v2/authorize', async (req, reply) => {
    const q = req.query;
    if (!q.client_id || !CLIENT_ID.test(q.client_id)) return errorPage(reply, `Invalid client_id: '${q.client_id ?? ''}'.`);
    const app_ = appFor(deps.store, q.client_id);
    if (!checkRedirect(app_, q.redirect_uri)) return errorPage(reply, `redirect_uri '${q.redirect_uri ?? ''}' is not one of the app's allowed_redirect_uris.`);
    return reply.type('text/html').send(installPage(app_, q));
  });

  app.post<{ Body: Record<string, string> }>('/oauth/v2/authorize', async (req, reply) => {
    const b = req.body ?? {};
    if (!b.client_id || !CLIENT_ID.test(b.client_id)) return errorPage(reply, 'Invalid client_id.');
    const app_ = appFor(deps.store, b.client_id);
    const target = checkRedirect(app_, b.redirect_uri);
    if (!target) return errorPage(reply, 'redirect_uri is not allowed for this app.');
    if (b.decision !== 'approve') return reply.redirect(withParams(target, { error: 'access_denied', error_description: 'The user denied your request', state: b.state }), 302);
    const account = transact(deps, env.platform, (ctx) => authorizeAccount(ctx, b.account, undefined, b.client_id));
    emitOnAccount(deps, account.id, 'account.application.authorized', b.client_id, app_.name);
    const permissions: Record<string, 'read' | 'write'> = {};
    for (const p of app_.permissions) {
      const m = /^(.*)_(read|write)$/.exec(p);
      const resource = m && resourcePermissions.get(m[1]);
      if (resource && permissions[resource] !== 'write') permissions[resource] = m![2] as 'read' | 'write';
    }
    const everything = app_.permissions.includes('*_write');
    const code = issueCode(deps.store, { account: account.id, client_id: b.client_id, flow: 'stripe_app', scope: 'stripe_apps', permissions: everything ? undefined : permissions });
    return reply.redirect(withParams(target, { code, state: b.state }), 302);
  });

  app.post<{ Body: Record<string, string> }>('/v1/oauth/token', async (req, reply) => oauthErrors(reply, () => {
    platformKey(req);
    return exchange(deps, req.body ?? {}, 'stripe_app');
  }));

  registerAppAdmin(app, deps.store);
}
