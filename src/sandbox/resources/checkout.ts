/**
 * Checkout Sessions and Payment Links. A session is a priced basket with a
 * hosted page (`url`, served by pages/checkout.ts); submitting a card there
 * runs `submitCheckout`, which pays (payment mode), subscribes
 * (subscription mode) or saves the card (setup mode) through the same
 * PaymentIntents, Subscriptions and SetupIntents as the API, then completes
 * the session and emits `checkout.session.completed`.
 */
import { olderThan } from '../../stripe/versions.js';
import { requireTaxRates, taxesOn } from './tax_rates.js';
import { isBrowserUrl } from '../../net/outbound.js';
import { cardError, invalidRequest, StripeError } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { paymentSucceeded, setupSucceeded } from '../engine/hooks.js';
import { newId, randomText } from '../../stripe/ids.js';
import { listOf } from '../engine/list.js';
import { applyUpdate, equals, patchSpec, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import { checkAmount } from '../../stripe/money.js';
import type { StripeObject } from '../store/collection.js';
import { applyDiscounts, discountAmounts } from './billing/discounts.js';
import { DISCOUNTS_PARAM, pageOf } from './billing/invoices.js';
import { createSubscription } from './billing/subscriptions.js';
import { createPrice } from './catalog.js';
import { createCustomer } from './customers.js';
import { ALLOWED_TYPES_PARAM, allowedPaymentMethodTypes, confirm, createPaymentIntent } from './payment_intents.js';
import { checkConnectParams, checkSubscriptionConnect } from '../connect/money.js';
import { attachPaymentMethod, checkCard, createCardPaymentMethod } from './payment_methods.js';
import { confirmSetup, createSetupIntent } from './setup_intents.js';

/** Session id → its line items (Stripe returns them only on request). */
const LINE_ITEMS = 'checkout_line_items';
/** PaymentIntent or SetupIntent id → the session it pays. */
const SESSION_OF_INTENT = 'checkout_session_of_intent';
const MIN_EXPIRY = 30 * 60;
const MAX_EXPIRY = 24 * 3600;

interface BuiltItems {
  items: StripeObject[];
  currency: string | null;
  recurring: boolean;
}

/** The invoice a payment-mode session creates, as Stripe reports it: every field present, even unset. */
const invoiceData = (d: Params | undefined) => ({
  account_tax_ids: d?.account_tax_ids ?? null, custom_fields: d?.custom_fields ?? null, description: d?.description ?? null, footer: d?.footer ?? null,
  issuer: d?.issuer ?? null, metadata: d?.metadata ?? {}, rendering_options: d?.rendering_options ?? null,
});

/** Stripe leaves out the sub-object of the type not chosen (only `redirect` or only `hosted_confirmation`). */
function afterCompletion(a: Params | undefined): StripeObject {
  if (a?.type === 'redirect') return { redirect: { url: a.redirect.url }, type: 'redirect' } as unknown as StripeObject;
  return { hosted_confirmation: { custom_message: a?.hosted_confirmation?.custom_message ?? null }, type: 'hosted_confirmation' } as unknown as StripeObject;
}

/** A Checkout line item's taxes, in the Checkout shape: the rate itself beside the amount. */
function checkoutTaxes(amount: number, rates: StripeObject[]): { amount: number; rate: StripeObject; taxability_reason: string; taxable_amount: number }[] {
  return taxesOn(amount, rates).map((t, i) => ({ amount: t.amount, rate: rates[i], taxability_reason: t.taxability_reason, taxable_amount: t.taxable_amount }));
}

const rateIds = (li: StripeObject): string[] => (li.taxes ?? []).map((t: StripeObject) => t.rate.id);

/** Taxes each line on its amount after its share of the session's discount; exclusive taxes add to the total. */
function withLineTaxes(items: StripeObject[], subtotal: number, discount: number): { items: StripeObject[]; exclusive: number; inclusive: number } {
  let exclusive = 0;
  let inclusive = 0;
  const taxed = items.map((li) => {
    const share = subtotal > 0 ? Math.round((discount * li.amount_subtotal) / subtotal) : 0;
    const taxes = checkoutTaxes(li.amount_subtotal - share, (li.taxes ?? []).map((t: StripeObject) => t.rate));
    const ex = taxes.filter((t) => !t.rate.inclusive).reduce((sum, t) => sum + t.amount, 0);
    const inc = taxes.filter((t) => t.rate.inclusive).reduce((sum, t) => sum + t.amount, 0);
    exclusive += ex;
    inclusive += inc;
    return { ...li, amount_discount: share, amount_tax: ex + inc, amount_total: li.amount_subtotal - share + ex, taxes };
  });
  return { items: taxed, exclusive, inclusive };
}

function buildLineItems(ctx: Ctx, input: Params[] | undefined, mode: string): BuiltItems {
  const items: StripeObject[] = [];
  let currency: string | null = null;
  let recurring = false;
  (input ?? []).forEach((li, i) => {
    const param = `line_items[${i}]`;
    let price: StripeObject;
    if (li.price) price = ctx.require('prices', li.price, 'price', `${param}[price]`);
    else if (li.price_data) price = createPrice(ctx, { ...li.price_data, active: false });
    else throw invalidRequest(`Missing required param: ${param}[price].`, { param: `${param}[price]`, code: 'parameter_missing' });
    if (li.quantity === undefined) throw invalidRequest(`Missing required param: ${param}[quantity].`, { param: `${param}[quantity]`, code: 'parameter_missing' });
    if (price.recurring && mode === 'payment') {
      throw invalidRequest('You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.', { param: `${param}[price]` });
    }
    if (currency && price.currency !== currency) {
      throw invalidRequest('All prices on a Checkout Session must have the same currency.', { param: `${param}[price]` });
    }
    currency = price.currency;
    recurring ||= !!price.recurring;
    const amount = (price.unit_amount ?? 0) * li.quantity;
    const product = ctx.get('products', price.product);
    const rates = requireTaxRates(ctx, li.tax_rates, `${param}[tax_rates]`);
    items.push({
      id: newId('li'),
      object: 'item',
      adjustable_quantity: li.adjustable_quantity ?? null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: product?.name ?? null,
      metadata: li.metadata ?? {},
      price,
      quantity: li.quantity,
      taxes: checkoutTaxes(amount, rates),
    });
  });
  return { items, currency, recurring };
}

function createSession(ctx: Ctx, p: Params, link?: StripeObject): StripeObject {
  const mode = p.mode;
  if (!mode) throw invalidRequest('Missing required param: mode.', { param: 'mode', code: 'parameter_missing' });
  // Embedded and Elements sessions end on the merchant's page (return_url), not a success page.
  if (!p.success_url && (p.ui_mode ?? 'hosted_page') === 'hosted_page') throw invalidRequest('Missing required param: success_url.', { param: 'success_url', code: 'parameter_missing' });
  // The payer's browser is sent to these: http(s) only ({CHECKOUT_SESSION_ID} may stand in them), never javascript: or data:.
  for (const param of ['success_url', 'cancel_url', 'return_url'] as const) {
    if (p[param] !== undefined && !isBrowserUrl(p[param].replace(/\{CHECKOUT_SESSION_ID\}/g, 'cs'))) throw invalidRequest('Not a valid URL', { param, code: 'url_invalid' });
  }
  if (p.customer && p.customer_email) throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', { param: 'customer_email' });
  if (p.customer_creation && p.customer) throw invalidRequest('You may only specify one of these parameters: customer, customer_creation.', { param: 'customer_creation' });
  if (p.customer_creation && mode === 'subscription') {
    throw invalidRequest('`customer_creation` can only be used in `payment` and `setup` mode.', { param: 'customer_creation' });
  }
  const customer = p.customer ? ctx.require('customers', p.customer, 'customer', 'customer') : null;
  if ((mode === 'payment' || mode === 'subscription') && !p.line_items?.length) {
    throw invalidRequest(`\`line_items\` is required in \`${mode}\` mode.`, { param: 'line_items', code: 'parameter_missing' });
  }
  if (mode === 'setup' && p.line_items?.length) throw invalidRequest('You cannot pass `line_items` in `setup` mode.', { param: 'line_items' });
  const { items, currency, recurring } = buildLineItems(ctx, p.line_items, mode);
  if (mode === 'subscription' && !recurring) {
    throw invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', { param: 'line_items' });
  }
  const now = ctx.now();
  const expiresAt = p.expires_at ?? now + MAX_EXPIRY;
  if (expiresAt < now + MIN_EXPIRY || expiresAt > now + MAX_EXPIRY) {
    throw invalidRequest('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', { param: 'expires_at' });
  }
  const id = newId('cs_test', 58);
  const subtotal = items.reduce((sum, li) => sum + li.amount_subtotal, 0);
  if (mode === 'payment') checkAmount(subtotal, currency!, 'line_items');
  // Connect: the payment's fee and destination, or the subscription's, checked now as Stripe does.
  if (mode === 'payment' && p.payment_intent_data) checkConnectParams(ctx, p.payment_intent_data, subtotal, 'payment_intent_data');
  if (mode === 'subscription' && p.subscription_data) checkSubscriptionConnect(ctx, p.subscription_data, 'subscription_data');
  const discounts = applyDiscounts(ctx, { discounts: p.discounts }, { customer: customer?.id, checkout_session: id });
  const discount = currency ? discountAmounts(ctx, discounts, subtotal, currency).reduce((sum, d) => sum + d.amount, 0) : 0;
  const taxed = withLineTaxes(items, subtotal, discount);
  items.splice(0, items.length, ...taxed.items);
  const session: StripeObject = {
    id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: p.after_expiration ?? null,
    allow_promotion_codes: p.allow_promotion_codes ?? null,
    allowed_payment_method_types: p.allowed_payment_method_types ?? null,
    amount_subtotal: mode === 'setup' ? null : subtotal,
    amount_total: mode === 'setup' ? null : subtotal - discount + taxed.exclusive,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: p.billing_address_collection ?? null,
    cancel_url: p.cancel_url ?? null,
    client_reference_id: p.client_reference_id ?? null,
    // Embedded and Elements sessions are mounted by Stripe.js with their client secret.
    client_secret: (p.ui_mode ?? 'hosted_page') === 'hosted_page' ? null : `${id}_secret_${randomText(24)}`,
    collected_information: null,
    consent: null,
    consent_collection: p.consent_collection ?? null,
    created: now,
    currency: currency ?? p.currency ?? null,
    currency_conversion: null,
    custom_fields: p.custom_fields ?? [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: customer?.id ?? null,
    customer_account: null,
    // Before 2022-08-01 a payment-mode session always created a customer; since then only if required.
    customer_creation: customer ? null : mode === 'subscription' ? null : p.customer_creation ?? (olderThan(ctx.request.apiVersion, '2022-08-01') ? 'always' : 'if_required'),
    customer_details: customer ? { address: null, business_name: null, email: customer.email, individual_name: null, name: customer.name, phone: null, tax_exempt: 'none', tax_ids: [] } : null,
    customer_email: p.customer_email ?? null,
    discounts: discounts.map((d) => ({ coupon: ctx.get('discounts', d)!.source.coupon, promotion_code: ctx.get('discounts', d)!.promotion_code })),
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: mode === 'payment' ? { enabled: p.invoice_creation?.enabled ?? false, invoice_data: invoiceData(p.invoice_creation?.invoice_data) } : null,
    livemode: false,
    locale: p.locale ?? null,
    managed_payments: null,
    metadata: p.metadata || {},
    mode,
    origin_context: null,
    payment_intent: null,
    payment_link: link?.id ?? null,
    payment_method_collection: mode === 'payment' ? null : p.payment_method_collection ?? 'always',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: allowedPaymentMethodTypes(p, ['payment_method_types', 'excluded_payment_method_types', 'payment_method_configuration']) ?? p.payment_method_types ?? ['card'],
    payment_status: mode === 'setup' ? 'no_payment_required' : 'unpaid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: p.shipping_address_collection ?? null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: p.submit_type ?? null,
    subscription: null,
    success_url: p.success_url ?? null,
    total_details: mode === 'setup' ? null : { amount_discount: discount, amount_shipping: 0, amount_tax: taxed.exclusive + taxed.inclusive },
    ui_mode: p.ui_mode ?? 'hosted_page',
    // Only a hosted page has a URL of its own; embedded and Elements sessions live on the merchant's page.
    url: (p.ui_mode ?? 'hosted_page') === 'hosted_page' ? `${ctx.env.baseUrl}/c/pay/${id}` : null,
    ...(p.return_url !== undefined && { return_url: p.return_url }),
    wallet_options: null,
  };
  ctx.put('checkout_sessions', session);
  ctx.put(LINE_ITEMS, { id, items, payment_intent_data: p.payment_intent_data ?? {}, subscription_data: p.subscription_data ?? {}, setup_intent_data: p.setup_intent_data ?? {} });
  return session;
}

function expireSession(ctx: Ctx, session: StripeObject): StripeObject {
  if (session.status !== 'open') {
    throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`, { code: 'checkout_session_not_open' });
  }
  const next = { ...session, status: 'expired', url: null };
  ctx.put('checkout_sessions', next);
  ctx.emit('checkout.session.expired', next);
  return next;
}

/** A session past its `expires_at` expires when next looked at. */
export function currentSession(ctx: Ctx, session: StripeObject): StripeObject {
  return session.status === 'open' && session.expires_at <= ctx.now() ? expireSession(ctx, session) : session;
}

function completeSession(ctx: Ctx, sessionId: string, fields: Params): StripeObject {
  const session = ctx.get('checkout_sessions', sessionId)!;
  if (session.status !== 'open') return session;
  const next = { ...session, ...fields, status: 'complete', url: null };
  ctx.put('checkout_sessions', next);
  ctx.emit('checkout.session.completed', next);
  return next;
}

const completeForIntent = (ctx: Ctx, intent: StripeObject) => {
  const link = ctx.get(SESSION_OF_INTENT, intent.id);
  if (!link) return;
  const session = ctx.get('checkout_sessions', link.session);
  if (!session || session.status !== 'open') return;
  const paid = intent.object === 'setup_intent' ? 'no_payment_required' : intent.status === 'succeeded' ? 'paid' : 'unpaid';
  completeSession(ctx, session.id, { payment_status: session.mode === 'setup' ? 'no_payment_required' : paid });
};
paymentSucceeded.on(completeForIntent);
setupSucceeded.on(completeForIntent);

export interface CheckoutForm {
  email?: string;
  card_number?: string;
  /** `MM / YY` as typed on the page. */
  expiry?: string;
  cvc?: string;
  name?: string;
}

export type CheckoutOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'error'; message: string; field?: string };

/** Where the browser goes once the session is complete: `success_url` with its `{CHECKOUT_SESSION_ID}` filled in. */
export function successUrl(session: StripeObject): string {
  // Embedded sessions end on their return_url (with the session's id), hosted ones on success_url.
  return (session.success_url ?? session.return_url ?? `/c/done/{CHECKOUT_SESSION_ID}`).replace(/\{CHECKOUT_SESSION_ID\}/g, session.id);
}

function parseExpiry(expiry: string | undefined): { exp_month: number; exp_year: number } {
  const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(expiry ?? '');
  if (!m) throw cardError("Your card's expiration date is incomplete.", { code: 'incomplete_expiry', param: 'card[expiry]' });
  return { exp_month: Number(m[1]), exp_year: Number(m[2]) };
}

/**
 * What the hosted page's Pay / Subscribe / Save card button does. Runs in
 * one transaction; declines are answered as a message for the page and the
 * session stays open.
 */
export function submitCheckout(ctx: Ctx, sessionId: string, form: CheckoutForm): CheckoutOutcome {
  const session = currentSession(ctx, ctx.require('checkout_sessions', sessionId, 'checkout.session'));
  if (session.status === 'complete') return { kind: 'redirect', url: successUrl(session) };
  if (session.status !== 'open') return { kind: 'error', message: 'This Checkout Session is no longer active.' };
  const stored = ctx.get(LINE_ITEMS, session.id)!;
  const existing = session.customer ? ctx.get('customers', session.customer) : undefined;
  const email = (existing?.email ?? form.email ?? session.customer_email ?? '').trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return { kind: 'error', message: 'Your email address is invalid.', field: 'email' };
  if (!form.name?.trim()) return { kind: 'error', message: 'Your name is required.', field: 'name' };
  let pm: StripeObject;
  try {
    const card = checkCard(ctx, { number: form.card_number ?? '', ...parseExpiry(form.expiry), cvc: form.cvc ?? '' }, 'card');
    pm = createCardPaymentMethod(ctx, card.number, card.exp_month, card.exp_year, { billing_details: { email, name: form.name.trim() } });
  } catch (e) {
    if (e instanceof StripeError) return { kind: 'error', message: e.message, field: e.fields.param?.replace(/^card\[(\w+)\]$/, '$1') };
    throw e;
  }
  const customerDetails = { address: null, business_name: null, email, individual_name: null, name: form.name.trim(), phone: null, tax_exempt: 'none', tax_ids: [] };
  const returnUrl = `${ctx.env.baseUrl}/c/pay/${session.id}/return`;
  const needsCustomer = session.mode === 'subscription' || session.customer_creation === 'always';
  const customer = existing ?? (needsCustomer ? createCustomer(ctx, { email, name: form.name.trim() }) : undefined);
  ctx.put('checkout_sessions', { ...session, customer: customer?.id ?? null, customer_details: customerDetails });
  try {
    if (session.mode === 'payment') {
      const pid = stored.payment_intent_data;
      const pi = createPaymentIntent(ctx, {
        amount: session.amount_total, currency: session.currency, customer: customer?.id, payment_method: pm.id, metadata: pid.metadata ?? {},
        description: pid.description, capture_method: pid.capture_method, setup_future_usage: pid.setup_future_usage, receipt_email: email,
        application_fee_amount: pid.application_fee_amount, transfer_data: pid.transfer_data, on_behalf_of: pid.on_behalf_of, transfer_group: pid.transfer_group,
      });
      ctx.put(SESSION_OF_INTENT, { id: pi.id, session: session.id });
      ctx.put('checkout_sessions', { ...ctx.get('checkout_sessions', session.id)!, payment_intent: pi.id });
      const after = confirm(ctx, pi, { return_url: returnUrl });
      return afterIntent(ctx, session.id, after);
    }
    if (session.mode === 'setup') {
      if (customer) attachPaymentMethod(ctx, pm, customer);
      const si = createSetupIntent(ctx, { customer: customer?.id, payment_method: pm.id, usage: 'off_session', metadata: stored.setup_intent_data.metadata ?? {} });
      ctx.put(SESSION_OF_INTENT, { id: si.id, session: session.id });
      ctx.put('checkout_sessions', { ...ctx.get('checkout_sessions', session.id)!, setup_intent: si.id });
      return afterIntent(ctx, session.id, confirmSetup(ctx, si, { return_url: returnUrl }));
    }
    return subscribe(ctx, session.id, stored, customer!, pm, returnUrl);
  } catch (e) {
    if (!(e instanceof StripeError) || e.type !== 'card_error') throw e;
    // A decline keeps the session open. In payment mode the failed attempt is
    // recorded (as Stripe does); in subscription mode nothing of it is kept.
    if (session.mode === 'subscription') throw cardError(e.message, { ...e.fields, commit: false });
    return { kind: 'error', message: e.message };
  }
}

function afterIntent(ctx: Ctx, sessionId: string, intent: StripeObject): CheckoutOutcome {
  if (intent.status === 'requires_action') return { kind: 'redirect', url: intent.next_action.redirect_to_url.url };
  const session = ctx.get('checkout_sessions', sessionId)!;
  if (session.status === 'complete') return { kind: 'redirect', url: successUrl(session) };
  // Manual capture: authorized, not yet paid, and the session is complete all the same.
  return { kind: 'redirect', url: successUrl(completeSession(ctx, sessionId, { payment_status: 'unpaid' })) };
}

function subscribe(ctx: Ctx, sessionId: string, stored: StripeObject, customer: StripeObject, pm: StripeObject, returnUrl: string): CheckoutOutcome {
  attachPaymentMethod(ctx, pm, customer);
  const recurring = stored.items.filter((li: StripeObject) => li.price.recurring);
  const oneTime = stored.items.filter((li: StripeObject) => !li.price.recurring);
  const sd = stored.subscription_data;
  const sub = createSubscription(ctx, {
    customer: customer.id,
    items: recurring.map((li: StripeObject) => ({ price: li.price.id, quantity: li.quantity, tax_rates: rateIds(li) })),
    add_invoice_items: oneTime.map((li: StripeObject) => ({ price: li.price.id, quantity: li.quantity, tax_rates: rateIds(li) })),
    default_payment_method: pm.id,
    trial_period_days: sd.trial_period_days,
    metadata: sd.metadata ?? {},
    description: sd.description,
    payment_behavior: 'default_incomplete',
    application_fee_percent: sd.application_fee_percent, transfer_data: sd.transfer_data, on_behalf_of: sd.on_behalf_of,
  });
  const inv = ctx.get('invoices', sub.latest_invoice)!;
  ctx.put('checkout_sessions', { ...ctx.get('checkout_sessions', sessionId)!, subscription: sub.id, invoice: inv.id });
  if (inv.status === 'paid') {
    const done = completeSession(ctx, sessionId, { payment_status: inv.amount_paid > 0 ? 'paid' : 'no_payment_required' });
    return { kind: 'redirect', url: successUrl(done) };
  }
  const piId = inv.confirmation_secret.client_secret.split('_secret_')[0];
  ctx.put(SESSION_OF_INTENT, { id: piId, session: sessionId });
  const pi = confirm(ctx, ctx.get('payment_intents', piId)!, { payment_method: pm.id, return_url: returnUrl });
  return afterIntent(ctx, sessionId, pi);
}

const lineItemsOf = (ctx: Ctx, session: StripeObject): StripeObject[] => ctx.get(LINE_ITEMS, session.id)?.items ?? [];

const sessionDeclaration = {
  collection: 'checkout_sessions', object: 'checkout.session', prefix: 'cs', noun: 'checkout.session', path: '/v1/checkout/sessions', permission: 'checkout_sessions',
  listFilters: {
    customer: equals('customer'),
    payment_intent: equals('payment_intent'),
    payment_link: equals('payment_link'),
    subscription: equals('subscription'),
    status: equals('status'),
    customer_details: (v: Params) => (o: StripeObject) => !v.email || o.customer_details?.email === v.email,
  },
  virtual: {
    line_items: (ctx: Ctx, s: StripeObject) => listOf(lineItemsOf(ctx, s), `/v1/checkout/sessions/${s.id}/line_items`),
  },
};

const UI_MODE = { t: 's' as const, e: ['embedded', 'hosted', 'hosted_page', 'embedded_page', 'custom', 'elements', 'form'] };

export const checkoutSessions: Resource = {
  ...sessionDeclaration,
  operations: [
    ...patchSpec(patchSpec(standardOperations(sessionDeclaration, { idParam: 'session', create: (ctx, p) => createSession(ctx, p), retrieve: false }),
      'POST', '/v1/checkout/sessions', { add: { discounts: DISCOUNTS_PARAM, ui_mode: UI_MODE, allowed_payment_method_types: ALLOWED_TYPES_PARAM, return_url: { t: 's' } }, optional: ['success_url'] }),
    'GET', '/v1/checkout/sessions', { add: { status: { t: 's', e: ['complete', 'expired', 'open'] }, created: { t: 'x' } } }),
    {
      method: 'GET', path: '/v1/checkout/sessions/{session}', permission: 'checkout_sessions',
      handle: (ctx, _p, path) => currentSession(ctx, ctx.require('checkout_sessions', path.session, 'checkout.session', 'session')),
    },
    {
      method: 'POST', path: '/v1/checkout/sessions/{session}/expire', permission: 'checkout_sessions',
      handle: (ctx, _p, path) => expireSession(ctx, ctx.require('checkout_sessions', path.session, 'checkout.session', 'session')),
    },
    {
      method: 'GET', path: '/v1/checkout/sessions/{session}/line_items', permission: 'checkout_sessions',
      handle: (ctx, p, path) => {
        const session = ctx.require('checkout_sessions', path.session, 'checkout.session', 'session');
        return pageOf(lineItemsOf(ctx, session), p, `/v1/checkout/sessions/${session.id}/line_items`);
      },
    },
  ],
};

// Payment Links: a reusable URL that opens a fresh Checkout Session per visit.

function createLink(ctx: Ctx, p: Params): StripeObject {
  const { items, recurring } = buildLineItems(ctx, p.line_items, 'any');
  if (!items.length) throw invalidRequest('Missing required param: line_items.', { param: 'line_items', code: 'parameter_missing' });
  if (p.after_completion?.type === 'redirect' && !p.after_completion.redirect?.url) {
    throw invalidRequest('Missing required param: after_completion[redirect][url].', { param: 'after_completion[redirect][url]', code: 'parameter_missing' });
  }
  if (!recurring) checkConnectParams(ctx, { application_fee_amount: p.application_fee_amount, transfer_data: p.transfer_data, on_behalf_of: p.on_behalf_of }, undefined);
  else checkSubscriptionConnect(ctx, { application_fee_percent: p.application_fee_percent, transfer_data: p.transfer_data, on_behalf_of: p.on_behalf_of }, '');
  const id = newId('plink');
  const link: StripeObject = {
    id,
    object: 'payment_link',
    active: true,
    after_completion: afterCompletion(p.after_completion),
    allow_promotion_codes: p.allow_promotion_codes ?? false,
    application: null,
    application_fee_amount: p.application_fee_amount ?? null,
    application_fee_percent: p.application_fee_percent ?? null,
    automatic_tax: { enabled: false, liability: null },
    billing_address_collection: p.billing_address_collection ?? 'auto',
    consent_collection: p.consent_collection ?? null,
    currency: items[0].currency,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer_creation: recurring ? 'always' : p.customer_creation ?? 'if_required',
    inactive_message: null,
    invoice_creation: null,
    livemode: false,
    managed_payments: null,
    metadata: p.metadata || {},
    on_behalf_of: p.on_behalf_of ?? null,
    payment_intent_data: p.payment_intent_data ? { capture_method: null, description: null, metadata: {}, setup_future_usage: null, statement_descriptor: null, statement_descriptor_suffix: null, transfer_group: null, ...p.payment_intent_data } : null,
    payment_method_collection: 'always',
    payment_method_options: null,
    payment_method_types: p.payment_method_types ?? null,
    phone_number_collection: { enabled: false },
    restrictions: null,
    shipping_address_collection: null,
    shipping_options: [],
    submit_type: p.submit_type ?? 'auto',
    subscription_data: recurring ? { description: null, invoice_settings: { issuer: { type: 'self' } }, metadata: {}, trial_period_days: null, trial_settings: null, ...p.subscription_data } : null,
    tax_id_collection: { enabled: false, required: 'never' },
    transfer_data: p.transfer_data ? { amount: p.transfer_data.amount ?? null, destination: p.transfer_data.destination } : null,
    url: `${ctx.env.baseUrl}/b/${id}`,
  };
  ctx.put('payment_links', link);
  ctx.put(LINE_ITEMS, { id, items, line_items: p.line_items });
  ctx.emit('payment_link.created', link);
  return link;
}

/** Opens a new Checkout Session for one visit of a payment link. */
export function sessionForLink(ctx: Ctx, link: StripeObject): StripeObject {
  const stored = ctx.get(LINE_ITEMS, link.id)!;
  const recurring = stored.items.some((li: StripeObject) => li.price.recurring);
  const redirect = link.after_completion.type === 'redirect' ? link.after_completion.redirect.url : `${ctx.env.baseUrl}/c/done/{CHECKOUT_SESSION_ID}`;
  return createSession(ctx, {
    mode: recurring ? 'subscription' : 'payment',
    line_items: stored.items.map((li: StripeObject) => ({ price: li.price.id, quantity: li.quantity })),
    success_url: redirect,
    customer_creation: recurring ? undefined : link.customer_creation,
    metadata: link.metadata,
    payment_intent_data: recurring ? undefined : {
      ...(link.payment_intent_data ?? {}),
      ...(link.application_fee_amount !== null ? { application_fee_amount: link.application_fee_amount } : {}),
      ...(link.transfer_data ? { transfer_data: { destination: link.transfer_data.destination, ...(link.transfer_data.amount !== null ? { amount: link.transfer_data.amount } : {}) } } : {}),
      ...(link.on_behalf_of ? { on_behalf_of: link.on_behalf_of } : {}),
    },
    subscription_data: recurring ? {
      metadata: link.subscription_data?.metadata, trial_period_days: link.subscription_data?.trial_period_days ?? undefined,
      application_fee_percent: link.application_fee_percent ?? undefined, on_behalf_of: link.on_behalf_of ?? undefined,
      transfer_data: link.transfer_data ? { destination: link.transfer_data.destination } : undefined,
    } : undefined,
    submit_type: link.submit_type === 'auto' ? undefined : link.submit_type,
  }, link);
}

const linkDeclaration = {
  collection: 'payment_links', object: 'payment_link', prefix: 'plink', noun: 'payment_link', path: '/v1/payment_links', permission: 'payment_links',
  listFilters: { active: equals('active') },
  virtual: {
    line_items: (ctx: Ctx, l: StripeObject) => listOf(lineItemsOf(ctx, l), `/v1/payment_links/${l.id}/line_items`),
  },
};

const linkLineItems: Operation = {
  method: 'GET', path: '/v1/payment_links/{payment_link}/line_items', permission: 'payment_links',
  handle: (ctx, p, path) => {
    const link = ctx.require('payment_links', path.payment_link, 'payment_link', 'payment_link');
    return pageOf(lineItemsOf(ctx, link), p, `/v1/payment_links/${link.id}/line_items`);
  },
};

export const paymentLinks: Resource = {
  ...linkDeclaration,
  operations: [
    ...standardOperations(linkDeclaration, {
      idParam: 'payment_link',
      create: createLink,
      update: (ctx, link, p) => {
        const next = ctx.edit(link);
        const previous = applyUpdate(next, p, ['line_items', 'after_completion']);
        if (p.after_completion) {
          previous.after_completion = link.after_completion;
          next.after_completion = afterCompletion(p.after_completion);
        }
        return saveUpdate(ctx, 'payment_links', next, previous, 'payment_link.updated');
      },
    }),
    linkLineItems,
  ],
};
