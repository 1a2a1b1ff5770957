/**
 * Conformance with Stripe's OpenAPI spec of 2023-08-16 (the bundled
 * ../shared/reference copy): every object kind the sandbox serves, created
 * through a client pinned to 2023-08-16, validates against the spec's
 * schema for it — required fields, types, nullability, enums, and
 * expandable fields as an id or the object — with the spec's own schemas
 * (converted to JSON Schema by `npm run gen:spec`) compiled by Ajv.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import Stripe from 'stripe';
import { harnessPerFile, type Harness } from '../helpers.js';

/** Compiled from the spec by `npm run gen:spec` (the spec itself lives outside the repository). */
const SCHEMAS = JSON.parse(readFileSync(new URL('../fixtures/stripe-openapi-2023-08-16-schemas.json', import.meta.url), 'utf8')) as { served: string[]; $defs: Record<string, unknown> };
const VERSION = '2023-08-16';

let h: Harness;
harnessPerFile((x) => (h = x));
let validators: (kind: string) => ValidateFunction;

before(() => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'stripe', $defs: SCHEMAS.$defs });
  const cache = new Map<string, ValidateFunction>();
  validators = (kind) => {
    let v = cache.get(kind);
    if (!v) cache.set(kind, (v = ajv.compile({ $ref: `stripe#/$defs/${kind}` })));
    return v;
  };
});

/** Every object a 2023-08-16 integration meets, made through the API. */
async function objectsOfEveryKind(s: Stripe): Promise<[string, unknown][]> {
  const customer = await s.customers.create({ email: 'spec@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' }, tax_id_data: [{ type: 'eu_vat', value: 'DE123456789' }] });
  const product = await s.products.create({ name: 'Spec' });
  const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000 });
  const recurring = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
  const plan = await s.plans.create({ product: product.id, currency: 'usd', amount: 700, interval: 'month' });
  const coupon = await s.coupons.create({ percent_off: 10 });
  const promotionCode = await s.promotionCodes.create({ coupon: coupon.id } as unknown as Stripe.PromotionCodeCreateParams);
  const pm = await s.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: 2040, cvc: '314' } });
  const disputed = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true, payment_method_types: ['card'] } as Stripe.PaymentIntentCreateParams);
  const pi = await s.paymentIntents.create({ amount: 20000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, payment_method_types: ['card'] } as Stripe.PaymentIntentCreateParams);
  const si = await s.setupIntents.create({ payment_method: 'pm_card_visa', payment_method_types: ['card'] } as Stripe.SetupIntentCreateParams);
  const charge = await s.charges.retrieve(pi.latest_charge as string);
  const refund = await s.refunds.create({ payment_intent: pi.id, amount: 100 });
  const txn = await s.balanceTransactions.retrieve(charge.balance_transaction as string);
  const dispute = (await s.disputes.list({ payment_intent: disputed.id })).data[0];
  const token = await s.tokens.create({ card: { number: '4242424242424242', exp_month: '1', exp_year: '2040', cvc: '314' } } as Stripe.TokenCreateParams);
  const withCard = await s.customers.create({ source: 'tok_visa' });
  const card = await s.customers.retrieveSource(withCard.id, withCard.default_source as string);
  const legacy = await s.charges.create({ amount: 900, currency: 'usd', source: 'tok_visa' });
  const taxRate = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false });
  const subscription = await s.subscriptions.create({ customer: customer.id, items: [{ price: recurring.id, tax_rates: [taxRate.id] }] });
  const invoice = await s.invoices.retrieve(subscription.latest_invoice as string);
  const invoiceitem = await s.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
  const clock = await s.testHelpers.testClocks.create({ frozen_time: 2_000_000_000 });
  const endpoint = await s.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['*'] });
  const session = await s.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com', line_items: [{ price: price.id, quantity: 1 }] });
  const lineItems = await s.checkout.sessions.listLineItems(session.id);
  const link = await s.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  const account = await s.accounts.create({ type: 'express' });
  const payout = await s.payouts.create({ amount: 500, currency: 'usd' });
  const credit = await s.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd' });
  const taxIds = await s.customers.listTaxIds(customer.id);
  const events = await s.events.list({ limit: 100 });
  const eventOf = (type: string) => events.data.find((e) => e.type === type);
  return [
    ['customer', customer], ['product', product], ['price', price], ['price', recurring], ['plan', plan], ['coupon', coupon], ['promotion_code', promotionCode],
    ['payment_method', pm], ['payment_intent', pi], ['payment_intent', disputed], ['setup_intent', si], ['charge', charge], ['charge', legacy], ['refund', refund],
    ['balance_transaction', txn], ['dispute', dispute], ['token', token], ['card', card], ['tax_rate', taxRate], ['subscription', subscription],
    ['subscription_item', subscription.items.data[0]], ['invoice', invoice], ['line_item', invoice.lines.data[0]], ['invoiceitem', invoiceitem],
    ['test_helpers.test_clock', clock], ['webhook_endpoint', endpoint], ['checkout.session', session], ['item', lineItems.data[0]], ['payment_link', link],
    ['account', account], ['payout', payout], ['customer_balance_transaction', credit], ['tax_id', taxIds.data[0]], ['balance', await s.balance.retrieve()],
    ['event', eventOf('customer.created')], ['event', eventOf('invoice.paid')], ['event', eventOf('charge.dispute.created')],
  ];
}

/**
 * The JSON as the sandbox sent it, by object id: today's SDK turns decimal
 * strings into Decimal values, so its objects are not the wire format.
 */
const wire = new Map<string, unknown>();
function remember(value: unknown): void {
  if (Array.isArray(value)) value.forEach(remember);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.object === 'string' && o.object !== 'list') wire.set(`${o.object}:${o.id}`, o);
    if (o.object === 'balance') wire.set('balance', o);
    Object.values(o).forEach(remember);
  }
}
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  remember(await res.clone().json().catch(() => undefined));
  return res;
};
const onTheWire = (obj: unknown): unknown => {
  const o = obj as { id?: string; object?: string };
  return wire.get(o.object === 'balance' ? 'balance' : `${o.object}:${o.id}`) ?? obj;
};

it(`answers every object kind it serves in the shape of Stripe’s ${VERSION} spec`, async () => {
  const stripe = new Stripe('sk_test_openapi_conformance', { apiVersion: VERSION as Stripe.LatestApiVersion, host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0, httpClient: Stripe.createFetchHttpClient(recordingFetch) });
  await fetch(`${h.sandbox.url}/_sandbox/api_version`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_version: VERSION }) });
  const objects = await objectsOfEveryKind(stripe);
  const failures: string[] = [];
  const kinds = new Set<string>();
  for (const [kind, sdkObject] of objects) {
    kinds.add(kind);
    const obj = onTheWire(sdkObject);
    assert.ok(obj, `no ${kind} to check`);
    const validate = validators(kind);
    if (!validate(obj)) {
      const seen = new Set<string>();
      for (const e of validate.errors ?? []) {
        const line = `${kind}${e.instancePath} ${e.message}${e.params && 'missingProperty' in e.params ? `: ${e.params.missingProperty}` : e.params && 'allowedValues' in e.params ? `: ${JSON.stringify(e.params.allowedValues)}` : ''}`;
        if (!seen.has(line) && !/must match a schema in anyOf|must be null|must be string$/.test(line)) failures.push(line);
        seen.add(line);
      }
      if (!failures.some((f) => f.startsWith(kind))) failures.push(`${kind}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
  }
  assert.deepEqual(SCHEMAS.served.filter((k) => !kinds.has(k)), [], 'every served kind is checked');
  assert.deepEqual(failures, []);
});
