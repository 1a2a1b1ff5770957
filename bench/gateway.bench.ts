/**
 * Proxy overhead, side by side in one run: the stripe SDK creating
 * customers (32 concurrent callers) against the sandbox directly, through
 * the gateway's proxy (/proxy/{connection}/v1 with an app key), and through
 * a connection key (the SDK pointed at the gateway). The gateway runs as
 * `paybridge start` with its embedded sandbox, in a child process.
 * Usage: npm run bench:gateway [-- --duration 8]; DATABASE_URL=postgres://… runs the gateway on PostgreSQL
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort, startServer } from './harness.js';

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 8;
const CONCURRENCY = 32;
const root = fileURLToPath(new URL('..', import.meta.url));

interface Row { name: string; rps: number; p50: number; p99: number; errors: number }

/** CONCURRENCY callers in a loop for `seconds`; latency per call in ms. */
async function drive(name: string, call: () => Promise<unknown>, seconds: number): Promise<Row> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.floor(q * (latencies.length - 1))] * 10) / 10;
  return { name, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors };
}

const client = (key: string, port: number, extra: Partial<Stripe.StripeConfig> = {}) =>
  new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, ...extra });

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-bench-'));
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const gateway = await startServer('PayBridge gateway', process.execPath, [`${root}/bin/paybridge.mjs`, 'start', '--port', String(port), '--sandbox-port', String(sandboxPort), '--data-dir', dir], port, {}, '/health');
  try {
    await new Promise((r) => setTimeout(r, 500));
    const appKey = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')).test_key as string;
    const api = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: `Bearer ${appKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    const direct = client('sk_test_bench_merchant', sandboxPort);
    // The SDK has no base path option; rawRequest sends the same form-encoded call to the proxy's path.
    const proxiedClient = client(appKey, port);
    const params = { email: 'bench@example.com', name: 'Bench' };
    const rows: Row[] = [];
    const run = async (name: string, call: () => Promise<unknown>) => {
      await drive(name, call, 2); // warm-up
      rows.push(await drive(name, call, duration));
    };
    // First with no webhook endpoint on the account (a connection given its own signing secret registers none):
    // the proxy alone. Then as PayBridge connects by default, with Stripe's events for every create coming back.
    await run('sandbox direct', () => direct.customers.create(params));
    const quiet = await api('/v1/connections', { secret_key: 'sk_test_bench_merchant', webhook_secret: 'whsec_benchNoEndpoint' });
    await run('gateway proxy, no events', () => proxiedClient.rawRequest('POST', `/proxy/${quiet.id}/v1/customers`, params));
    const conn = await api('/v1/connections', { secret_key: 'sk_test_bench_merchant' });
    const ckey = await api(`/v1/connections/${conn.id}/keys`, { permissions: { customers: 'write' } });
    const viaKey = client(ckey.secret, port);
    await run('gateway proxy, with each create’s event coming back', () => proxiedClient.rawRequest('POST', `/proxy/${conn.id}/v1/customers`, params));
    await run('gateway connection key, with events', () => viaKey.customers.create(params));
    const base = rows[0];
    console.log(`\nstripe SDK, customers.create, ${CONCURRENCY} concurrent callers, ${duration}s per row, node ${process.version}, storage ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}\n`);
    console.log('| path | req/s | p50 ms | p99 ms | errors | vs direct | added p50 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${Math.round((100 * r.rps) / base.rps)}% | ${Math.round((r.p50 - base.p50) * 10) / 10} |`);
    }
    console.log('\ntargets: through the proxy at least 50% of direct throughput and under 2 ms added median latency');
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
