import assert from 'node:assert/strict';
import { it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

async function restrictedKey(permissions: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = await fetch(`${h.sandbox.url}/_sandbox/restricted_keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ permissions }),
  });
  return { status: res.status, json: await res.json() };
}

it('limits a restricted key to its permissions, with Stripe’s 403 naming the missing one', async () => {
  const { status, json } = await restrictedKey({ customers: 'write', payment_intents: 'read' });
  assert.equal(status, 200);
  assert.match(json.secret, /^rk_test_/);
  const rk = new Stripe(json.secret, { host: '127.0.0.1', port: h.sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  const customer = await rk.customers.create({ email: 'restricted@example.com' });
  assert.equal((await rk.customers.retrieve(customer.id)).id, customer.id);
  assert.equal((await rk.paymentIntents.list()).object, 'list');
  const write = await stripeError(() => rk.paymentIntents.create({ amount: 1000, currency: 'usd' }));
  assert.equal(write.statusCode, 403);
  assert.match(write.message, /does not have the required permissions/);
  assert.match(write.message, /'rak_payment_intent_write'/);
  assert.doesNotMatch(write.message, new RegExp(json.secret.slice(8, 30)));
  const read = await stripeError(() => rk.charges.list());
  assert.equal(read.statusCode, 403);
  assert.match(read.message, /'rak_charge_read'/);
  // What the restricted key created is in the same account as the secret key's data.
  assert.equal((await h.stripe.customers.retrieve(customer.id)).id, customer.id);
});

it('refuses unknown restricted keys and bad permission sets', async () => {
  const res = await h.http('GET', '/v1/customers', { key: 'rk_test_neverissued123' });
  assert.equal(res.status, 401);
  assert.match(res.json.error.message, /^Invalid API Key provided: rk_test_/);
  const bad = await restrictedKey({ spaceships: 'write' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'permissions[spaceships]');
  const level = await restrictedKey({ customers: 'admin' });
  assert.equal(level.status, 400);
});
