/**
 * Sandbox throughput, side by side in one run on loopback:
 *   - PayBridge sandbox
 *   - stripe-stateful-mock (the peer; it has no PaymentIntents, so its row
 *     for the payment scenario uses its closest equivalent, POST /v1/charges)
 *   - a bare node:http server returning a fixed body (the ceiling)
 * Then 100,000 stored customers and the sandbox's resident memory.
 * Usage: npm run bench [-- --duration 8]
 */
import { fileURLToPath } from 'node:url';
import { freePort, load, median, rssMiB, startServer, type LoadResult, type Server } from './harness.js';

function combine(turns: LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => turns.reduce((n, r) => n + f(r), 0);
  return { rps: sum((r) => r.rps) / turns.length, p50: median(turns.map((r) => r.p50)), p99: median(turns.map((r) => r.p99)), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors) };
}

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 8;
const root = fileURLToPath(new URL('..', import.meta.url));
const node = process.execPath;

const CUSTOMER = 'email=bench%40example.com&name=Bench+User&metadata[source]=bench';
const PAYMENT = 'amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true';
const PEER_CHARGE = 'amount=2000&currency=usd&source=tok_visa';

async function main() {
  const ports = { sandbox: await freePort(), peer: await freePort(), bare: await freePort() };
  const sandbox = await startServer('PayBridge sandbox', node, [`${root}/bin/paybridge.mjs`, 'sandbox', '--port', String(ports.sandbox)], ports.sandbox, {}, '/_sandbox/health');
  const peer = await startServer('stripe-stateful-mock', node, [`${root}/node_modules/stripe-stateful-mock/dist/cli.js`], ports.peer, { PORT: String(ports.peer), LOG_LEVEL: 'silent' });
  const bare = await startServer('bare node:http', node, [`${root}/bench/bare-server.mjs`, String(ports.bare)], ports.bare);
  const rows: { scenario: string; server: string; r: LoadResult }[] = [];
  // Each scenario's servers take turns of two seconds rather than one full run after another, so a slow spell of
  // the shared machine falls on all of them; a row's rate is the mean over its turns, its latencies the median turn's.
  const turns = Math.max(1, Math.round(duration / 2));
  const rotate = async (targets: [string, Server, string, string][]) => {
    for (const [, server, path, body] of targets) await load(server.url, path, body, { duration: 2 }); // warm-up
    const results = targets.map(() => [] as LoadResult[]);
    for (let t = 0; t < turns; t++) {
      for (const [i, [, server, path, body]] of targets.entries()) results[i].push(await load(server.url, path, body, { duration: duration / turns }));
    }
    for (const [i, [scenario, server]] of targets.entries()) rows.push({ scenario, server: server.name, r: combine(results[i]) });
  };
  try {
    const customers = 'POST /v1/customers';
    await rotate([[customers, sandbox, '/v1/customers', CUSTOMER], [customers, peer, '/v1/customers', CUSTOMER], [customers, bare, '/v1/customers', CUSTOMER]]);
    await rotate([
      ['POST /v1/payment_intents (create+confirm)', sandbox, '/v1/payment_intents', PAYMENT],
      ['POST /v1/charges (peer has no PaymentIntents)', peer, '/v1/charges', PEER_CHARGE],
      ['POST (fixed body)', bare, '/v1/payment_intents', PAYMENT],
    ]);
  } catch (e) {
    await sandbox.stop();
    throw e;
  } finally {
    await peer.stop();
    await bare.stop();
  }

  const customerRate = (name: string) => rows.find((x) => x.scenario === 'POST /v1/customers' && x.server === name)!.r.rps;
  console.log(`\nconnections: 32, duration: ${duration}s per row in ${turns} turns taken in rotation, node ${process.version}\n`);
  console.log('| scenario | server | req/s | p50 ms | p99 ms | non-2xx |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const { scenario, server, r } of rows) console.log(`| ${scenario} | ${server} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`);
  const ours = customerRate('PayBridge sandbox');
  console.log(`\ncustomer creation: ${(ours / customerRate('stripe-stateful-mock')).toFixed(1)}x the peer's rate (target >= 3x), ${Math.round((100 * ours) / customerRate('bare node:http'))}% of the bare ceiling (target >= 35%)`);

  await sandbox.stop();

  // Memory: a fresh sandbox filled with 100,000 customers, then its resident set.
  const port = await freePort();
  const fresh = await startServer('PayBridge sandbox', node, [`${root}/bin/paybridge.mjs`, 'sandbox', '--port', String(port)], port, {}, '/_sandbox/health');
  try {
    const idle = rssMiB(fresh.child.pid!);
    await load(fresh.url, '/v1/customers', CUSTOMER, { amount: 100_000, connections: 32 });
    const page = await fetch(`${fresh.url}/v1/customers?limit=1`, { headers: { authorization: 'Bearer sk_test_bench' } });
    if (!page.ok) throw new Error('sandbox stopped answering');
    console.log(`100,000 stored customers (and their 100,000 customer.created events): sandbox RSS ${rssMiB(fresh.child.pid!)} MiB, ${idle} MiB when idle (target < 400 MB)`);
  } finally {
    await fresh.stop();
  }
}

await main();
