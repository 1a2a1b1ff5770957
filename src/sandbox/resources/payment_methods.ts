import { createHash } from 'node:crypto';
import type { ParamSchema } from '../../stripe/schema.js';
import { cardError, invalidRequest } from '../../stripe/errors.js';
import { luhnValid, shortcutNumber, testCard, type TestCard } from '../cards.js';
import type { Ctx } from '../engine/context.js';
import { newId } from '../../stripe/ids.js';
import { EMPTY, frozen, sharedBy } from '../engine/shared.js';
import { paginate } from '../engine/list.js';
import { applyUpdate, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/collection.js';

/** Card numbers live apart from payment methods so no answer can ever include one. */
export const CARD_NUMBERS = 'card_numbers';

const fingerprint = (number: string) => createHash('sha256').update(number).digest('base64url').replace(/[-_]/g, '').slice(0, 16);

export interface CardInput {
  number?: string;
  exp_month?: number;
  exp_year?: number;
  cvc?: string;
}

/** Checks raw card details the way Stripe does before tokenizing them. */
export function checkCard(ctx: Ctx, card: CardInput, prefix = 'card'): { number: string; exp_month: number; exp_year: number; cvc?: string } {
  for (const field of ['number', 'exp_month', 'exp_year'] as const) {
    if (card[field] === undefined || card[field] === '') {
      throw invalidRequest(`Missing required param: ${prefix}[${field}].`, { param: `${prefix}[${field}]`, code: 'parameter_missing' });
    }
  }
  const number = String(card.number).replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
    throw cardError('Your card number is incorrect.', { code: 'incorrect_number', param: `${prefix}[number]` });
  }
  const exp_month = Number(card.exp_month);
  let exp_year = Number(card.exp_year);
  if (!Number.isInteger(exp_month) || exp_month < 1 || exp_month > 12) {
    throw cardError("Your card's expiration month is invalid.", { code: 'invalid_expiry_month', param: `${prefix}[exp_month]` });
  }
  if (exp_year < 100) exp_year += 2000;
  const now = new Date(ctx.now() * 1000);
  const expired = exp_year < now.getUTCFullYear() || (exp_year === now.getUTCFullYear() && exp_month < now.getUTCMonth() + 1);
  if (!Number.isInteger(exp_year) || expired || exp_year > now.getUTCFullYear() + 50) {
    throw cardError("Your card's expiration year is invalid.", { code: 'invalid_expiry_year', param: `${prefix}[exp_year]` });
  }
  if (card.cvc !== undefined && !/^\d{3,4}$/.test(String(card.cvc))) {
    throw cardError("Your card's security code is invalid.", { code: 'invalid_cvc', param: `${prefix}[cvc]` });
  }
  return { number, exp_month, exp_year, cvc: card.cvc };
}

const CVC_PASSED = frozen({ address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' });
const CVC_UNCHECKED = frozen({ address_line1_check: null, address_postal_code_check: null, cvc_check: null });
const SUPPORTS_3DS = frozen({ supported: true });
const networksOf = sharedBy((brands: string) => ({ available: brands.split(','), preferred: null }));

/** The `card` hash of a payment method for a checked card. */
export function cardDetails(info: TestCard, exp_month: number, exp_year: number, cvcGiven: boolean) {
  return {
    brand: info.brand,
    checks: info.checks ? { ...(cvcGiven ? CVC_PASSED : CVC_UNCHECKED), ...info.checks, ...(info.checks.cvc_check && !cvcGiven ? { cvc_check: null } : {}) } : cvcGiven ? CVC_PASSED : CVC_UNCHECKED,
    country: info.country,
    display_brand: info.brand,
    exp_month,
    exp_year,
    fingerprint: fingerprint(info.number),
    funding: info.funding,
    generated_from: null,
    last4: info.number.slice(-4),
    networks: networksOf(info.coBrand ? `${info.coBrand},${info.brand}` : info.brand),
    regulated_status: 'unregulated',
    three_d_secure_usage: SUPPORTS_3DS,
    wallet: null,
  };
}

const emptyBillingDetails = () => ({
  address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
  email: null, name: null, phone: null, tax_id: null,
});

const NO_BILLING_DETAILS = frozen(emptyBillingDetails());

/** Creates a card payment method from a card number (already checked). */
export function createCardPaymentMethod(ctx: Ctx, number: string, exp_month: number, exp_year: number, p: Params = {}, cvcGiven = true): StripeObject {
  const info = testCard(number);
  const pm: StripeObject = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: p.allow_redisplay ?? 'unspecified',
    billing_details: p.billing_details
      ? { ...emptyBillingDetails(), ...p.billing_details, address: { ...emptyBillingDetails().address, ...(p.billing_details.address ?? {}) } }
      : NO_BILLING_DETAILS,
    card: cardDetails(info, exp_month, exp_year, cvcGiven),
    created: ctx.now(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: p.metadata || EMPTY,
    type: 'card',
  };
  ctx.put('payment_methods', pm);
  ctx.put(CARD_NUMBERS, { id: pm.id, number });
  return pm;
}

/** The test card behind a payment method. */
export function cardOf(ctx: Ctx, pm: StripeObject): TestCard {
  const stored = ctx.get(CARD_NUMBERS, pm.id);
  return testCard(stored?.number ?? '4242424242424242');
}

/**
 * A payment method by id, or a fresh one for a test shortcut
 * (`pm_card_visa`, `tok_visa`), as Stripe creates one per use.
 */
export function resolvePaymentMethod(ctx: Ctx, ref: string, param: string): StripeObject {
  const shortcut = shortcutNumber(ref);
  if (shortcut) {
    const year = new Date(ctx.now() * 1000).getUTCFullYear() + 1;
    return createCardPaymentMethod(ctx, shortcut, 12, year, {}, true);
  }
  if (ref.startsWith('tok_')) return fromToken(ctx, ref, param);
  return ctx.require('payment_methods', ref, 'PaymentMethod', param);
}

function fromToken(ctx: Ctx, ref: string, param: string): StripeObject {
  const token = ctx.require('tokens', ref, 'token', param);
  if (token.used) throw invalidRequest(`You cannot use a Stripe token more than once: ${ref}.`, { param, code: 'token_already_used' });
  ctx.put('tokens', { ...token, used: true });
  const number = ctx.get(CARD_NUMBERS, token.id)?.number ?? '4242424242424242';
  return createCardPaymentMethod(ctx, number, token.card.exp_month, token.card.exp_year, {}, token.card.cvc_check === 'pass');
}

export function declineOnAttach(info: TestCard): void {
  if (info.behaviour.kind === 'decline') {
    const { code, decline_code, message, param } = info.behaviour;
    throw cardError(message, { code, decline_code, param });
  }
}

/** Attaches (saving a copy) and emits `payment_method.attached`. */
export function attachPaymentMethod(ctx: Ctx, pm: StripeObject, customer: StripeObject): StripeObject {
  if (pm.customer === customer.id) return pm;
  if (pm.customer) {
    throw invalidRequest('The payment method you provided has already been attached to a customer.', { code: 'payment_method_unexpected_state', param: 'payment_method' });
  }
  declineOnAttach(cardOf(ctx, pm));
  const next = { ...pm, customer: customer.id };
  ctx.put('payment_methods', next);
  ctx.emit('payment_method.attached', next);
  return next;
}

/** A card payment method from `type` and `card` (raw details or a token): `POST /v1/payment_methods`, and `payment_method_data`. */
export function paymentMethodFromParams(ctx: Ctx, p: Params): StripeObject {
  return create(ctx, p);
}

/** `payment_method_data` as the sandbox takes it (cards only, as Stripe.js sends them with a publishable key). */
export const PAYMENT_METHOD_DATA: ParamSchema = {
  t: 'o', r: ['type'],
  p: {
    type: { t: 's', e: ['card'] },
    card: { t: 'o', p: { number: { t: 's' }, exp_month: { t: 'i' }, exp_year: { t: 'i' }, cvc: { t: 's' }, token: { t: 's' } } },
    billing_details: { t: 'x' }, metadata: { t: 'o', ap: { t: 's' } }, allow_redisplay: { t: 's', e: ['always', 'limited', 'unspecified'] },
  },
};

function create(ctx: Ctx, p: Params): StripeObject {
  const type = p.type ?? (p.card ? 'card' : undefined);
  if (!type) throw invalidRequest('Missing required param: type.', { param: 'type', code: 'parameter_missing' });
  if (type !== 'card') throw invalidRequest(`The sandbox supports payment methods of type card only, not ${type}.`, { param: 'type' });
  if (!p.card) throw invalidRequest('Missing required param: card.', { param: 'card', code: 'parameter_missing' });
  if (p.card.token) {
    const pm = resolvePaymentMethod(ctx, p.card.token, 'card[token]');
    return ctx.put('payment_methods', { ...pm, metadata: p.metadata || {} });
  }
  const card = checkCard(ctx, p.card);
  return createCardPaymentMethod(ctx, card.number, card.exp_month, card.exp_year, p, card.cvc !== undefined);
}

function update(ctx: Ctx, pm: StripeObject, p: Params): StripeObject {
  const next = ctx.edit(pm);
  const previous = applyUpdate(next, p, ['card', 'billing_details']);
  if (p.billing_details) {
    previous.billing_details = pm.billing_details;
    next.billing_details = { ...next.billing_details, ...p.billing_details, address: { ...next.billing_details.address, ...(p.billing_details.address || {}) } };
  }
  if (p.card) {
    previous.card = pm.card;
    next.card = { ...next.card, ...p.card };
  }
  return saveUpdate(ctx, 'payment_methods', next, previous, 'payment_method.updated');
}

const declaration = {
  collection: 'payment_methods',
  object: 'payment_method',
  prefix: 'pm',
  noun: 'PaymentMethod',
  path: '/v1/payment_methods',
  permission: 'payment_methods',
  listFilters: {
    customer: (v: string) => (o: StripeObject) => o.customer === v,
    type: (v: string) => (o: StripeObject) => o.type === v,
  },
};

const attach: Operation = {
  method: 'POST',
  path: '/v1/payment_methods/{payment_method}/attach',
  permission: 'payment_methods',
  handle: (ctx, p, path) => {
    const pm = resolvePaymentMethod(ctx, path.payment_method, 'payment_method');
    const customer = ctx.require('customers', p.customer, 'customer', 'customer');
    return attachPaymentMethod(ctx, pm, customer);
  },
};

const detach: Operation = {
  method: 'POST',
  path: '/v1/payment_methods/{payment_method}/detach',
  permission: 'payment_methods',
  handle: (ctx, _p, path) => {
    const pm = ctx.require('payment_methods', path.payment_method, 'PaymentMethod', 'payment_method');
    if (!pm.customer) throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', { code: 'payment_method_unexpected_state' });
    const next = { ...pm, customer: null };
    ctx.put('payment_methods', next);
    ctx.emit('payment_method.detached', next, { customer: pm.customer });
    const customer = ctx.get('customers', pm.customer);
    if (customer?.invoice_settings?.default_payment_method === pm.id) {
      ctx.put('customers', { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: null } });
    }
    return next;
  },
};

const listForCustomer: Operation[] = [
  {
    method: 'GET',
    path: '/v1/customers/{customer}/payment_methods',
    permission: 'payment_methods',
    handle: (ctx, p, path) => {
      ctx.require('customers', path.customer, 'customer', 'customer');
      const predicates = [(o: StripeObject) => o.customer === path.customer];
      if (p.type) predicates.push((o) => o.type === p.type);
      return paginate(ctx.collection('payment_methods'), p, `/v1/customers/${path.customer}/payment_methods`, 'PaymentMethod', predicates);
    },
  },
  {
    method: 'GET',
    path: '/v1/customers/{customer}/payment_methods/{payment_method}',
    permission: 'payment_methods',
    handle: (ctx, _p, path) => {
      const pm = ctx.require('payment_methods', path.payment_method, 'PaymentMethod', 'payment_method');
      if (pm.customer !== path.customer) throw invalidRequest(`No such PaymentMethod: '${path.payment_method}'`, { code: 'resource_missing' }, 404);
      return pm;
    },
  },
];

export const paymentMethods: Resource = {
  ...declaration,
  operations: [
    ...standardOperations(declaration, { idParam: 'payment_method', create, update }).map((op) =>
      op.method === 'POST' && op.path === '/v1/payment_methods' ? { ...op, publishable: true } : op,
    ),
    attach,
    detach,
    ...listForCustomer,
  ],
};

/** `/v1/tokens`: card tokens, the older client-side way to collect a card. */
export const tokens: Resource = {
  collection: 'tokens',
  object: 'token',
  prefix: 'tok',
  noun: 'token',
  path: '/v1/tokens',
  permission: 'tokens',
  operations: [
    {
      method: 'POST',
      path: '/v1/tokens',
      permission: 'tokens',
      publishable: true,
      handle: (ctx, p) => {
        if (!p.card) throw invalidRequest('Missing required param: card.', { param: 'card', code: 'parameter_missing' });
        const card = checkCard(ctx, typeof p.card === 'object' ? p.card : {});
        const info = testCard(card.number);
        const details = cardDetails(info, card.exp_month, card.exp_year, card.cvc !== undefined);
        const token: StripeObject = {
          id: newId('tok'),
          object: 'token',
          card: {
            id: newId('card'), object: 'card', address_city: null, address_country: null, address_line1: null,
            address_line1_check: null, address_line2: null, address_state: null, address_zip: null, address_zip_check: null,
            brand: brandName(info.brand), country: info.country, cvc_check: details.checks.cvc_check, dynamic_last4: null,
            exp_month: card.exp_month, exp_year: card.exp_year, fingerprint: details.fingerprint, funding: info.funding,
            last4: details.last4, metadata: {}, name: p.card.name ?? null, networks: { preferred: null },
            regulated_status: 'unregulated', tokenization_method: null,
          },
          client_ip: null,
          created: ctx.now(),
          livemode: false,
          type: 'card',
          used: false,
        };
        ctx.put('tokens', token);
        ctx.put(CARD_NUMBERS, { id: token.id, number: card.number });
        return token;
      },
    },
    {
      method: 'GET',
      path: '/v1/tokens/{token}',
      permission: 'tokens',
      handle: (ctx, _p, path) => ctx.require('tokens', path.token, 'token', 'token'),
    },
  ],
};

const BRAND_NAMES: Record<string, string> = {
  visa: 'Visa', mastercard: 'MasterCard', amex: 'American Express', discover: 'Discover', diners: 'Diners Club', jcb: 'JCB', unionpay: 'UnionPay',
};
export const brandName = (brand: string) => BRAND_NAMES[brand] ?? 'Unknown';
