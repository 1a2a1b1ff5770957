/**
 * Backfills at Stripe's pace (issue 22): a storm of 429s slows a backfill down without failing it, and a large
 * model is read in several created ranges at once.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Stripe from 'stripe';
import { backends, dropTestDatabases, startGatewayHarness } from './harness.js';

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
  });
}
