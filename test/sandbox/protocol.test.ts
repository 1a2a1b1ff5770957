import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';
import Stripe from 'stripe';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startSandbox } from '../../src/sandbox/index.js';

let h: Harness;
harnessPerFile((x) => (h = x));

describe('authentication', () => {
  it('answers a missing key with 401 and Stripe’s message', async () => {
    const res = await h.http('GET', '/v1/customers', { key: null });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.type, 'invalid_request_error');
    assert.match(res.json.error.message, /^You did not provide an API key/);
    assert.match(res.headers.get('request-id')!, /^req_/);
  });

  it('masks a malformed key in the error', async () => {
    const res = await h.http('GET', '/v1/customers', { key: 'sk_test_oops!secretvalue1234' });
    assert.equal(res.status, 401);
    assert.doesNotMatch(res.text, /secretvalue/);
    assert.match(res.json.error.message, /^Invalid API Key provided: /);
  });

  it('refuses live keys with a clear message, the key masked', async () => {
    const res = await h.http('GET', '/v1/customers', { key: 'sk_live_abcdefghijklmnop' });
    assert.equal(res.status, 401);
    assert.match(res.json.error.message, /test mode only/);
    assert.doesNotMatch(res.text, /abcdefghijkl/);
  });

  it('accepts Basic auth with the key as user name', async () => {
    const res = await h.http('GET', '/v1/customers', { headers: { authorization: `Basic ${Buffer.from('sk_test_basic:').toString('base64')}` } });
    assert.equal(res.status, 200);
    assert.equal(res.json.object, 'list');
  });

  it('lets publishable keys create payment methods and tokens, and nothing secret', async () => {
    const pk = new Stripe('pk_test_client', { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
    const pm = await pk.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2040, cvc: '123' } });
    assert.match(pm.id, /^pm_/);
    const tok = await pk.tokens.create({ card: { number: '5555555555554444', exp_month: '12', exp_year: '2040', cvc: '123' } } as any);
    assert.equal(tok.card?.last4, '4444');
    const err = await stripeError(() => pk.customers.list());
    assert.equal(err.statusCode, 401);
    assert.match(err.message, /publishable API key/);
  });
});

describe('errors and routes', () => {
  it('answers unknown routes and methods with Stripe’s 404', async () => {
    for (const [method, path] of [['GET', '/v1/nothing'], ['DELETE', '/v1/charges'], ['PUT', '/v1/customers'], ['GET', '/elsewhere']]) {
      const res = await h.http(method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.equal(res.json.error.message, `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`);
    }
  });

  it('reports a missing required parameter with param set', async () => {
    const res = await h.http('POST', '/v1/payment_intents', { body: 'currency=usd' });
    assert.equal(res.status, 400);
    assert.deepEqual(
      { message: res.json.error.message, param: res.json.error.param, code: res.json.error.code },
      { message: 'Missing required param: amount.', param: 'amount', code: 'parameter_missing' },
    );
  });

  it('reads bracket syntax in bodies and in query strings', async () => {
    const created = await h.http('POST', '/v1/customers', { body: 'email=bracket%40example.com&metadata[plan]=pro&preferred_locales[0]=fr&expand[]=tax_ids' });
    assert.equal(created.status, 200);
    assert.deepEqual(created.json.metadata, { plan: 'pro' });
    assert.deepEqual(created.json.preferred_locales, ['fr']);
    assert.equal(created.json.tax_ids.object, 'list');
    const listed = await h.http('GET', `/v1/customers?email=bracket%40example.com&expand[]=data.tax_ids&limit=1`);
    assert.equal(listed.json.data[0].id, created.json.id);
    assert.equal(listed.json.data[0].tax_ids.object, 'list');
  });

  it('refuses to expand what cannot be expanded', async () => {
    const c = await h.http('POST', '/v1/customers', { body: 'expand[]=email' });
    assert.equal(c.status, 400);
    assert.equal(c.json.error.message, 'This property cannot be expanded (email).');
  });

  it('filters lists by created ranges', async () => {
    const c = await h.stripe.customers.create();
    const res = await h.stripe.customers.list({ created: { gte: c.created, lte: c.created }, limit: 100 });
    assert.ok(res.data.some((x) => x.id === c.id));
    const none = await h.stripe.customers.list({ created: { gt: c.created + 1000 } });
    assert.equal(none.data.length, 0);
  });
});

describe('idempotency', () => {
  it('replays the same answer with Idempotent-Replayed', async () => {
    const key = `idem-${Date.now()}`;
    const first = await h.http('POST', '/v1/customers', { body: 'email=once%40example.com', headers: { 'idempotency-key': key } });
    const second = await h.http('POST', '/v1/customers', { body: 'email=once%40example.com', headers: { 'idempotency-key': key } });
    assert.equal(second.status, first.status);
    assert.equal(second.text, first.text);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
  });

  it('replays declines too (the charge attempt is not repeated)', async () => {
    const key = `idem-decline-${Date.now()}`;
    const body = 'amount=1000&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true';
    const a = await h.http('POST', '/v1/payment_intents', { body, headers: { 'idempotency-key': key } });
    const b = await h.http('POST', '/v1/payment_intents', { body, headers: { 'idempotency-key': key } });
    assert.equal(a.status, 402);
    assert.equal(b.status, 402);
    assert.equal(a.json.error.payment_intent.id, b.json.error.payment_intent.id);
  });

  it('refuses a reused key with other parameters', async () => {
    const key = `idem-mismatch-${Date.now()}`;
    await h.http('POST', '/v1/customers', { body: 'email=a%40example.com', headers: { 'idempotency-key': key } });
    const res = await h.http('POST', '/v1/customers', { body: 'email=b%40example.com', headers: { 'idempotency-key': key } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.type, 'idempotency_error');
    assert.match(res.json.error.message, /same parameters/);
  });

  it('creates exactly one object for concurrent requests with one key', async () => {
    const key = `idem-concurrent-${Date.now()}`;
    const email = `concurrent-${Date.now()}@example.com`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => h.http('POST', '/v1/customers', { body: `email=${encodeURIComponent(email)}`, headers: { 'idempotency-key': key } })),
    );
    const ids = new Set(answers.filter((a) => a.status === 200).map((a) => a.json.id));
    assert.equal(ids.size, 1);
    const listed = await h.stripe.customers.list({ email });
    assert.equal(listed.data.length, 1);
  });

  it('lets the SDK retry a POST safely with its automatic key', async () => {
    const retrying = new Stripe('sk_test_retry', { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 2 });
    const c = await retrying.customers.create({ email: 'sdk@example.com' });
    assert.ok(c.lastResponse.headers['idempotency-key']?.startsWith('stripe-node-retry-'));
  });
});

describe('sandbox admin', () => {
  it('resets all state', async () => {
    const c = await h.stripe.customers.create();
    const reset = await fetch(`${h.sandbox.url}/_sandbox/reset`, { method: 'POST' });
    assert.equal(reset.status, 200);
    const err = await stripeError(() => h.stripe.customers.retrieve(c.id));
    assert.equal(err.statusCode, 404);
  });
});

describe('the Unix socket door', () => {
  it('answers on the socket as on the port: the same objects, errors and state', async () => {
    const socketPath = join(tmpdir(), `paybridge-test-${process.pid}.sock`);
    const sandbox = await startSandbox({ port: 0, socketPath });
    const agent = new Agent({ connect: { socketPath } });
    try {
      const viaSocket = async (method: string, path: string, body?: string) => {
        const res = await request(`http://localhost${path}`, { method: method as 'GET', body, dispatcher: agent, headers: { authorization: 'Bearer sk_test_socket', 'content-type': 'application/x-www-form-urlencoded' } });
        return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as any };
      };
      const created = await viaSocket('POST', '/v1/customers', 'email=socket%40example.com&metadata[door]=socket');
      assert.equal(created.status, 200);
      assert.match(String(created.headers['request-id']), /^req_/);
      const viaPort = await fetch(`${sandbox.url}/v1/customers/${created.json.id}`, { headers: { authorization: 'Bearer sk_test_socket' } }).then((r) => r.json());
      assert.deepEqual(viaPort, created.json);
      const missing = await viaSocket('GET', '/v1/customers/cus_nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'resource_missing');
    } finally {
      await agent.close();
      await sandbox.close();
    }
    assert.equal(existsSync(socketPath), false, 'the socket is removed on close');
  });
});

describe('parameters as older clients send them', () => {
  it('reads booleans case-insensitively (True/False from stripe-python before 2025 and stripe-dotnet)', async () => {
    // Such clients pin an older API version, one that still takes payment_method_types.
    const older = { 'stripe-version': '2022-11-15' };
    const pi = await h.http('POST', '/v1/payment_intents', { body: 'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=True&payment_method_types[]=card', headers: older });
    assert.equal(pi.status, 200, pi.text);
    assert.equal(pi.json.status, 'succeeded');
    const manual = await h.http('POST', '/v1/payment_intents', { body: 'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=TRUE&capture_method=manual&payment_method_types[]=card', headers: older });
    assert.equal(manual.json.status, 'requires_capture');
    const off = await h.http('POST', '/v1/prices', { body: 'unit_amount=100&currency=usd&product_data[name]=x&active=False' });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.active, false);
    const bad = await h.http('POST', '/v1/prices', { body: 'unit_amount=100&currency=usd&product_data[name]=x&active=yes' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'parameter_invalid_boolean');
  });
});

describe('calls as Stripe.js makes them', () => {
  it('takes the publishable key as the key field, and the card the payer typed as payment_method_data', async () => {
    const pi = await h.stripe.paymentIntents.create({ amount: 2500, currency: 'usd', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const confirmed = await h.http('POST', `/v1/payment_intents/${pi.id}/confirm`, {
      key: null,
      body: form({
        key: 'pk_test_browser', client_secret: pi.client_secret!, 'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4242 4242 4242 4242',
        'payment_method_data[card][exp_month]': '12', 'payment_method_data[card][exp_year]': '34', 'payment_method_data[card][cvc]': '123', 'payment_method_data[billing_details][name]': 'Jenny Rosen',
      }),
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.json.status, 'succeeded');
    const pm = await h.stripe.paymentMethods.retrieve(confirmed.json.payment_method);
    assert.equal(pm.card?.last4, '4242');
    const read = await h.http('GET', `/v1/payment_intents/${pi.id}?key=pk_test_browser&client_secret=${pi.client_secret}`, { key: null });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.status, 'succeeded');
    const secretInForm = await h.http('GET', `/v1/payment_intents/${pi.id}?key=sk_test_leaked&client_secret=${pi.client_secret}`, { key: null });
    assert.equal(secretInForm.status, 401);
    const wrongSecret = await h.http('GET', `/v1/payment_intents/${pi.id}?key=pk_test_browser&client_secret=${pi.id}_secret_wrong`, { key: null });
    assert.equal(wrongSecret.status, 400);
    const declined = await h.stripe.paymentIntents.create({ amount: 2500, currency: 'usd', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const refused = await h.http('POST', `/v1/payment_intents/${declined.id}/confirm`, {
      key: null, body: form({ key: 'pk_test_browser', client_secret: declined.client_secret!, 'payment_method_data[type]': 'card', 'payment_method_data[card][number]': '4000000000000002', 'payment_method_data[card][exp_month]': '12', 'payment_method_data[card][exp_year]': '2034' }),
    });
    assert.equal(refused.status, 402);
    assert.equal(refused.json.error.decline_code, 'generic_decline');
  });
});
