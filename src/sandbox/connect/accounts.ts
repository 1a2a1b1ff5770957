/**
 * Connect accounts. Accounts live in the platform's partition; each one's
 * own objects live in a partition of its id, reached with the
 * `Stripe-Account` header (or an OAuth access token) while the platform
 * keeps access: the `connections` record says whether it does.
 */
import { invalidRequest, StripeError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { newId, randomText } from '../../stripe/ids.js';
import { listOf } from '../engine/list.js';
import { applyUpdate, deleteObject, patchSpec, standardOperations, type Params, type Resource } from '../engine/resource.js';
import type { ParamSchema } from '../../stripe/schema.js';
import type { Store, StripeObject } from '../store/store.js';
import { maskKey } from '../auth.js';
import { onboardingOperations } from './onboarding.js';

/** Connected account id → `{active}`: whether the platform may act on it. */
export const CONNECTIONS = 'connections';

/** What Stripe asks of a new US account before it may take payments and receive payouts (test mode asks the same). */
const ONBOARDING_FIELDS = ['business_profile.mcc', 'business_profile.url', 'business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'];
const PERSON_FIELDS: Record<string, string[]> = {
  individual: ['individual.email', 'individual.first_name', 'individual.last_name'],
  company: ['company.name', 'company.tax_id'],
};

const requirements = (due: string[] = []) => ({
  alternatives: [], current_deadline: null, currently_due: due, disabled_reason: due.length ? 'requirements.past_due' : null, errors: [],
  eventually_due: due, past_due: due, pending_verification: [],
});

const has = (p: Params, path: string) => path.split('.').reduce<any>((o, k) => (o && typeof o === 'object' ? o[k] : undefined), p) != null;

/** The requirements `p` leaves open. */
export function dueFor(p: Params): string[] {
  const fields = [...ONBOARDING_FIELDS, ...(PERSON_FIELDS[p.business_type] ?? [])];
  return fields.filter((f) => !has(p, f));
}

/** `controller` on account creation (2023-10-16 and later; the bundled spec is older). */
const CONTROLLER_SCHEMA: ParamSchema = {
  t: 'o',
  p: {
    fees: { t: 'o', p: { payer: { t: 's', e: ['account', 'application'] } } },
    losses: { t: 'o', p: { payments: { t: 's', e: ['application', 'stripe'] } } },
    requirement_collection: { t: 's', e: ['application', 'stripe'] },
    stripe_dashboard: { t: 'o', p: { type: { t: 's', e: ['express', 'full', 'none'] } } },
  },
};

/** A bank account token, or its details as a hash (the spec types only the token). */
const EXTERNAL_ACCOUNT_SCHEMA: ParamSchema = { t: 'u', o: [{ t: 's', m: 5000 }, { t: 'o', ap: { t: 's' } }] };

/** Controller properties for the legacy account types, and the type a set of properties amounts to. */
const LEGACY: Record<string, Params> = {
  standard: { fees: { payer: 'account' }, losses: { payments: 'stripe' }, requirement_collection: 'stripe', stripe_dashboard: { type: 'full' } },
  express: { fees: { payer: 'application' }, losses: { payments: 'application' }, requirement_collection: 'stripe', stripe_dashboard: { type: 'express' } },
  custom: { fees: { payer: 'application' }, losses: { payments: 'application' }, requirement_collection: 'application', stripe_dashboard: { type: 'none' } },
};

function controllerOf(p: Params): Params {
  const base = LEGACY[p.type] ?? LEGACY.standard;
  const c = p.controller ?? {};
  return {
    fees: { payer: c.fees?.payer ?? base.fees.payer },
    is_controller: true,
    losses: { payments: c.losses?.payments ?? base.losses.payments },
    requirement_collection: c.requirement_collection ?? base.requirement_collection,
    stripe_dashboard: { type: c.stripe_dashboard?.type ?? base.stripe_dashboard.type },
    type: 'application',
  };
}

function typeOf(controller: Params): string {
  for (const [type, props] of Object.entries(LEGACY)) {
    if (props.fees.payer === controller.fees?.payer && props.losses.payments === controller.losses?.payments
      && props.requirement_collection === controller.requirement_collection && props.stripe_dashboard.type === controller.stripe_dashboard?.type) return type;
  }
  return 'none';
}

/** A bank account from `external_account` (Stripe's test token, or the account's details). */
export function bankAccount(account: string, given: unknown): StripeObject {
  const g = (typeof given === 'object' && given ? given : {}) as Params;
  const number = String(g.account_number ?? '000123456789');
  return {
    id: newId('ba'), object: 'bank_account', account, account_holder_name: g.account_holder_name ?? null, account_holder_type: g.account_holder_type ?? null,
    account_type: null, available_payout_methods: ['standard', 'instant'], bank_name: 'STRIPE TEST BANK', country: g.country ?? 'US',
    currency: String(g.currency ?? 'usd').toLowerCase(), default_for_currency: true, fingerprint: randomText(16), future_requirements: requirements(),
    last4: number.slice(-4), metadata: {}, requirements: requirements(), routing_number: String(g.routing_number ?? '110000000'), status: 'new',
  };
}

/**
 * A connected account. `onboarded` accounts (an existing Stripe account connecting by OAuth) take payments at once;
 * one created with the API does when its parameters already meet the requirements, else after its onboarding
 * (an account link's page, or updates that provide what is due).
 */
export function newAccount(ctx: Ctx, p: Params, o: { onboarded?: boolean } = {}): StripeObject {
  const id = `acct_${randomText(16)}`;
  const controller = controllerOf(p);
  const due = o.onboarded ? [] : dueFor(p);
  const requested = Object.entries(p.capabilities ?? { card_payments: { requested: true }, transfers: { requested: true } })
    .filter(([, v]) => (v as Params).requested === true || (v as Params).requested === 'true').map(([name]) => name);
  const external = p.external_account ? [bankAccount(id, p.external_account)] : o.onboarded ? [bankAccount(id, {})] : [];
  return {
    id,
    object: 'account',
    business_profile: {
      annual_revenue: null, estimated_worker_count: null, mcc: p.business_profile?.mcc ?? null, minority_owned_business_designation: null, monthly_estimated_revenue: { amount: 0, currency: 'usd' },
      name: p.business_profile?.name ?? null, product_description: null, support_address: null, support_email: null, support_phone: null, support_url: null,
      url: p.business_profile?.url ?? null,
    },
    business_type: p.business_type ?? null,
    ...(p.business_type === 'individual' && p.individual ? { individual: { id: newId('person'), object: 'person', account: id, created: ctx.now(), ...p.individual } } : {}),
    ...(p.business_type === 'company' && p.company ? { company: { ...Object.fromEntries(Object.entries(p.company).filter(([k]) => k !== 'tax_id')), tax_id_provided: !!p.company.tax_id } } : {}),
    capabilities: Object.fromEntries(requested.map((name) => [name, due.length ? 'inactive' : 'active'])),
    charges_enabled: due.length === 0,
    controller,
    country: p.country ?? 'US',
    created: ctx.now(),
    default_currency: p.default_currency ?? 'usd',
    details_submitted: due.length === 0,
    email: p.email ?? null,
    external_accounts: listOf(external, `/v1/accounts/${id}/external_accounts`),
    future_requirements: requirements(),
    metadata: p.metadata || {},
    payouts_enabled: due.length === 0,
    requirements: requirements(due),
    settings: {
      branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
      card_issuing: { tos_acceptance: { date: null, ip: null } },
      card_payments: { decline_on: { avs_failure: false, cvc_failure: false }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
      dashboard: { display_name: p.business_profile?.name ?? null, timezone: 'Etc/UTC' },
      payments: { statement_descriptor: null, statement_descriptor_kana: null, statement_descriptor_kanji: null },
      payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: p.settings?.payouts?.schedule?.interval ?? 'daily' }, statement_descriptor: null },
    },
    tos_acceptance: { date: p.tos_acceptance?.date ?? null, ip: p.tos_acceptance?.ip ?? null, user_agent: p.tos_acceptance?.user_agent ?? null },
    type: p.type ?? typeOf(controller),
  };
}

/**
 * The account once what it was asked for is given: its requirements re-read from what it now holds, capabilities
 * and `charges_enabled` / `payouts_enabled` following; `account.updated` (and `capability.updated`) on a change.
 */
export function reassess(ctx: Ctx, account: StripeObject, previous: Record<string, unknown> = {}): StripeObject {
  const next = ctx.edit(account);
  // A company's tax id is kept only as `tax_id_provided`, as Stripe shows it.
  const company = account.company ? { ...account.company, tax_id: account.company.tax_id_provided ? 'provided' : undefined } : undefined;
  const held: Params = { ...account, external_account: account.external_accounts?.data?.length ? true : undefined, individual: account.individual, company };
  const due = account.details_submitted && !account.requirements.currently_due.length ? [] : dueFor(held);
  const was = { charges_enabled: account.charges_enabled, payouts_enabled: account.payouts_enabled, details_submitted: account.details_submitted, requirements: account.requirements };
  next.requirements = requirements(due);
  next.charges_enabled = next.payouts_enabled = next.details_submitted = due.length === 0;
  const capabilities = Object.fromEntries(Object.keys(account.capabilities ?? {}).map((name) => [name, due.length ? 'inactive' : 'active']));
  const changedCapabilities = Object.keys(capabilities).filter((name) => capabilities[name] !== account.capabilities[name]);
  next.capabilities = capabilities;
  const changed = JSON.stringify(was) !== JSON.stringify({ charges_enabled: next.charges_enabled, payouts_enabled: next.payouts_enabled, details_submitted: next.details_submitted, requirements: next.requirements });
  const platform = ctx.in(ctx.env.platform);
  platform.put('accounts', next);
  // Stripe sends an account's own events to the platform's Connect endpoints (the event names the account).
  const own = ctx.in(account.id);
  if (changed || Object.keys(previous).length) own.emit('account.updated', next, { ...previous, ...(changed ? was : {}) });
  for (const name of changedCapabilities) own.emit('capability.updated', capabilityOf(next, name), { status: account.capabilities[name] });
  return next;
}

export function capabilityOf(account: StripeObject, name: string): StripeObject {
  const due = account.requirements?.currently_due ?? [];
  return {
    id: name, object: 'capability', account: account.id, future_requirements: requirements(), requested: true, requested_at: account.created,
    requirements: requirements(account.capabilities[name] === 'active' ? [] : due), status: account.capabilities[name],
  };
}

function create(ctx: Ctx, p: Params): StripeObject {
  if (ctx.account !== ctx.env.platform) throw new StripeError(403, 'invalid_request_error', 'Connect platforms cannot create new accounts on behalf of their connected accounts.');
  if (!p.type && !p.controller) throw invalidRequest('Missing required param: type.', { param: 'type', code: 'parameter_missing' });
  if (p.type && p.controller) throw invalidRequest('You cannot specify `type` and `controller` together: `controller` describes the account instead of a type.', { param: 'controller' });
  const account = newAccount(ctx, p);
  ctx.put('accounts', account);
  ctx.put(CONNECTIONS, { id: account.id, active: true });
  return account;
}

function update(ctx: Ctx, account: StripeObject, p: Params): StripeObject {
  const next = ctx.edit(account);
  const previous = applyUpdate(next, p, ['capabilities', 'business_profile', 'settings', 'tos_acceptance', 'external_account', 'individual', 'company']);
  for (const key of ['business_profile', 'settings', 'tos_acceptance', 'individual', 'company'] as const) {
    if (p[key] === undefined) continue;
    previous[key] = account[key] ?? null;
    next[key] = deepMerge(account[key] ?? {}, p[key]);
  }
  if (next.company?.tax_id !== undefined) {
    const { tax_id: taxId, ...rest } = next.company;
    next.company = { ...rest, tax_id_provided: !!taxId || !!account.company?.tax_id_provided };
  }
  if (p.capabilities) {
    previous.capabilities = account.capabilities;
    const caps = { ...account.capabilities };
    for (const [name, v] of Object.entries(p.capabilities as Params)) {
      if (v.requested === true || v.requested === 'true') caps[name] ??= 'inactive';
      else delete caps[name];
    }
    next.capabilities = caps;
  }
  if (p.external_account) {
    previous.external_accounts = account.external_accounts;
    next.external_accounts = listOf([bankAccount(account.id, p.external_account)], `/v1/accounts/${account.id}/external_accounts`);
  }
  return reassess(ctx, next, previous);
}

function deepMerge(a: Params, b: Params): Params {
  const out: Params = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? deepMerge(a[k], v) : v === '' ? null : v;
  return out;
}

function remove(ctx: Ctx, account: StripeObject): StripeObject {
  ctx.put(CONNECTIONS, { id: account.id, active: false });
  return deleteObject(ctx, 'accounts', account);
}

/** The platform's own account, as `GET /v1/account` shows it. */
function platformAccount(ctx: Ctx): StripeObject {
  return {
    ...newAccount(ctx, { type: 'standard', business_profile: { name: 'PayBridge Sandbox' }, email: 'platform@paybridge.test' }, { onboarded: true }),
    controller: { type: 'account' },
    id: ctx.env.platform,
    created: 1_700_000_000,
  };
}

const declaration = {
  collection: 'accounts', object: 'account', prefix: 'acct', noun: 'account', path: '/v1/accounts', permission: 'accounts',
};

export const accounts: Resource = {
  ...declaration,
  operations: [
    ...onboardingOperations,
    ...patchSpec(standardOperations(declaration, {
      idParam: 'account',
      retrieve: false,
      create,
      update,
      del: remove,
    }), 'POST', '/v1/accounts', { add: { controller: CONTROLLER_SCHEMA, external_account: EXTERNAL_ACCOUNT_SCHEMA } }),
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
