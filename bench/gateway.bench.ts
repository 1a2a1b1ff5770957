/**
 * Proxy overhead, side by side in one run: the stripe SDK creating
 * customers (32 concurrent callers) against the sandbox directly, through
 * the gateway's proxy (/proxy/{connection}/v1 with an app key), and through
 * a connection key (the SDK pointed at the gateway). The gateway runs as
 * `paybridge start` with its embedded sandbox, in a child process.
 * Usage: npm run bench:gateway [-- --duration 8]; DATABASE_URL=postgres://… runs the gateway on PostgreSQL;
 * BENCH_NODE_ARGS passes node options to the gateway's process
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort, scratchDatabase, startServer, type Server } from './harness.js';

const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 8;
const CONCURRENCY = 32;
const root = fileURLToPath(new URL('..', import.meta.url));

interface Row { name: string; rps: number; p50: number; p99: number; errors: number }

/** CONCURRENCY callers in a loop for `seconds`; latency per call in ms. */
async function drive(call: () => Promise<unknown>, seconds: number): Promise<{ latencies: number[]; errors: number }> {
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
  return { latencies, errors };
}

/**
 * The rows of one phase, run in turns of a second or two each rather than one after another: the sandbox
 * grows by every customer created, and a row run last would meet a bigger heap than the row it is compared with.
 */
async function phase(paths: [string, () => Promise<unknown>][], seconds: number): Promise<Row[]> {
  for (const [, call] of paths) await drive(call, 1); // warm-up
  const turns = Math.max(1, Math.round(seconds / 2));
  const acc = paths.map(() => ({ latencies: [] as number[], errors: 0 }));
  for (let t = 0; t < turns; t++) {
    for (const [i, [, call]] of paths.entries()) {
      const r = await drive(call, seconds / turns);
      acc[i].latencies.push(...r.latencies);
      acc[i].errors += r.errors;
    }
  }
  return paths.map(([name], i) => {
    const latencies = acc[i].latencies.sort((x, y) => x - y);
    const at = (q: number) => Math.round(latencies[Math.floor(q * (latencies.length - 1))] * 10) / 10;
    return { name, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors: acc[i].errors };
  });
}

const client = (key: string, port: number, extra: Partial<Stripe.StripeConfig> = {}) =>
  new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, ...extra });

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-bench-'));
  const [port, sandboxPort] = [await freePort(), await freePort()];
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway's threads (and so on).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const database = await scratchDatabase();
  const gateway = await startServer('PayBridge gateway', process.execPath, [...nodeArgs, `${root}/bin/paybridge.mjs`, 'start', '--port', String(port), '--sandbox-port', String(sandboxPort), '--data-dir', dir], port, database ? { DATABASE_URL: database.url } : {}, '/health');
  let bare: Server | undefined;
  try {
    await new Promise((r) => setTimeout(r, 500));
    const appKey = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8')).test_key as string;
    const api = (path: string, body: unknown) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: `Bearer ${appKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    const direct = client('sk_test_bench_merchant', sandboxPort);
    // The SDK has no base path option; rawRequest sends the same form-encoded call to the proxy's path, and every row
    // uses it: it costs the client, which shares the two cores, less than customers.create, and alike for every row.
    const proxiedClient = client(appKey, port);
    const params = { email: 'bench@example.com', name: 'Bench' };
    /** The three paths for one connection: directly, through its proxy path with the app key, and with a connection key. */
    const phaseFor = async (events: boolean, connection: Record<string, string>, bareProxy?: Stripe) => {
      const conn = await api('/v1/connections', { secret_key: 'sk_test_bench_merchant', ...connection });
      const viaKey = client((await api(`/v1/connections/${conn.id}/keys`, { permissions: { customers: 'write' } })).secret, port);
      return phase([
        [events ? 'sandbox direct, with events' : 'sandbox direct', () => direct.rawRequest('POST', '/v1/customers', params)],
        [`gateway proxy, ${events ? 'with' : 'no'} events`, () => proxiedClient.rawRequest('POST', `/proxy/${conn.id}/v1/customers`, params)],
        [`gateway connection key, ${events ? 'with' : 'no'} events`, () => viaKey.rawRequest('POST', '/v1/customers', params)],
        ...(bareProxy ? [['bare proxy (one more hop, nothing else)', () => bareProxy.rawRequest('POST', '/v1/customers', params)] as [string, () => Promise<unknown>]] : []),
      ], duration);
    };
    // First with no webhook endpoint on the account (a connection given its own signing secret registers none):
    // the proxy alone. Then as PayBridge connects by default: the account's endpoint points at the gateway and
    // Stripe's event for every create comes back, a direct call's too, so the direct row of that phase carries the
    // same load on the machine as the proxied rows, minus the proxy hop.
    // The floor under any proxy here: one more HTTP hop to the same sandbox socket, and nothing else.
    const socket = readdirSync(tmpdir()).find((f) => f.startsWith(`paybridge-sandbox-${gateway.child.pid}-`) && f.endsWith('.sock'));
    const proxyPort = await freePort();
    bare = socket ? await startServer('bare proxy', process.execPath, [`${root}/bench/bare-proxy.mjs`, String(proxyPort), join(tmpdir(), socket)], proxyPort) : undefined;
    const quietRows = await phaseFor(false, { webhook_secret: 'whsec_benchNoEndpoint' }, bare && client('sk_test_bench_merchant', proxyPort));
    const eventRows = await phaseFor(true, {});
    const rows = [...quietRows, ...eventRows];
    const baseFor = (r: Row) => (eventRows.includes(r) ? eventRows[0] : quietRows[0]);
    console.log(`\nstripe SDK, POST /v1/customers with rawRequest, ${CONCURRENCY} concurrent callers, ${duration}s per row in turns of about 2s, node ${process.version}, storage ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}\n`);
    console.log('| path | req/s | p50 ms | p99 ms | errors | vs direct | vs first row | added p50 ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const base = baseFor(r);
      console.log(`| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${Math.round((100 * r.rps) / base.rps)}% | ${Math.round((100 * r.rps) / rows[0].rps)}% | ${Math.round((r.p50 - base.p50) * 10) / 10} |`);
    }
    console.log('\n"vs direct" compares each row with the direct row under the same events: none, or each create’s event delivered to the gateway.');
    console.log('\ntargets: through the proxy at least 50% of direct throughput and under 2 ms added median latency');
  } finally {
    await bare?.stop();
    await gateway.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
