/**
 * `paybridge listen` and `paybridge trigger` as a user runs them: real
 * child processes against a sandbox, with a local handler that verifies
 * signatures with the secret `listen` printed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { harnessPerFile, type Harness } from '../helpers.js';
import { startListen, verifyingHandler } from './listen-process.js';
import { BIN } from './paybridge-process.js';
let h: Harness;
harnessPerFile((x) => (h = x));

it('forwards triggered events to the local handler, signed with the secret it printed', async () => {
  let secret = '';
  const handler = await verifyingHandler((body, headers) => h.stripe.webhooks.constructEvent(body, String(headers['stripe-signature']), secret));
  const verified = handler.received;
  const forwardTo = `${handler.url}/webhooks`;
  const listener = await startListen(['--forward-to', forwardTo, '--sandbox', h.sandbox.url]);
  secret = listener.secret;
  const output = listener.output;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'trigger', 'payment_intent.succeeded', '--sandbox', h.sandbox.url]);
    assert.match(stdout, /Trigger succeeded/);
    const deadline = Date.now() + 5000;
    const forwarded = () => (output().match(/<-- {2}\[200\]/g) ?? []).length;
    while ((!verified.some((e) => e.type === 'payment_intent.succeeded') || forwarded() < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const types = verified.map((e) => e.type);
    assert.ok(types.includes('payment_intent.created'), types.join());
    assert.ok(types.includes('payment_intent.succeeded'), types.join());
    assert.ok(types.includes('charge.succeeded'), types.join());
    assert.match(output(), /--> payment_intent\.succeeded \[evt_\w+\]/);
    assert.match(output(), /<-- {2}\[200\] POST http:\/\/127\.0\.0\.1:\d+\/webhooks \[evt_\w+\]/);

    const unknown = await promisify(execFile)(process.execPath, [BIN, 'trigger', 'nothing.happened', '--sandbox', h.sandbox.url]).catch((e) => e);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /does not know how to produce 'nothing.happened'/);
  } finally {
    await listener.stop();
    handler.close();
  }
  // Stopping `listen` removes its endpoint; a new run gets the same secret back.
  const endpoints = await h.stripe.webhookEndpoints.list();
  assert.equal(endpoints.data.length, 0);
  const again = await h.http('POST', '/_sandbox/webhook_sessions', { body: 'url=http://127.0.0.1:9/x' });
  assert.equal(again.json.secret, secret);
});
