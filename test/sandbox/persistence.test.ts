/**
 * `paybridge sandbox --data-dir`: every write acknowledged to a client
 * survives `kill -9` and a restart. Runs the real CLI in a child process.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import Stripe from 'stripe';

const BIN = new URL('../../bin/paybridge.mjs', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'paybridge-sandbox-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function startCli(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}: ${out}`)));
  });
  return { child, url };
}

const client = (url: string) => {
  const u = new URL(url);
  return new Stripe('sk_test_persist', { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0 });
};

const killHard = (child: ChildProcess) => new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGKILL');
});

it('keeps every acknowledged write across kill -9 and restart', async () => {
  const first = await startCli();
  const stripe = client(first.url);
  const customer = await stripe.customers.create({ email: 'durable@example.com', payment_method: 'pm_card_visa' });
  const pi = await stripe.paymentIntents.create({ amount: 1234, currency: 'usd', customer: customer.id, payment_method: 'pm_card_visa', confirm: true });
  await stripe.customers.update(customer.id, { metadata: { step: 'two' } });
  const key = 'persisted-idempotency-key';
  const keyed = await stripe.customers.create({ email: 'keyed@example.com' }, { idempotencyKey: key });

  // Writes in flight while the process is killed: the ones acknowledged must survive.
  const acknowledged: string[] = [];
  const inflight = Array.from({ length: 200 }, (_, i) =>
    stripe.customers.create({ email: `burst-${i}@example.com` }).then((c) => acknowledged.push(c.id), () => undefined),
  );
  await new Promise((r) => setTimeout(r, 30));
  await killHard(first.child);
  await Promise.all(inflight);

  const second = await startCli();
  try {
    const again = client(second.url);
    const c = await again.customers.retrieve(customer.id) as Stripe.Customer;
    assert.deepEqual(c.metadata, { step: 'two' });
    assert.equal(c.invoice_settings.default_payment_method, null);
    assert.ok(acknowledged.length > 0, 'some writes were acknowledged before the kill');
    const p = await again.paymentIntents.retrieve(pi.id);
    assert.equal(p.status, 'succeeded');
    const charge = await again.charges.retrieve(p.latest_charge as string);
    assert.equal(charge.amount, 1234);
    for (const id of acknowledged) await again.customers.retrieve(id);
    const replay = await again.customers.create({ email: 'keyed@example.com' }, { idempotencyKey: key });
    assert.equal(replay.id, keyed.id);
    assert.equal(replay.lastResponse.headers['idempotent-replayed'], 'true');
    const newOne = await again.customers.create({ email: 'after-restart@example.com' });
    assert.match(newOne.id, /^cus_/);
  } finally {
    await killHard(second.child);
  }
});
