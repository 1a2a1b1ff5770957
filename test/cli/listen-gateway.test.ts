/**
 * `paybridge listen --api-key pb_test_…` (issue 18): PayBridge's own webhooks
 * to an app — session.*, connection.*, its connections' Stripe events —
 * forwarded to a local handler, signed with the secret it printed, and the
 * run's endpoint removed when it stops.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Stripe from 'stripe';
import { BIN, ENV, startPaybridge } from './paybridge-process.js';

it("forwards the app's PayBridge webhooks from the gateway, signed with the secret it printed", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-listen-'));
  const pb = await startPaybridge(dir);
  const key = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')).test_key as string;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${pb.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined }).then((r) => r.json());
  const received: Stripe.Event[] = [];
  let secret = '';
  const handler = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        received.push(Stripe.webhooks.constructEvent(body, String(req.headers['paybridge-signature']), secret));
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => handler.listen(0, '127.0.0.1', r));
  const forwardTo = `http://127.0.0.1:${(handler.address() as AddressInfo).port}/hooks`;
  const listener = spawn(process.execPath, [BIN, 'listen', '--forward-to', forwardTo, '--gateway', pb.url], { env: { ...ENV, PAYBRIDGE_API_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    secret = await new Promise<string>((resolve, reject) => {
      const take = (c: Buffer) => {
        output += c;
        const m = /signing secret is (whsec_\w+)/.exec(output);
        if (m) resolve(m[1]);
      };
      listener.stdout!.on('data', take);
      listener.stderr!.on('data', (c) => (output += c));
      listener.once('exit', (code) => reject(new Error(`listen exited ${code}: ${output}`)));
    });
    assert.match(output, /Forwarding your app's PayBridge webhooks/);
    const conn = await api('POST', '/v1/connections', { secret_key: 'sk_test_listen_gateway' });
    const session = await api('POST', '/v1/sessions', { mode: 'charge', amount: 1500, currency: 'usd', connection: conn.id });
    await api('POST', `/v1/sessions/${session.id}/cancel`);
    const deadline = Date.now() + 15_000;
    while (!received.some((e) => (e.type as string) === 'session.canceled') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(received.some((e) => (e.type as string) === 'session.canceled'), `${received.map((e) => e.type).join()}\n${output}`);
    assert.match(output, /--> session\.canceled \[\w+\]/);
  } finally {
    const exited = new Promise((r) => listener.once('exit', r));
    listener.kill('SIGINT');
    await exited;
    handler.close();
    handler.closeAllConnections();
  }
  const endpoints = await api('GET', '/v1/webhook_endpoints');
  assert.equal(endpoints.data.length, 0, 'stopping listen removes its endpoint');
  await pb.stop();
  rmSync(dir, { recursive: true, force: true });
});
