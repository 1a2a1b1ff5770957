/**
 * PaymentIntents: the state machine of a payment, as Stripe runs it:
 * requires_payment_method → requires_confirmation → (requires_action) →
 * requires_capture | succeeded, or canceled. Test cards decide each step.
 */
import { olderThan } from '../../stripe/versions.js';
import { cardError, invalidRequest, StripeError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { paymentSucceeded } from '../engine/hooks.js';
import { newId, randomText } from '../../stripe/ids.js';
import { EMPTY, frozen, sharedBy } from '../engine/shared.js';
import { clientSecretRoutes, applyUpdate, equals, patchSpec, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import { checkAmount, checkCurrency } from '../../stripe/money.js';
import type { StripeObject } from '../store/collection.js';
import { captureCharge, chargeCard, releaseCharge } from './charges.js';
import { checkConnectParams } from '../connect/money.js';
import { attachPaymentMethod, cardOf, PAYMENT_METHOD_DATA, paymentMethodFromParams, resolvePaymentMethod } from './payment_methods.js';

/** Payment methods that completed 3-D Secure for future off-session use. */
export const AUTHENTICATED_FOR_OFF_SESSION = 'authenticated_payment_methods';

const CANCELABLE = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];

function unexpectedState(pi: StripeObject, message: string): StripeError {
  return invalidRequest(message, { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } });
}

const NO_TIP = frozen({ tip: {} });
const NOT_MANAGED = frozen({ enabled: false });
const CARD_ONLY = frozen(['card']);
const automaticMethods = sharedBy((allow_redirects) => ({ allow_redirects, enabled: true }));
const cardOptions = sharedBy((request_three_d_secure) => ({ card: { installments: null, mandate_options: null, network: null, request_three_d_secure } }));

/**
 * Since 2023-08-16 an intent created without `payment_method_types` uses
 * automatic payment methods; before, it meant cards only. A list of
 * allowed types is not automatic either.
 */
export const automaticByDefault = (ctx: Ctx, p: Params): boolean =>
  !p.payment_method_types && !p.allowed_payment_method_types && (p.automatic_payment_methods !== undefined || !olderThan(ctx.request.apiVersion, '2023-08-16'));

/** The payment method types the sandbox can take a payment with. */
const MODELLED_TYPES = new Set(['card']);

/**
 * `allowed_payment_method_types` (PaymentIntents and SetupIntents since 2026-07-29.dahlia, Checkout since
 * 2026-09-30.endive) filters to the compatible types without refusing the others, and excludes the other ways of
 * choosing them. What is left shows as `payment_method_types`; nothing left is an error.
 */
export function allowedPaymentMethodTypes(p: Params, others: string[]): string[] | undefined {
  const allowed: string[] | undefined = p.allowed_payment_method_types;
  if (allowed === undefined) return undefined;
  const clash = others.find((o) => p[o] !== undefined);
  if (clash) throw invalidRequest(`You may only specify one of these parameters: allowed_payment_method_types, ${clash}.`, { param: 'allowed_payment_method_types' });
  const compatible = allowed.filter((t) => MODELLED_TYPES.has(t));
  if (!compatible.length) {
    throw invalidRequest(`None of the allowed payment method types (${allowed.join(', ')}) can take this payment: the sandbox takes card payments.`, { param: 'allowed_payment_method_types', code: 'payment_intent_invalid_parameter' });
  }
  return compatible;
}

export const INTENT_TYPE_CHOICES = ['payment_method_types', 'excluded_payment_method_types', 'automatic_payment_methods', 'payment_method_configuration'];

export function createPaymentIntent(ctx: Ctx, p: Params): StripeObject {
  const currency = checkCurrency(p.currency);
  checkAmount(p.amount, currency);
  if (p.customer) ctx.require('customers', p.customer, 'customer', 'customer');
  if (p.automatic_payment_methods && p.payment_method_types) {
    throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', { param: 'automatic_payment_methods' });
  }
  if (p.off_session !== undefined && !p.confirm) {
    throw invalidRequest('You may only specify `off_session` when `confirm=true`.', { param: 'off_session' });
  }
  if (p.return_url && !p.confirm) throw invalidRequest('You may only specify `return_url` when `confirm=true`.', { param: 'return_url' });
  const allowedTypes = allowedPaymentMethodTypes(p, INTENT_TYPE_CHOICES);
  checkConnectParams(ctx, p, p.amount);
  const id = newId('pi');
  const automatic = automaticByDefault(ctx, p);
  let pi: StripeObject = {
    id,
    object: 'payment_intent',
    amount: p.amount,
    amount_capturable: 0,
    amount_details: NO_TIP,
    allowed_payment_method_types: p.allowed_payment_method_types ?? null,
    amount_received: 0,
    application: null,
    application_fee_amount: p.application_fee_amount ?? null,
    automatic_payment_methods: automatic ? automaticMethods(p.automatic_payment_methods?.allow_redirects ?? 'always') : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: p.capture_method ?? 'automatic_async',
    client_secret: `${id}_secret_${randomText(25)}`,
    confirmation_method: p.confirmation_method ?? 'automatic',
    created: ctx.now(),
    currency,
    customer: p.customer ?? null,
    customer_account: null,
    description: p.description ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: NOT_MANAGED,
    metadata: p.metadata || EMPTY,
    next_action: null,
    on_behalf_of: p.on_behalf_of ?? null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: cardOptions(p.payment_method_options?.card?.request_three_d_secure ?? 'automatic'),
    payment_method_types: allowedTypes ?? p.payment_method_types ?? CARD_ONLY,
    payment_record: null,
    processing: null,
    receipt_email: p.receipt_email ?? null,
    review: null,
    setup_future_usage: p.setup_future_usage ?? null,
    shipping: p.shipping ?? null,
    source: null,
    statement_descriptor: p.statement_descriptor ?? null,
    statement_descriptor_suffix: p.statement_descriptor_suffix ?? null,
    status: 'requires_payment_method',
    transfer_data: p.transfer_data ? { amount: p.transfer_data.amount, destination: p.transfer_data.destination } : null,
    transfer_group: p.transfer_group ?? null,
  };
  if (p.payment_method && p.payment_method_data) throw invalidRequest('You may only specify one of these parameters: payment_method, payment_method_data.', { param: 'payment_method_data' });
  if (p.payment_method || p.payment_method_data) {
    pi.payment_method = (p.payment_method ? resolvePaymentMethod(ctx, p.payment_method, 'payment_method') : paymentMethodFromParams(ctx, p.payment_method_data)).id;
    pi.status = 'requires_confirmation';
  }
  ctx.put('payment_intents', pi);
  ctx.emit('payment_intent.created', pi);
  if (p.confirm) pi = confirm(ctx, pi, { off_session: p.off_session, return_url: p.return_url, error_on_requires_action: p.error_on_requires_action });
  return pi;
}

function update(ctx: Ctx, pi: StripeObject, p: Params): StripeObject {
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status)) {
    const allowed = ['metadata', 'description', 'receipt_email', 'shipping', 'expand'];
    const bad = Object.keys(p).find((k) => !allowed.includes(k));
    if (bad) throw unexpectedState(pi, `You cannot update \`${bad}\` on a PaymentIntent that has a status of ${pi.status}.`);
  }
  const next = ctx.edit(pi);
  if (p.amount !== undefined) checkAmount(p.amount, p.currency ?? pi.currency);
  if (p.customer) ctx.require('customers', p.customer, 'customer', 'customer');
  const allowedTypes = allowedPaymentMethodTypes(p, INTENT_TYPE_CHOICES);
  if (p.application_fee_amount !== undefined || p.transfer_data !== undefined || p.on_behalf_of !== undefined) {
    checkConnectParams(ctx, { transfer_data: pi.transfer_data ?? undefined, on_behalf_of: pi.on_behalf_of ?? undefined, ...p }, p.amount ?? pi.amount);
  }
  const previous = applyUpdate(next, p, ['payment_method']);
  if (allowedTypes) {
    previous.payment_method_types = pi.payment_method_types;
    next.payment_method_types = allowedTypes;
    next.automatic_payment_methods = null;
  }
  if (p.payment_method) {
    previous.payment_method = pi.payment_method;
    next.payment_method = resolvePaymentMethod(ctx, p.payment_method, 'payment_method').id;
    next.status = 'requires_confirmation';
    next.last_payment_error = null;
  }
  return saveUpdate(ctx, 'payment_intents', next, previous, 'payment_intent.updated');
}

interface ConfirmOptions {
  off_session?: boolean | string;
  return_url?: string;
  error_on_requires_action?: boolean;
  payment_method?: string;
  payment_method_data?: Params;
  /** Set when the sandbox's 3-D Secure page approved the payment. */
  returnFrom3ds?: boolean;
}

/**
 * Runs a confirmation: picks the card's behaviour and moves the intent on,
 * recording charges and events. A decline commits what happened (failed
 * charge, updated intent) and then answers 402, as Stripe does.
 */
export function confirm(ctx: Ctx, current: StripeObject, o: ConfirmOptions): StripeObject {
  if (current.status === 'succeeded') {
    throw unexpectedState(current, 'You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.');
  }
  if (current.status === 'canceled' || current.status === 'requires_capture' || current.status === 'processing') {
    throw unexpectedState(current, `You cannot confirm this PaymentIntent because it has a status of ${current.status}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.`);
  }
  const pi = ctx.edit(current);
  if (o.payment_method && o.payment_method_data) throw invalidRequest('You may only specify one of these parameters: payment_method, payment_method_data.', { param: 'payment_method_data' });
  if (o.payment_method) pi.payment_method = resolvePaymentMethod(ctx, o.payment_method, 'payment_method').id;
  // Stripe.js confirms with the card the payer typed: a new payment method for this confirmation.
  if (o.payment_method_data) pi.payment_method = paymentMethodFromParams(ctx, o.payment_method_data).id;
  if (!pi.payment_method) {
    throw unexpectedState(pi, "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.");
  }
  let pm = ctx.require('payment_methods', pi.payment_method, 'PaymentMethod', 'payment_method');
  if (pm.customer && pm.customer !== pi.customer) {
    throw invalidRequest(`The provided PaymentMethod belongs to a different Customer than the PaymentIntent (customer ${pm.customer}). Pass the customer that owns it.`, { param: 'payment_method', code: 'payment_method_unexpected_state' });
  }
  const offSession = o.off_session === true || o.off_session === 'true' || o.off_session === 'one_off' || o.off_session === 'recurring';
  const card = cardOf(ctx, pm);
  const behaviour = card.behaviour;
  pi.last_payment_error = null;
  pi.next_action = null;

  const authenticated = !!ctx.get(AUTHENTICATED_FOR_OFF_SESSION, pm.id);
  const needs3ds = behaviour.kind === 'three_ds' && (offSession ? behaviour.always || !authenticated : true);
  if (needs3ds && offSession) {
    return decline(ctx, pi, pm, { code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' }, true);
  }
  if (needs3ds && !o.returnFrom3ds) {
    if (o.error_on_requires_action) {
      return decline(ctx, pi, pm, { code: 'authentication_required', decline_code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' }, false);
    }
    pi.status = 'requires_action';
    const url = `${ctx.env.baseUrl}/_sandbox/3ds/${pi.id}${o.return_url ? `?return_url=${encodeURIComponent(o.return_url)}` : ''}`;
    pi.next_action = { redirect_to_url: { return_url: o.return_url ?? null, url }, type: 'redirect_to_url' };
    ctx.put('payment_intents', pi);
    ctx.emit('payment_intent.requires_action', pi);
    return pi;
  }
  if (behaviour.kind === 'decline') return decline(ctx, pi, pm, behaviour, false);
  if (behaviour.kind === 'three_ds' && behaviour.decline) return decline(ctx, pi, pm, behaviour.decline, true);
  if (behaviour.kind === 'charge_fail') {
    return decline(ctx, pi, pm, { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' }, false);
  }
  const manual = pi.capture_method === 'manual';
  const charge = chargeCard(ctx, {
    amount: pi.amount, currency: pi.currency, pm, card, customer: pi.customer, paymentIntent: pi.id, capture: !manual,
    description: pi.description, metadata: pi.metadata, receiptEmail: pi.receipt_email, threeDSecure: behaviour.kind === 'three_ds',
    connect: { application_fee_amount: pi.application_fee_amount, transfer_data: pi.transfer_data, on_behalf_of: pi.on_behalf_of, transfer_group: pi.transfer_group },
  });
  if (pi.setup_future_usage && pi.customer) {
    pm = attachPaymentMethod(ctx, pm, ctx.require('customers', pi.customer, 'customer', 'customer'));
    if (behaviour.kind === 'three_ds') ctx.put(AUTHENTICATED_FOR_OFF_SESSION, { id: pm.id });
  }
  pi.latest_charge = charge.id;
  if (manual) {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    ctx.put('payment_intents', pi);
    ctx.emit('payment_intent.amount_capturable_updated', pi);
  } else {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    ctx.put('payment_intents', pi);
    ctx.emit('payment_intent.succeeded', pi);
    paymentSucceeded.run(ctx, pi);
  }
  return pi;
}

interface Failure { code: string; decline_code: string; message: string; param?: string }

function decline(ctx: Ctx, pi: StripeObject, pm: StripeObject, f: Failure, afterAuthAttempt: boolean): never {
  const charge = chargeCard(ctx, {
    amount: pi.amount, currency: pi.currency, pm, card: cardOf(ctx, pm), customer: pi.customer, paymentIntent: pi.id, capture: true,
    description: pi.description, metadata: pi.metadata, receiptEmail: pi.receipt_email, failure: f,
  });
  const doc_url = `https://stripe.com/docs/error-codes/${f.code.replace(/_/g, '-')}`;
  pi.status = 'requires_payment_method';
  pi.latest_charge = charge.id;
  pi.last_payment_error = { charge: charge.id, code: f.code, decline_code: f.decline_code, doc_url, message: f.message, param: f.param, payment_method: pm, type: 'card_error' };
  if (afterAuthAttempt) pi.payment_method = pm.id;
  ctx.put('payment_intents', pi);
  ctx.emit('payment_intent.payment_failed', pi);
  throw cardError(f.message, {
    code: f.code, decline_code: f.decline_code, param: f.param, doc_url,
    extra: { charge: charge.id, payment_intent: pi, payment_method: pm },
    commit: true,
  });
}

/** Finishes or fails a payment after the sandbox's 3-D Secure page. */
export function completeAuthentication(ctx: Ctx, id: string, approved: boolean): StripeObject {
  const pi = ctx.require('payment_intents', id, 'payment_intent', 'intent');
  if (pi.status !== 'requires_action') return pi;
  if (!approved) {
    const pm = ctx.require('payment_methods', pi.payment_method, 'PaymentMethod');
    const next = ctx.edit(pi);
    next.status = 'requires_payment_method';
    next.next_action = null;
    next.last_payment_error = {
      code: 'payment_intent_authentication_failure',
      doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
      message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
      payment_method: pm,
      type: 'invalid_request_error',
    };
    ctx.put('payment_intents', next);
    ctx.emit('payment_intent.payment_failed', next);
    return next;
  }
  return confirm(ctx, { ...pi, status: 'requires_confirmation' }, { returnFrom3ds: true });
}

const declaration = {
  collection: 'payment_intents', object: 'payment_intent', prefix: 'pi', noun: 'payment_intent', path: '/v1/payment_intents', permission: 'payment_intents',
  searchFields: ['amount', 'currency', 'customer', 'status', 'created', 'description'],
  listFilters: { customer: equals('customer') },
};

/** Newer than the bundled spec (2026-07-29.dahlia). */
export const ALLOWED_TYPES_PARAM = { t: 'a' as const, i: { t: 's' as const } };
/** Stripe's spec lists the non-card types for payment_method_data; Stripe.js sends cards there too. */
const CARD_DATA_PATCH: Operation['specPatch'] = { add: { payment_method_data: PAYMENT_METHOD_DATA, allowed_payment_method_types: ALLOWED_TYPES_PARAM } };
const UPDATE_PATCH: Operation['specPatch'] = { add: { allowed_payment_method_types: ALLOWED_TYPES_PARAM } };

const action = (name: string, handle: Operation['handle']): Operation => ({
  method: 'POST', path: `/v1/payment_intents/{intent}/${name}`, permission: 'payment_intents', handle,
});
const load = (ctx: Ctx, path: Record<string, string>) => ctx.require('payment_intents', path.intent, 'payment_intent', 'intent');

export const paymentIntents: Resource = {
  ...declaration,
  operations: clientSecretRoutes([
    ...patchSpec(patchSpec(standardOperations(declaration, { idParam: 'intent', create: createPaymentIntent, update, search: true }), 'POST', '/v1/payment_intents', CARD_DATA_PATCH),
      'POST', '/v1/payment_intents/{intent}', UPDATE_PATCH),
    { ...action('confirm', (ctx, p, path) => {
      let pi = load(ctx, path);
      const allowedTypes = allowedPaymentMethodTypes(p, ['payment_method_types']);
      if (allowedTypes) pi = { ...pi, allowed_payment_method_types: p.allowed_payment_method_types, payment_method_types: allowedTypes, automatic_payment_methods: null };
      if (p.receipt_email || p.setup_future_usage !== undefined || p.shipping) {
        pi = { ...pi, receipt_email: p.receipt_email ?? pi.receipt_email, setup_future_usage: p.setup_future_usage === '' ? null : p.setup_future_usage ?? pi.setup_future_usage };
      }
      return confirm(ctx, pi, p);
    }), specPatch: CARD_DATA_PATCH },
    action('capture', (ctx, p, path) => {
      const pi = load(ctx, path);
      if (pi.status !== 'requires_capture') {
        throw unexpectedState(pi, `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`);
      }
      const amount = p.amount_to_capture ?? pi.amount_capturable;
      if (p.amount_to_capture !== undefined) checkAmount(amount, pi.currency, 'amount_to_capture');
      if (amount > pi.amount_capturable) {
        throw invalidRequest(`The amount to capture (${amount}) is greater than the amount capturable (${pi.amount_capturable}).`, { param: 'amount_to_capture', code: 'amount_too_large' });
      }
      const charge = ctx.require('charges', pi.latest_charge, 'charge');
      const pm = ctx.require('payment_methods', pi.payment_method, 'PaymentMethod');
      captureCharge(ctx, charge, amount, cardOf(ctx, pm).behaviour.kind === 'available');
      const next = { ...pi, amount_capturable: 0, amount_received: amount, status: 'succeeded', metadata: p.metadata ? { ...pi.metadata, ...p.metadata } : pi.metadata };
      ctx.put('payment_intents', next);
      ctx.emit('payment_intent.succeeded', next);
      paymentSucceeded.run(ctx, next);
      return next;
    }),
    action('cancel', (ctx, p, path) => {
      const pi = load(ctx, path);
      if (!CANCELABLE.includes(pi.status)) {
        throw unexpectedState(pi, `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`);
      }
      if (pi.status === 'requires_capture') releaseCharge(ctx, ctx.require('charges', pi.latest_charge, 'charge'));
      const next = { ...pi, status: 'canceled', canceled_at: ctx.now(), cancellation_reason: p.cancellation_reason ?? null, amount_capturable: 0, next_action: null };
      ctx.put('payment_intents', next);
      ctx.emit('payment_intent.canceled', next);
      return next;
    }),
  ], declaration, 'intent'),
};
