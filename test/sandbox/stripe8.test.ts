/**
 * Another client we did not write: the `stripe` package at major 8 (an npm
 * alias, `stripe8`), pinned to API version 2020-08-27, running an older
 * integration's card flows — a card token, a customer with a card source,
 * legacy charges with and without capture, captures, refunds, a decline, and
 * a subscription billed to the saved card.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { it } from 'node:test';
import { harnessPerFile, type Harness } from '../helpers.js';

// Loaded at run time only: stripe@8's type declarations claim the module name 'stripe' and would shadow today's.
const Stripe8 = createRequire(import.meta.url)('stripe8');

let h: Harness;
harnessPerFile((x) => (h = x));

it('runs legacy charges with tokens and card sources through stripe-node 8', async () => {
  const stripe = new Stripe8('sk_test_stripe8_flows', { apiVersion: '2020-08-27', host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  const token = await stripe.tokens.create({ card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' } });
  assert.match(token.id, /^tok_/);
  assert.equal(token.card.last4, '4242');

  const customer = await stripe.customers.create({ email: 'legacy@example.com', source: token.id });
  assert.match(customer.default_source, /^card_/);
  const sources = await stripe.customers.listSources(customer.id, { object: 'card' });
  assert.deepEqual(sources.data.map((c: { id: string }) => c.id), [customer.default_source]);

  const authorized = await stripe.charges.create({ amount: 4300, currency: 'usd', customer: customer.id, capture: false, description: 'Legacy order' });
  assert.equal(authorized.captured, false);
  assert.equal(authorized.source.id, customer.default_source);
  assert.equal(authorized.payment_intent, null);
  const captured = await stripe.charges.capture(authorized.id, { amount: 1300 });
  assert.equal(captured.amount_captured, 1300);
  const refund = await stripe.refunds.create({ charge: captured.id });
  assert.equal(refund.amount, 1300);

  const direct = await stripe.charges.create({ amount: 999, currency: 'usd', source: 'tok_visa' });
  assert.equal(direct.status, 'succeeded');
  // The legacy refund route, as integrations older than the SDK's helpers call it.
  const refunded = await stripe.charges.update(direct.id, { metadata: { note: 'refund next' } }).then(() =>
    fetch(`${h.sandbox.url}/v1/charges/${direct.id}/refund`, { method: 'POST', headers: { authorization: 'Bearer sk_test_stripe8_flows', 'content-type': 'application/x-www-form-urlencoded', 'stripe-version': '2020-08-27' }, body: 'amount=499' }).then((r) => r.json()));
  assert.equal(refunded.object, 'charge');
  assert.equal(refunded.amount_refunded, 499);

  await assert.rejects(stripe.charges.create({ amount: 500, currency: 'usd', source: 'tok_chargeDeclined' }), (e: { type: string; code: string; raw: { charge: string } }) =>
    e.type === 'StripeCardError' && e.code === 'card_declined' && /^ch_/.test(e.raw.charge));

  const price = await stripe.prices.create({ unit_amount: 1500, currency: 'usd', recurring: { interval: 'month' }, product_data: { name: 'Legacy plan' } });
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { token: (await stripe.tokens.create({ card: { number: '4242424242424242', exp_month: 12, exp_year: 2034 } })).id } });
  await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], default_payment_method: pm.id, expand: ['latest_invoice'] });
  assert.equal(sub.status, 'active');
  assert.equal(sub.latest_invoice.amount_paid, 1500);
});
