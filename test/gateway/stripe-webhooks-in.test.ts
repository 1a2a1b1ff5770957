/**
 * Stripe's webhooks into the gateway: signatures (tolerance, a secret being
 * rolled, a configured secret), duplicates stored once, the 200 before the
 * processing, and sync errors posted to a Slack-compatible incoming webhook.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { signatureHeader } from '../../src/sandbox/index.js';
import { stripeEventsIn } from '../../src/store/schema.js';
import { backends, dropTestDatabases, eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

const NEW = 'whsec_rolledNewSecret';
const OLD = 'whsec_rolledOldSecret';

const sign = (secret: string, payload: string, t: number) => createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');

for (const backend of list) {
  describe(`Stripe's webhooks in, on ${backend.name}`, () => {
    let h: GatewayHarness;
    let slack: Server;
    const alerts: { text: string }[] = [];
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database(), env: { STRIPE_WEBHOOK_SECRET: `${NEW}, ${OLD}` } });
      slack = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          alerts.push(JSON.parse(body));
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    });
    after(async () => {
      await h?.close();
      slack?.close();
    });

    const post = (path: string, payload: string, signature: string) =>
      fetch(`${h.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
    const event = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { id: 'cus_x', object: 'customer' } }, ...extra });

    it('accepts either secret while one is rolled, and both signatures in one header', async () => {
      const now = Math.floor(Date.now() / 1000);
      const a = event('evt_rolled_a');
      assert.equal((await post('/webhooks/stripe', a, signatureHeader(OLD, a))).status, 200);
      const b = event('evt_rolled_b');
      assert.equal((await post('/webhooks/stripe', b, signatureHeader(NEW, b))).status, 200);
      // Stripe signs with the old and the new secret during its own roll.
      const c = event('evt_rolled_c');
      assert.equal((await post('/webhooks/stripe', c, `t=${now},v1=${sign('whsec_unknown', c, now)},v1=${sign(NEW, c, now)}`)).status, 200);
      const forged = await post('/webhooks/stripe', c, signatureHeader('whsec_unknown', c));
      assert.equal(forged.status, 400);
      const error = (await forged.json()).error;
      assert.equal(error.code, 'signature_invalid');
      assert.match(error.message, /^Webhook signature verification failed: No signatures found matching the expected signature for payload/);
    });

    it('refuses a signature older than five minutes (a replayed capture)', async () => {
      const payload = event('evt_stale');
      const stale = await post('/webhooks/stripe', payload, signatureHeader(NEW, payload, Math.floor(Date.now() / 1000) - 301));
      assert.equal(stale.status, 400);
      assert.match((await stale.json()).error.message, /Timestamp outside the tolerance zone/);
      const fresh = await post('/webhooks/stripe', payload, signatureHeader(NEW, payload, Math.floor(Date.now() / 1000) - 200));
      assert.equal(fresh.status, 200);
    });

    it('stores a duplicate once and answers before processing', async () => {
      const payload = event('evt_twice');
      const first = await (await post('/webhooks/stripe', payload, signatureHeader(NEW, payload))).json();
      const second = await (await post('/webhooks/stripe', payload, signatureHeader(NEW, payload))).json();
      assert.deepEqual([first.duplicate, second.duplicate], [false, true]);
      const rows = await h.gw.services.rt.db.select().from(stripeEventsIn).where(eq(stripeEventsIn.eventId, 'evt_twice'));
      assert.equal(rows.length, 1);
      await eventually(async () => {
        const [row] = await h.gw.services.rt.db.select().from(stripeEventsIn).where(eq(stripeEventsIn.eventId, 'evt_twice'));
        assert.equal(row.status, 'processed');
      });
    });

    it('takes a configured signing secret for an account whose key cannot register endpoints', async () => {
      const made = await fetch(`${h.gw.sandbox!.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write', balance: 'read' } }) });
      const { secret: key } = await made.json();
      const conn = (await h.api('POST', '/v1/connections', { secret_key: key })).json;
      assert.deepEqual(conn.webhook, { url: `${h.gw.url}/webhooks/stripe/${conn.id}`, signing_secret: null }, 'no endpoint could be registered');
      const payload = event('evt_configured', { data: { object: { id: 'cus_configured', object: 'customer', email: 'configured@example.com', created: 1 } } });
      const before = await post(`/webhooks/stripe/${conn.id}`, payload, signatureHeader('whsec_ownerMade', payload));
      assert.equal(before.status, 404);
      assert.equal((await before.json()).error.code, 'webhook_secret_missing');
      assert.equal((await h.api('POST', `/v1/connections/${conn.id}`, { webhook_secret: 'nope' })).status, 400);
      const configured = await h.api('POST', `/v1/connections/${conn.id}`, { webhook_secret: 'whsec_ownerMade' });
      assert.equal(configured.json.webhook.signing_secret, 'configured');
      assert.equal((await post(`/webhooks/stripe/${conn.id}`, payload, signatureHeader('whsec_ownerMade', payload))).status, 200);
      await eventually(async () => {
        const events = (await h.api('GET', '/v1/gateway_events?type=customer.created&limit=100')).json.data;
        assert.ok(events.some((e: { id: string; connection: string }) => e.id === 'evt_configured' && e.connection === conn.id), 'the app gets the event, under Stripe\'s id');
      });
      const records = (await h.api('GET', `/v1/records?connection=${conn.id}&model=customers`)).json.data;
      assert.deepEqual(records, [], 'no records are kept for a connection whose sync was never started');
    });

    it("posts a sync error to the connection's Slack-compatible alert URL, and tells the app", async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_alerting' })).json;
      const url = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/XXXX`;
      assert.equal((await h.api('POST', `/v1/connections/${conn.id}/sync`, { alert_url: 'ftp://nope' })).status, 400);
      // Stripe failing on charges through every retry (a permission refusal is a skipped model, not an error).
      await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 500, count: 20, method: 'GET', path: '/v1/charges' }) });
      await h.api('POST', `/v1/connections/${conn.id}/sync`, { alert_url: url });
      await h.gw.services.syncs.settled(conn.id);
      const status = (await h.api('GET', `/v1/connections/${conn.id}/sync`)).json.models;
      assert.equal(status.find((m: { model: string }) => m.model === 'customers').status, 'synced');
      const failed = status.filter((m: { status: string }) => m.status === 'error');
      assert.deepEqual(failed.map((m: { model: string }) => m.model), ['charges']);
      await eventually(async () => assert.equal(alerts.filter((a) => a.text.includes(conn.id)).length, 1));
      const alert = alerts.find((a) => a.text.includes(conn.id))!;
      assert.match(alert.text, new RegExp(`^:warning: PayBridge could not sync \\*charges\\* for connection \`${conn.id}\` \\(acct_\\w+, test mode\\): An unknown error occurred`));
      const events = (await h.api('GET', '/v1/gateway_events?type=sync.failed&limit=20')).json.data;
      assert.equal(events.filter((e: { data: { connection: string } }) => e.data.connection === conn.id).length, 1);
    });
  });
}
