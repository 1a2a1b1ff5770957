/**
 * bench:sync's rows at Stripe's pace (issue 22): the sandbox answers as Stripe does in test mode (250 ms ± 50 ms a
 * request, 25 requests a second per account), and
 * - one gateway's first sync of a large account is measured in objects a second, as a share of the ceiling the rate
 *   limit allows (25 requests × 100 objects = 2,500 a second; target ≥ 80%);
 * - two gateway instances on one PostgreSQL sync two connections to the same account at once, and the 429s the
 *   account receives are counted (target: none);
 * - a connection Stripe cannot send webhooks to gets its events by polling: the time from an event's creation to the
 *   app's delivery (target: within two seconds at the default poll interval).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { loadConfig, startGateway, type Gateway } from '../src/gateway/index.js';
import { median, scratchDatabase } from './harness.js';

const STRIPE_PACE = { latency_ms: 250, latency_jitter_ms: 50, rate_limit: 25 };
const CEILING = STRIPE_PACE.rate_limit * 100;

async function seedCharges(sandbox: Sandbox, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < count) {
      next++;
      const res = await fetch(`${sandbox.url}/v1/charges`, { method: 'POST', headers: { authorization: 'Bearer sk_test_bench_pace', 'content-type': 'application/x-www-form-urlencoded' }, body: 'amount=1500&currency=usd&source=tok_visa' });
      await res.arrayBuffer();
    }
  }));
}

const pace = async (sandbox: Sandbox, body?: object) =>
  (await fetch(`${sandbox.url}/_sandbox/config`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : undefined)).json() as Promise<{ rate_limited: number }>;

async function gatewayFor(sandbox: Sandbox, databaseUrl: string | undefined): Promise<Gateway> {
  const config = loadConfig({ port: 0 }, {
    STRIPE_API_BASE: sandbox.url, PAYBRIDGE_ALLOW_PRIVATE_URLS: 'loopback', PAYBRIDGE_MASTER_KEY: MASTER_KEY,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  return startGateway(config);
}
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

const api = (gw: Gateway, key: string) => (method: string, path: string, body?: unknown) =>
  fetch(gw.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined }).then((r) => r.json());

/** Syncs `connection` on `gw` and answers the records it holds at the end. */
async function sync(gw: Gateway, key: string, connection: string): Promise<number> {
  await api(gw, key)('POST', `/v1/connections/${connection}/sync`);
  await gw.services.syncs.settled(connection);
  const status = await api(gw, key)('GET', `/v1/connections/${connection}/sync`);
  const failed = status.models.filter((m: { status: string }) => m.status !== 'synced');
  if (failed.length) throw new Error(`sync did not finish: ${JSON.stringify(failed)}`);
  return status.models.reduce((n: number, m: { synced: number }) => n + m.synced, 0);
}

/** Milliseconds from each customer's creation to its `customer.created` reaching the app, for a polled connection. */
async function pollingDelays(sandbox: Sandbox, gw: Gateway, key: string, count: number): Promise<number[]> {
  const arrived = new Map<string, number>();
  const hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const event = JSON.parse(body);
      if (event.type === 'customer.created') arrived.set(event.data.object.id, Date.now());
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  try {
    const made = await fetch(`${sandbox.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write', events: 'read' } }) });
    const { secret } = await made.json();
    const call = api(gw, key);
    const conn = await call('POST', '/v1/connections', { secret_key: secret });
    await call('POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`, enabled_events: ['customer.created'] });
    const created = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const at = Date.now();
      const customer = await (await fetch(`${sandbox.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${secret}` }, body: new URLSearchParams({ email: `polled${i}@example.com` }) })).json();
      created.set(customer.id, at);
      await new Promise((r) => setTimeout(r, 300));
    }
    for (let waited = 0; arrived.size < count && waited < 20_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    if (arrived.size < count) throw new Error(`${count - arrived.size} of ${count} polled events never reached the app`);
    void conn;
    return [...created].map(([id, at]) => arrived.get(id)! - at);
  } finally {
    hooks.close();
  }
}

export async function stripePaceRows(charges: number): Promise<void> {
  const sandbox = await startSandbox({ port: 0 });
  const single = await scratchDatabase('_pace');
  const shared = await scratchDatabase('_pace2');
  try {
    await seedCharges(sandbox, charges);
    await pace(sandbox, STRIPE_PACE);
    console.log(`\nAt Stripe's pace: ${charges} charges; the sandbox answers in ${STRIPE_PACE.latency_ms} ms ± ${STRIPE_PACE.latency_jitter_ms} ms, ${STRIPE_PACE.rate_limit} requests a second per account (ceiling ${CEILING} objects a second); storage ${single ? 'PostgreSQL' : 'PGlite in memory'}\n`);
    console.log('| row | objects | seconds | objects/s | share of the ceiling | 429s received |');
    console.log('|---|---:|---:|---:|---:|---:|');

    const gw = await gatewayFor(sandbox, single?.url);
    let delays: number[] = [];
    try {
      const key = gw.bootstrap!.test_key;
      const conn = await api(gw, key)('POST', '/v1/connections', { secret_key: 'sk_test_bench_pace' });
      await new Promise((r) => setTimeout(r, 1100));
      await pace(sandbox, STRIPE_PACE);
      const started = performance.now();
      const objects = await sync(gw, key, conn.id);
      const seconds = (performance.now() - started) / 1000;
      const refused = (await pace(sandbox)).rate_limited;
      console.log(`| first sync, one instance | ${objects} | ${seconds.toFixed(1)} | ${Math.round(objects / seconds)} | ${Math.round((100 * objects) / seconds / CEILING)}% (target ≥ 80%) | ${refused} |`);
      delays = await pollingDelays(sandbox, gw, key, 10);
    } finally {
      await gw.close();
    }

    if (shared) {
      const [a, b] = await Promise.all([gatewayFor(sandbox, shared.url), gatewayFor(sandbox, shared.url)]);
      try {
        const key = a.bootstrap?.test_key ?? b.bootstrap!.test_key;
        // Two connections (two keys) to the one account, one synced by each instance, at the same time.
        const one = await api(a, key)('POST', '/v1/connections', { secret_key: 'sk_test_bench_pace_one' });
        const two = await api(b, key)('POST', '/v1/connections', { secret_key: 'sk_test_bench_pace_two' });
        await new Promise((r) => setTimeout(r, 1100));
        await pace(sandbox, STRIPE_PACE);
        const started = performance.now();
        const [x, y] = await Promise.all([sync(a, key, one.id), sync(b, key, two.id)]);
        const seconds = (performance.now() - started) / 1000;
        const refused = (await pace(sandbox)).rate_limited;
        console.log(`| two instances on one PostgreSQL, two connections to one account | ${x + y} | ${seconds.toFixed(1)} | ${Math.round((x + y) / seconds)} | ${Math.round((100 * (x + y)) / seconds / CEILING)}% | ${refused} (target 0) |`);
      } finally {
        await a.close();
        await b.close();
      }
    } else {
      console.log('| two instances on one PostgreSQL | — | — | — | — | not run: set DATABASE_URL |');
    }
    console.log(`\npolling (a connection without a webhook endpoint, default interval): events reached the app ${median(delays)} ms after creation (median of ${delays.length}), ${Math.max(...delays)} ms at most (target ≤ 2000 ms)`);
  } finally {
    await sandbox.close();
    await single?.drop();
    await shared?.drop();
  }
}
