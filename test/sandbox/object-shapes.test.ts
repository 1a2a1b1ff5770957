/**
 * Contract: every object the sandbox returns carries every top-level field
 * of Stripe's current object shape: the fields of Stripe's own fixtures and
 * every always-present field of the `stripe` package's TypeScript type
 * (both lists taken by `npm run gen:spec`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';
import { objectsOfEveryKind } from './flows.js';

const KEYS = JSON.parse(readFileSync(new URL('../fixtures/stripe-object-keys.json', import.meta.url), 'utf8')) as Record<string, string[]>;
/** Every always-present field of the SDK's TypeScript type (the current version's shape). */
const SDK_KEYS = JSON.parse(readFileSync(new URL('../fixtures/stripe-sdk-object-keys.json', import.meta.url), 'utf8')) as Record<string, string[]>;

let h: Harness;
harnessPerFile((x) => (h = x));

/** Fields Stripe includes only on request (`expand[]=refunds`), so absent by default as in Stripe. */
const INCLUDABLE: Record<string, string[]> = { charge: ['refunds'] };

function missing(obj: Record<string, unknown>, type: string): string[] {
  const keys = new Set([...(KEYS[type] ?? []), ...(SDK_KEYS[type] ?? [])]);
  assert.ok(keys.size, `no field list for ${type}`);
  return [...keys].filter((k) => !(k in obj) && !INCLUDABLE[type]?.includes(k));
}

it('returns objects with every field of Stripe’s shape', async () => {
  const s = h.stripe;
  const customer = await s.customers.create({ email: 'shape@example.com', payment_method: 'pm_card_visa' });
  const product = await s.products.create({ name: 'Shape' });
  const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000 });
  const coupon = await s.coupons.create({ percent_off: 10 });
  const pm = await s.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: 2040, cvc: '314' } });
  const pi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
  const si = await s.setupIntents.create({ payment_method: 'pm_card_visa' });
  const charge = await s.charges.retrieve(pi.latest_charge as string);
  const refundPi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
  const refund = await s.refunds.create({ payment_intent: refundPi.id, amount: 100 });
  const txn = await s.balanceTransactions.retrieve(charge.balance_transaction as string);
  const dispute = (await s.disputes.list({ payment_intent: pi.id })).data[0];
  const event = (await s.events.list({ limit: 1 })).data[0];
  const balance = await s.balance.retrieve();
  const token = await s.tokens.create({ card: { number: '4242424242424242', exp_month: '1', exp_year: '2040', cvc: '314' } } as any);
  const recurring = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
  const subscription = await s.subscriptions.create({ customer: customer.id, items: [{ price: recurring.id }] });
  const invoice = await s.invoices.retrieve(subscription.latest_invoice as string);
  const invoiceitem = await s.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
  const promotionCode = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id } });
  const clock = await s.testHelpers.testClocks.create({ frozen_time: 2_000_000_000 });
  const endpoint = await s.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['*'] });
  const session = await s.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com', line_items: [{ price: price.id, quantity: 1 }] });
  const link = await s.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  const taxRate = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: true });
  const funded = await s.paymentIntents.create({ amount: 50_000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
  assert.equal(funded.status, 'succeeded');
  const payout = await s.payouts.create({ amount: 100, currency: 'usd' });
  const taxId = await s.customers.createTaxId(customer.id, { type: 'eu_vat', value: 'DE123456789' });
  const credit = await s.customers.createBalanceTransaction(customer.id, { amount: -100, currency: 'usd' });
  const plan = await s.plans.create({ product: product.id, currency: 'usd', amount: 700, interval: 'month' });
  const card = await s.customers.createSource(customer.id, { source: 'tok_visa' });
  const warned = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_createIssuerFraudRecord', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
  let warnings = await s.radar.earlyFraudWarnings.list({ payment_intent: warned.id });
  for (let i = 0; !warnings.data.length && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    warnings = await s.radar.earlyFraudWarnings.list({ payment_intent: warned.id });
  }
  // Connect's objects (issue 20), all from the flows of the conformance test.
  const connect = Object.fromEntries((await objectsOfEveryKind(s, Stripe.API_VERSION)).filter(([type]) =>
    ['account', 'application_fee', 'fee_refund', 'transfer', 'transfer_reversal', 'account_link', 'login_link', 'account_session', 'capability', 'bank_account'].includes(type)));
  const objects: Record<string, object> = {
    ...connect,
    plan, card, 'radar.early_fraud_warning': warnings.data[0], tax_rate: taxRate, payout, tax_id: taxId, customer_balance_transaction: credit, line_item: invoice.lines.data[0],
    customer, product, price, coupon, payment_method: pm, payment_intent: pi, setup_intent: si, charge, refund, balance_transaction: txn, dispute, event, balance, token,
    subscription, subscription_item: subscription.items.data[0], invoice, invoiceitem, promotion_code: promotionCode, 'test_helpers.test_clock': clock,
    webhook_endpoint: endpoint, 'checkout.session': session, payment_link: link,
  };
  const gaps: Record<string, string[]> = {};
  for (const [type, obj] of Object.entries(objects)) {
    const m = missing(obj as Record<string, unknown>, type);
    if (m.length) gaps[type] = m;
    if (type !== 'balance') assert.equal((obj as { object: string }).object, type);
  }
  // Every kind the SDK's types list is checked here (a kind added to gen:spec without an object here would pass unseen).
  assert.deepEqual(Object.keys(SDK_KEYS).filter((type) => !(type in objects)), []);
  assert.deepEqual(gaps, {});
  const err = await stripeError(() => s.customers.retrieve('cus_missing'));
  const raw = err.raw as Record<string, unknown>;
  assert.deepEqual([raw.type, raw.code, raw.param, raw.message], ['invalid_request_error', 'resource_missing', 'id', "No such customer: 'cus_missing'"]);
  assert.match(String(raw.doc_url), /^https:\/\/stripe\.com\/docs\/error-codes\/resource-missing$/);
});
