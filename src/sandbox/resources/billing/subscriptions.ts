/**
 * Subscriptions and their items. A subscription bills its items in advance
 * each period: the first invoice on create (`subscription_create`), then one
 * per renewal (`subscription_cycle`) when a test clock passes the period end.
 * Payment outcomes move its status (incomplete → active, active → past_due →
 * canceled or unpaid) through the invoice hooks.
 */
import { specSchema } from '../../schemas.js';
import type { ParamSchema } from '../../../stripe/schema.js';
import { planOf } from './plans.js';
import { cardError, invalidRequest, StripeError } from '../../../stripe/errors.js';
import type { Ctx } from '../../engine/context.js';
import { invoicePaid, invoicePaymentFailed } from '../../engine/hooks.js';
import { newId } from '../../../stripe/ids.js';
import { paginate } from '../../engine/list.js';
import { deleteObject, equals, patchSpec, standardOperations, type Params, type Resource, type Operation } from '../../engine/resource.js';
import { formatAmount } from '../../../stripe/money.js';
import type { StripeObject } from '../../store/collection.js';
import { createPrice } from '../catalog.js';
import { applyDiscounts, remainingDiscounts } from './discounts.js';
import { addPendingItem, attemptPayment, DISCOUNTS_PARAM, draftInvoice, finalizeInvoice, pageOf, RETRY_DAYS, voidInvoice, type LineSpec } from './invoices.js';
import { days, nextBoundary } from './time.js';
import { olderThan } from '../../../stripe/versions.js';
import { requireTaxRates } from '../tax_rates.js';
import { checkSubscriptionConnect } from '../../connect/money.js';

/** Per-account sandbox settings (`POST /_sandbox/settings`). */
export const SETTINGS = 'sandbox_settings';
/** How long an `incomplete` subscription waits for its first payment before expiring. */
const INCOMPLETE_EXPIRY = 23 * 3600;
const ACTIVE_LIKE = ['active', 'trialing', 'past_due', 'unpaid'];
/** Subscriptions being created in the current request: their own activation is part of `created`, not an update. */
const creating = new Set<string>();


function resolvePrice(ctx: Ctx, item: Params, param: string): StripeObject {
  let price: StripeObject;
  if (item.price) price = ctx.require('prices', item.price, 'price', `${param}[price]`);
  else if (item.price_data) price = createPrice(ctx, { ...item.price_data, active: false });
  else if (item.plan) price = ctx.require('prices', item.plan, 'plan', `${param}[plan]`);
  else throw invalidRequest(`Missing required param: ${param}[price].`, { param: `${param}[price]`, code: 'parameter_missing' });
  if (!price.recurring) {
    throw invalidRequest('The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', { param: `${param}[price]` });
  }
  return price;
}

function newItem(ctx: Ctx, subscription: string, price: StripeObject, quantity: number, metadata: Record<string, string>, period: { start: number; end: number }, taxRates: StripeObject[] = []): StripeObject {
  return {
    id: newId('si', 14),
    object: 'subscription_item',
    billing_thresholds: null,
    created: ctx.now(),
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata,
    plan: planOf(price),
    price,
    quantity,
    subscription,
    tax_rates: taxRates,
  };
}

/** Saves the items both as their own objects and embedded in the subscription. */
function withItems(ctx: Ctx, sub: StripeObject, items: StripeObject[]): StripeObject {
  for (const item of items) ctx.put('subscription_items', item);
  return { ...sub, items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${sub.id}` } };
}

const itemsOf = (sub: StripeObject): StripeObject[] => sub.items.data;
const periodOf = (sub: StripeObject) => ({ start: itemsOf(sub)[0].current_period_start, end: itemsOf(sub)[0].current_period_end });

function checkCompatible(prices: StripeObject[]): void {
  const [first] = prices;
  for (const price of prices) {
    if (price.currency !== first.currency) {
      throw invalidRequest('Currency and interval fields must match across all plans on this subscription. Found mismatch in currency field.', { param: 'items' });
    }
    if (price.recurring.interval !== first.recurring.interval || price.recurring.interval_count !== first.recurring.interval_count) {
      throw invalidRequest('Currency and interval fields must match across all plans on this subscription. Found mismatch in interval field.', { param: 'items' });
    }
  }
}

function productName(ctx: Ctx, price: StripeObject): string {
  return ctx.get('products', price.product)?.name ?? price.product;
}

export function itemLine(ctx: Ctx, sub: StripeObject, item: StripeObject, period: { start: number; end: number }, trial: boolean): LineSpec {
  const price = item.price;
  const name = productName(ctx, price);
  const unit = price.unit_amount ?? 0;
  return {
    amount: trial ? 0 : unit * item.quantity,
    currency: price.currency,
    description: trial ? `Trial period for ${name}` : `${item.quantity} × ${name} (at ${formatAmount(unit, price.currency)} / ${price.recurring.interval})`,
    period,
    quantity: item.quantity,
    price,
    subscription: sub.id,
    subscriptionItem: item.id,
    // An item's own rates, else the subscription's defaults.
    taxRates: item.tax_rates?.length ? item.tax_rates : sub.default_tax_rates ?? [],
  };
}

function customerOf(ctx: Ctx, sub: StripeObject): StripeObject {
  return ctx.require('customers', sub.customer, 'customer');
}

/** Drafts, finalizes and (when charged automatically) pays the invoice for a subscription's period. */
function invoiceSubscription(ctx: Ctx, sub: StripeObject, reason: string, lines: LineSpec[], o: { attempt: boolean; offSession: boolean; paymentMethod?: string }) {
  const customer = customerOf(ctx, sub);
  let inv = draftInvoice(ctx, {
    customer, currency: sub.currency, billingReason: reason, collectionMethod: sub.collection_method, daysUntilDue: sub.days_until_due,
    subscription: sub, lines, discountIds: sub.discounts, autoAdvance: true,
    periodStart: lines[0]?.period.start, periodEnd: lines[0]?.period.end,
  }, true);
  inv = finalizeInvoice(ctx, inv);
  let failure: StripeError | undefined;
  if (o.attempt && inv.status === 'open' && sub.collection_method === 'charge_automatically') {
    ({ invoice: inv, failure } = attemptPayment(ctx, inv, { paymentMethod: o.paymentMethod, offSession: o.offSession, automatic: true }));
  }
  const latest = ctx.get('subscriptions', sub.id)!;
  const next = { ...latest, latest_invoice: inv.id, discounts: remainingDiscounts(ctx, latest.discounts) };
  ctx.put('subscriptions', next);
  return { invoice: inv, failure };
}

export function createSubscription(ctx: Ctx, p: Params): StripeObject {
  const customer = ctx.require('customers', p.customer, 'customer', 'customer');
  if (customer.test_clock) ctx.setNow(ctx.require('test_clocks', customer.test_clock, 'test_clock').frozen_time);
  if (!Array.isArray(p.items) || p.items.length === 0) throw invalidRequest('Missing required param: items.', { param: 'items', code: 'parameter_missing' });
  if (p.collection_method === 'send_invoice' && p.days_until_due === undefined) {
    throw invalidRequest('Missing required param: days_until_due.', { param: 'days_until_due', code: 'parameter_missing' });
  }
  if (p.default_payment_method) {
    const pm = ctx.require('payment_methods', p.default_payment_method, 'PaymentMethod', 'default_payment_method');
    if (pm.customer !== customer.id) {
      throw invalidRequest(`The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`, { param: 'default_payment_method' });
    }
  }
  const prices = p.items.map((item: Params, i: number) => resolvePrice(ctx, item, `items[${i}]`));
  checkCompatible(prices);
  checkSubscriptionConnect(ctx, p, '');
  const now = ctx.now();
  const { interval, interval_count } = prices[0].recurring;
  let trialEnd: number | null = null;
  if (p.trial_end !== undefined && p.trial_end !== 'now') trialEnd = Number(p.trial_end);
  else if (p.trial_period_days) trialEnd = now + days(p.trial_period_days);
  else if (p.trial_from_plan && prices[0].recurring.trial_period_days) trialEnd = now + days(prices[0].recurring.trial_period_days);
  if (trialEnd !== null && trialEnd <= now) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', { param: 'trial_end' });
  const anchor = trialEnd ?? p.billing_cycle_anchor ?? now;
  const period = { start: now, end: trialEnd ?? nextBoundary(anchor, interval, interval_count, now) };
  const id = newId('sub');
  const items = p.items.map((item: Params, i: number) => newItem(ctx, id, prices[i], item.quantity ?? 1, item.metadata || {}, period, requireTaxRates(ctx, item.tax_rates, `items[${i}][tax_rates]`)));
  let sub: StripeObject = {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: p.application_fee_percent ?? null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: anchor,
    billing_cycle_anchor_config: null,
    billing_mode: billingMode(ctx, p.billing_mode),
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: p.cancel_at ?? null,
    cancel_at_period_end: p.cancel_at_period_end ?? false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: p.collection_method ?? 'charge_automatically',
    created: now,
    currency: prices[0].currency,
    customer: customer.id,
    customer_account: null,
    days_until_due: p.days_until_due ?? null,
    default_payment_method: p.default_payment_method ?? null,
    default_source: null,
    default_tax_rates: requireTaxRates(ctx, p.default_tax_rates, 'default_tax_rates'),
    description: p.description ?? null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: null,
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: p.metadata || {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: p.on_behalf_of ?? null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: p.payment_settings?.save_default_payment_method ?? 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: trialEnd ? 'trialing' : 'incomplete',
    test_clock: customer.test_clock ?? null,
    transfer_data: p.transfer_data ? { amount_percent: p.transfer_data.amount_percent ?? null, destination: p.transfer_data.destination } : null,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { missing_payment_method: p.trial_settings?.end_behavior?.missing_payment_method ?? 'create_invoice' } },
    trial_start: trialEnd ? now : null,
  };
  sub = withItems(ctx, sub, items);
  sub.discounts = applyDiscounts(ctx, p, { customer: customer.id, subscription: id });
  ctx.put('subscriptions', sub);
  for (const [i, extra] of (p.add_invoice_items ?? []).entries()) {
    const price = extra.price ? ctx.require('prices', extra.price, 'price', `add_invoice_items[${i}][price]`) : createPrice(ctx, { ...extra.price_data, active: false });
    const quantity = extra.quantity ?? 1;
    addPendingItem(ctx, {
      customer, subscription: sub, subscriptionItem: items[0].id, amount: (price.unit_amount ?? 0) * quantity, currency: price.currency,
      description: `${quantity} × ${productName(ctx, price)}`, period: { start: now, end: now }, price, quantity,
      taxRates: requireTaxRates(ctx, extra.tax_rates, `add_invoice_items[${i}][tax_rates]`),
    });
  }
  const behaviour = p.payment_behavior ?? 'allow_incomplete';
  creating.add(id);
  try {
    const { failure } = invoiceSubscription(ctx, sub, 'subscription_create', items.map((item: StripeObject) => itemLine(ctx, sub, item, period, !!trialEnd)), {
      attempt: behaviour !== 'default_incomplete', offSession: p.off_session ?? false,
    });
    if (failure && behaviour === 'error_if_incomplete') {
      // Stripe creates nothing when the first payment of an error_if_incomplete subscription fails.
      throw cardError(failure.message, { ...failure.fields, commit: false });
    }
  } finally {
    creating.delete(id);
  }
  sub = ctx.get('subscriptions', id)!;
  if (behaviour === 'error_if_incomplete' && sub.status === 'incomplete') {
    throw cardError('Your card was declined. This transaction requires authentication.', { code: 'subscription_payment_intent_requires_action', commit: false });
  }
  ctx.emit('customer.subscription.created', sub);
  return sub;
}

function setStatus(ctx: Ctx, sub: StripeObject, status: string, extra: Params = {}): StripeObject {
  const next = { ...sub, status, ...extra };
  ctx.put('subscriptions', next);
  if (!creating.has(sub.id)) {
    const previous: Params = { status: sub.status };
    for (const key of Object.keys(extra)) previous[key] = sub[key] ?? null;
    ctx.emit(status === 'canceled' ? 'customer.subscription.deleted' : 'customer.subscription.updated', next, status === 'canceled' ? undefined : previous);
  }
  return next;
}

function subscriptionOfInvoice(ctx: Ctx, inv: StripeObject): StripeObject | undefined {
  const id = inv.parent?.subscription_details?.subscription;
  return id ? ctx.get('subscriptions', id) : undefined;
}

invoicePaid.on((ctx, inv) => {
  const sub = subscriptionOfInvoice(ctx, inv);
  if (sub && ['incomplete', 'past_due', 'unpaid'].includes(sub.status)) setStatus(ctx, sub, 'active');
});

invoicePaymentFailed.on((ctx, inv) => {
  const sub = subscriptionOfInvoice(ctx, inv);
  if (!sub || inv.billing_reason === 'subscription_create' || !['active', 'trialing', 'past_due'].includes(sub.status)) return;
  const exhausted = inv.attempt_count > RETRY_DAYS.length;
  if (!exhausted) {
    if (sub.status !== 'past_due') setStatus(ctx, sub, 'past_due');
    return;
  }
  const action = ctx.get(SETTINGS, 'billing')?.subscription_failed_payment_action ?? 'cancel';
  if (action === 'cancel') endSubscription(ctx, sub, 'payment_failed');
  else if (action === 'mark_unpaid') setStatus(ctx, sub, 'unpaid');
});

function endSubscription(ctx: Ctx, sub: StripeObject, reason: string, details: Params = {}): StripeObject {
  const now = ctx.now();
  return setStatus(ctx, sub, 'canceled', {
    canceled_at: sub.canceled_at ?? now,
    ended_at: now,
    cancel_at_period_end: false,
    cancellation_details: { comment: details.comment ?? null, feedback: details.feedback ?? null, reason },
  });
}

/** Credits the unused part of `before` and charges the rest of the period for `after` (either may be absent). */
function prorate(ctx: Ctx, sub: StripeObject, at: number, before: StripeObject | null, after: StripeObject | null): void {
  const { start, end } = periodOf(sub);
  if (at >= end || sub.status === 'trialing') return;
  const fraction = (end - at) / (end - start);
  const date = new Date(at * 1000).toISOString().slice(0, 10);
  const customer = customerOf(ctx, sub);
  for (const [item, sign, word] of [[before, -1, 'Unused'], [after, 1, 'Remaining']] as const) {
    if (!item) continue;
    const price = item.price;
    const amount = sign * Math.round((price.unit_amount ?? 0) * item.quantity * fraction);
    if (amount === 0) continue;
    addPendingItem(ctx, {
      customer, subscription: sub, subscriptionItem: item.id, amount, currency: price.currency,
      description: `${word} time on ${item.quantity} × ${productName(ctx, price)} after ${date}`,
      period: { start: at, end }, price, quantity: item.quantity,
    });
  }
}

/** Applies `items` changes (add, change price or quantity, delete), with prorations. */
function changeItems(ctx: Ctx, current: StripeObject, changes: Params[], p: Params): StripeObject {
  const behaviour = p.proration_behavior ?? 'create_prorations';
  const at = p.proration_date ?? ctx.now();
  let items = [...itemsOf(current)];
  const period = periodOf(current);
  changes.forEach((change, i) => {
    const param = `items[${i}]`;
    const existing = change.id ? items.find((item) => item.id === change.id) : undefined;
    if (change.id && !existing) throw invalidRequest(`No such subscription item: '${change.id}'`, { param: `${param}[id]`, code: 'resource_missing' }, 404);
    if (existing && (change.deleted === true || change.deleted === 'true')) {
      if (behaviour !== 'none') prorate(ctx, current, at, existing, null);
      items = items.filter((item) => item.id !== existing.id);
      deleteObject(ctx, 'subscription_items', existing);
      return;
    }
    const price = change.price || change.price_data || change.plan ? resolvePrice(ctx, change, param) : existing?.price;
    if (!price) throw invalidRequest(`Missing required param: ${param}[price].`, { param: `${param}[price]`, code: 'parameter_missing' });
    const quantity = change.quantity ?? existing?.quantity ?? 1;
    const taxRates = change.tax_rates === undefined ? existing?.tax_rates ?? [] : requireTaxRates(ctx, change.tax_rates, `${param}[tax_rates]`);
    const updated = existing
      ? { ...existing, price, plan: planOf(price), quantity, tax_rates: taxRates, metadata: change.metadata ? { ...existing.metadata, ...change.metadata } : existing.metadata }
      : newItem(ctx, current.id, price, quantity, change.metadata || {}, period, taxRates);
    if (behaviour !== 'none' && (!existing || existing.price.id !== price.id || existing.quantity !== quantity)) prorate(ctx, current, at, existing ?? null, updated);
    items = existing ? items.map((item) => (item.id === existing.id ? updated : item)) : [...items, updated];
  });
  if (items.length === 0) {
    throw invalidRequest('A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.', { param: 'items' });
  }
  checkCompatible(items.map((item) => item.price));
  return withItems(ctx, current, items);
}

function updateSubscription(ctx: Ctx, sub: StripeObject, p: Params): StripeObject {
  const customer = customerOf(ctx, sub);
  if (customer.test_clock) ctx.setNow(ctx.require('test_clocks', customer.test_clock, 'test_clock').frozen_time);
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    const bad = Object.keys(p).find((k) => !['metadata', 'cancellation_details', 'expand'].includes(k));
    if (bad) throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`, { param: bad });
  }
  if (p.default_payment_method) {
    const pm = ctx.require('payment_methods', p.default_payment_method, 'PaymentMethod', 'default_payment_method');
    if (pm.customer !== sub.customer) {
      throw invalidRequest(`The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`, { param: 'default_payment_method' });
    }
  }
  let next: StripeObject = { ...sub };
  const previous: Params = {};
  const set = (key: string, value: unknown) => {
    if (JSON.stringify(next[key]) === JSON.stringify(value)) return;
    previous[key] = next[key];
    next[key] = value;
  };
  if (p.items) {
    next = changeItems(ctx, next, p.items, p);
    if (JSON.stringify(next.items) !== JSON.stringify(sub.items)) previous.items = sub.items;
  }
  if (p.metadata !== undefined) {
    const merged = p.metadata === '' ? {} : { ...sub.metadata, ...p.metadata };
    for (const [k, v] of Object.entries(merged)) if (v === '') delete merged[k];
    set('metadata', merged);
  }
  for (const key of ['description', 'default_payment_method', 'collection_method', 'days_until_due', 'cancel_at_period_end', 'pause_collection']) {
    if (p[key] !== undefined) set(key, p[key] === '' ? null : p[key]);
  }
  // Connect: the fee and destination of the invoices to come.
  if (p.application_fee_percent !== undefined || p.transfer_data !== undefined || p.on_behalf_of !== undefined) {
    checkSubscriptionConnect(ctx, { transfer_data: sub.transfer_data ?? undefined, ...p }, '');
    if (p.application_fee_percent !== undefined) set('application_fee_percent', p.application_fee_percent === '' ? null : Number(p.application_fee_percent));
    if (p.on_behalf_of !== undefined) set('on_behalf_of', p.on_behalf_of === '' ? null : p.on_behalf_of);
    if (p.transfer_data !== undefined) set('transfer_data', p.transfer_data === '' ? null : { amount_percent: p.transfer_data.amount_percent ?? null, destination: p.transfer_data.destination });
  }
  if (p.cancel_at !== undefined) set('cancel_at', p.cancel_at === '' ? null : p.cancel_at);
  if (p.cancel_at_period_end === true || p.cancel_at !== undefined) set('canceled_at', next.cancel_at_period_end || next.cancel_at ? ctx.now() : null);
  if (p.cancel_at_period_end === false && !next.cancel_at) set('canceled_at', null);
  if (p.cancellation_details) set('cancellation_details', { ...sub.cancellation_details, ...p.cancellation_details });
  if (p.default_tax_rates !== undefined) set('default_tax_rates', requireTaxRates(ctx, p.default_tax_rates, 'default_tax_rates'));
  if (p.discounts !== undefined || p.coupon || p.promotion_code) {
    set('discounts', p.discounts === '' ? [] : applyDiscounts(ctx, p, { customer: sub.customer, subscription: sub.id }));
  }
  let endTrialNow = false;
  if (p.trial_end !== undefined) {
    if (p.trial_end === 'now') endTrialNow = sub.status === 'trialing';
    else {
      set('trial_end', Number(p.trial_end));
      next = withItems(ctx, next, itemsOf(next).map((item) => ({ ...item, current_period_end: Number(p.trial_end) })));
      set('billing_cycle_anchor', Number(p.trial_end));
    }
  }
  ctx.put('subscriptions', next);
  if (Object.keys(previous).length) ctx.emit('customer.subscription.updated', next, previous);
  if (endTrialNow) startNewPeriod(ctx, next, ctx.now(), 'subscription_update', true);
  else if (p.proration_behavior === 'always_invoice' && p.items) {
    invoiceSubscription(ctx, ctx.get('subscriptions', sub.id)!, 'subscription_update', [], { attempt: true, offSession: p.off_session ?? false });
  }
  return ctx.get('subscriptions', sub.id)!;
}

/** Starts the next billing period at `at` and invoices it (renewals, and trials ending). */
function startNewPeriod(ctx: Ctx, sub: StripeObject, at: number, reason: string, resetAnchor = false): void {
  const first = itemsOf(sub)[0].price.recurring;
  const anchor = resetAnchor ? at : sub.billing_cycle_anchor;
  const period = { start: at, end: nextBoundary(anchor, first.interval, first.interval_count, at) };
  const items = itemsOf(sub).map((item) => ({ ...item, current_period_start: period.start, current_period_end: period.end }));
  const wasTrial = sub.status === 'trialing';
  let next = withItems(ctx, sub, items);
  next = { ...next, billing_cycle_anchor: anchor, status: wasTrial ? 'active' : sub.status, trial_end: wasTrial ? Math.min(sub.trial_end, at) : sub.trial_end };
  ctx.put('subscriptions', next);
  ctx.emit('customer.subscription.updated', next, {
    items: sub.items,
    ...(wasTrial ? { status: 'trialing', trial_end: sub.trial_end } : {}),
  });
  if (sub.status === 'unpaid') return;
  invoiceSubscription(ctx, next, reason, items.map((item) => itemLine(ctx, next, item, period, false)), { attempt: true, offSession: true });
}

function cancelSubscription(ctx: Ctx, sub: StripeObject, p: Params): StripeObject {
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    throw invalidRequest(`No such subscription: '${sub.id}'`, { code: 'resource_missing', param: 'id' }, 404);
  }
  const customer = customerOf(ctx, sub);
  if (customer.test_clock) ctx.setNow(ctx.require('test_clocks', customer.test_clock, 'test_clock').frozen_time);
  if (p.prorate) for (const item of itemsOf(sub)) prorate(ctx, sub, ctx.now(), item, null);
  if (p.invoice_now) invoiceSubscription(ctx, sub, 'subscription_update', [], { attempt: true, offSession: true });
  if (sub.status === 'incomplete' && sub.latest_invoice) {
    const inv = ctx.get('invoices', sub.latest_invoice);
    if (inv?.status === 'open') voidInvoice(ctx, inv);
  }
  return endSubscription(ctx, ctx.get('subscriptions', sub.id)!, 'cancellation_requested', p.cancellation_details ?? {});
}

/** What happens to the subscriptions of a test clock's customers as its time moves to `to`. */
export function advanceSubscriptions(ctx: Ctx, clockId: string, to: number): void {
  const subscriptionIds = [...ctx.all('subscriptions')].filter((s) => s.test_clock === clockId).map((s) => s.id);
  const invoiceIds = [...ctx.all('invoices')].filter((i) => i.test_clock === clockId).map((i) => i.id);
  for (let guard = 0; guard < 10_000; guard++) {
    let due: { at: number; run: () => void } | undefined;
    const consider = (at: number | null | undefined, run: () => void) => {
      if (at !== null && at !== undefined && at <= to && (!due || at < due.at)) due = { at, run };
    };
    for (const id of subscriptionIds) {
      const sub = ctx.get('subscriptions', id);
      if (!sub) continue;
      if (sub.status === 'incomplete') {
        consider(sub.created! + INCOMPLETE_EXPIRY, () => {
          const inv = sub.latest_invoice && ctx.get('invoices', sub.latest_invoice);
          if (inv?.status === 'open') voidInvoice(ctx, inv);
          setStatus(ctx, sub, 'incomplete_expired', { ended_at: ctx.now() });
        });
        continue;
      }
      if (!ACTIVE_LIKE.includes(sub.status)) continue;
      const { end } = periodOf(sub);
      if (sub.status === 'trialing' && !ctx.get('trial_will_end_sent', `${sub.id}:${sub.trial_end}`)) {
        consider(Math.max(sub.created!, sub.trial_end - days(3)), () => {
          ctx.put('trial_will_end_sent', { id: `${sub.id}:${sub.trial_end}` });
          ctx.emit('customer.subscription.trial_will_end', sub);
        });
      }
      if (sub.cancel_at && sub.cancel_at < end) consider(sub.cancel_at, () => endSubscription(ctx, sub, 'cancellation_requested'));
      consider(end, () => {
        if (sub.cancel_at_period_end || (sub.cancel_at && sub.cancel_at <= end)) endSubscription(ctx, sub, 'cancellation_requested');
        else startNewPeriod(ctx, sub, end, 'subscription_cycle');
      });
    }
    for (const id of new Set([...invoiceIds, ...latestInvoices(ctx, subscriptionIds)])) {
      const inv = ctx.get('invoices', id);
      if (inv?.status === 'open' && inv.next_payment_attempt) consider(inv.next_payment_attempt, () => attemptPayment(ctx, inv, { offSession: true, automatic: true }));
    }
    if (!due) return;
    ctx.setNow(due.at);
    due.run();
  }
}

function latestInvoices(ctx: Ctx, subscriptionIds: string[]): string[] {
  return subscriptionIds.map((id) => ctx.get('subscriptions', id)?.latest_invoice).filter(Boolean);
}

/** `items[][plan]`: the spec stopped listing it, Stripe still takes it (a plan is a price), and older integrations send it. */
const withPlan = (method: string, path: string): Record<string, ParamSchema> => {
  const items = specSchema(method, path)?.p?.items;
  return items?.i ? { items: { ...items, i: { ...items.i, p: { ...items.i.p, plan: { t: 's', m: 5000 } } } } } : {};
};
/**
 * A subscription's billing mode: flexible by default since 2025-09-30.clover, classic before. The sandbox computes
 * prorations one way in both modes; the mode is recorded as Stripe records it.
 */
function billingMode(ctx: Ctx, given: Params | undefined): StripeObject['billing_mode'] {
  const type = given?.type ?? (olderThan(ctx.request.apiVersion, '2025-09-30.clover') ? 'classic' : 'flexible');
  if (type !== 'classic' && type !== 'flexible') throw invalidRequest(`Invalid billing_mode[type]: must be one of classic or flexible`, { param: 'billing_mode[type]', code: 'parameter_invalid_enum' });
  return { flexible: type === 'flexible' ? { proration_discounts: given?.flexible?.proration_discounts ?? 'included' } : null, type, updated_at: ctx.now() };
}

const SUBSCRIPTION_PATCH = (path: string): Operation['specPatch'] => ({ add: { discounts: DISCOUNTS_PARAM, billing_mode: { t: 'x' }, ...withPlan('POST', path) } });

const declaration = {
  collection: 'subscriptions', object: 'subscription', prefix: 'sub', noun: 'subscription', path: '/v1/subscriptions', permission: 'subscriptions',
  searchFields: ['created', 'status'],
  listFilters: {
    customer: equals('customer'),
    status: (v: string) => (o: StripeObject) => (v === 'all' ? true : o.status === v),
    collection_method: equals('collection_method'),
    price: (v: string) => (o: StripeObject) => o.items.data.some((item: StripeObject) => item.price.id === v),
    test_clock: equals('test_clock'),
  },
};

const standard = standardOperations(declaration, { idParam: 'subscription_exposed_id', create: createSubscription, update: updateSubscription, del: cancelSubscription, search: true, list: false });

export const subscriptions: Resource = {
  ...declaration,
  operations: [
    ...patchSpec(patchSpec(standard, 'POST', '/v1/subscriptions', SUBSCRIPTION_PATCH('/v1/subscriptions')), 'POST', '/v1/subscriptions/{subscription_exposed_id}', SUBSCRIPTION_PATCH('/v1/subscriptions/{subscription_exposed_id}')),
    {
      // Stripe lists only non-canceled subscriptions unless `status` says otherwise.
      method: 'GET', path: '/v1/subscriptions', permission: 'subscriptions',
      handle: (ctx, p) => {
        const filters = Object.entries(declaration.listFilters).filter(([name]) => p[name] !== undefined).map(([name, f]) => f(p[name]));
        if (p.status === undefined) filters.push((o) => o.status !== 'canceled' && o.status !== 'incomplete_expired');
        return paginateSubs(ctx, p, filters);
      },
    },
    {
      // The older per-customer list, still served: the customer's subscriptions that are not canceled.
      method: 'GET', path: '/v1/customers/{customer}/subscriptions', permission: 'subscriptions',
      params: { t: 'o', p: { ending_before: { t: 's' }, starting_after: { t: 's' }, limit: { t: 'i' }, expand: { t: 'a', i: { t: 's' } } } },
      handle: (ctx, p, path) => {
        ctx.require('customers', path.customer, 'customer', 'customer');
        return paginateSubs(ctx, p, [(o) => o.customer === path.customer && o.status !== 'canceled' && o.status !== 'incomplete_expired'], `/v1/customers/${path.customer}/subscriptions`);
      },
    },
  ],
};

const paginateSubs = (ctx: Ctx, p: Params, filters: ((o: StripeObject) => boolean)[], url = '/v1/subscriptions') =>
  paginate(ctx.collection('subscriptions'), p, url, 'subscription', filters);

// Subscription items: the same changes as `items` on a subscription update.

const itemSubscription = (ctx: Ctx, item: StripeObject) => ctx.require('subscriptions', item.subscription, 'subscription');

export const subscriptionItems: Resource = {
  collection: 'subscription_items', object: 'subscription_item', prefix: 'si', noun: 'subscription_item', path: '/v1/subscription_items', permission: 'subscriptions',
  operations: [
    ...standardOperations(
      { collection: 'subscription_items', object: 'subscription_item', prefix: 'si', noun: 'subscription_item', path: '/v1/subscription_items', permission: 'subscriptions' },
      {
        idParam: 'item',
        list: false,
        create: (ctx, p) => {
          const sub = ctx.require('subscriptions', p.subscription, 'subscription', 'subscription');
          const before = new Set(itemsOf(sub).map((i) => i.id));
          const after = updateSubscription(ctx, sub, { items: [{ price: p.price, price_data: p.price_data, quantity: p.quantity, metadata: p.metadata }], proration_behavior: p.proration_behavior, proration_date: p.proration_date });
          return itemsOf(after).find((i) => !before.has(i.id))!;
        },
        update: (ctx, item, p) => {
          const after = updateSubscription(ctx, itemSubscription(ctx, item), { items: [{ id: item.id, price: p.price, price_data: p.price_data, quantity: p.quantity, metadata: p.metadata }], proration_behavior: p.proration_behavior, proration_date: p.proration_date });
          return itemsOf(after).find((i) => i.id === item.id)!;
        },
        del: (ctx, item) => {
          updateSubscription(ctx, itemSubscription(ctx, item), { items: [{ id: item.id, deleted: true }] });
          return { id: item.id, object: 'subscription_item', deleted: true };
        },
      },
    ),
    {
      method: 'GET', path: '/v1/subscription_items', permission: 'subscriptions',
      handle: (ctx, p) => {
        const sub = ctx.require('subscriptions', p.subscription, 'subscription', 'subscription');
        return pageOfItems(itemsOf(sub), p, sub.id);
      },
    },
  ],
};

const pageOfItems = (items: StripeObject[], p: Params, sub: string) => pageOf(items, p, `/v1/subscription_items?subscription=${sub}`);
