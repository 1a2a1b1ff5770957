/**
 * Connect onboarding: account links (`/v1/account_links`) and the hosted
 * page they open, login links and account sessions. The page is a plain
 * HTML form that works without JavaScript, prefilled with the values
 * Stripe's test mode accepts (routing 110000000, account 000123456789; the
 * account 000111111116 makes payouts fail with `no_account`, as Stripe's
 * does). Submitting it completes the account's requirements and returns to
 * `return_url`; an expired or used link goes to `refresh_url`.
 */
import type { FastifyInstance } from 'fastify';
import { invalidRequest, StripeError } from '../../stripe/errors.js';
import { newId, randomText } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { listOf } from '../engine/list.js';
import type { Operation, Params } from '../engine/resource.js';
import { transact, type PipelineDeps } from '../pipeline.js';
import { escapeHtml, page } from '../pages/html.js';
import { bankAccount, capabilityOf, CONNECTIONS, reassess } from './accounts.js';

const LINK_TTL_S = 300;
const LINKS = 'account_links';

/** A connected account of the platform, or Stripe's refusal. */
function connected(ctx: Ctx, id: unknown, param: string) {
  if (ctx.account !== ctx.env.platform) throw new StripeError(403, 'invalid_request_error', 'Only the platform can do this for its connected accounts: make this request without Stripe-Account.');
  const account = typeof id === 'string' ? ctx.get('accounts', id) : undefined;
  if (!account || account.deleted || !ctx.get(CONNECTIONS, account.id)?.active) throw invalidRequest(`No such account: '${String(id)}'`, { param, code: 'account_invalid' });
  return account;
}

const httpUrl = (v: unknown, param: string) => {
  if (typeof v !== 'string' || !/^https?:\/\//.test(v)) throw invalidRequest(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });
  return v;
};

export const onboardingOperations: Operation[] = [
  {
    method: 'POST', path: '/v1/account_links', permission: 'accounts',
    handle: (ctx, p) => {
      const account = connected(ctx, p.account, 'account');
      if (!['account_onboarding', 'account_update'].includes(p.type)) throw invalidRequest('Invalid type: must be one of account_onboarding or account_update', { param: 'type' });
      // The sandbox asks for the same fields either way: what is due now is all that will be.
      if (p.collect !== undefined && !['currently_due', 'eventually_due'].includes(p.collect)) throw invalidRequest('Invalid collect: must be one of currently_due or eventually_due', { param: 'collect' });
      const refresh = httpUrl(p.refresh_url, 'refresh_url');
      const back = httpUrl(p.return_url, 'return_url');
      const token = randomText(24);
      const expires = ctx.now() + LINK_TTL_S;
      ctx.put(LINKS, { id: token, object: 'account_link_token', account: account.id, type: p.type, refresh_url: refresh, return_url: back, expires_at: expires, used: false });
      return { object: 'account_link', created: ctx.now(), expires_at: expires, url: `${ctx.env.baseUrl}/_sandbox/connect/onboarding/${token}` };
    },
  },
  {
    method: 'POST', path: '/v1/accounts/{account}/login_links', permission: 'accounts',
    handle: (ctx, _p, path) => {
      const account = connected(ctx, path.account, 'account');
      if (account.controller?.stripe_dashboard?.type !== 'express') {
        throw invalidRequest('Login links can only be created for accounts that use the Express Dashboard.', { param: 'account' });
      }
      return { object: 'login_link', created: ctx.now(), url: `${ctx.env.baseUrl}/_sandbox/connect/express/${account.id}` };
    },
  },
  {
    method: 'POST', path: '/v1/account_sessions', permission: 'accounts',
    // Every embedded component by name (the bundled 2023 spec knows only account_onboarding).
    specPatch: { add: { components: { t: 'o', ap: { t: 'o', p: { enabled: { t: 'b' }, features: { t: 'x' } } } } } },
    handle: (ctx, p) => {
      const account = connected(ctx, p.account, 'account');
      if (!p.components || typeof p.components !== 'object') throw invalidRequest('Missing required param: components.', { param: 'components', code: 'parameter_missing' });
      const components = Object.fromEntries(Object.entries(p.components as Params).map(([name, c]) => [name, { enabled: c?.enabled === true || c?.enabled === 'true', features: c?.features ?? {} }]));
      return { object: 'account_session', account: account.id, client_secret: `accs_secret__${randomText(40)}`, components, expires_at: ctx.now() + 3600, livemode: false };
    },
  },
  {
    method: 'GET', path: '/v1/accounts/{account}/capabilities', permission: 'accounts',
    handle: (ctx, _p, path) => {
      const account = connected(ctx, path.account, 'account');
      return listOf(Object.keys(account.capabilities ?? {}).map((name) => capabilityOf(account, name)), `/v1/accounts/${account.id}/capabilities`);
    },
  },
  {
    method: 'GET', path: '/v1/accounts/{account}/capabilities/{capability}', permission: 'accounts',
    handle: (ctx, _p, path) => {
      const account = connected(ctx, path.account, 'account');
      if (!(path.capability in (account.capabilities ?? {}))) throw invalidRequest(`No such capability: '${path.capability}'`, { code: 'resource_missing' }, 404);
      return capabilityOf(account, path.capability);
    },
  },
  {
    method: 'GET', path: '/v1/accounts/{account}/external_accounts', permission: 'accounts',
    handle: (ctx, _p, path) => connected(ctx, path.account, 'account').external_accounts,
  },
];

interface OnboardingForm {
  business_type?: string; business_name?: string; url?: string; mcc?: string; first_name?: string; last_name?: string; email?: string;
  routing_number?: string; account_number?: string; tos?: string;
}

const field = (name: string, label: string, value: string) =>
  `<label style="display:block;margin:10px 0 4px;font-size:13px;color:#4f566b">${label}<input name="${name}" value="${escapeHtml(value)}" style="display:block;width:100%;padding:9px;border:1px solid #d5dbe1;border-radius:6px;font-size:15px;margin-top:4px"></label>`;

export function registerOnboarding(app: FastifyInstance, deps: PipelineDeps): void {
  const { store } = deps;
  const platform = () => deps.env.platform;
  /** The link, if it can still be used. */
  const usable = (token: string) => {
    const link = store.get(platform(), LINKS, token);
    return link && !link.used && link.expires_at > Math.floor(Date.now() / 1000) ? link : undefined;
  };
  const expired = (token: string) => store.get(platform(), LINKS, token);

  app.get<{ Params: { token: string } }>('/_sandbox/connect/onboarding/:token', async (req, reply) => {
    const link = usable(req.params.token);
    if (!link) {
      const known = expired(req.params.token);
      if (known) return reply.redirect(known.refresh_url, 302);
      return reply.code(404).type('text/html').send(page('Link not found', '<h1>This link is not valid</h1><p>Ask the platform for a new onboarding link.</p>'));
    }
    const account = store.get(platform(), 'accounts', link.account)!;
    return reply.type('text/html').send(page('Set up payments', `
      <span class="badge">Test mode</span>
      <h1>${link.type === 'account_update' ? 'Update your account' : 'Set up payments'}</h1>
      <p>The platform uses Stripe to pay you. These are Stripe's test values: change them or submit as they are.</p>
      <form method="post" action="/_sandbox/connect/onboarding/${escapeHtml(req.params.token)}">
        <label style="display:block;margin:10px 0 4px;font-size:13px;color:#4f566b">Business type
          <select name="business_type" style="display:block;width:100%;padding:9px;border:1px solid #d5dbe1;border-radius:6px;font-size:15px;margin-top:4px">
            <option value="individual">Individual</option><option value="company">Company</option>
          </select></label>
        ${field('business_name', 'Business name', account.business_profile?.name ?? 'Test business')}
        ${field('url', 'Website', account.business_profile?.url ?? 'https://accessible.stripe.com')}
        ${field('mcc', 'Merchant category code', account.business_profile?.mcc ?? '5734')}
        ${field('first_name', 'First name', 'Jenny')}
        ${field('last_name', 'Last name', 'Rosen')}
        ${field('email', 'Email', account.email ?? 'jenny.rosen@example.com')}
        ${field('routing_number', 'Routing number', '110000000')}
        ${field('account_number', 'Account number', '000123456789')}
        <label style="display:flex;gap:8px;align-items:center;margin:14px 0 0;font-size:13px;color:#4f566b"><input type="checkbox" name="tos" value="accepted" checked> I agree to the Stripe Connected Account Agreement</label>
        <button class="primary" type="submit">Submit</button>
      </form>`));
  });

  app.post<{ Params: { token: string }; Body: OnboardingForm }>('/_sandbox/connect/onboarding/:token', async (req, reply) => {
    const link = usable(req.params.token);
    if (!link) {
      const known = expired(req.params.token);
      if (known) return reply.redirect(known.refresh_url, 303);
      return reply.code(404).type('text/html').send(page('Link not found', '<h1>This link is not valid</h1>'));
    }
    const f = req.body ?? {};
    if (f.tos !== 'accepted') {
      return reply.code(400).type('text/html').send(page('Set up payments', '<h1>Accept the agreement</h1><p>Go back and tick the agreement to continue.</p>'));
    }
    transact(deps, platform(), (ctx) => {
      const account = ctx.require('accounts', link.account, 'account');
      const type = f.business_type === 'company' ? 'company' : 'individual';
      const next = ctx.edit(account);
      next.business_type = type;
      next.business_profile = { ...account.business_profile, name: f.business_name || account.business_profile?.name, url: f.url || 'https://accessible.stripe.com', mcc: f.mcc || '5734' };
      if (type === 'individual') {
        next.individual = { id: account.individual?.id ?? newId('person'), object: 'person', account: account.id, created: account.individual?.created ?? ctx.now(), first_name: f.first_name || 'Jenny', last_name: f.last_name || 'Rosen', email: f.email || 'jenny.rosen@example.com' };
      }
      else next.company = { name: f.business_name || 'Test business', tax_id_provided: true };
      next.email = account.email ?? f.email ?? null;
      next.external_accounts = listOf([bankAccount(account.id, { routing_number: f.routing_number || '110000000', account_number: f.account_number || '000123456789' })], `/v1/accounts/${account.id}/external_accounts`);
      next.tos_acceptance = { date: ctx.now(), ip: req.ip, user_agent: String(req.headers['user-agent'] ?? '') };
      reassess(ctx, next, { details_submitted: account.details_submitted });
      ctx.put(LINKS, { ...link, used: true });
    });
    return reply.redirect(link.return_url, 303);
  });

  app.get<{ Params: { account: string } }>('/_sandbox/connect/express/:account', async (req, reply) =>
    reply.type('text/html').send(page('Express Dashboard', `<span class="badge">Test mode</span><h1>Express Dashboard</h1><p>The sandbox's stand-in for ${escapeHtml(req.params.account)}'s Express Dashboard.</p>`)));
}
