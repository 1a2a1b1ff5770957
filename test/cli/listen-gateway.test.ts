/**
 * `paybridge listen --api-key pb_test_…` (issue 18): PayBridge's own webhooks
 * to an app — session.*, connection.*, its connections' Stripe events —
 * forwarded to a local handler, signed with the secret it printed, and the
 * run's endpoint removed when it stops.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Stripe from 'stripe';
import { startListen, verifyingHandler } from './listen-process.js';
import { ENV, startPaybridge } from './paybridge-process.js';

it("forwards the app's PayBridge webhooks from the gateway, signed with the secret it printed", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-listen-'));
  const pb = await startPaybridge(dir);
  const key = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')).test_key as string;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${pb.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined }).then((r) => r.json());
  let secret = '';
  const handler = await verifyingHandler((body, headers) => Stripe.webhooks.constructEvent(body, String(headers['paybridge-signature']), secret));
  const received = handler.received;
  const listener = await startListen(['--forward-to', `${handler.url}/hooks`, '--gateway', pb.url], { ...ENV, PAYBRIDGE_API_KEY: key });
  secret = listener.secret;
  const output = listener.output;
  try {
    assert.match(output(), /Forwarding your app's PayBridge webhooks/);
    const conn = await api('POST', '/v1/connections', { secret_key: 'sk_test_listen_gateway' });
    const session = await api('POST', '/v1/sessions', { mode: 'charge', amount: 1500, currency: 'usd', connection: conn.id });
    await api('POST', `/v1/sessions/${session.id}/cancel`);
    const deadline = Date.now() + 15_000;
    while (!received.some((e) => (e.type as string) === 'session.canceled') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(received.some((e) => (e.type as string) === 'session.canceled'), `${received.map((e) => e.type).join()}\n${output()}`);
    assert.match(output(), /--> session\.canceled \[\w+\]/);
  } finally {
    await listener.stop();
    handler.close();
  }
  const endpoints = await api('GET', '/v1/webhook_endpoints');
  assert.equal(endpoints.data.length, 0, 'stopping listen removes its endpoint');
  await pb.stop();
  rmSync(dir, { recursive: true, force: true });
});
