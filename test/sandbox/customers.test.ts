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

describe('customers through the stripe SDK', () => {
  it('creates a customer with pm_card_visa as its default payment method', async () => {
    const customer = await stripe.customers.create({
      email: 'jenny@example.com',
      name: 'Jenny Rosen',
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
      metadata: { plan: 'pro' },
    });
    assert.match(customer.id, /^cus_[A-Za-z0-9]{14}$/);
    assert.equal(customer.object, 'customer');
    assert.equal(customer.livemode, false);
    const pmId = customer.invoice_settings.default_payment_method as string;
    assert.match(pmId, /^pm_/);
    const pm = await stripe.paymentMethods.retrieve(pmId);
    assert.equal(pm.customer, customer.id);
    assert.equal(pm.card?.brand, 'visa');
    assert.equal(pm.card?.last4, '4242');
    const listed = await stripe.customers.listPaymentMethods(customer.id);
    assert.deepEqual(listed.data.map((p) => p.id), [pmId]);
    const expanded = await stripe.customers.retrieve(customer.id, { expand: ['invoice_settings.default_payment_method'] });
    assert.equal(((expanded as Stripe.Customer).invoice_settings.default_payment_method as Stripe.PaymentMethod).id, pmId);
  });

  it('updates metadata with Stripe semantics: merge, empty string removes a key, empty metadata clears', async () => {
    const c = await stripe.customers.create({ metadata: { a: '1', b: '2' } });
    const u1 = await stripe.customers.update(c.id, { metadata: { b: '', c: '3' } });
    assert.deepEqual(u1.metadata, { a: '1', c: '3' });
    const u2 = await stripe.customers.update(c.id, { metadata: '' as any });
    assert.deepEqual(u2.metadata, {});
  });

  it('deletes a customer and answers its deletion stub', async () => {
    const c = await stripe.customers.create({ email: 'gone@example.com' });
    const deleted = await stripe.customers.del(c.id);
    assert.deepEqual(deleted, { id: c.id, object: 'customer', deleted: true });
    const again = await stripe.customers.retrieve(c.id);
    assert.equal((again as Stripe.DeletedCustomer).deleted, true);
    const err = await stripeError(() => stripe.customers.update(c.id, { name: 'x' }));
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'resource_missing');
  });

  it('answers a missing customer with resource_missing and the id in the message', async () => {
    const err = await stripeError(() => stripe.customers.retrieve('cus_doesnotexist'));
    assert.equal(err.type, 'StripeInvalidRequestError');
    assert.equal(err.statusCode, 404);
    assert.equal(err.message, "No such customer: 'cus_doesnotexist'");
    assert.equal(err.param, 'id');
  });

  it('paginates newest first with starting_after, ending_before and has_more', async () => {
    const tag = `page-${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await stripe.customers.create({ email: `${tag}-${i}@example.com` })).id);
    const newestFirst = [...created].reverse();
    const page1 = await stripe.customers.list({ limit: 3 });
    assert.deepEqual(page1.data.map((c) => c.id), newestFirst.slice(0, 3));
    assert.equal(page1.has_more, true);
    assert.equal(page1.url, '/v1/customers');
    const page2 = await stripe.customers.list({ limit: 3, starting_after: page1.data[2].id });
    assert.deepEqual(page2.data.map((c) => c.id), newestFirst.slice(3, 6));
    const back = await stripe.customers.list({ limit: 2, ending_before: page2.data[0].id });
    assert.deepEqual(back.data.map((c) => c.id), newestFirst.slice(1, 3));
    const all: string[] = [];
    for await (const c of stripe.customers.list({ limit: 2 })) if (c.email?.startsWith(tag)) all.push(c.id);
    assert.deepEqual(all, newestFirst);
    const byEmail = await stripe.customers.list({ email: `${tag}-4@example.com` });
    assert.deepEqual(byEmail.data.map((c) => c.id), [created[4]]);
  });

  it('refuses a limit outside 1..100', async () => {
    const err = await stripeError(() => stripe.customers.list({ limit: 101 }));
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, 'limit');
  });

  it('searches with the query language, metadata included', async () => {
    const tag = `s${Date.now()}`;
    const a = await stripe.customers.create({ email: `${tag}@example.com`, name: 'Ada Lovelace', metadata: { tier: tag } });
    await stripe.customers.create({ email: `other-${tag}@example.com`, name: 'Grace Hopper' });
    const byEmail = await stripe.customers.search({ query: `email:'${tag}@example.com'` });
    assert.equal(byEmail.object, 'search_result');
    assert.deepEqual(byEmail.data.map((c) => c.id), [a.id]);
    const byMeta = await stripe.customers.search({ query: `metadata['tier']:'${tag}' AND name~'love'` });
    assert.deepEqual(byMeta.data.map((c) => c.id), [a.id]);
    const err = await stripeError(() => stripe.customers.search({ query: `nosuchfield:'x'` }));
    assert.equal(err.statusCode, 400);
    assert.equal(err.param, 'query');
  });

  it('validates parameters as Stripe does', async () => {
    const unknown = await stripeError(() => stripe.customers.create({ nickname: 'x' } as any));
    assert.equal(unknown.message, 'Received unknown parameter: nickname');
    assert.equal(unknown.param, 'nickname');
    const nested = await stripeError(() => stripe.customers.create({ address: { planet: 'Mars' } } as any));
    assert.equal(nested.message, 'Received unknown parameter: address[planet]');
    const badInt = await stripeError(() => stripe.customers.create({ balance: 'lots' } as any));
    assert.equal(badInt.message, 'Invalid integer: lots');
    assert.equal(badInt.param, 'balance');
    const badEnum = await stripeError(() => stripe.customers.create({ tax_exempt: 'sometimes' } as any));
    assert.equal(badEnum.param, 'tax_exempt');
    assert.match(badEnum.message, /must be one of exempt, none, or reverse/);
  });
});

describe('catalogue', () => {
  it('creates products with a default price, recurring prices, and searches them', async () => {
    const product = await stripe.products.create({ name: 'Pro plan', default_price_data: { currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } } });
    assert.match(product.id, /^prod_/);
    const price = await stripe.prices.retrieve(product.default_price as string, { expand: ['product'] });
    assert.equal(price.type, 'recurring');
    assert.equal(price.recurring?.interval, 'month');
    assert.equal((price.product as Stripe.Product).name, 'Pro plan');
    const once = await stripe.prices.create({ product: product.id, currency: 'eur', unit_amount: 500, lookup_key: `lk_${Date.now()}` });
    assert.equal(once.type, 'one_time');
    const listed = await stripe.prices.list({ product: product.id, type: 'one_time' });
    assert.deepEqual(listed.data.map((p) => p.id), [once.id]);
    const found = await stripe.prices.search({ query: `product:'${product.id}' AND currency:'eur'` });
    assert.deepEqual(found.data.map((p) => p.id), [once.id]);
    const err = await stripeError(() => stripe.prices.create({ currency: 'usd', unit_amount: 100 } as any));
    assert.equal(err.param, 'product');
  });

  it('creates coupons with percent_off or amount_off', async () => {
    const c = await stripe.coupons.create({ percent_off: 25, duration: 'repeating', duration_in_months: 3 });
    assert.equal(c.percent_off, 25);
    const err = await stripeError(() => stripe.coupons.create({ duration: 'once' }));
    assert.equal(err.statusCode, 400);
    const fixed = await stripe.coupons.create({ id: `FIVE${Date.now()}`, amount_off: 500, currency: 'usd' });
    assert.equal(fixed.amount_off, 500);
    assert.equal((await stripe.coupons.del(fixed.id)).deleted, true);
  });
});
