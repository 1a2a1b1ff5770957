import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, startHarness, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

describe('fault injection', () => {
  it('answers queued 409 lock_timeout and 429 rate_limit errors, then recovers', async () => {
    await h.http('POST', '/_sandbox/faults', { body: 'status=409&count=1&method=POST&path=/v1/customers' });
    const lock = await h.http('POST', '/v1/customers', { body: 'email=a@example.com' });
    assert.equal(lock.status, 409);
    assert.equal(lock.json.error.code, 'lock_timeout');
    assert.equal(lock.json.error.type, 'invalid_request_error');
    assert.equal(lock.headers.get('stripe-should-retry'), 'true');
    assert.equal((await h.http('POST', '/v1/customers', { body: 'email=a@example.com' })).status, 200);

    await h.http('POST', '/_sandbox/faults', { body: 'status=429&count=2&retry_after=1' });
    const limited = await h.http('GET', '/v1/customers');
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.code, 'rate_limit');
    assert.equal(limited.headers.get('retry-after'), '1');
    assert.equal((await h.http('GET', '/v1/customers')).status, 429);
    assert.equal((await h.http('GET', '/v1/customers')).status, 200);
  });

  it('lets the stripe SDK retry through a 409 and a 500', async () => {
    const retrying = new Stripe('sk_test_retry', { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 2 });
    await h.http('POST', '/_sandbox/faults', { body: 'status=409&count=1' });
    await h.http('POST', '/_sandbox/faults', { body: 'status=500&count=1' });
    const customer = await retrying.customers.create({ email: 'retried@example.com' });
    assert.match(customer.id, /^cus_/);
    const found = await retrying.customers.list({ email: 'retried@example.com' });
    assert.equal(found.data.length, 1, 'the idempotency key kept the retries to one customer');
  });

  it('refuses unknown fault statuses', async () => {
    const bad = await h.http('POST', '/_sandbox/faults', { body: 'status=418' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'status');
  });
});

describe('Stripe’s pace', () => {
  it('answers 429 above --rate-limit requests per second per account, naming the limiter, and refills', async () => {
    const limited = await startHarness({ rateLimit: 5 });
    try {
      const connected = (await limited.http('POST', '/v1/accounts', { body: 'type=custom&country=US' })).json.id;
      await new Promise((r) => setTimeout(r, 1100));
      const statuses = await Promise.all(Array.from({ length: 12 }, () => limited.http('GET', '/v1/customers').then((r) => r.status)));
      assert.equal(statuses.filter((s) => s === 200).length, 5);
      assert.equal(statuses.filter((s) => s === 429).length, 7);
      const refused = await limited.http('GET', '/v1/customers', { key: 'sk_test_another_key' });
      assert.equal(refused.status, 429, 'another key of the same account shares its budget');
      assert.equal(refused.json.error.code, 'rate_limit');
      assert.equal(refused.headers.get('stripe-rate-limited-reason'), 'global-rate');
      const other = await limited.http('GET', '/v1/customers', { headers: { 'stripe-account': connected } });
      assert.equal(other.status, 200, 'a connected account has its own budget');
      await new Promise((r) => setTimeout(r, 450));
      assert.equal((await limited.http('GET', '/v1/customers')).status, 200, 'the budget refills');
    } finally {
      await limited.sandbox.close();
    }
  });

  it('takes latency, jitter, a rate limit and an error rate at run time, and refuses bad settings', async () => {
    const config = (body: object) => fetch(`${h.sandbox.url}/_sandbox/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const set = await config({ latency_ms: 120, latency_jitter_ms: 20 });
      assert.deepEqual(await set.json(), { object: 'sandbox.config', latency_ms: 120, latency_jitter_ms: 20, rate_limit: 0, error_rate: 0, rate_limited: 0 });
      const started = performance.now();
      await Promise.all([h.stripe.customers.list(), h.stripe.customers.list()]);
      const took = performance.now() - started;
      assert.ok(took >= 95 && took < 400, `two answers in parallel took ${took.toFixed(0)} ms`);
      await config({ latency_ms: 0, latency_jitter_ms: 0, error_rate: 1 });
      const failed = await h.http('GET', '/v1/customers');
      assert.deepEqual([failed.status, failed.json.error.type], [500, 'api_error']);
      const bad = await config({ error_rate: 2 });
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.param, 'error_rate');
      assert.equal((await config({ pace: 1 })).status, 400);
      assert.equal((await (await fetch(`${h.sandbox.url}/_sandbox/config`)).json()).error_rate, 1, 'a refused change changes nothing');
    } finally {
      await config({ latency_ms: 0, latency_jitter_ms: 0, rate_limit: 0, error_rate: 0 });
    }
  });
});

describe('metadata limits', () => {
  it('refuses more than 50 keys, keys over 40 characters and values over 500', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    const tooMany = await stripeError(() => h.stripe.customers.create({ metadata: many }));
    assert.equal(tooMany.param, 'metadata');
    assert.match(tooMany.message, /up to 50 keys, but you passed in 51 keys/);
    const longKey = await stripeError(() => h.stripe.customers.create({ metadata: { ['k'.repeat(41)]: 'v' } }));
    assert.match(longKey.message, /Metadata keys can have up to 40 characters/);
    const longValue = await stripeError(() => h.stripe.products.create({ name: 'x', metadata: { note: 'v'.repeat(501) } }));
    assert.match(longValue.message, /Metadata values can have up to 500 characters/);
    assert.equal(longValue.param, 'metadata[note]');
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'.repeat(500)]));
    assert.equal(Object.keys((await h.stripe.customers.create({ metadata: fifty })).metadata).length, 50);
  });
});

describe('publishable keys with a client secret', () => {
  it('retrieve and confirm a PaymentIntent as Stripe.js does, and nothing else', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 1500, currency: 'usd' });
    const browser = new Stripe('pk_test_browser', { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
    const seen = await browser.paymentIntents.retrieve(pi.id, { client_secret: pi.client_secret! } as Stripe.PaymentIntentRetrieveParams);
    assert.equal(seen.id, pi.id);
    const confirmed = await browser.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', client_secret: pi.client_secret! } as Stripe.PaymentIntentConfirmParams);
    assert.equal(confirmed.status, 'succeeded');
    const noSecret = await stripeError(() => browser.paymentIntents.retrieve(pi.id));
    assert.equal(noSecret.param, 'client_secret');
    const wrong = await stripeError(() => browser.paymentIntents.retrieve(pi.id, { client_secret: `${pi.id}_secret_wrong` } as Stripe.PaymentIntentRetrieveParams));
    assert.match(wrong.message, /does not match/);
    const list = await stripeError(() => browser.paymentIntents.list());
    assert.equal(list.statusCode, 401);
    const si = await h.stripe.setupIntents.create({});
    const setup = await browser.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa', client_secret: si.client_secret! } as Stripe.SetupIntentConfirmParams);
    assert.equal(setup.status, 'succeeded');
  });
});
