/**
 * Invoices and invoice items. An invoice is drafted from lines (subscription
 * items for a period, pending invoice items), finalized with a number and a
 * PaymentIntent, then paid, voided or marked uncollectible. Subscriptions
 * react to payment outcomes through the `invoicePaid` / `invoicePaymentFailed`
 * hooks.
 */
import { changeBalance } from '../customer_balance.js';
import { invalidRequest, StripeError } from '../../../stripe/errors.js';
import type { Ctx } from '../../engine/context.js';
import { invoicePaid, invoicePaymentFailed, paymentSucceeded } from '../../engine/hooks.js';
import { newId } from '../../../stripe/ids.js';
import { minimumCharge } from '../../../stripe/money.js';
import { listOf, paginate } from '../../engine/list.js';
import { deleteObject, applyUpdate, equals, patchSpec, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../../engine/resource.js';
import type { ParamSchema } from '../../../stripe/schema.js';
import type { StripeObject } from '../../store/collection.js';
import { confirm, createPaymentIntent } from '../payment_intents.js';
import { applyDiscounts, discountAmounts } from './discounts.js';
import { requireTaxRates, taxesOn, totalTaxes, type TaxEntry } from '../tax_rates.js';
import { checkConnectParams, invoicePaymentConnect } from '../../connect/money.js';

/** PaymentIntent id → the invoice it pays. */
const INVOICE_OF_INTENT = 'invoice_of_intent';
/** Invoice id → its default InvoicePayment. */
const PAYMENT_OF_INVOICE = 'payment_of_invoice';
/** An invoice's own Connect parameters (not fields of the invoice object): its fee, destination and settlement merchant. */
const CONNECT_OF_INVOICE = 'connect_of_invoice';
/** Days after a failed automatic attempt until the next one; after the last, the subscription's final action. */
export const RETRY_DAYS = [3, 5, 7];

export const DISCOUNTS_PARAM: ParamSchema = {
  t: 'a', z: 1, i: { t: 'o', p: { coupon: { t: 's' }, discount: { t: 's' }, promotion_code: { t: 's' } } },
};

export interface LineSpec {
  amount: number;
  currency: string;
  description: string | null;
  period: { start: number; end: number };
  quantity: number | null;
  price?: StripeObject | null;
  subscription?: string | null;
  subscriptionItem?: string | null;
  invoiceItem?: StripeObject | null;
  proration?: boolean;
  metadata?: Record<string, string>;
  /** The line's own tax rates; without them, the invoice's default rates apply. */
  taxRates?: StripeObject[];
}

function line(ctx: Ctx, invoiceId: string, s: LineSpec): StripeObject {
  const proration = s.proration ?? false;
  const parent = s.invoiceItem
    ? {
      type: 'invoice_item_details',
      invoice_item_details: { invoice_item: s.invoiceItem.id, proration, proration_details: { credited_items: null }, subscription: s.subscription ?? null },
      subscription_item_details: null,
    }
    : {
      type: 'subscription_item_details',
      invoice_item_details: null,
      subscription_item_details: { invoice_item: null, proration, proration_details: { credited_items: null }, subscription: s.subscription ?? null, subscription_item: s.subscriptionItem },
    };
  return {
    id: newId('il'),
    object: 'line_item',
    amount: s.amount,
    currency: s.currency,
    description: s.description,
    discount_amounts: [],
    discountable: s.invoiceItem ? s.invoiceItem.discountable : true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: s.metadata ?? {},
    parent,
    period: s.period,
    pretax_credit_amounts: [],
    pricing: s.price
      ? { price_details: { price: s.price.id, product: s.price.product }, type: 'price_details', unit_amount_decimal: s.price.unit_amount_decimal }
      : null,
    quantity: s.quantity,
    quantity_decimal: s.quantity === null ? null : String(s.quantity),
    subscription: s.subscription ?? null,
    subtotal: s.amount,
    taxes: taxesOn(s.amount, s.taxRates ?? []),
  };
}

/** Recomputes an invoice's amounts from its lines and discounts. */
function withTotals(ctx: Ctx, inv: StripeObject): StripeObject {
  const lines: StripeObject[] = inv.lines.data;
  const subtotal = lines.reduce((sum, l) => sum + l.amount, 0);
  const discountable = lines.filter((l) => l.discountable && l.amount > 0).reduce((sum, l) => sum + l.amount, 0);
  const discounts = discountAmounts(ctx, inv.discounts, discountable, inv.currency);
  const discountTotal = discounts.reduce((sum, d) => sum + d.amount, 0);
  const defaults: StripeObject[] = inv.default_tax_rates ?? [];
  const shared = lines.map((l) => {
    const discount_amounts = l.discountable && l.amount > 0 && discountable > 0
      ? discounts.map((d) => ({ amount: Math.round((d.amount * l.amount) / discountable), discount: d.discount }))
      : [];
    // Tax is on what the line costs after its share of the discounts.
    const taxable = l.amount - discount_amounts.reduce((sum, d) => sum + d.amount, 0);
    const own = (l.taxes ?? []).map((t: TaxEntry) => ctx.get('tax_rates', t.tax_rate_details.tax_rate)).filter(Boolean) as StripeObject[];
    return { ...l, discount_amounts, taxes: taxesOn(taxable, own.length ? own : defaults) };
  });
  const taxes = totalTaxes(shared.flatMap((l) => l.taxes));
  const exclusiveTax = taxes.filter((t) => t.tax_behavior === 'exclusive').reduce((sum, t) => sum + t.amount, 0);
  const inclusiveTax = taxes.filter((t) => t.tax_behavior === 'inclusive').reduce((sum, t) => sum + t.amount, 0);
  const total = subtotal - discountTotal + exclusiveTax;
  // Once finalized, the customer's balance applied to it (ending − starting: credit used, or debt added) moves what is due.
  const applied = inv.status === 'draft' || inv.ending_balance === null ? 0 : inv.ending_balance - inv.starting_balance;
  const amountDue = Math.max(0, total - applied);
  return {
    ...inv,
    lines: { ...inv.lines, data: shared, total_count: shared.length },
    subtotal,
    subtotal_excluding_tax: subtotal - inclusiveTax,
    total_discount_amounts: discounts,
    total,
    total_excluding_tax: total - exclusiveTax - inclusiveTax,
    total_taxes: taxes,
    amount_due: amountDue,
    amount_remaining: amountDue - inv.amount_paid,
    ending_balance: inv.status === 'draft' ? null : inv.ending_balance,
  };
}

export interface DraftSpec {
  customer: StripeObject;
  currency: string;
  billingReason: string;
  collectionMethod?: string;
  daysUntilDue?: number | null;
  subscription?: StripeObject | null;
  lines: LineSpec[];
  /** Discount ids already applied elsewhere (a subscription's), or request params to apply. */
  discountIds?: string[];
  description?: string | null;
  metadata?: Record<string, string>;
  defaultPaymentMethod?: string | null;
  autoAdvance?: boolean;
  periodStart?: number;
  periodEnd?: number;
  defaultTaxRates?: StripeObject[];
}

/** Drafts an invoice, pulling the customer's pending invoice items for `subscription` (or none) into it. */
export function draftInvoice(ctx: Ctx, d: DraftSpec, pullPending: boolean): StripeObject {
  const id = newId('in');
  const customer = d.customer;
  const now = ctx.now();
  const lines = d.lines.map((s) => line(ctx, id, s));
  if (pullPending) {
    for (const ii of pendingItems(ctx, customer.id, d.subscription?.id ?? null)) {
      const attached = { ...ii, invoice: id };
      ctx.put('invoiceitems', attached);
      lines.push(line(ctx, id, invoiceItemLine(attached)));
    }
  }
  const subscription = d.subscription ?? null;
  const inv: StripeObject = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'PayBridge Sandbox',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: d.autoAdvance ?? false,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: d.billingReason,
    collection_method: d.collectionMethod ?? 'charge_automatically',
    confirmation_secret: null,
    created: now,
    currency: d.currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: customer.shipping ?? null,
    customer_tax_exempt: customer.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: d.defaultPaymentMethod ?? null,
    default_source: null,
    default_tax_rates: d.defaultTaxRates ?? [],
    description: d.description ?? null,
    discounts: d.discountIds ?? [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, total_count: lines.length, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: d.metadata ?? {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: subscription?.on_behalf_of ?? null,
    parent: subscription
      ? { quote_details: null, subscription_details: { metadata: subscription.metadata ?? {}, subscription: subscription.id }, type: 'subscription_details' }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: d.periodEnd ?? now,
    period_start: d.periodStart ?? now,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: customer.balance ?? 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    test_clock: customer.test_clock ?? null,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
  if (d.daysUntilDue !== undefined && d.daysUntilDue !== null) inv.due_date = now + d.daysUntilDue * 86_400;
  const totalled = withTotals(ctx, inv);
  ctx.put('invoices', totalled);
  ctx.emit('invoice.created', totalled);
  return totalled;
}

function pendingItems(ctx: Ctx, customer: string, subscription: string | null): StripeObject[] {
  const out: StripeObject[] = [];
  for (const pending of ctx.all('invoiceitems')) {
    if (pending.deleted || pending.invoice || pending.customer !== customer) continue;
    const itemSubscription = pending.parent?.subscription_details?.subscription ?? null;
    if (itemSubscription === subscription || (subscription && itemSubscription === null)) out.push(pending);
  }
  return out;
}

function invoiceItemLine(ii: StripeObject): LineSpec {
  return {
    amount: ii.amount,
    currency: ii.currency,
    description: ii.description,
    period: ii.period,
    quantity: ii.quantity,
    price: ii.pricing?.price_details ? { id: ii.pricing.price_details.price, product: ii.pricing.price_details.product, unit_amount_decimal: ii.pricing.unit_amount_decimal } : null,
    subscription: ii.parent?.subscription_details?.subscription ?? null,
    invoiceItem: ii,
    proration: ii.proration,
    metadata: ii.metadata ?? {},
    taxRates: ii.tax_rates ?? [],
  };
}

/** Sets the invoice's number, opens it for payment and creates the PaymentIntent that collects it. */
export function finalizeInvoice(ctx: Ctx, current: StripeObject): StripeObject {
  if (current.status !== 'draft') {
    throw invalidRequest(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, { code: 'invoice_not_editable' });
  }
  const customer = ctx.edit(ctx.require('customers', current.customer, 'customer'));
  const sequence = customer.next_invoice_sequence ?? 1;
  customer.next_invoice_sequence = sequence + 1;
  ctx.put('customers', customer);
  let inv: StripeObject = withTotals(ctx, ctx.edit(current));
  const now = ctx.now();
  inv.number = `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`;
  inv.status = 'open';
  inv.effective_at = now;
  // The customer's balance as it is now is applied before anything is charged: credit (negative) pays the invoice
  // as far as it goes, an amount owed (positive) is added to it; a credit left over stays on the customer.
  // Below the currency's minimum charge Stripe charges nothing: the invoice is paid and what it asked for is owed on
  // the next one (an `invoice_too_small` balance transaction).
  const starting = customer.balance ?? 0;
  const net = starting + inv.total;
  const tooSmall = net > 0 && net < minimumCharge(inv.currency);
  inv.starting_balance = starting;
  inv.ending_balance = net <= 0 || tooSmall ? net : 0;
  inv = withTotals(ctx, inv);
  if (inv.ending_balance !== starting) {
    const moved = changeBalance(ctx, customer, inv.ending_balance - starting, tooSmall ? 'invoice_too_small' : 'applied_to_invoice', { currency: inv.currency, invoice: inv.id });
    Object.assign(customer, { balance: moved.customer.balance, currency: moved.customer.currency });
    ctx.put('customers', customer);
  }
  inv.status_transitions = { ...inv.status_transitions, finalized_at: now };
  inv.hosted_invoice_url = `${ctx.env.baseUrl}/_sandbox/invoices/${inv.id}`;
  inv.invoice_pdf = `${ctx.env.baseUrl}/_sandbox/invoices/${inv.id}/pdf`;
  if (inv.collection_method === 'send_invoice' && inv.due_date === null) inv.due_date = now + 30 * 86_400;
  if (inv.amount_due > 0) {
    const subId = inv.parent?.subscription_details?.subscription;
    const connect = invoicePaymentConnect(ctx.get(CONNECT_OF_INVOICE, inv.id) ?? undefined, subId ? ctx.get('subscriptions', subId) : undefined, inv.amount_due);
    const pi = createPaymentIntent(ctx, {
      amount: inv.amount_due,
      currency: inv.currency,
      customer: inv.customer,
      description: inv.billing_reason === 'subscription_create' ? 'Subscription creation' : inv.billing_reason === 'subscription_cycle' ? 'Subscription update' : `Invoice ${inv.number}`,
      payment_method_types: ['card'],
      ...Object.fromEntries(Object.entries(connect).filter(([, v]) => v !== undefined)),
    });
    ctx.put(INVOICE_OF_INTENT, { id: pi.id, invoice: inv.id });
    inv.confirmation_secret = { client_secret: pi.client_secret, type: 'payment_intent' };
    const paymentId = newId('inpay');
    ctx.put(PAYMENT_OF_INVOICE, { id: inv.id, payment: paymentId });
    ctx.put('invoice_payments', {
      id: paymentId,
      object: 'invoice_payment',
      amount_paid: null,
      amount_requested: inv.amount_due,
      created: now,
      currency: inv.currency,
      invoice: inv.id,
      is_default: true,
      livemode: false,
      payment: { payment_intent: pi.id, type: 'payment_intent' },
      status: 'open',
      status_transitions: { canceled_at: null, paid_at: null },
    });
  }
  ctx.put('invoices', inv);
  ctx.emit('invoice.finalized', inv);
  if (inv.amount_due === 0) inv = markPaid(ctx, inv, false);
  return inv;
}

function paymentOf(ctx: Ctx, invoiceId: string): StripeObject | undefined {
  const link = ctx.get(PAYMENT_OF_INVOICE, invoiceId);
  return link && ctx.get('invoice_payments', link.payment);
}

function markPaid(ctx: Ctx, current: StripeObject, outOfBand: boolean): StripeObject {
  const inv = ctx.edit(current);
  const now = ctx.now();
  inv.status = 'paid';
  inv.attempted = inv.attempted || !outOfBand;
  inv.amount_paid = inv.amount_due;
  inv.amount_remaining = 0;
  inv.next_payment_attempt = null;
  inv.auto_advance = false;
  inv.status_transitions = { ...inv.status_transitions, paid_at: now };
  if (outOfBand) inv.amount_paid_off_stripe = inv.amount_due;
  ctx.put('invoices', inv);
  const payment = paymentOf(ctx, inv.id);
  if (payment) {
    ctx.put('invoice_payments', {
      ...payment,
      status: outOfBand ? 'canceled' : 'paid',
      amount_paid: outOfBand ? 0 : inv.amount_due,
      status_transitions: { ...payment.status_transitions, paid_at: outOfBand ? null : now },
    });
  }
  ctx.emit('invoice.paid', inv);
  if (!outOfBand) ctx.emit('invoice.payment_succeeded', inv);
  invoicePaid.run(ctx, inv);
  return inv;
}

paymentSucceeded.on((ctx, pi) => {
  const link = ctx.get(INVOICE_OF_INTENT, pi.id);
  const inv = link && ctx.get('invoices', link.invoice);
  if (inv && inv.status === 'open') markPaid(ctx, inv, false);
});

/** The card an invoice is charged to, in Stripe's order of preference. */
function paymentMethodFor(ctx: Ctx, inv: StripeObject, explicit?: string): string | null {
  if (explicit) return explicit;
  if (inv.default_payment_method) return inv.default_payment_method;
  const subscriptionId = inv.parent?.subscription_details?.subscription;
  const sub = subscriptionId && ctx.get('subscriptions', subscriptionId);
  if (sub?.default_payment_method) return sub.default_payment_method;
  const customer = ctx.get('customers', inv.customer);
  return customer?.invoice_settings?.default_payment_method ?? customer?.default_source ?? null;
}

export interface Attempt {
  invoice: StripeObject;
  /** The card error of a failed attempt (already recorded on the invoice). */
  failure?: StripeError;
}

/**
 * One payment attempt on an open invoice. Failures are recorded (attempt
 * count, next automatic retry, `invoice.payment_failed`) and returned, not
 * thrown, so renewals can go on; `POST /pay` throws them.
 */
export function attemptPayment(ctx: Ctx, current: StripeObject, o: { paymentMethod?: string; offSession?: boolean; automatic?: boolean } = {}): Attempt {
  if (current.status !== 'open') {
    throw invalidRequest(`Invoice is already ${current.status === 'paid' ? 'paid' : current.status}`, { code: 'invoice_payment_intent_requires_action' });
  }
  const payment = paymentOf(ctx, current.id);
  const pmId = paymentMethodFor(ctx, current, o.paymentMethod);
  const attempted = (inv: StripeObject): StripeObject => {
    const next = ctx.edit(ctx.get('invoices', inv.id)!);
    next.attempted = true;
    next.attempt_count += 1;
    return next;
  };
  try {
    if (!payment || !pmId) {
      throw invalidRequest(
        'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.',
        { code: 'invoice_no_customer_line_items', commit: o.automatic },
      );
    }
    const pi = ctx.require('payment_intents', payment.payment.payment_intent, 'payment_intent');
    const after = confirm(ctx, pi.status === 'requires_action' ? { ...pi, status: 'requires_payment_method' } : pi, { payment_method: pmId, off_session: o.offSession });
    const inv = ctx.get('invoices', current.id)!;
    if (after.status === 'succeeded') {
      const next = attempted(inv);
      ctx.put('invoices', next);
      return { invoice: next };
    }
    const next = attempted(inv);
    ctx.put('invoices', next);
    ctx.emit('invoice.payment_action_required', next);
    return { invoice: next };
  } catch (e) {
    if (!(e instanceof StripeError) || !e.fields.commit) throw e;
    const next = attempted(ctx.get('invoices', current.id)!);
    const retryIn = RETRY_DAYS[next.attempt_count - 1];
    next.next_payment_attempt = o.automatic && next.collection_method === 'charge_automatically' && retryIn !== undefined ? ctx.now() + retryIn * 86_400 : null;
    ctx.put('invoices', next);
    ctx.emit('invoice.payment_failed', next);
    invoicePaymentFailed.run(ctx, next);
    return { invoice: ctx.get('invoices', next.id)!, failure: e };
  }
}

function closeInvoice(ctx: Ctx, current: StripeObject, status: 'void' | 'uncollectible'): StripeObject {
  const allowed = status === 'void' ? ['open', 'uncollectible'] : ['open'];
  if (!allowed.includes(current.status)) {
    const verb = status === 'void' ? 'void' : 'mark uncollectible';
    throw invalidRequest(`You can only ${verb} an invoice with a status of ${allowed.join(' or ')}. This invoice has a status of ${current.status}.`, { code: 'invoice_not_editable' });
  }
  const inv = ctx.edit(current);
  inv.status = status;
  inv.next_payment_attempt = null;
  inv.auto_advance = false;
  inv.status_transitions = { ...inv.status_transitions, [status === 'void' ? 'voided_at' : 'marked_uncollectible_at']: ctx.now() };
  if (status === 'void') {
    inv.amount_remaining = 0;
    // Credit the invoice used goes back to the customer (or a debt it carried goes back onto their balance).
    const applied = inv.ending_balance === null ? 0 : inv.ending_balance - inv.starting_balance;
    if (applied !== 0) {
      const customer = ctx.require('customers', inv.customer, 'customer');
      ctx.put('customers', changeBalance(ctx, customer, -applied, 'unapplied_from_invoice', { currency: inv.currency, invoice: inv.id }).customer);
    }
    const payment = paymentOf(ctx, inv.id);
    if (payment) {
      ctx.put('invoice_payments', { ...payment, status: 'canceled', status_transitions: { ...payment.status_transitions, canceled_at: ctx.now() } });
      const pi = ctx.get('payment_intents', payment.payment.payment_intent);
      if (pi && pi.status !== 'succeeded' && pi.status !== 'canceled') {
        const canceled = { ...pi, status: 'canceled', canceled_at: ctx.now(), cancellation_reason: 'void_invoice', next_action: null };
        ctx.put('payment_intents', canceled);
        ctx.emit('payment_intent.canceled', canceled);
      }
    }
  }
  ctx.put('invoices', inv);
  ctx.emit(status === 'void' ? 'invoice.voided' : 'invoice.marked_uncollectible', inv);
  return inv;
}

export const voidInvoice = (ctx: Ctx, inv: StripeObject) => closeInvoice(ctx, inv, 'void');

function requireDraft(inv: StripeObject, what = 'update'): void {
  if (inv.status !== 'draft') {
    throw invalidRequest(`You can only ${what} a draft invoice. This invoice has a status of ${inv.status}.`, { code: 'invoice_not_editable' });
  }
}

function createInvoice(ctx: Ctx, p: Params): StripeObject {
  if (!p.customer) throw invalidRequest('Missing required param: customer.', { param: 'customer', code: 'parameter_missing' });
  const customer = ctx.require('customers', p.customer, 'customer', 'customer');
  if (customer.test_clock) ctx.setNow(ctx.require('test_clocks', customer.test_clock, 'test_clock').frozen_time);
  const subscription = p.subscription ? ctx.require('subscriptions', p.subscription, 'subscription', 'subscription') : null;
  if (p.collection_method === 'send_invoice' && p.days_until_due === undefined && p.due_date === undefined) {
    throw invalidRequest('Missing required param: days_until_due.', { param: 'days_until_due', code: 'parameter_missing' });
  }
  const currency = p.currency ?? customer.currency ?? [...ctx.all('invoiceitems')].find((ii) => ii.customer === customer.id && !ii.invoice)?.currency ?? 'usd';
  const inv = draftInvoice(ctx, {
    customer, currency, billingReason: 'manual', collectionMethod: p.collection_method, daysUntilDue: p.days_until_due,
    subscription, lines: [], description: p.description, metadata: p.metadata || {}, defaultPaymentMethod: p.default_payment_method,
    autoAdvance: p.auto_advance ?? false, defaultTaxRates: requireTaxRates(ctx, p.default_tax_rates, 'default_tax_rates'),
  }, p.pending_invoice_items_behavior === 'include');
  const discounts = applyDiscounts(ctx, p, { customer: customer.id, invoice: inv.id });
  const connect = { application_fee_amount: p.application_fee_amount, transfer_data: p.transfer_data, on_behalf_of: p.on_behalf_of };
  if (Object.values(connect).some((v) => v !== undefined)) {
    checkConnectParams(ctx, connect, undefined);
    ctx.put(CONNECT_OF_INVOICE, { id: inv.id, ...connect });
  }
  const next = withTotals(ctx, {
    ...inv, discounts, due_date: p.due_date ?? inv.due_date, footer: p.footer ?? null, statement_descriptor: p.statement_descriptor ?? null,
    on_behalf_of: p.on_behalf_of ?? inv.on_behalf_of,
  });
  ctx.put('invoices', next);
  return next;
}

function updateInvoice(ctx: Ctx, inv: StripeObject, p: Params): StripeObject {
  const always = ['metadata', 'description', 'footer', 'expand', 'auto_advance'];
  if (inv.status !== 'draft' && Object.keys(p).some((k) => !always.includes(k))) requireDraft(inv);
  const next = ctx.edit(inv);
  const previous = applyUpdate(next, p, ['discounts', 'default_tax_rates']);
  if (p.default_tax_rates !== undefined) {
    previous.default_tax_rates = inv.default_tax_rates;
    next.default_tax_rates = requireTaxRates(ctx, p.default_tax_rates, 'default_tax_rates');
  }
  if (p.discounts !== undefined) {
    previous.discounts = inv.discounts;
    next.discounts = p.discounts === '' ? [] : applyDiscounts(ctx, { discounts: p.discounts }, { customer: inv.customer, invoice: inv.id });
  }
  return saveUpdate(ctx, 'invoices', withTotals(ctx, next), previous, 'invoice.updated');
}

function deleteInvoice(ctx: Ctx, inv: StripeObject): StripeObject {
  requireDraft(inv, 'delete');
  for (const l of inv.lines.data) {
    const itemId = l.parent?.invoice_item_details?.invoice_item;
    const ii = itemId && ctx.get('invoiceitems', itemId);
    if (ii) ctx.put('invoiceitems', { ...ii, invoice: null });
  }
  return deleteObject(ctx, 'invoices', inv, 'invoice.deleted');
}

const invoiceDeclaration = {
  collection: 'invoices', object: 'invoice', prefix: 'in', noun: 'invoice', path: '/v1/invoices', permission: 'invoices',
  searchFields: ['created', 'currency', 'customer', 'number', 'receipt_number', 'status', 'total', 'subscription=parent.subscription_details.subscription'],
  listFilters: {
    customer: equals('customer'),
    status: equals('status'),
    collection_method: equals('collection_method'),
    subscription: (v: string) => (o: StripeObject) => o.parent?.subscription_details?.subscription === v,
  },
  virtual: {
    payments: (ctx: Ctx, inv: StripeObject) =>
      listOf([...ctx.all('invoice_payments')].filter((p) => p.invoice === inv.id).reverse(), `/v1/invoice_payments?invoice=${inv.id}`),
  },
};

const invoiceAction = (name: string, handle: Operation['handle']): Operation => ({
  method: 'POST', path: `/v1/invoices/{invoice}/${name}`, permission: 'invoices', handle,
});
const loadInvoice = (ctx: Ctx, path: Record<string, string>) => ctx.require('invoices', path.invoice, 'invoice', 'invoice');

export const invoices: Resource = {
  ...invoiceDeclaration,
  operations: [
    ...patchSpec(
      patchSpec(standardOperations(invoiceDeclaration, { idParam: 'invoice', create: createInvoice, update: updateInvoice, del: deleteInvoice, search: true }),
        'POST', '/v1/invoices', { add: { discounts: DISCOUNTS_PARAM } }),
      'POST', '/v1/invoices/{invoice}', { add: { discounts: DISCOUNTS_PARAM } }),
    invoiceAction('finalize', (ctx, p, path) => {
      const inv = finalizeInvoice(ctx, loadInvoice(ctx, path));
      return p.auto_advance === undefined ? inv : ctx.put('invoices', { ...inv, auto_advance: p.auto_advance });
    }),
    invoiceAction('pay', (ctx, p, path) => {
      let inv = loadInvoice(ctx, path);
      if (inv.status === 'draft') inv = finalizeInvoice(ctx, inv);
      if (inv.status === 'paid') throw invalidRequest('Invoice is already paid', { code: 'invoice_already_paid' });
      if (inv.status !== 'open') throw invalidRequest(`You cannot pay an invoice with a status of ${inv.status}.`, { code: 'invoice_not_editable' });
      if (p.paid_out_of_band) return markPaid(ctx, inv, true);
      const attempt = attemptPayment(ctx, inv, { paymentMethod: p.payment_method, offSession: p.off_session ?? true });
      if (attempt.failure) throw attempt.failure;
      return ctx.get('invoices', inv.id);
    }),
    invoiceAction('void', (ctx, _p, path) => voidInvoice(ctx, loadInvoice(ctx, path))),
    invoiceAction('mark_uncollectible', (ctx, _p, path) => closeInvoice(ctx, loadInvoice(ctx, path), 'uncollectible')),
    invoiceAction('send', (ctx, _p, path) => {
      const inv = loadInvoice(ctx, path);
      if (inv.collection_method !== 'send_invoice') throw invalidRequest('You can only manually send an invoice if its collection method is `send_invoice`.', { code: 'invoice_not_editable' });
      if (inv.status === 'draft') throw invalidRequest('You can only send a finalized invoice.', { code: 'invoice_not_editable' });
      ctx.emit('invoice.sent', inv);
      return inv;
    }),
    {
      method: 'GET', path: '/v1/invoices/{invoice}/lines', permission: 'invoices',
      handle: (ctx, p, path) => {
        const inv = loadInvoice(ctx, path);
        return pageOf(inv.lines.data, p, `/v1/invoices/${inv.id}/lines`);
      },
    },
  ],
};

/** Paginates an embedded array of objects (invoice lines, Checkout line items). */
export function pageOf(items: StripeObject[], p: Params, url: string): ReturnType<typeof listOf> {
  const limit = p.limit ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest('Invalid limit: must be between 1 and 100', { param: 'limit' });
  let start = 0;
  if (p.starting_after) start = items.findIndex((i) => i.id === p.starting_after) + 1;
  let end = items.length;
  if (p.ending_before) end = Math.max(0, items.findIndex((i) => i.id === p.ending_before));
  const from = p.ending_before && !p.starting_after ? Math.max(start, end - limit) : start;
  const data = items.slice(from, Math.min(end, from + limit));
  return listOf(data, url, p.ending_before && !p.starting_after ? from > start : from + limit < end);
}

export const invoicePayments: Resource = {
  collection: 'invoice_payments', object: 'invoice_payment', prefix: 'inpay', noun: 'invoice_payment', path: '/v1/invoice_payments', permission: 'invoices',
  operations: [
    {
      method: 'GET', path: '/v1/invoice_payments', permission: 'invoices',
      params: { t: 'o', p: { invoice: { t: 's' }, limit: { t: 'i' }, starting_after: { t: 's' }, ending_before: { t: 's' }, expand: { t: 'a', i: { t: 's' } }, status: { t: 's' } } },
      handle: (ctx, p) => paginate(ctx.collection('invoice_payments'), p, '/v1/invoice_payments', 'invoice_payment', [
        (o) => !p.invoice || o.invoice === p.invoice,
        (o) => !p.status || o.status === p.status,
      ]),
    },
    {
      method: 'GET', path: '/v1/invoice_payments/{invoice_payment}', permission: 'invoices', params: { t: 'o', p: { expand: { t: 'a', i: { t: 's' } } } },
      handle: (ctx, _p, path) => ctx.require('invoice_payments', path.invoice_payment, 'invoice_payment', 'id'),
    },
  ],
};

// Invoice items

function createInvoiceItem(ctx: Ctx, p: Params): StripeObject {
  const customer = ctx.require('customers', p.customer, 'customer', 'customer');
  if (customer.test_clock) ctx.setNow(ctx.require('test_clocks', customer.test_clock, 'test_clock').frozen_time);
  const priceId = p.pricing?.price ?? p.price;
  const price = priceId ? ctx.require('prices', priceId, 'price', p.pricing ? 'pricing[price]' : 'price') : null;
  const quantity = p.quantity ?? 1;
  const decimal = p.unit_amount_decimal ?? p.price_data?.unit_amount_decimal;
  const unit = price?.unit_amount ?? p.price_data?.unit_amount ?? p.unit_amount ?? (decimal !== undefined ? Number(decimal) : null);
  const amount = p.amount ?? (unit !== null ? Math.round(unit * quantity) : undefined);
  if (amount === undefined) throw invalidRequest('Missing required param: amount.', { param: 'amount', code: 'parameter_missing' });
  const currency = (price?.currency ?? p.currency ?? p.price_data?.currency)?.toLowerCase();
  if (!currency) throw invalidRequest('Missing required param: currency.', { param: 'currency', code: 'parameter_missing' });
  const invoice = p.invoice ? ctx.require('invoices', p.invoice, 'invoice', 'invoice') : null;
  if (invoice) requireDraft(invoice, 'add invoice items to');
  const subscription = p.subscription ? ctx.require('subscriptions', p.subscription, 'subscription', 'subscription') : null;
  const now = ctx.now();
  const ii: StripeObject = {
    id: newId('ii'),
    object: 'invoiceitem',
    amount,
    currency,
    customer: customer.id,
    customer_account: null,
    date: now,
    description: p.description ?? (price ? null : null),
    discountable: p.discountable ?? true,
    discounts: [],
    invoice: invoice?.id ?? null,
    livemode: false,
    metadata: p.metadata || {},
    net_amount: amount,
    parent: subscription ? { subscription_details: { subscription: subscription.id, subscription_item: null }, type: 'subscription_details' } : null,
    period: p.period ?? { end: now, start: now },
    pricing: price ? { price_details: { price: price.id, product: price.product }, type: 'price_details', unit_amount_decimal: price.unit_amount_decimal } : null,
    proration: false,
    proration_details: { credited_items: null },
    quantity,
    quantity_decimal: String(quantity),
    tax_rates: requireTaxRates(ctx, p.tax_rates, 'tax_rates'),
    test_clock: customer.test_clock ?? null,
  };
  ctx.put('invoiceitems', ii);
  ctx.emit('invoiceitem.created', ii);
  if (invoice) addLine(ctx, invoice, invoiceItemLine(ii));
  return ii;
}

function addLine(ctx: Ctx, invoice: StripeObject, spec: LineSpec): void {
  const next = { ...invoice, lines: { ...invoice.lines, data: [...invoice.lines.data, line(ctx, invoice.id, spec)] } };
  ctx.put('invoices', withTotals(ctx, next));
}

/** A proration or other pending charge for a subscription's next invoice. */
export function addPendingItem(ctx: Ctx, f: { customer: StripeObject; subscription: StripeObject; subscriptionItem: string; amount: number; currency: string; description: string; period: { start: number; end: number }; price: StripeObject; quantity: number; taxRates?: StripeObject[] }): StripeObject {
  const ii: StripeObject = {
    id: newId('ii'),
    object: 'invoiceitem',
    amount: f.amount,
    currency: f.currency,
    customer: f.customer.id,
    customer_account: null,
    date: ctx.now(),
    description: f.description,
    discountable: false,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    net_amount: f.amount,
    parent: { subscription_details: { subscription: f.subscription.id, subscription_item: f.subscriptionItem }, type: 'subscription_details' },
    period: f.period,
    pricing: { price_details: { price: f.price.id, product: f.price.product }, type: 'price_details', unit_amount_decimal: f.price.unit_amount_decimal },
    proration: true,
    proration_details: { credited_items: null },
    quantity: f.quantity,
    quantity_decimal: String(f.quantity),
    tax_rates: f.taxRates ?? [],
    test_clock: f.customer.test_clock ?? null,
  };
  ctx.put('invoiceitems', ii);
  ctx.emit('invoiceitem.created', ii);
  return ii;
}

function checkEditable(ctx: Ctx, ii: StripeObject): StripeObject | null {
  const invoice = ii.invoice ? ctx.get('invoices', ii.invoice) : null;
  if (invoice && invoice.status !== 'draft') {
    throw invalidRequest('You cannot modify an invoice item that is attached to a finalized invoice.', { code: 'invoice_not_editable' });
  }
  return invoice ?? null;
}

function replaceLine(ctx: Ctx, invoice: StripeObject, ii: StripeObject | null, itemId: string): void {
  const data = invoice.lines.data.flatMap((l: StripeObject) => {
    if (l.parent?.invoice_item_details?.invoice_item !== itemId) return [l];
    return ii ? [{ ...line(ctx, invoice.id, invoiceItemLine(ii)), id: l.id }] : [];
  });
  ctx.put('invoices', withTotals(ctx, { ...invoice, lines: { ...invoice.lines, data } }));
}

const invoiceItemDeclaration = {
  collection: 'invoiceitems', object: 'invoiceitem', prefix: 'ii', noun: 'invoiceitem', path: '/v1/invoiceitems', permission: 'invoices',
  listFilters: {
    customer: equals('customer'),
    invoice: equals('invoice'),
    pending: (v: boolean) => (o: StripeObject) => (o.invoice === null) === v,
  },
};

const PRICING_PARAM: ParamSchema = { t: 'o', p: { price: { t: 's' } } };

export const invoiceItems: Resource = {
  ...invoiceItemDeclaration,
  operations: patchSpec(standardOperations(invoiceItemDeclaration, {
    idParam: 'invoiceitem',
    create: createInvoiceItem,
    update: (ctx, ii, p) => {
      const invoice = checkEditable(ctx, ii);
      const next = ctx.edit(ii);
      const previous = applyUpdate(next, p, ['tax_rates']);
      if (p.tax_rates !== undefined) {
        previous.tax_rates = ii.tax_rates;
        next.tax_rates = requireTaxRates(ctx, p.tax_rates, 'tax_rates');
      }
      if (p.quantity !== undefined && p.amount === undefined && next.pricing) {
        const price = ctx.get('prices', next.pricing.price_details.price);
        if (price?.unit_amount !== null && price) next.amount = price.unit_amount * p.quantity;
      }
      next.quantity_decimal = String(next.quantity);
      next.net_amount = next.amount;
      if (invoice) replaceLine(ctx, invoice, next, ii.id);
      return saveUpdate(ctx, 'invoiceitems', next, previous, 'invoiceitem.updated');
    },
    del: (ctx, ii) => {
      const invoice = checkEditable(ctx, ii);
      if (invoice) replaceLine(ctx, invoice, null, ii.id);
      return deleteObject(ctx, 'invoiceitems', ii, 'invoiceitem.deleted');
    },
  }), 'POST', '/v1/invoiceitems', { add: { pricing: PRICING_PARAM, discounts: DISCOUNTS_PARAM } }),
};
