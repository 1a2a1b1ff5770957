/**
 * Connect accounts. Accounts live in the platform's partition; each one's
 * own objects live in a partition of its id, reached with the
 * `Stripe-Account` header (or an OAuth access token) while the platform
 * keeps access: the `connections` record says whether it does.
 */
import { invalidRequest, StripeError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { randomText } from '../../stripe/ids.js';
import { listOf } from '../engine/list.js';
import { applyUpdate, deleteObject, saveUpdate, standardOperations, type Params, type Resource } from '../engine/resource.js';
import type { Store, StripeObject } from '../store/store.js';
import { maskKey } from '../auth.js';

/** Connected account id → `{active}`: whether the platform may act on it. */
export const CONNECTIONS = 'connections';

const requirements = () => ({
  alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [],
});

export function newAccount(ctx: Ctx, p: Params, controller: Params | null): StripeObject {
  const id = `acct_${randomText(16)}`;
  const capabilities = Object.fromEntries(Object.entries(p.capabilities ?? { card_payments: { requested: true }, transfers: { requested: true } })
    .filter(([, v]) => (v as Params).requested === true || (v as Params).requested === 'true')
    .map(([name]) => [name, 'active']));
  return {
    id,
    object: 'account',
    business_profile: {
      annual_revenue: null, estimated_worker_count: null, mcc: null, minority_owned_business_designation: null, monthly_estimated_revenue: { amount: 0, currency: 'usd' },
      name: p.business_profile?.name ?? null, product_description: null, support_address: null, support_email: null, support_phone: null, support_url: null,
      url: p.business_profile?.url ?? null,
    },
    business_type: p.business_type ?? null,
    capabilities,
    charges_enabled: true,
    controller: controller ?? { type: 'account' },
    country: p.country ?? 'US',
    created: ctx.now(),
    default_currency: p.default_currency ?? 'usd',
    details_submitted: true,
    email: p.email ?? null,
    external_accounts: { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/accounts/${id}/external_accounts` },
    future_requirements: requirements(),
    metadata: p.metadata || {},
    payouts_enabled: true,
    requirements: requirements(),
    settings: {
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_issuing: { tos_acceptance: { date: null, ip: null } },
      card_payments: { decline_on: { avs_failure: false, cvc_failure: false }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      dashboard: { display_name: p.business_profile?.name ?? null, timezone: 'Etc/UTC' },
      payments: { statement_descriptor: null, statement_descriptor_kana: null, statement_descriptor_kanji: null },
      payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'daily' }, statement_descriptor: null },
    },
    tos_acceptance: { date: p.tos_acceptance?.date ?? null, ip: p.tos_acceptance?.ip ?? null, user_agent: p.tos_acceptance?.user_agent ?? null },
    type: p.type ?? 'none',
  };
}

function create(ctx: Ctx, p: Params): StripeObject {
  if (ctx.account !== ctx.env.platform) throw new StripeError(403, 'invalid_request_error', 'Connect platforms cannot create new accounts on behalf of their connected accounts.');
  if (!p.type && !p.controller) throw invalidRequest('Missing required param: type.', { param: 'type', code: 'parameter_missing' });
  const controller = p.controller ? { is_controller: true, type: 'application', ...p.controller } : p.type === 'standard' ? { type: 'account' } : { is_controller: true, type: 'application' };
  const account = newAccount(ctx, p, controller);
  ctx.put('accounts', account);
  ctx.put(CONNECTIONS, { id: account.id, active: true });
  return account;
}

function remove(ctx: Ctx, account: StripeObject): StripeObject {
  ctx.put(CONNECTIONS, { id: account.id, active: false });
  return deleteObject(ctx, 'accounts', account);
}

/** The platform's own account, as `GET /v1/account` shows it. */
function platformAccount(ctx: Ctx): StripeObject {
  return {
    ...newAccount(ctx, { type: 'standard', business_profile: { name: 'PayBridge Sandbox' }, email: 'platform@paybridge.test' }, { type: 'account' }),
    id: ctx.env.platform,
    created: 1_700_000_000,
  };
}

const declaration = {
  collection: 'accounts', object: 'account', prefix: 'acct', noun: 'account', path: '/v1/accounts', permission: 'accounts',
  virtual: {
    external_accounts: (_ctx: Ctx, a: StripeObject) => listOf([], `/v1/accounts/${a.id}/external_accounts`),
  },
};

export const accounts: Resource = {
  ...declaration,
  operations: [
    ...standardOperations(declaration, {
      idParam: 'account',
      retrieve: false,
      create,
      update: (ctx, account, p) => {
        const next = ctx.edit(account);
        return saveUpdate(ctx, 'accounts', next, applyUpdate(next, p, ['capabilities', 'business_profile', 'settings', 'tos_acceptance']), 'account.updated');
      },
      del: remove,
    }),
    {
      // Stripe answers an account the key cannot reach (unknown, or not connected) with 403 account_invalid, not 404;
      // a connected account may read itself (Stripe-Account, or its own OAuth token).
      method: 'GET', path: '/v1/accounts/{account}', permission: 'accounts',
      handle: (ctx, _p, path) => {
        const id = path.account;
        const found = ctx.store.get(ctx.env.platform, 'accounts', id);
        const reachable = ctx.account === ctx.env.platform || id === ctx.account;
        if (!found || found.deleted || !reachable) throw accountInvalidHint(ctx.request.keyHint ?? 'sk_test_***', id);
        return found;
      },
    },
    {
      method: 'GET', path: '/v1/account', permission: 'accounts', params: { t: 'o', p: { expand: { t: 'a', i: { t: 's' } } } },
      handle: (ctx) => (ctx.account === ctx.env.platform ? platformAccount(ctx) : ctx.store.get(ctx.env.platform, 'accounts', ctx.account) ?? platformAccount(ctx)),
    },
  ],
};

/** Stripe's answer when a key may not act on the account it names. */
export const accountInvalid = (key: string, account: string) => accountInvalidHint(maskKey(key), account);

const accountInvalidHint = (keyHint: string, account: string) =>
  new StripeError(403, 'invalid_request_error', `The provided key '${keyHint}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`, { code: 'account_invalid' });

/** The account a request acts on, given its key's account and a `Stripe-Account` header. */
export function actingAccount(store: Store, platform: string, keyAccount: string, header: string | undefined, key: string): string {
  if (!header || header === keyAccount) return keyAccount;
  if (keyAccount !== platform || !store.get(platform, CONNECTIONS, header)?.active) throw accountInvalid(key, header);
  return header;
}
