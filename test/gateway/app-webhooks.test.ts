/**
 * Webhooks to apps: Stripe's events of a connection and PayBridge's own,
 * signed for constructEvent, retried from the database queue until the app
 * answers 2xx, each event once however often Stripe sends it, replayable.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { signatureHeader } from '../../src/sandbox/index.js';
import { backends, dropTestDatabases, eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`webhooks to apps on ${backend.name}`, () => {
    let h: GatewayHarness;
    const received: { event: { id: string; type: string; data: { object: any } }; raw: string; signature: string }[] = [];
    let failuresLeft = 2;
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(500).end();
          return;
        }
        received.push({ event: JSON.parse(body), raw: body, signature: String(req.headers['paybridge-signature']) });
        res.end('ok');
      });
    });
    before(async () => {
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      h = await startGatewayHarness({ databaseUrl: await backend.database(), config: { appWebhookRetryBaseMs: 100 } });
    });
    after(async () => {
      await h?.close();
      app.close();
      app.closeAllConnections();
    });

    const waitFor = async (check: () => boolean, ms = 8000) => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${received.map((r) => r.event.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    it('delivers a connection’s Stripe events, signed, after the app first fails', async () => {
      const endpoint = await h.api('POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${(app.address() as AddressInfo).port}/hooks`, enabled_events: ['customer.created', 'session.*'] });
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.json));
      assert.match(endpoint.json.secret, /^whsec_/);
      const listed = await h.api('GET', '/v1/webhook_endpoints');
      assert.equal(listed.json.data[0].secret, undefined, 'the secret is shown once');
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_app_hooks' })).json;
      const customer = await (await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'email=hooked%40example.com' })).json();
      await waitFor(() => received.some((r) => r.event.type === 'customer.created'));
      const got = received.find((r) => r.event.type === 'customer.created')!;
      const verified = Stripe.webhooks.constructEvent(got.raw, got.signature, endpoint.json.secret);
      assert.equal((verified.data.object as { id: string }).id, customer.id);
      assert.equal((verified.data.object as { paybridge_connection?: string }).paybridge_connection, conn.id);
      // The id is Stripe's own (so stripe.events.retrieve finds it on the account), the connection in its own field (issue 18).
      const stripeEventId = (await h.sandbox.events.list({ type: 'customer.created', limit: 10 })).data.find((e) => (e.data.object as { id: string }).id === customer.id)!.id;
      assert.equal(verified.id, stripeEventId);
      assert.equal((JSON.parse(got.raw) as { connection?: string }).connection, conn.id);
      const shown = (await h.api('GET', `/v1/gateway_events/${stripeEventId}`)).json;
      assert.deepEqual([shown.id, shown.connection, shown.type], [stripeEventId, conn.id, 'customer.created']);
      // The app has its 200 a moment before the gateway has recorded it.
      const delivery = await eventually(async () => {
        const deliveries = (await h.api('GET', `/v1/webhook_endpoints/${endpoint.json.id}/deliveries`)).json.data;
        const found = deliveries.find((d: { type: string }) => d.type === 'customer.created');
        assert.equal(found.status, 'succeeded');
        assert.equal(found.attempts, 3, 'two failures, then success');
        return found as { id: string };
      });

      // Stripe sends the same event again: the app does not get it twice.
      const { connections } = await import('../../src/store/schema.js');
      const { eq } = await import('drizzle-orm');
      const [row] = await h.gw.services.rt.db.select().from(connections).where(eq(connections.id, conn.id));
      const secret = await h.gw.services.rt.vault.open(row.webhookSecretId!);
      const stripeEvent = (await h.sandbox.events.list({ type: 'customer.created', limit: 1 })).data[0];
      const body = JSON.stringify(stripeEvent);
      const again = await fetch(`${h.gw.url}/webhooks/stripe/${conn.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(secret, body) }, body });
      assert.equal(again.status, 200);
      const forged = await fetch(`${h.gw.url}/webhooks/stripe/${conn.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader('whsec_wrong', body) }, body });
      assert.equal(forged.status, 400);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(received.filter((r) => r.event.type === 'customer.created' && (r.event.data.object as { id: string }).id === customer.id).length, 1);

      const replayed = await h.api('POST', `/v1/webhook_deliveries/${delivery.id}/replay`);
      assert.equal(replayed.json.status, 'pending');
      await waitFor(() => received.filter((r) => r.event.type === 'customer.created' && (r.event.data.object as { id: string }).id === customer.id).length === 2);
    });

    it('delivers PayBridge’s own events (session.succeeded)', async () => {
      const session = (await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 700, currency: 'usd' })).json;
      const row = await h.gw.services.sessions.load(session.id);
      await fetch(`${h.gw.sandbox!.url}/_sandbox/checkout/${row!.checkoutSessionId}/complete`, { method: 'POST', body: 'card_number=4242424242424242' });
      await waitFor(() => received.some((r) => r.event.type === 'session.succeeded' && (r.event.data.object as { session: { id: string } }).session.id === session.id));
    });
  });
}

describe('webhooks to apps: order and giving up', () => {
  let h: GatewayHarness;
  const got: string[] = [];
  let failFirst = true;
  let alwaysFail = false;
  const app = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const event = JSON.parse(body);
      if (alwaysFail || (failFirst && event.type === 'order.first')) {
        failFirst = false;
        res.writeHead(503).end();
        return;
      }
      got.push(event.type);
      res.end();
    });
  });
  before(async () => {
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    h = await startGatewayHarness({ config: { appWebhookRetryBaseMs: 100, appWebhookMaxAgeMs: 600 } });
  });
  after(async () => {
    await h?.close();
    app.close();
    app.closeAllConnections();
  });

  it('delivers one object’s events in order even when the first needs a retry', async () => {
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
    await h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: ['order.*'] });
    const { emitGatewayEvent } = await import('../../src/gateway/runtime.js');
    const appId = h.gw.bootstrap!.app_id;
    await emitGatewayEvent(h.gw.services.rt, appId, 'test', 'order.first', { id: 'obj_1' });
    await emitGatewayEvent(h.gw.services.rt, appId, 'test', 'order.second', { id: 'obj_1' });
    await emitGatewayEvent(h.gw.services.rt, appId, 'test', 'order.other', { id: 'obj_2' });
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.indexOf('order.first') < got.indexOf('order.second'), true, got.join());
    assert.ok(got.indexOf('order.other') < got.indexOf('order.first'), 'another object is not held up');
  });

  it('gives up after the retry window and disables the endpoint, with a notice', async () => {
    alwaysFail = true;
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/failing`;
    const endpoint = (await h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: ['doomed.*'] })).json;
    const { emitGatewayEvent } = await import('../../src/gateway/runtime.js');
    await emitGatewayEvent(h.gw.services.rt, h.gw.bootstrap!.app_id, 'test', 'doomed.event', { id: 'obj_9' });
    const deadline = Date.now() + 8000;
    let status = 'enabled';
    while (status === 'enabled' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await h.api('GET', '/v1/webhook_endpoints')).json.data.find((e: { id: string }) => e.id === endpoint.id).status;
    }
    assert.equal(status, 'disabled');
    const deliveries = (await h.api('GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries`)).json.data;
    assert.equal(deliveries[0].status, 'failed');
    const notices = (await h.api('GET', '/v1/gateway_events?type=webhook_endpoint.disabled')).json.data;
    assert.equal(notices[0].data.id, endpoint.id);
    alwaysFail = false;
  });
});
