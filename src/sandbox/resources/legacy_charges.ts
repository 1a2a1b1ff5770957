/**
 * The card APIs Stripe still serves and many live integrations (and older
 * SDKs' examples) still call: `POST /v1/charges` with a `source` (a card
 * token, a saved card, or the customer's default source) and `capture`,
 * `/v1/charges/:id/capture`, the legacy `/refund` and `/refunds`, and a
 * customer's card sources (`/v1/customers/:id/sources`, `source` on create,
 * `default_source`). A card source is the `card` object Stripe shows
 * (`card_…`); behind it the sandbox keeps a card payment method, so the same
 * test-card behaviour, events and balance transactions apply as to
 * PaymentIntents.
 */
import { cardError, invalidRequest } from '../../stripe/errors.js';
import { checkAmount, checkCurrency } from '../../stripe/money.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { paginate } from '../engine/list.js';
import type { Operation, Params, Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';
import { captureCharge, chargeCard } from './charges.js';
import { checkConnectParams } from '../connect/money.js';
import { brandName, cardOf, resolvePaymentMethod } from './payment_methods.js';

/** card id → the payment method behind it. */
const PAYMENT_METHOD_OF_CARD = 'payment_method_of_card';

/** The `card` object for a card payment method, stored as a source (of `customer`, when given). */
export function cardSource(ctx: Ctx, pm: StripeObject, customer: string | null): StripeObject {
  const c = pm.card;
  const card: StripeObject = {
    id: newId('card'), object: 'card',
    address_city: null, address_country: null, address_line1: null, address_line1_check: null, address_line2: null, address_state: null, address_zip: null, address_zip_check: null,
    brand: brandName(c.brand), country: c.country, customer, cvc_check: c.checks?.cvc_check ?? null, dynamic_last4: null,
    exp_month: c.exp_month, exp_year: c.exp_year, fingerprint: c.fingerprint, funding: c.funding, last4: c.last4,
    metadata: {}, name: pm.billing_details?.name ?? null, regulated_status: c.regulated_status ?? 'unregulated', tokenization_method: null, wallet: null,
  };
  ctx.put('cards', card);
  ctx.put(PAYMENT_METHOD_OF_CARD, { id: card.id, pm: pm.id });
  return card;
}

/** A `source` as charges and customers take it: a token (`tok_…`, test tokens included) or a saved card (`card_…`). */
function resolveSource(ctx: Ctx, ref: unknown, param: string, customer: StripeObject | null): { pm: StripeObject; card: StripeObject } {
  if (typeof ref !== 'string' || !ref) throw invalidRequest(`Invalid ${param}: give a token (tok_…) or a card id (card_…).`, { param });
  if (ref.startsWith('card_')) {
    const card = ctx.get('cards', ref);
    if (!card || card.deleted || (customer && card.customer !== customer.id) || (!customer && card.customer)) {
      throw invalidRequest(customer ? `Customer ${customer.id} does not have a linked source with ID ${ref}.` : `No such source: '${ref}'`, { param, code: 'missing' }, 404);
    }
    return { pm: ctx.require('payment_methods', ctx.get(PAYMENT_METHOD_OF_CARD, ref)!.pm, 'PaymentMethod'), card };
  }
  if (!ref.startsWith('tok_')) throw invalidRequest(`No such token: '${ref}'`, { param, code: 'resource_missing' }, 404);
  const pm = resolvePaymentMethod(ctx, ref, param);
  return { pm, card: cardSource(ctx, pm, null) };
}

function createCharge(ctx: Ctx, p: Params): StripeObject {
  if (p.amount === undefined) throw invalidRequest('Missing required param: amount.', { param: 'amount', code: 'parameter_missing' });
  if (p.currency === undefined) throw invalidRequest('Missing required param: currency.', { param: 'currency', code: 'parameter_missing' });
  const currency = checkCurrency(p.currency);
  checkAmount(p.amount, currency);
  const customer = p.customer ? ctx.require('customers', p.customer, 'customer', 'customer') : null;
  let source: { pm: StripeObject; card: StripeObject };
  if (p.source) source = resolveSource(ctx, p.source, 'source', customer);
  else if (customer?.default_source) source = resolveSource(ctx, customer.default_source, 'customer', customer);
  else if (customer) throw invalidRequest('Cannot charge a customer that has no active card', { param: 'card', code: 'missing' });
  else throw invalidRequest('Must provide source or customer.', { code: 'parameter_missing' });
  // The Charges API's Connect parameters, in their older spellings too (`application_fee`, `destination`).
  const connect = {
    application_fee_amount: p.application_fee_amount ?? p.application_fee,
    transfer_data: p.transfer_data ?? (typeof p.destination === 'string' ? { destination: p.destination } : p.destination ? { destination: p.destination.account, amount: p.destination.amount } : undefined),
    on_behalf_of: p.on_behalf_of,
    transfer_group: p.transfer_group,
  };
  checkConnectParams(ctx, connect, p.amount);
  const behaviour = cardOf(ctx, source.pm).behaviour;
  const failure = behaviour.kind === 'decline' ? behaviour
    : behaviour.kind === 'charge_fail' || (behaviour.kind === 'three_ds' && behaviour.always)
      ? { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } : undefined;
  const charge = ctx.edit(chargeCard(ctx, {
    amount: p.amount, currency, pm: source.pm, card: cardOf(ctx, source.pm), customer: customer?.id ?? null, paymentIntent: null, capture: p.capture !== false,
    description: p.description ?? null, metadata: p.metadata || {}, receiptEmail: p.receipt_email ?? null, failure,
    connect: { application_fee_amount: connect.application_fee_amount ?? null, transfer_data: connect.transfer_data ?? null, on_behalf_of: connect.on_behalf_of ?? null, transfer_group: connect.transfer_group ?? null },
  }));
  charge.source = source.card;
  // What Stripe keeps on the charge as given: how it reads on the statement, where it ships, its transfer group.
  if (p.statement_descriptor !== undefined) charge.statement_descriptor = p.statement_descriptor;
  if (p.statement_descriptor_suffix !== undefined) {
    charge.statement_descriptor_suffix = p.statement_descriptor_suffix;
    charge.calculated_statement_descriptor = `PAYBRIDGE* ${p.statement_descriptor_suffix}`.slice(0, 22);
  }
  if (p.shipping !== undefined) charge.shipping = { address: null, carrier: null, name: null, phone: null, tracking_number: null, ...p.shipping };
  ctx.put('charges', charge);
  if (failure) {
    throw cardError(failure.message, { code: failure.code, decline_code: failure.decline_code, doc_url: `https://stripe.com/docs/error-codes/${failure.code.replace(/_/g, '-')}`, extra: { charge: charge.id }, commit: true });
  }
  return charge;
}

const loadCharge = (ctx: Ctx, path: Record<string, string>) => ctx.require('charges', path.charge, 'charge', 'charge');

/** The legacy routes on charges (a function declaration: charges.ts calls it while the two modules load each other). */
export function legacyChargeOperations(createRefund: (ctx: Ctx, p: Params) => StripeObject): Operation[] {
  return [
  { method: 'POST', path: '/v1/charges', permission: 'charges', handle: (ctx, p) => createCharge(ctx, p) },
  {
    method: 'POST', path: '/v1/charges/{charge}/capture', permission: 'charges',
    handle: (ctx, p, path) => {
      const charge = loadCharge(ctx, path);
      if (charge.captured) throw invalidRequest(`Charge ${charge.id} has already been captured.`, { code: 'charge_already_captured' });
      if (charge.payment_intent) throw invalidRequest(`Charge ${charge.id} belongs to a PaymentIntent: capture the PaymentIntent instead.`, { code: 'charge_not_capturable' });
      const amount = p.amount ?? charge.amount;
      checkAmount(amount, charge.currency);
      if (amount > charge.amount) throw invalidRequest(`Amount to capture (${amount}) is greater than the amount authorized (${charge.amount}).`, { param: 'amount', code: 'amount_too_large' });
      const pm = ctx.require('payment_methods', charge.payment_method, 'PaymentMethod');
      return captureCharge(ctx, charge, amount, cardOf(ctx, pm).behaviour.kind === 'available');
    },
  },
  {
    // The legacy refund: refunds the charge and answers the charge.
    method: 'POST', path: '/v1/charges/{charge}/refund', permission: 'charges',
    handle: (ctx, p, path) => {
      createRefund(ctx, { ...p, charge: loadCharge(ctx, path).id });
      return ctx.get('charges', path.charge)!;
    },
  },
  { method: 'POST', path: '/v1/charges/{charge}/refunds', permission: 'charges', handle: (ctx, p, path) => createRefund(ctx, { ...p, charge: loadCharge(ctx, path).id }) },
  ];
}

/** Attaches a card from `token` to `customer` as a source; the first one becomes the default. */
export function attachSource(ctx: Ctx, customer: StripeObject, token: unknown, param = 'source'): { customer: StripeObject; card: StripeObject } {
  const { pm } = resolveSourceToken(ctx, token, param);
  const card = cardSource(ctx, pm, customer.id);
  ctx.put('payment_methods', { ...pm, customer: customer.id });
  const next = ctx.edit(customer);
  if (!next.default_source) next.default_source = card.id;
  ctx.put('customers', next);
  ctx.emit('customer.source.created', card);
  return { customer: next, card };
}

function resolveSourceToken(ctx: Ctx, token: unknown, param: string): { pm: StripeObject } {
  if (typeof token !== 'string' || !token.startsWith('tok_')) throw invalidRequest(`Invalid ${param}: give a card token (tok_…).`, { param });
  return { pm: resolvePaymentMethod(ctx, token, param) };
}

/** `default_source` on a customer update: one of the customer's own cards. */
export function checkDefaultSource(ctx: Ctx, customer: StripeObject, id: unknown): void {
  const card = typeof id === 'string' ? ctx.get('cards', id) : undefined;
  if (!card || card.deleted || card.customer !== customer.id) {
    throw invalidRequest(`No such source: '${String(id)}'`, { param: 'default_source', code: 'resource_missing' }, 404);
  }
}

const loadSource = (ctx: Ctx, path: Record<string, string>) => {
  const card = ctx.get('cards', path.id);
  if (!card || card.deleted || card.customer !== path.customer) throw invalidRequest(`No such source: '${path.id}'`, { param: 'id', code: 'resource_missing' }, 404);
  return card;
};

const sourceOperations: Operation[] = [
  {
    method: 'POST', path: '/v1/customers/{customer}/sources', permission: 'customers',
    handle: (ctx, p, path) => attachSource(ctx, ctx.require('customers', path.customer, 'customer', 'customer'), p.source).card,
  },
  {
    method: 'GET', path: '/v1/customers/{customer}/sources', permission: 'customers',
    handle: (ctx, p, path) => {
      ctx.require('customers', path.customer, 'customer', 'customer');
      return paginate(ctx.collection('cards'), p, `/v1/customers/${path.customer}/sources`, 'source', [(c) => c.customer === path.customer && !c.deleted && (!p.object || p.object === 'card')]);
    },
  },
  { method: 'GET', path: '/v1/customers/{customer}/sources/{id}', permission: 'customers', handle: (ctx, _p, path) => loadSource(ctx, path) },
  {
    method: 'DELETE', path: '/v1/customers/{customer}/sources/{id}', permission: 'customers',
    handle: (ctx, _p, path) => {
      const card = loadSource(ctx, path);
      ctx.put('cards', { ...card, deleted: true });
      const customer = ctx.require('customers', path.customer, 'customer', 'customer');
      if (customer.default_source === card.id) {
        const next = ctx.edit(customer);
        let other: StripeObject | undefined;
        for (const c of ctx.collection('cards').descending()) if (c.customer === customer.id && !c.deleted && c.id !== card.id) other ??= c;
        next.default_source = other?.id ?? null;
        ctx.put('customers', next);
      }
      ctx.emit('customer.source.deleted', card);
      return { id: card.id, object: 'card', deleted: true };
    },
  },
];

export const cardSources: Resource = {
  collection: 'cards', object: 'card', prefix: 'card', noun: 'source', path: '/v1/customers/{customer}/sources', permission: 'customers',
  operations: sourceOperations,
};
