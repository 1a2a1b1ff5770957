/**
 * `paybridge listen` and `paybridge trigger` as a user runs them: real
 * child processes against a sandbox, with a local handler that verifies
 * signatures with the secret `listen` printed.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, type Harness } from '../helpers.js';

const BIN = new URL('../../bin/paybridge.mjs', import.meta.url).pathname;
let h: Harness;
harnessPerFile((x) => (h = x));

it('forwards triggered events to the local handler, signed with the secret it printed', async () => {
  const verified: Stripe.Event[] = [];
  let secret = '';
  const handler = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        verified.push(h.stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret));
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => handler.listen(0, '127.0.0.1', r));
  const forwardTo = `http://127.0.0.1:${(handler.address() as AddressInfo).port}/webhooks`;
  const listener = spawn(process.execPath, [BIN, 'listen', '--forward-to', forwardTo, '--sandbox', h.sandbox.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  try {
    secret = await new Promise<string>((resolve, reject) => {
      listener.stdout!.on('data', (c) => {
        output += c;
        const m = /signing secret is (whsec_\w+)/.exec(output);
        if (m) resolve(m[1]);
      });
      listener.once('exit', (code) => reject(new Error(`listen exited ${code}: ${output}`)));
    });
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'trigger', 'payment_intent.succeeded', '--sandbox', h.sandbox.url]);
    assert.match(stdout, /Trigger succeeded/);
    const deadline = Date.now() + 5000;
    const forwarded = () => (output.match(/<-- {2}\[200\]/g) ?? []).length;
    while ((!verified.some((e) => e.type === 'payment_intent.succeeded') || forwarded() < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const types = verified.map((e) => e.type);
    assert.ok(types.includes('payment_intent.created'), types.join());
    assert.ok(types.includes('payment_intent.succeeded'), types.join());
    assert.ok(types.includes('charge.succeeded'), types.join());
    assert.match(output, /--> payment_intent\.succeeded \[evt_\w+\]/);
    assert.match(output, /<-- {2}\[200\] POST http:\/\/127\.0\.0\.1:\d+\/webhooks \[evt_\w+\]/);

    const unknown = await promisify(execFile)(process.execPath, [BIN, 'trigger', 'nothing.happened', '--sandbox', h.sandbox.url]).catch((e) => e);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /does not know how to produce 'nothing.happened'/);
  } finally {
    const exited = new Promise((r) => listener.once('exit', r));
    listener.kill('SIGINT');
    await exited;
    handler.close();
    handler.closeAllConnections();
  }
  // Stopping `listen` removes its endpoint; a new run gets the same secret back.
  const endpoints = await h.stripe.webhookEndpoints.list();
  assert.equal(endpoints.data.length, 0);
  const again = await h.http('POST', '/_sandbox/webhook_sessions', { body: 'url=http://127.0.0.1:9/x' });
  assert.equal(again.json.secret, secret);
});
