/**
 * Stripe's pace (issue 22): a storm of 429s slows a backfill down without failing it, and a connection Stripe
 * cannot send webhooks to gets its events by polling, as fast as a webhook would bring them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import Stripe from 'stripe';
import { backends, dropTestDatabases, eventually, startGatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`backfills at Stripe's pace on ${backend.name}`, () => {
    it('waits out a storm of 429s and finishes every model, with nothing failed', async () => {
      const h = await startGatewayHarness({ databaseUrl: await backend.database() });
      try {
        const stripe = new Stripe('sk_test_storm', { host: '127.0.0.1', port: h.gw.sandbox!.port, protocol: 'http' });
        for (let i = 0; i < 7; i++) await Promise.all(Array.from({ length: 50 }, (_, j) => stripe.customers.create({ email: `storm${i * 50 + j}@example.com` })));
        const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_storm' })).json.id;
        // More 429s in a row than the upstream retries: each page is asked for again after a pause.
        const fault = await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 429, count: 14, method: 'GET', path: '/v1/customers' }) });
        assert.equal(fault.status, 200);
        await h.api('POST', `/v1/connections/${conn}/sync`);
        await h.gw.services.syncs.settled(conn);
        const status = (await h.api('GET', `/v1/connections/${conn}/sync`)).json;
        const customers = status.models.find((m: { model: string }) => m.model === 'customers');
        assert.deepEqual([customers.status, customers.synced, customers.error], ['synced', 350, null], JSON.stringify(status));
        const events = (await h.api('GET', '/v1/gateway_events?limit=100')).json.data as { type: string }[];
        assert.equal(events.filter((e) => e.type === 'sync.failed').length, 0);
        assert.equal(events.filter((e) => e.type === 'sync.completed').length, 1);
      } finally {
        await h.close();
      }
    });

    it('polls the events of a connection without a webhook endpoint, and delivers each to the app once, within two seconds', async () => {
      const received: { id: string; type: string; at: number }[] = [];
      const hooks = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const event = JSON.parse(body);
          received.push({ id: event.id, type: event.type, at: Date.now() });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
      const h = await startGatewayHarness({ databaseUrl: await backend.database() });
      try {
        // A restricted key that may read events but not create webhook endpoints: Stripe cannot call PayBridge.
        const made = await fetch(`${h.gw.sandbox!.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write', events: 'read' } }) });
        const { secret } = await made.json();
        const conn = (await h.api('POST', '/v1/connections', { secret_key: secret })).json;
        assert.equal(conn.webhook.signing_secret, null, 'no endpoint could be registered');
        await h.api('POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`, enabled_events: ['customer.created'] });
        const created = Date.now();
        // Several at once: one poll finds them all, and stores them together.
        const customers = await Promise.all([1, 2, 3].map(async (i) => (await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: new URLSearchParams({ email: `polled${i}@example.com` }) })).json()));
        const delivered = await eventually(async () => {
          const hits = received.filter((r) => r.type === 'customer.created');
          assert.equal(hits.length, 3, 'the app got every customer.created');
          return hits.sort((a, b) => b.at - a.at)[0];
        }, 5000);
        assert.ok(delivered.at - created < 2000, `delivered ${delivered.at - created} ms after the customer was created`);
        assert.match(delivered.id, /^evt_/);
        const stored = (await h.api('GET', '/v1/gateway_events?type=customer.created&limit=10')).json.data as { id: string; connection: string; data: { object: { id: string } } }[];
        assert.ok(stored.some((e) => e.id === delivered.id && e.connection === conn.id));
        // Later polls find the same event again and keep it once.
        await new Promise((r) => setTimeout(r, 2500));
        assert.equal(received.filter((r) => r.id === delivered.id).length, 1);
        assert.equal(received.length, 3, 'each event once');
        assert.equal(customers.length, 3);
      } finally {
        await h.close();
        hooks.close();
      }
    });
  });
}
