/**
 * `kill -9` of a real `paybridge start` in the middle of work, then a
 * restart on the same data: webhook deliveries to an app, and a backfill.
 * No event may be lost, no record missing, none duplicated. Runs on PGlite
 * (the data folder) and on PostgreSQL (DATABASE_URL).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Stripe from 'stripe';
import { startPaybridge, type PaybridgeProcess } from '../cli/paybridge-process.js';
import { backends, dropTestDatabases, eventually } from './harness.js';

const list = await backends();
const dirs: string[] = [];
after(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  if (list.some((b) => b.name === 'postgres')) await dropTestDatabases();
});

/** A lease of two seconds lets the restarted gateway take over what the killed one held. */
const LEASE = { PAYBRIDGE_LEASE_SECONDS: '2' };

function keyOf(pb: PaybridgeProcess): string {
  return /Its test API key .*: (pb_test_\w+)/.exec(pb.output)![1];
}

async function killHard(pb: PaybridgeProcess): Promise<void> {
  // A gateway that already stopped would never say so again: waiting for its exit would hang the file.
  if (pb.child.exitCode !== null || pb.child.signalCode !== null) {
    throw new Error(`the gateway had already stopped (${pb.child.exitCode ?? pb.child.signalCode}) before the kill:\n${pb.output.slice(-2000)}`);
  }
  const exited = new Promise((r) => pb.child.once('exit', r));
  pb.child.kill('SIGKILL');
  await exited;
}

for (const backend of list) {
  describe(`kill -9 and restart, on ${backend.name}`, () => {
    const env = async (): Promise<Record<string, string>> => {
      const url = await backend.database();
      return { ...LEASE, ...(url ? { DATABASE_URL: url } : {}) };
    };

    it('loses no webhook delivery to the app when killed mid-delivery', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'paybridge-crash-delivery-'));
      dirs.push(dir);
      const received: { event: string; customer: string }[] = [];
      const app: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        // A slow app: deliveries are in flight when the gateway dies.
        req.on('end', () => setTimeout(() => {
          const event = JSON.parse(body);
          received.push({ event: event.id, customer: event.data.object.id });
          res.writeHead(200).end();
        }, 100));
      });
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      const environment = await env();
      let pb = await startPaybridge(dir, environment);
      const key = keyOf(pb);
      const call = async (method: string, path: string, body?: string) => {
        const res = await fetch(`${pb.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, body });
        return res.json();
      };
      try {
        const endpoint = await call('POST', '/v1/webhook_endpoints', `url=http://127.0.0.1:${(app.address() as AddressInfo).port}/hooks&enabled_events[]=customer.created`);
        const conn = await call('POST', '/v1/connections', 'secret_key=sk_test_crash_delivery');
        const customers: string[] = [];
        for (let i = 0; i < 40; i++) customers.push((await call('POST', `/proxy/${conn.id}/v1/customers`, `email=crash${i}%40example.com`)).id);
        await eventually(async () => assert.ok(received.length >= 3), 20_000);
        await killHard(pb);
        const beforeRestart = received.length;
        assert.ok(beforeRestart < 40, 'killed while deliveries were still due');

        pb = await startPaybridge(dir, environment, pb.ports);
        await eventually(async () => assert.deepEqual(new Set(received.map((r) => r.customer)), new Set(customers)), 40_000);
        const events = (await call('GET', '/v1/gateway_events?type=customer.created&limit=100')).data as { id: string }[];
        assert.equal(events.length, 40, 'each of Stripe’s events stored once');
        assert.equal(new Set(events.map((e) => e.id)).size, 40);
        const deliveries = (await call('GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries`)).data as { status: string }[];
        assert.equal(deliveries.length, 40, 'one delivery per event');
        await eventually(async () => {
          const now = (await call('GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries`)).data as { status: string }[];
          assert.ok(now.every((d) => d.status === 'succeeded'), JSON.stringify(now.map((d) => d.status)));
        });
        // At-least-once: only an attempt in flight at the kill can arrive twice.
        const repeats = received.length - new Set(received.map((r) => r.event)).size;
        assert.ok(repeats <= 20, `${repeats} repeated deliveries`);
      } finally {
        await pb.stop();
        app.close();
      }
    });

    it('resumes a backfill killed halfway, every created range where it stopped: every record once, none missing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'paybridge-crash-backfill-'));
      dirs.push(dir);
      // Five requests a second makes the backfill slow enough to be caught in the middle.
      const environment = { ...(await env()), PAYBRIDGE_RATE_LIMIT_TEST: '5' };
      let pb = await startPaybridge(dir, environment);
      const key = keyOf(pb);
      const call = async (method: string, path: string, body?: string) =>
        (await fetch(`${pb.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, body })).json();
      try {
        const stripe = new Stripe('sk_test_crash_backfill', { host: '127.0.0.1', port: pb.ports.sandboxPort, protocol: 'http' });
        const made: string[] = [];
        // Spread over a few seconds, so the customers' created times leave room for several ranges.
        for (let i = 0; i < 60; i++) {
          made.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => stripe.customers.create({ email: `bulk${i * 25 + j}@example.com` }).then((c) => c.id)))));
          await new Promise((r) => setTimeout(r, 70));
        }
        const conn = await call('POST', '/v1/connections', 'secret_key=sk_test_crash_backfill');
        await call('POST', `/v1/connections/${conn.id}/sync`);
        const customersSynced = async () => ((await call('GET', `/v1/connections/${conn.id}/sync`)).models as { model: string; synced: number }[]).find((m) => m.model === 'customers')!.synced;
        // Killed once the customers are read in several created ranges at once (how soon depends on how the rate
        // limit is shared with the other models), and well before the end.
        await eventually(async () => {
          const reading = ((await call('GET', `/v1/connections/${conn.id}/sync`)).models as { model: string; synced: number; ranges: number }[]).find((m) => m.model === 'customers')!;
          assert.ok(reading.synced >= 300 && reading.ranges >= 2, `customers synced: ${reading.synced}, in ${reading.ranges} ranges`);
        }, 30_000);
        assert.ok(await customersSynced() < 1500, 'killed before the backfill was done');
        await killHard(pb);

        pb = await startPaybridge(dir, environment, pb.ports);
        await eventually(async () => {
          const status = (await call('GET', `/v1/connections/${conn.id}/sync`)).models as { status: string }[];
          assert.ok(status.every((m) => m.status === 'synced'), JSON.stringify(status));
        }, 60_000);
        assert.equal(await customersSynced(), 1500, 'each page counted once');
        const ids: string[] = [];
        for (let cursor = ''; ;) {
          const page = await call('GET', `/v1/records?connection=${conn.id}&model=customers&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
          ids.push(...page.data.map((r: { id: string }) => r.id));
          if (!page.has_more) break;
          cursor = page.next_cursor;
        }
        assert.equal(ids.length, 1500, 'no record twice');
        assert.deepEqual(new Set(ids), new Set(made), 'no record missing');
      } finally {
        await pb.stop();
      }
    });
  });
}
