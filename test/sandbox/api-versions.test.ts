/**
 * API versions as Stripe implements them (issue 17): `Stripe-Version` is
 * checked against the published versions, each account has a default,
 * answers are rendered for the request's version, events in the account's
 * version, and a webhook endpoint pinned to a version receives that shape.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

const pinned = (version: string, key = 'sk_test_api_versions') =>
  new Stripe(key, { apiVersion: version as Stripe.LatestApiVersion, host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });

/** A subscription billed at once to a saved card: an invoice paid by a PaymentIntent. */
async function paidSubscription(stripe: Stripe) {
  const customer = await stripe.customers.create({ email: 'versions@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } as Stripe.CustomerCreateParams);
  const product = await stripe.products.create({ name: 'Versioned plan' });
  const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
  return { customer, price, sub };
}

describe('Stripe-Version', () => {
  it('refuses a version Stripe never published, with Stripe’s message', async () => {
    const res = await h.http('GET', '/v1/customers', { headers: { 'stripe-version': 'banana' } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.type, 'invalid_request_error');
    assert.equal(res.json.error.message, 'Invalid Stripe API version: banana');
    const e = await stripeError(() => pinned('2019-13-45').customers.list());
    assert.equal(e.statusCode, 400);
  });

  it('echoes the version asked for, takes beta flags after a semicolon, and answers the account default without one', async () => {
    const asked = await h.http('GET', '/v1/customers', { headers: { 'stripe-version': '2022-11-15' } });
    assert.equal(asked.headers.get('stripe-version'), '2022-11-15');
    const beta = await h.http('GET', '/v1/customers', { headers: { 'stripe-version': '2025-01-27.acacia; checkout_server_update_beta=v1' } });
    assert.equal(beta.status, 200);
    const none = await h.http('GET', '/v1/customers');
    assert.equal(none.headers.get('stripe-version'), Stripe.API_VERSION);
  });

  it('renders a pinned 2022-11-15 client’s objects in that version’s shape', async () => {
    const stripe = pinned('2022-11-15');
    const { sub } = await paidSubscription(stripe);
    const s = sub as any;
    assert.equal(typeof s.current_period_start, 'number', 'subscription.current_period_* are on the subscription before 2025-03-31');
    assert.equal(typeof s.current_period_end, 'number');
    const inv = s.latest_invoice;
    assert.equal(inv.paid, true);
    assert.match(inv.payment_intent, /^pi_/);
    assert.match(inv.charge, /^ch_/);
    assert.equal(inv.subscription, sub.id);
    assert.equal(inv.parent, undefined);
    const line = inv.lines.data[0];
    assert.equal(line.type, 'subscription');
    assert.equal(line.price.object, 'price', 'a line held the Price itself before 2025-03-31');
    const pi = (await stripe.paymentIntents.retrieve(inv.payment_intent)) as any;
    assert.equal(pi.invoice, inv.id);
    assert.equal(pi.charges, undefined, '2022-11-15 itself removed PaymentIntent.charges');
    const older = (await pinned('2022-08-01').paymentIntents.retrieve(inv.payment_intent)) as any;
    assert.equal(older.charges.data[0].id, inv.charge);

    // The same objects under today's version: the newer shape.
    const today = h.stripe;
    const current = (await today.invoices.retrieve(inv.id)) as any;
    assert.equal(current.payment_intent, undefined);
    assert.equal(current.parent.subscription_details.subscription, sub.id);
    const currentSub = (await today.subscriptions.retrieve(sub.id)) as any;
    assert.equal(currentSub.current_period_start, undefined);
    assert.equal(typeof currentSub.items.data[0].current_period_start, 'number');
  });

  it('embeds a PaymentIntent’s charges only before 2022-11-15', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const old = await h.http('GET', `/v1/payment_intents/${pi.id}`, { headers: { 'stripe-version': '2022-08-01' } });
    assert.equal(old.json.charges.data.length, 1);
    const newer = await h.http('GET', `/v1/payment_intents/${pi.id}`, { headers: { 'stripe-version': '2022-11-15' } });
    assert.equal(newer.json.charges, undefined);
    const charge = await h.http('GET', `/v1/charges/${pi.latest_charge}`, { headers: { 'stripe-version': '2020-08-27' } });
    assert.equal(charge.json.refunds.object, 'list', 'charges embed refunds before 2022-11-15');
  });

  it('creates a PaymentIntent for cards only before 2023-08-16 when no payment method types are given', async () => {
    const old = await h.http('POST', '/v1/payment_intents', { body: 'amount=1000&currency=usd', headers: { 'stripe-version': '2022-11-15' } });
    assert.equal(old.json.automatic_payment_methods, null);
    assert.deepEqual(old.json.payment_method_types, ['card']);
    const current = await h.http('POST', '/v1/payment_intents', { body: 'amount=1000&currency=usd' });
    assert.equal(current.json.automatic_payment_methods.enabled, true);
  });

  it('renders a customer’s embedded lists before 2020-08-27, and a product’s features before 2024-04-10', async () => {
    const customer = await h.stripe.customers.create({ email: 'lists@example.com' });
    const old = await h.http('GET', `/v1/customers/${customer.id}`, { headers: { 'stripe-version': '2020-03-02' } });
    assert.equal(old.json.sources.object, 'list');
    assert.equal(old.json.subscriptions.object, 'list');
    const now = await h.http('GET', `/v1/customers/${customer.id}`, { headers: { 'stripe-version': '2020-08-27' } });
    assert.equal(now.json.sources, undefined);
    const product = await h.stripe.products.create({ name: 'Featured', marketing_features: [{ name: 'Fast' }] });
    const before = await h.http('GET', `/v1/products/${product.id}`, { headers: { 'stripe-version': '2023-10-16' } });
    assert.deepEqual(before.json.features, [{ name: 'Fast' }]);
    assert.equal(before.json.marketing_features, undefined);
  });
});

describe('account default versions and webhook endpoint versions', () => {
  it('answers and creates events in the account’s default version; an endpoint pinned to a version receives that shape', async () => {
    const key = 'sk_test_versions_connected';
    const account = (await h.stripe.accounts.create({ type: 'express' })).id;
    const set = await fetch(`${h.sandbox.url}/_sandbox/api_version`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account, api_version: '2022-11-15' }) });
    assert.equal(set.status, 200);
    const refused = await fetch(`${h.sandbox.url}/_sandbox/api_version`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account, api_version: 'banana' }) });
    assert.equal(refused.status, 400);

    const received: any[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const stripe = new Stripe(key, { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0, stripeAccount: account });
      const bad = await stripeError(() => stripe.webhookEndpoints.create({ url, enabled_events: ['*'], api_version: 'banana' as Stripe.LatestApiVersion }));
      assert.equal(bad.statusCode, 400);
      assert.equal((bad as any).param, 'api_version');
      await stripe.webhookEndpoints.create({ url, enabled_events: ['customer.created'], api_version: '2020-03-02' as Stripe.LatestApiVersion });
      await stripe.webhookEndpoints.create({ url: `${url}?plain`, enabled_events: ['customer.created'] });
      // The SDK sends its own version: the answer is in it, the event in the account's.
      const customer = await stripe.customers.create({ email: 'connected@example.com' });
      const events = await stripe.events.list({ type: 'customer.created', limit: 1 });
      assert.equal(events.data[0].api_version, '2022-11-15');
      assert.equal((events.data[0].data.object as { id: string }).id, customer.id);
      const deadline = Date.now() + 5000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const pinnedEvent = received.find((e) => e.api_version === '2020-03-02');
      assert.ok(pinnedEvent, JSON.stringify(received.map((e) => e.api_version)));
      assert.equal(pinnedEvent.data.object.sources.object, 'list', 'rendered as 2020-03-02 shaped it');
      const plain = received.find((e) => e.api_version === '2022-11-15');
      assert.ok(plain);
      assert.equal(plain.data.object.sources, undefined);
      // Without Stripe-Version, the account's default shapes the answer.
      const raw = await fetch(`${h.sandbox.url}/v1/customers/${customer.id}`, { headers: { authorization: `Bearer ${key}`, 'stripe-account': account } });
      assert.equal(raw.headers.get('stripe-version'), Stripe.API_VERSION, 'a key acting on a connected account answers in its own account’s version');
    } finally {
      server.close();
    }
  });
});

it('documents every version change it applies in docs/api-versions.md', async () => {
  const { VERSION_CHANGES } = await import('../../src/sandbox/versions/index.js');
  const { REQUEST_CHANGES } = await import('../../src/sandbox/versions/requests.js');
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/api-versions.md', import.meta.url), 'utf8');
  assert.deepEqual([...VERSION_CHANGES, ...REQUEST_CHANGES].filter((c) => !doc.includes(`| ${c.version} |`) || !doc.includes(c.title)).map((c) => c.title), []);
});

it('creates a customer for every payment-mode Checkout Session before 2022-08-01, and only if required since', async () => {
  const price = await h.stripe.prices.create({ product_data: { name: 'Checkout customer' }, currency: 'usd', unit_amount: 800 });
  const body = `mode=payment&success_url=https://example.com/ok&line_items[0][price]=${price.id}&line_items[0][quantity]=1`;
  const old = await h.http('POST', '/v1/checkout/sessions', { body, headers: { 'stripe-version': '2020-08-27' } });
  assert.equal(old.json.customer_creation, 'always');
  const current = await h.http('POST', '/v1/checkout/sessions', { body });
  assert.equal(current.json.customer_creation, 'if_required');
});

describe('the changes of 2025-09-30.clover, 2026-03-25.dahlia and 2026-09-30.endive', () => {
  it('refuses payment_method_types from 2026-09-30.endive on intents and Checkout, and takes allowed_payment_method_types', async () => {
    for (const [path, body] of [
      ['/v1/payment_intents', 'amount=1000&currency=usd&payment_method_types[]=card'],
      ['/v1/setup_intents', 'payment_method_types[]=card'],
      ['/v1/checkout/sessions', 'mode=setup&currency=usd&success_url=https://example.com&payment_method_types[]=card'],
    ] as const) {
      const refused = await h.http('POST', path, { body });
      assert.equal(refused.status, 400, path);
      assert.deepEqual([refused.json.error.code, refused.json.error.param], ['payment_method_types_no_longer_supported', 'payment_method_types'], path);
      const older = await h.http('POST', path, { body, headers: { 'stripe-version': '2026-08-26.dahlia' } });
      assert.equal(older.status, 200, `${path} before endive`);
      assert.deepEqual(older.json.payment_method_types, ['card']);
    }
    const pi = await h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', allowed_payment_method_types: ['card', 'ideal'] } as Stripe.PaymentIntentCreateParams);
    assert.deepEqual([pi.allowed_payment_method_types, pi.payment_method_types, pi.automatic_payment_methods], [['card', 'ideal'], ['card'], null]);
    const clash = await stripeError(() => h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', allowed_payment_method_types: ['card'], automatic_payment_methods: { enabled: true } } as Stripe.PaymentIntentCreateParams));
    assert.equal(clash.param, 'allowed_payment_method_types');
    const none = await stripeError(() => h.stripe.setupIntents.create({ allowed_payment_method_types: ['ideal'] } as Stripe.SetupIntentCreateParams));
    assert.equal(none.param, 'allowed_payment_method_types');
    const session = await h.stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd', success_url: 'https://example.com', allowed_payment_method_types: ['card'] } as Stripe.Checkout.SessionCreateParams);
    assert.deepEqual([session.allowed_payment_method_types, session.payment_method_types], [['card'], ['card']]);
  });

  it('names Checkout ui_modes hosted_page, embedded_page and elements from 2026-03-25.dahlia, and hosted, embedded and custom before', async () => {
    const body = (mode: string) => `mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=500&line_items[0][price_data][product_data][name]=Tee&line_items[0][quantity]=1&ui_mode=${mode}&return_url=https://example.com/back`;
    const current = await h.http('POST', '/v1/checkout/sessions', { body: body('embedded_page') });
    assert.equal(current.status, 200);
    assert.equal(current.json.ui_mode, 'embedded_page');
    const oldName = await h.http('POST', '/v1/checkout/sessions', { body: body('embedded') });
    assert.equal(oldName.status, 400);
    assert.equal(oldName.json.error.param, 'ui_mode');
    const before = { 'stripe-version': '2025-09-30.clover' };
    const old = await h.http('POST', '/v1/checkout/sessions', { body: body('embedded'), headers: before });
    assert.equal(old.status, 200);
    assert.equal(old.json.ui_mode, 'embedded');
    assert.equal((await h.http('GET', `/v1/checkout/sessions/${current.json.id}`, { headers: before })).json.ui_mode, 'embedded');
    assert.equal((await h.http('GET', `/v1/checkout/sessions/${old.json.id}`)).json.ui_mode, 'embedded_page');
    assert.equal((await h.http('POST', '/v1/checkout/sessions', { body: body('embedded_page'), headers: before })).status, 400);
  });

  it('embeds a discount’s coupon before 2025-09-30.clover, and creates subscriptions in flexible billing mode from then', async () => {
    const customer = await h.stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } as Stripe.CustomerCreateParams);
    const price = await h.stripe.prices.create({ currency: 'usd', unit_amount: 1200, recurring: { interval: 'month' }, product_data: { name: 'Clover' } });
    const coupon = await h.stripe.coupons.create({ percent_off: 25, duration: 'forever' });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], discounts: [{ coupon: coupon.id }], expand: ['discounts'] });
    const discount = sub.discounts[0] as Stripe.Discount;
    assert.deepEqual(discount.source, { coupon: coupon.id, type: 'coupon' });
    assert.equal(sub.billing_mode.type, 'flexible');
    const old = await pinned('2025-08-27.basil').subscriptions.retrieve(sub.id, { expand: ['discounts'] });
    const oldDiscount = old.discounts[0] as any;
    assert.equal(oldDiscount.source, undefined);
    assert.equal(oldDiscount.coupon.id, coupon.id);
    assert.equal(oldDiscount.coupon.percent_off, 25);
    const classic = await pinned('2025-08-27.basil').subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    assert.equal(classic.billing_mode.type, 'classic');
    const chosen = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], billing_mode: { type: 'classic' } });
    assert.deepEqual(chosen.billing_mode.flexible, null);
    assert.equal(chosen.billing_mode.type, 'classic');
  });
});

it('takes pending_invoice_items_behavior=include_and_require before 2024-04-10 as include, and refuses it since', async () => {
  const old = pinned('2023-10-16');
  const customer = await old.customers.create({ email: 'pending@example.com' });
  await old.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
  const invoice = await old.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include_and_require' } as any);
  assert.equal(invoice.total, 700);
  const refused = await stripeError(() => h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include_and_require' } as any));
  assert.equal(refused.param, 'pending_invoice_items_behavior');
});
