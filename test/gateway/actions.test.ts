/** Connector actions over HTTP: built-ins, custom definitions (saved, versioned, refused when wrong) and calls. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, dropTestDatabases, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`connector actions on ${backend.name}`, () => {
    let h: GatewayHarness;
    let conn: string;
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database() });
      conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_actions' })).json.id;
    });
    after(() => h?.close());

    it('runs the built-in create-customer and process-payment actions', async () => {
      const listed = await h.api('GET', '/v1/actions');
      assert.deepEqual(listed.json.data.filter((a: { built_in: boolean }) => a.built_in).map((a: { name: string }) => a.name),
        ['create-customer', 'process-payment', 'create-subscription', 'refund-payment', 'create-checkout-session']);
      const customer = await h.api('POST', `/v1/actions/${conn}/create-customer`, { customer_email: 'connector@example.com', name: 'Connector', payment_method: 'pm_card_visa' });
      assert.equal(customer.status, 200, JSON.stringify(customer.json));
      assert.match(customer.json.output.customer_id, /^cus_/);
      assert.equal(customer.json.output.email, 'connector@example.com');
      assert.match(customer.json.output.default_payment_method, /^pm_/);
      const payment = await h.api('POST', `/v1/actions/${conn}/process-payment`, { amount: 1999, currency: 'usd', payment_method: 'pm_card_visa' });
      assert.equal(payment.json.output.status, 'succeeded');
      assert.match(payment.json.output.charge_id, /^ch_/);
      const refund = await h.api('POST', `/v1/actions/${conn}/refund-payment`, { payment_intent: payment.json.output.payment_intent_id, amount: '500' });
      assert.equal(refund.json.output.amount, 500);
      const declined = await h.api('POST', `/v1/actions/${conn}/process-payment`, { amount: 1999, currency: 'usd', payment_method: 'pm_card_chargeDeclined' });
      assert.equal(declined.status, 402);
      assert.equal(declined.json.error.decline_code, 'generic_decline');
      await h.gw.services.rt.logs.flush();
      const logs = (await h.api('GET', `/v1/logs?connection=${conn}&limit=10`)).json.data;
      assert.ok(logs.some((l: { source: string; request: { email?: string } }) => l.source === 'action:create-customer' && l.request.email === 'connector@example.com'));
    });

    it('refuses bad inputs, naming the field', async () => {
      const missing = await h.api('POST', `/v1/actions/${conn}/create-customer`, { name: 'No email' });
      assert.deepEqual([missing.status, missing.json.error.param, missing.json.error.message], [400, 'customer_email', 'Missing required input: customer_email.']);
      const unknown = await h.api('POST', `/v1/actions/${conn}/create-customer`, { customer_email: 'a@b.co', emial: 'x' });
      assert.equal(unknown.json.error.param, 'emial');
      const type = await h.api('POST', `/v1/actions/${conn}/process-payment`, { amount: 'lots', currency: 'usd', payment_method: 'pm_card_visa' });
      assert.equal(type.json.error.param, 'amount');
      assert.equal((await h.api('POST', `/v1/actions/${conn}/no-such-action`, {})).status, 404);
    });

    it('saves custom definitions as new versions, refusing bad ones with the field named', async () => {
      const definition = {
        name: 'signup-customer', description: 'Sign-up form → Stripe customer', operation: 'POST /v1/customers',
        input: { customer_email: { type: 'string', required: true }, plan: { type: 'string', default: 'free' }, company: { type: 'string' } },
        map: { email: '$.customer_email', 'metadata.plan': '$.plan', 'metadata.source': { const: 'signup' }, description: '$.company' },
        output: { id: '$.id', plan: '$.metadata.plan' },
      };
      const saved = await h.api('POST', '/v1/actions', definition);
      assert.equal(saved.status, 200, JSON.stringify(saved.json));
      assert.equal(saved.json.version, 1);
      const ran = await h.api('POST', `/v1/actions/${conn}/signup-customer`, { customer_email: 'new@example.com' });
      assert.deepEqual(Object.keys(ran.json.output), ['id', 'plan']);
      assert.equal(ran.json.output.plan, 'free');
      const stripeSide = await h.sandbox.customers.retrieve(ran.json.output.id) as { metadata: Record<string, string> };
      assert.deepEqual(stripeSide.metadata, { plan: 'free', source: 'signup' });
      const v2 = await h.api('POST', '/v1/actions', { ...definition, input: { ...definition.input, plan: { type: 'string', default: 'pro' } } });
      assert.equal(v2.json.version, 2);
      assert.equal((await h.api('POST', `/v1/actions/${conn}/signup-customer`, { customer_email: 'v2@example.com' })).json.output.plan, 'pro');

      const bad = async (change: Record<string, unknown>) => (await h.api('POST', '/v1/actions', { ...definition, name: 'bad-one', ...change })).json.error;
      let e = await bad({ name: 'Bad Name' });
      assert.equal(e.param, 'name');
      assert.equal(e.message, 'Invalid action definition: name: use lowercase letters, digits and dashes, e.g. create-customer', 'the field is named once (issue 18: "name: name: …")');
      e = await bad({ map: { emial: '$.customer_email' } });
      assert.equal(e.param, 'map.emial');
      assert.match(e.message, /unknown Stripe parameter 'emial' for POST \/v1\/customers/);
      e = await bad({ map: { email: '$.customer_emial' } });
      assert.match(e.message, /refers to input field 'customer_emial', which is not declared/);
      e = await bad({ operation: 'POST /v1/payment_intents', map: { currency: '$.customer_email' } });
      assert.equal(e.param, 'map.amount');
      assert.match(e.message, /Stripe requires 'amount' for POST \/v1\/payment_intents/);
      e = await bad({ operation: 'POST /v1/payment_intents', input: { total: { type: 'string' }, c: { type: 'string' } }, map: { amount: '$.total', currency: '$.c' } });
      assert.equal(e.param, 'map.amount');
      assert.match(e.message, /Stripe expects an integer there, but input field 'total' is a string/);
      e = await bad({ operation: 'POST /v1/spaceships' });
      assert.equal(e.param, 'operation');
      e = await bad({ name: 'Bad Name!' });
      assert.equal(e.param, 'name');
      e = await bad({ name: 'create-customer' });
      assert.match(e.message, /built-in/);
    });
  });
}
