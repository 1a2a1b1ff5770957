import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
});

const DAY = 86_400;
const T0 = Date.UTC(2030, 0, 15, 12) / 1000;

async function monthlyPrice(amount = 1500) {
  const product = await stripe.products.create({ name: 'Pro plan' });
  return stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: amount, recurring: { interval: 'month' } });
}

async function customerWith(pm: string, extra: Stripe.CustomerCreateParams = {}) {
  return stripe.customers.create({ email: 'billing@example.com', payment_method: pm, invoice_settings: { default_payment_method: pm }, ...extra });
}

async function advance(clock: Stripe.TestHelpers.TestClock, to: number) {
  const advancing = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
  assert.equal(advancing.status, 'advancing');
  let ready = await stripe.testHelpers.testClocks.retrieve(clock.id);
  while (ready.status !== 'ready') ready = await stripe.testHelpers.testClocks.retrieve(clock.id);
  assert.equal(ready.frozen_time, to);
  return ready;
}

async function eventTypes(since: number, object?: string) {
  const events = await stripe.events.list({ limit: 100, created: { gte: since } });
  return events.data.filter((e) => !object || (e.data.object as { id: string }).id === object).map((e) => e.type).reverse();
}

describe('subscriptions', () => {
  it('creates an active subscription whose first invoice is paid (billing_reason subscription_create)', async () => {
    const price = await monthlyPrice();
    const customer = await customerWith('pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 2 }], expand: ['latest_invoice.payments'] });
    assert.equal(sub.status, 'active');
    assert.match(sub.id, /^sub_/);
    assert.equal(sub.items.data.length, 1);
    const item = sub.items.data[0];
    assert.match(item.id, /^si_/);
    assert.equal(item.quantity, 2);
    assert.equal(item.price.id, price.id);
    assert.equal(item.plan.amount, 1500);
    assert.ok(item.current_period_end > item.current_period_start);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.billing_reason, 'subscription_create');
    assert.equal(invoice.status, 'paid');
    assert.equal(invoice.amount_paid, 3000);
    assert.equal(invoice.parent?.subscription_details?.subscription, sub.id);
    assert.match(invoice.number!, /^[A-Z0-9]+-0001$/);
    assert.match(invoice.hosted_invoice_url!, /\/_sandbox\/invoices\/in_/);
    assert.equal(invoice.lines.data[0].amount, 3000);
    assert.equal(invoice.lines.data[0].description, '2 × Pro plan (at $15.00 / month)');
    const payment = invoice.payments!.data[0];
    const pi = await stripe.paymentIntents.retrieve(payment.payment.payment_intent as string);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount, 3000);
    const found = await stripe.subscriptions.search({ query: `status:'active'` });
    assert.ok(found.data.some((s) => s.id === sub.id));
    const invoices = await stripe.invoices.search({ query: `subscription:'${sub.id}'` });
    assert.deepEqual(invoices.data.map((i) => i.id), [invoice.id]);
  });

  it('leaves a subscription incomplete when the first payment is declined, and activates it when paid', async () => {
    const price = await monthlyPrice();
    const customer = await customerWith('pm_card_chargeCustomerFail');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    assert.equal(sub.status, 'incomplete');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.status, 'open');
    assert.equal(invoice.attempt_count, 1);
    const failed = await stripeError(() => stripe.invoices.pay(invoice.id));
    assert.equal(failed.statusCode, 402);
    assert.equal(failed.decline_code, 'generic_decline');
    const pm = await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: pm.id });
    assert.equal(paid.status, 'paid');
    assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');
  });

  it('refuses error_if_incomplete with a declining card and creates nothing', async () => {
    const price = await monthlyPrice();
    const customer = await customerWith('pm_card_chargeCustomerFail');
    const err = await stripeError(() => stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'error_if_incomplete' }));
    assert.equal(err.statusCode, 402);
    assert.equal(err.decline_code, 'generic_decline');
    const attach = await stripeError(() => stripe.paymentMethods.attach('pm_card_chargeDeclinedInsufficientFunds', { customer: customer.id }));
    assert.equal(attach.decline_code, 'insufficient_funds', 'Stripe checks cards on attach');
    const subs = await stripe.subscriptions.list({ customer: customer.id, status: 'all' });
    assert.equal(subs.data.length, 0);
  });

  it('default_incomplete waits for the client to confirm the invoice payment', async () => {
    const price = await monthlyPrice();
    const customer = await stripe.customers.create({ email: 'later@example.com' });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], payment_behavior: 'default_incomplete', expand: ['latest_invoice.confirmation_secret'] });
    assert.equal(sub.status, 'incomplete');
    const secret = (sub.latest_invoice as Stripe.Invoice).confirmation_secret!.client_secret;
    const piId = secret.split('_secret_')[0];
    const pi = await stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' });
    assert.equal(pi.status, 'succeeded');
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    assert.equal(after.status, 'active');
    assert.equal((after.latest_invoice as Stripe.Invoice).status, 'paid');
  });

  it('starts trials with a $0 invoice and bills when the trial ends', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const price = await monthlyPrice(2000);
    const customer = await customerWith('pm_card_visa', { test_clock: clock.id });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], trial_period_days: 14, expand: ['latest_invoice'] });
    assert.equal(sub.status, 'trialing');
    assert.equal(sub.trial_end, T0 + 14 * DAY);
    assert.equal((sub.latest_invoice as Stripe.Invoice).amount_due, 0);
    assert.equal((sub.latest_invoice as Stripe.Invoice).status, 'paid');
    await advance(clock, T0 + 15 * DAY);
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    assert.equal(after.status, 'active');
    const invoice = after.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.billing_reason, 'subscription_cycle');
    assert.equal(invoice.amount_paid, 2000);
    assert.equal(after.items.data[0].current_period_start, T0 + 14 * DAY);
    const types = await eventTypes(T0, sub.id);
    assert.ok(types.includes('customer.subscription.trial_will_end'));
  });

  it('renews through a test clock: one paid renewal, then a failing one goes past_due with invoice.payment_failed and dunning', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'renewals' });
    const price = await monthlyPrice(1000);
    const customer = await customerWith('pm_card_visa', { test_clock: clock.id });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const firstEnd = sub.items.data[0].current_period_end;
    assert.equal(firstEnd, Date.UTC(2030, 1, 15, 12) / 1000);

    await advance(clock, firstEnd + DAY);
    let current = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    assert.equal(current.status, 'active');
    assert.equal((current.latest_invoice as Stripe.Invoice).status, 'paid');
    assert.equal((current.latest_invoice as Stripe.Invoice).billing_reason, 'subscription_cycle');
    const secondEnd = current.items.data[0].current_period_end;
    assert.equal(secondEnd, Date.UTC(2030, 2, 15, 12) / 1000);

    // The card starts failing before the second renewal.
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    await advance(clock, secondEnd + DAY);
    current = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    assert.equal(current.status, 'past_due');
    const failed = current.latest_invoice as Stripe.Invoice;
    assert.equal(failed.status, 'open');
    assert.equal(failed.attempt_count, 1);
    assert.equal(failed.next_payment_attempt, secondEnd + 3 * DAY);
    const events = await stripe.events.list({ type: 'invoice.payment_failed', limit: 5 });
    assert.ok(events.data.some((e) => (e.data.object as Stripe.Invoice).id === failed.id));

    // Retries follow the schedule; after the last, the subscription is canceled (the default setting).
    await advance(clock, secondEnd + 20 * DAY);
    current = await stripe.subscriptions.retrieve(sub.id);
    assert.equal(current.status, 'canceled');
    assert.equal(current.cancellation_details?.reason, 'payment_failed');
    const last = await stripe.invoices.retrieve(failed.id);
    assert.equal(last.attempt_count, 4);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    assert.equal(invoices.data.length, 3);
  });

  it('recovers from past_due when a retry succeeds, and can mark unpaid instead of canceling', async () => {
    await h.http('POST', '/_sandbox/settings', { body: 'subscription_failed_payment_action=mark_unpaid' });
    try {
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
      const price = await monthlyPrice(1000);
      const customer = await customerWith('pm_card_visa', { test_clock: clock.id });
      const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
      const end = sub.items.data[0].current_period_end;
      const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
      await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
      await advance(clock, end + DAY);
      assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'past_due');
      const working = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: working.id } });
      await advance(clock, end + 4 * DAY);
      assert.equal((await stripe.subscriptions.retrieve(sub.id)).status, 'active');

      const sub2 = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], default_payment_method: failing.id });
      assert.equal(sub2.status, 'incomplete');
      await stripe.invoices.pay(sub2.latest_invoice as string, { payment_method: (await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id })).id });
      const end2 = (await stripe.subscriptions.retrieve(sub2.id)).items.data[0].current_period_end;
      await advance(clock, end2 + 25 * DAY);
      assert.equal((await stripe.subscriptions.retrieve(sub2.id)).status, 'unpaid');
    } finally {
      await h.http('POST', '/_sandbox/settings', { body: 'subscription_failed_payment_action=cancel' });
    }
  });

  it('updates quantity and price with prorations, and always_invoice bills them at once', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const basic = await monthlyPrice(1000);
    const premium = await monthlyPrice(3000);
    const customer = await customerWith('pm_card_visa', { test_clock: clock.id });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const { current_period_start: start, current_period_end: end } = sub.items.data[0];
    const half = start + Math.floor((end - start) / 2);
    await advance(clock, half);
    const item = sub.items.data[0];
    const updated = await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, price: premium.id }], proration_behavior: 'create_prorations' });
    assert.equal(updated.items.data[0].price.id, premium.id);
    const pending = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
    assert.equal(pending.data.length, 2);
    const amounts = pending.data.map((ii) => ii.amount).sort((a, b) => a - b);
    assert.equal(amounts[0], -500);
    assert.equal(amounts[1], 1500);
    assert.ok(pending.data.every((ii) => ii.proration));
    // The prorations are billed with the next renewal.
    await advance(clock, end + 3600);
    const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    const renewal = renewed.latest_invoice as Stripe.Invoice;
    assert.equal(renewal.amount_paid, 3000 + 1000);
    assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);

    const bumped = await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, quantity: 2 }], proration_behavior: 'always_invoice', expand: ['latest_invoice'] });
    const immediate = bumped.latest_invoice as Stripe.Invoice;
    assert.equal(immediate.billing_reason, 'subscription_update');
    assert.equal(immediate.status, 'paid');
    // One more seat for the rest of a period that started an hour ago: nearly, not quite, a full 3000.
    assert.ok(immediate.amount_paid > 2950 && immediate.amount_paid < 3000, String(immediate.amount_paid));
    assert.equal(immediate.amount_paid, immediate.lines.data.reduce((sum, l) => sum + l.amount, 0));
    assert.ok(immediate.lines.data.every((l) => l.parent?.invoice_item_details?.proration));

    const none = await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, quantity: 3 }], proration_behavior: 'none' });
    assert.equal(none.items.data[0].quantity, 3);
    assert.equal((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  });

  it('cancels now or at period end, and manages items through /v1/subscription_items', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const price = await monthlyPrice(1000);
    const addon = await monthlyPrice(200);
    const customer = await customerWith('pm_card_visa', { test_clock: clock.id });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const added = await stripe.subscriptionItems.create({ subscription: sub.id, price: addon.id, quantity: 3, proration_behavior: 'none' });
    assert.equal(added.quantity, 3);
    const items = await stripe.subscriptionItems.list({ subscription: sub.id });
    assert.equal(items.data.length, 2);
    await stripe.subscriptionItems.del(added.id, { proration_behavior: 'none' } as Stripe.SubscriptionItemDeleteParams);
    const only = await stripe.subscriptionItems.list({ subscription: sub.id });
    const lastErr = await stripeError(() => stripe.subscriptionItems.del(only.data[0].id));
    assert.match(lastErr.message, /at least one active plan/);

    const atEnd = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    assert.equal(atEnd.cancel_at_period_end, true);
    assert.equal(atEnd.status, 'active');
    await advance(clock, sub.items.data[0].current_period_end + 60);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    assert.equal(ended.status, 'canceled');
    assert.equal(ended.ended_at, sub.items.data[0].current_period_end);

    const sub2 = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const canceled = await stripe.subscriptions.cancel(sub2.id, { cancellation_details: { comment: 'too expensive' } });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_details?.comment, 'too expensive');
    const types = await eventTypes(T0, sub2.id);
    assert.deepEqual(types.filter((t) => t.startsWith('customer.subscription')), ['customer.subscription.created', 'customer.subscription.deleted']);
    const listed = await stripe.subscriptions.list({ customer: customer.id });
    assert.equal(listed.data.length, 0, 'canceled subscriptions are left out unless status is given');
    assert.equal((await stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data.length, 2);
  });

  it('applies coupons and promotion codes as discounts', async () => {
    const price = await monthlyPrice(2000);
    const coupon = await stripe.coupons.create({ percent_off: 25, duration: 'once' });
    const promo = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'LAUNCH25', max_redemptions: 1 });
    assert.equal(promo.promotion.coupon, coupon.id);
    const customer = await customerWith('pm_card_visa');
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], discounts: [{ promotion_code: promo.id }], expand: ['latest_invoice', 'discounts'] });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.subtotal, 2000);
    assert.equal(invoice.total, 1500);
    assert.equal(invoice.total_discount_amounts![0].amount, 500);
    assert.equal((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed, 1);
    assert.equal((await stripe.coupons.retrieve(coupon.id)).times_redeemed, 1);
    const listed = await stripe.promotionCodes.list({ code: 'launch25' });
    assert.equal(listed.data[0].id, promo.id);
    const again = await stripeError(() => stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], discounts: [{ promotion_code: promo.id }] }));
    assert.equal(err(again).code, 'promotion_code_invalid');
  });
});

const err = (e: Stripe.errors.StripeError) => e.raw as { code?: string };

describe('invoices', () => {
  it('drafts, adds items, finalizes with a number, and pays', async () => {
    const customer = await customerWith('pm_card_visa');
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 700, product_data: { name: 'Setup fee' } });
    const pendingItem = await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd', description: 'Consulting' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    assert.equal(invoice.status, 'draft');
    assert.equal(invoice.number, null);
    assert.equal(invoice.total, 300);
    const second = await stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, pricing: { price: price.id }, quantity: 2 });
    assert.equal(second.amount, 1400);
    const lines = await stripe.invoices.listLineItems(invoice.id);
    assert.equal(lines.data.length, 2);
    assert.equal((await stripe.invoiceItems.retrieve(pendingItem.id)).invoice, invoice.id);
    const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
    assert.equal(finalized.status, 'open');
    assert.equal(finalized.amount_due, 1700);
    assert.match(finalized.number!, /-0001$/);
    const editErr = await stripeError(() => stripe.invoiceItems.create({ customer: customer.id, invoice: invoice.id, amount: 1, currency: 'usd' }));
    assert.equal(err(editErr).code, 'invoice_not_editable');
    const paid = await stripe.invoices.pay(invoice.id);
    assert.equal(paid.status, 'paid');
    assert.equal(paid.amount_remaining, 0);
    const page = await fetch(paid.hosted_invoice_url!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /\$17\.00/);
    const pdf = await fetch(paid.invoice_pdf!);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.match(await pdf.text(), /^%PDF-1\./);
  });

  it('sends invoices for send_invoice, voids and marks uncollectible, deletes drafts only', async () => {
    const customer = await stripe.customers.create({ email: 'ap@example.com' });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd' });
    const inv = await stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', days_until_due: 30, pending_invoice_items_behavior: 'include' });
    const open = await stripe.invoices.finalizeInvoice(inv.id);
    assert.equal(open.due_date, open.created + 30 * DAY);
    await stripe.invoices.sendInvoice(inv.id);
    const voided = await stripe.invoices.voidInvoice(inv.id);
    assert.equal(voided.status, 'void');
    const delErr = await stripeError(() => stripe.invoices.del(inv.id));
    assert.equal(err(delErr).code, 'invoice_not_editable');

    await stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
    const inv2 = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', auto_advance: false });
    await stripe.invoices.finalizeInvoice(inv2.id);
    const bad = await stripe.invoices.markUncollectible(inv2.id);
    assert.equal(bad.status, 'uncollectible');
    const outOfBand = await stripe.invoices.pay(inv2.id, { paid_out_of_band: true }).catch((e) => e);
    assert.ok(outOfBand instanceof Error, 'an uncollectible invoice is not payable out of band here');

    const draft = await stripe.invoices.create({ customer: customer.id });
    const deleted = await stripe.invoices.del(draft.id);
    assert.equal(deleted.deleted, true);
    const types = await eventTypes(inv.created, inv.id);
    assert.deepEqual(types, ['invoice.created', 'invoice.finalized', 'invoice.sent', 'invoice.voided']);
  });
});

describe('the older billing APIs integrations still call', () => {
  it('serves plans as recurring prices, plan on subscription items, and a customer’s subscriptions', async () => {
    const stripe = h.stripe;
    const product = await stripe.products.create({ name: 'Legacy gold' });
    const plan = await stripe.plans.create({ id: 'gold-monthly', amount: 2500, currency: 'usd', interval: 'month', product: product.id, nickname: 'Gold' });
    assert.deepEqual([plan.id, plan.object, plan.amount, plan.interval, plan.nickname], ['gold-monthly', 'plan', 2500, 'month', 'Gold']);
    assert.equal((await stripe.prices.retrieve('gold-monthly')).unit_amount, 2500, 'a plan is a price too');
    const inline = await stripe.plans.create({ amount: 900, currency: 'usd', interval: 'year', product: { name: 'Inline product' } });
    assert.equal(typeof inline.product, 'string');
    assert.ok((await stripe.plans.list({ limit: 100 })).data.some((p) => p.id === 'gold-monthly'));
    assert.equal((await stripe.plans.update('gold-monthly', { nickname: 'Gold (2020)' })).nickname, 'Gold (2020)');

    const customer = await stripe.customers.create({ email: 'plans@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ plan: 'gold-monthly' } as Stripe.SubscriptionCreateParams.Item] });
    assert.equal(sub.items.data[0].plan.id, 'gold-monthly');
    assert.equal(sub.status, 'active');
    const listed = await h.http('GET', `/v1/customers/${customer.id}/subscriptions`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.data.map((s: { id: string }) => s.id), [sub.id]);
    assert.equal(listed.json.url, `/v1/customers/${customer.id}/subscriptions`);

    const deleted = await stripe.plans.del(inline.id);
    assert.equal(deleted.deleted, true);
    assert.equal((await stripeError(() => stripe.plans.retrieve(inline.id))).statusCode, 404);
  });
});
