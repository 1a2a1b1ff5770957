/**
 * Webhook delivery rate: events per second the sandbox delivers to a local
 * receiver, each signed and verified with `stripe.webhooks.constructEvent`.
 * The sandbox runs as `paybridge sandbox`; the load creates customers (one
 * `customer.created` event each) as fast as it can, and the clock stops when
 * the last event has been received and verified.
 * Usage: npm run bench:webhooks [-- --events 20000]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort, load, startServer } from './harness.js';

const total = Number(process.argv[process.argv.indexOf('--events') + 1]) || 20_000;
const root = fileURLToPath(new URL('..', import.meta.url));

async function main() {
  const port = await freePort();
  const sandbox = await startServer('PayBridge sandbox', process.execPath, [`${root}/bin/paybridge.mjs`, 'sandbox', '--port', String(port)], port, {}, '/_sandbox/health');
  const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port, protocol: 'http' });
  let secret = '';
  let received = 0;
  let invalid = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret);
        received++;
      } catch {
        invalid++;
      }
      res.end();
      if (received === total) done();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const endpoint = await stripe.webhookEndpoints.create({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, enabled_events: ['customer.created'] });
    secret = endpoint.secret!;
    const started = performance.now();
    const creation = await load(sandbox.url, '/v1/customers', 'email=hook%40example.com', { amount: total, connections: 16 });
    const created = performance.now();
    await finished;
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${total} customer.created events, node ${process.version}`);
    console.log(`created at ${Math.round(total / ((created - started) / 1000))} req/s (p99 ${creation.p99} ms while delivering)`);
    console.log(`delivered and verified: ${received} in ${seconds.toFixed(2)} s = ${Math.round(received / seconds)} events/s (signature failures: ${invalid})`);
  } finally {
    receiver.close();
    receiver.closeAllConnections();
    await sandbox.stop();
  }
}

await main();
