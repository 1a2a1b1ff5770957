/**
 * Sync backfill speed, side by side in one run: reading every model a
 * backfill reads (customers, payment intents, their charges, …) page by page
 * through the proxy (the raw paginated list throughput), then a backfill of
 * the same data into the database. The sandbox is seeded before the connection exists, so no
 * webhook traffic runs during the measurement.
 * Then the rows at Stripe's pace (bench/sync-pace.ts).
 * Usage: npm run bench:sync [-- --customers 10000 --payments 20000 --rounds 3 --pace-charges 100000 --pace-only];
 * DATABASE_URL=postgres://… to measure on PostgreSQL (and to run the two-instance row)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { loadConfig, startGateway } from '../src/gateway/index.js';
import { jsonbArrayOf, MODELS } from '../src/gateway/syncs.js';
import { busyShare, cpuTimes, median, scratchDatabase } from './harness.js';
import { stripePaceRows } from './sync-pace.js';

const arg = (name: string, fallback: number) => Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) || fallback;
const customers = arg('customers', 10_000);
const payments = arg('payments', 20_000);
const roundCount = arg('rounds', 3);
/** Charges of the Stripe-pace rows (0 skips them). */
const paceCharges = process.argv.includes('--pace-charges') ? Number(process.argv[process.argv.indexOf('--pace-charges') + 1]) : 100_000;
const paceOnly = process.argv.includes('--pace-only');

async function seed(url: string, path: string, body: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < count) {
      next++;
      const res = await fetch(url + path, { method: 'POST', headers: { authorization: 'Bearer sk_test_bench_sync', 'content-type': 'application/x-www-form-urlencoded' }, body });
      await res.arrayBuffer();
    }
  }));
}

/**
 * Seconds the database alone takes to store every model's pages, as the bytes the proxy answers, with the simplest
 * statement (a plain INSERT of ten pages at a time: no conflict check, no cursor) and nothing else running.
 */
async function storeAlone(gw: Awaited<ReturnType<typeof startGateway>>, key: string): Promise<number> {
  // The pages are read beforehand (held during the rounds, they slowed the raw list).
  const conn = await (await fetch(`${gw.url}/v1/connections`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ secret_key: 'sk_test_bench_sync' }) })).json();
  const pagesOf = new Map<string, Buffer[]>();
  for (const [model, { path }] of Object.entries(MODELS)) {
    pagesOf.set(model, []);
    for (let cursor = '', more = true; more;) {
      const res = await fetch(`${gw.url}/proxy/${conn.id}${path}${path.includes('?') ? '&' : '?'}limit=100${cursor ? `&starting_after=${cursor}` : ''}`, { headers: { authorization: `Bearer ${key}` } });
      const body = Buffer.from(await res.arrayBuffer());
      const page = JSON.parse(body.toString('utf8'));
      pagesOf.get(model)!.push(body);
      [cursor, more] = [page.data.at(-1)?.id, page.has_more];
    }
  }
  const started = performance.now();
  for (const [model, bodies] of pagesOf) {
    for (let i = 0; i < bodies.length; i += 10) {
      await gw.services.rt.db.execute(sql`INSERT INTO records (connection_id, model, id, data, stripe_created, version_at)
        SELECT 'bench_floor', ${model}, e->>'id', e, (e->>'created')::bigint, 0
        FROM jsonb_array_elements(${jsonbArrayOf(bodies.slice(i, i + 10))}::jsonb) AS p, jsonb_array_elements(p->'data') AS e`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await gw.services.rt.db.execute(sql`DELETE FROM records WHERE connection_id = 'bench_floor'`);
  return seconds;
}

async function main() {
  // Embedded PGlite on disk, as `npm start` runs it (in a temporary folder; BENCH_DATA_DIR=… names one, =memory keeps
  // it in memory), unless DATABASE_URL names a PostgreSQL server (a database of the run's own is made on it).
  const database = await scratchDatabase();
  const scratchDir = database || process.env.BENCH_DATA_DIR ? undefined : mkdtempSync(join(tmpdir(), 'pb-bench-sync-'));
  const dataDir = process.env.BENCH_DATA_DIR === 'memory' ? undefined : process.env.BENCH_DATA_DIR ?? scratchDir;
  const config = loadConfig({ port: 0, dataDir }, database ? { DATABASE_URL: database.url } : {});
  config.sandbox = { port: 0 };
  const gw = await startGateway(config);
  try {
    const sandbox = gw.sandbox!.url;
    await seed(sandbox, '/v1/customers', 'email=sync%40example.com&name=Sync', customers);
    await seed(sandbox, '/v1/payment_intents', 'amount=1500&currency=usd&payment_method=pm_card_visa&confirm=true', payments);
    const key = gw.bootstrap!.test_key;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(gw.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined }).then((r) => r.json());
    // The raw list and the backfill take turns, a fresh connection's backfill each round (so each writes all its
    // records anew): a slow spell of the machine falls on both, and the medians are compared.
    const rounds: { rawSeconds: number; rawBusy: number; syncSeconds: number; syncBusy: number; raw: number; all: number; synced: number }[] = [];
    let previous: string | undefined;
    // Round 0 warms up (the proxy's and the backfill's code compiled, caches filled) and is not counted.
    for (let round = 0; round <= roundCount; round++) {
      // Every round backfills into the same empty table as the first: the last round's connection is deleted (its
      // records with it) and the table vacuumed, so rows piling up, and autovacuum catching up with them, do not slow later rounds.
      if (previous) {
        await api('DELETE', `/v1/connections/${previous}`);
        await gw.services.rt.db.execute(sql`VACUUM records`);
        // The last round's writes are flushed now rather than by the checkpointer during this round's raw list
        // (which they slowed); a role without the right to checkpoint just skips it.
        await gw.services.rt.db.execute(sql`CHECKPOINT`).catch(() => undefined);
      }
      const conn = await api('POST', '/v1/connections', { secret_key: 'sk_test_bench_sync' });
      previous = conn.id;
      let raw = 0;
      let cpu = cpuTimes();
      let started = performance.now();
      for (const { path } of Object.values(MODELS)) {
        let cursor = '';
        for (;;) {
          const page = await api('GET', `/proxy/${conn.id}${path}${path.includes('?') ? '&' : '?'}limit=100${cursor ? `&starting_after=${cursor}` : ''}`);
          raw += page.data.length;
          if (!page.has_more) break;
          cursor = page.data.at(-1).id;
        }
      }
      const rawSeconds = (performance.now() - started) / 1000;
      const rawBusy = busyShare(cpu, cpuTimes());
      cpu = cpuTimes();
      started = performance.now();
      await api('POST', `/v1/connections/${conn.id}/sync`);
      await gw.services.syncs.settled(conn.id);
      const syncSeconds = (performance.now() - started) / 1000;
      const syncBusy = busyShare(cpu, cpuTimes());
      const status = await api('GET', `/v1/connections/${conn.id}/sync`);
      const synced = status.models.filter((m: { model: string }) => ['customers', 'payment_intents'].includes(m.model)).reduce((n: number, m: { synced: number }) => n + m.synced, 0);
      const all = status.models.reduce((n: number, m: { synced: number }) => n + m.synced, 0);
      if (round > 0) rounds.push({ rawSeconds, rawBusy, syncSeconds, syncBusy, raw, all, synced });
    }
    // PGlite runs every statement on one thread: what it takes to store the same pages alone bounds any backfill into it.
    const floorSeconds = gw.storage.startsWith('PGlite') ? await storeAlone(gw, key) : undefined;
    const middle = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
    const { raw, all, synced } = rounds[0];
    const rawSeconds = middle((r) => r.rawSeconds);
    const syncSeconds = middle((r) => r.syncSeconds);
    console.log(`\n${customers} customers and ${payments} payment intents (plus their charges), node ${process.version}, storage ${gw.storage}; medians of ${roundCount} rounds\n`);
    console.log('| path | objects | seconds | objects/s | machine CPU busy |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| raw paginated list through the proxy (the same ${Object.keys(MODELS).length} models) | ${raw} | ${rawSeconds.toFixed(2)} | ${Math.round(raw / rawSeconds)} | ${Math.round(middle((r) => r.rawBusy) * 100)}% |`);
    console.log(`| backfill into records (all 9 models: ${all} records) | ${all} | ${syncSeconds.toFixed(2)} | ${Math.round(all / syncSeconds)} | ${Math.round(middle((r) => r.syncBusy) * 100)}% |`);
    if (floorSeconds) console.log(`| PGlite alone storing the same pages (plain INSERT, no HTTP, no gateway) | ${raw} | ${floorSeconds.toFixed(2)} | ${Math.round(raw / floorSeconds)} | |`);
    console.log(`\nrounds (raw list s / backfill s: backfill as a share of the raw list): ${rounds.map((r) => `${r.rawSeconds.toFixed(2)} / ${r.syncSeconds.toFixed(2)}: ${Math.round((100 * r.all * r.rawSeconds) / (r.raw * r.syncSeconds))}%`).join(', ')}`);
    console.log(`backfill: ${Math.round((100 * all) / syncSeconds / (raw / rawSeconds))}% of the raw list throughput (target >= 70%); customers + payment intents synced: ${synced}`);
    if (floorSeconds) console.log(`PGlite alone, storing the pages and doing nothing else: ${Math.round((100 * rawSeconds) / floorSeconds)}% of the raw list throughput, the most a backfill into it could reach`);
  } finally {
    await gw.close();
    await database?.drop();
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  }
}

if (!paceOnly) await main();
if (paceCharges > 0) await stripePaceRows(paceCharges);
