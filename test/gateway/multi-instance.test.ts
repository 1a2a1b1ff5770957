/**
 * Several gateway instances on one PostgreSQL, in front of one Stripe (a
 * standalone sandbox): they share apps and connections, refresh a Stripe
 * Apps token exactly once between them, and refuse a wrong master key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { backends, dropTestDatabases, freshPostgresDatabase, harnessFor, startGatewayHarness, type GatewayHarness } from './harness.js';
import { loadConfig, startGateway } from '../../src/gateway/index.js';

const hasPostgres = (await backends()).some((b) => b.name === 'postgres');
const skip = hasPostgres ? undefined : 'PostgreSQL is not reachable';

let sandbox: Sandbox;
let a: GatewayHarness;
let b: GatewayHarness;
let env: Record<string, string>;
const masterKey = randomBytes(32).toString('base64');

before(async () => {
  if (skip) return;
  sandbox = await startSandbox({ port: 0, oauthTokenTtl: 2 });
  env = {
    DATABASE_URL: await freshPostgresDatabase(),
    STRIPE_API_BASE: sandbox.url,
    STRIPE_CLIENT_ID_TEST: 'ca_SharedPlatform',
    STRIPE_SECRET_KEY_TEST: 'sk_test_shared_platform',
    PAYBRIDGE_MASTER_KEY: masterKey,
    // With STRIPE_API_BASE set, apps' webhook URLs may not be local unless the operator says so; this test's receiver is.
    PAYBRIDGE_ALLOW_PRIVATE_URLS: 'loopback',
  };
  const config = { stripeAppTokenTtlSeconds: 2, refreshMarginSeconds: 1 };
  // Both start at once: migrations and bootstrap must cope with a twin.
  [a, b] = await Promise.all([startGatewayHarness({ env, config }), startGatewayHarness({ env, config })]);
  const key = a.key || b.key;
  a = harnessFor(a.gw, key);
  b = harnessFor(b.gw, key);
});
after(async () => {
  await a?.close();
  await b?.close();
  await sandbox?.close();
  if (!skip) await dropTestDatabases();
});

it('shares connections and refreshes a Stripe Apps token once across two instances', { skip }, async () => {
  assert.ok(a.key.startsWith('pb_test_'));
  const viaA = await a.api('POST', '/v1/connections', { secret_key: 'sk_test_sharedMerchant' });
  const onB = await b.api('GET', `/v1/connections/${viaA.json.id}`);
  assert.equal(onB.status, 200);
  assert.equal(onB.json.account, viaA.json.account);

  const session = await a.api('POST', '/v1/connect_sessions', { flow: 'stripe_app', return_url: 'https://app.example.com/done' });
  const install = await (await fetch(session.json.url)).text();
  const form = new URLSearchParams({ decision: 'approve', account: 'new' });
  for (const m of install.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) form.set(m[1], m[2].replace(/&amp;/g, '&'));
  const toCallback = await fetch(`${sandbox.url}/oauth/v2/authorize`, { method: 'POST', body: form, redirect: 'manual' });
  // The callback may land on either instance: here, on B.
  const callback = new URL(toCallback.headers.get('location')!);
  const landed = await fetch(`${b.gw.url}${callback.pathname}${callback.search}`, { redirect: 'manual' });
  const connId = new URL(landed.headers.get('location')!).searchParams.get('connection')!;
  assert.match(connId, /^conn_/);

  await new Promise((r) => setTimeout(r, 2100));
  const call = (h: GatewayHarness) => fetch(`${h.gw.url}/proxy/${connId}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${h.key}` } }).then((r) => r.status);
  const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? a : b)));
  assert.deepEqual([...new Set(statuses)], [200]);
  const conn = (await a.gw.services.rt.db.execute(`SELECT refresh_count FROM connections WHERE id = '${connId}'` as never)).rows[0] as { refresh_count: number };
  assert.equal(conn.refresh_count, 1, 'one refresh between both instances');
});

it('refuses to start with a master key that does not open the database', { skip }, async () => {
  const config = loadConfig({ port: 0 }, { ...env, PAYBRIDGE_MASTER_KEY: randomBytes(32).toString('base64') });
  await assert.rejects(startGateway(config), /The master key does not open this database's secrets/);
});

it('delivers each webhook to apps once between two instances', { skip }, async () => {
  const { createServer } = await import('node:http');
  const seen = new Map<string, number>();
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = JSON.parse(body).id as string;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const port = (receiver.address() as import('node:net').AddressInfo).port;
    await a.api('POST', '/v1/webhook_endpoints', { url: `http://127.0.0.1:${port}/`, enabled_events: ['load.*'] });
    const { emitGatewayEvent } = await import('../../src/gateway/runtime.js');
    const appId = (await a.api('GET', '/v1/app')).json.id;
    await Promise.all(Array.from({ length: 60 }, (_, i) => emitGatewayEvent((i % 2 ? a : b).gw.services.rt, appId, 'test', 'load.tick', { id: `obj_${i % 7}`, n: i })));
    const deadline = Date.now() + 15000;
    while ([...seen.values()].reduce((s, n) => s + n, 0) < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.size, 60);
    assert.deepEqual([...new Set(seen.values())], [1], 'no event delivered twice');
  } finally {
    receiver.close();
    receiver.closeAllConnections();
  }
});

it('deletes a connection on one instance while another backfills it: no record is left behind', { skip }, async () => {
  const secret = 'sk_test_deletedWhileSyncing';
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < 3000) await (await fetch(`${sandbox.url}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${secret}` }, body: new URLSearchParams({ email: `c${next}@example.com` }) })).arrayBuffer();
  }));
  const conn = (await a.api('POST', '/v1/connections', { secret_key: secret })).json.id;
  const count = async (table: string) => Number(((await a.gw.services.rt.db.execute(`SELECT count(*) AS n FROM ${table} WHERE connection_id = '${conn}'` as never)).rows[0] as { n: string }).n);
  assert.equal((await b.api('POST', `/v1/connections/${conn}/sync`)).status, 200);
  for (let i = 0; i < 200 && (await count('records')) === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const status = (await a.api('GET', `/v1/connections/${conn}/sync`)).json.models.find((m: { model: string }) => m.model === 'customers');
  assert.equal(status.status, 'backfilling', 'the delete must land while B is still backfilling');
  assert.equal((await a.api('DELETE', `/v1/connections/${conn}`)).status, 200);
  await b.gw.services.syncs.settled(conn);
  assert.equal(await count('records'), 0);
  assert.equal(await count('sync_state'), 0);
  const events = (await a.api('GET', '/v1/gateway_events?limit=100')).json.data.filter((e: { type: string; data: { connection?: string } }) => e.data.connection === conn);
  assert.deepEqual(events.filter((e: { type: string }) => e.type.startsWith('sync.')), [], 'neither sync.completed nor sync.failed');
});

it('keeps two instances together under one Stripe account’s rate limit', { skip }, async () => {
  const pace = (body: object) => fetch(`${sandbox.url}/_sandbox/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
  // Two more instances on the same database, each allowed 9 calls a second per account: together still 9, under the sandbox's 10.
  const limited = { ...env, PAYBRIDGE_RATE_LIMIT_TEST: '9' };
  const [c, d] = await Promise.all([startGatewayHarness({ env: limited }), startGatewayHarness({ env: limited })]);
  try {
    const key = a.key || b.key;
    // Two connections (two keys) to one account: Stripe counts them together, and so must PayBridge.
    const one = (await a.api('POST', '/v1/connections', { secret_key: 'sk_test_limit_one' })).json;
    const two = (await a.api('POST', '/v1/connections', { secret_key: 'sk_test_limit_two' })).json;
    assert.equal(one.account, two.account);
    await pace({ rate_limit: 10 });
    await new Promise((r) => setTimeout(r, 1100));
    const until = Date.now() + 3000;
    let answered = 0;
    const hammer = async (gw: GatewayHarness, conn: string) => {
      while (Date.now() < until) {
        const res = await fetch(`${gw.gw.url}/proxy/${conn}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        if (res.status === 200) answered++;
      }
    };
    const started = Date.now();
    await Promise.all([...Array.from({ length: 6 }, () => hammer(c, one.id)), ...Array.from({ length: 6 }, () => hammer(d, two.id))]);
    const seconds = (Date.now() - started) / 1000;
    const after = await fetch(`${sandbox.url}/_sandbox/config`).then((r) => r.json());
    assert.equal(after.rate_limited, 0, 'the sandbox refused none of their calls');
    assert.ok(answered <= 10 * seconds + 10, `${answered} calls in ${seconds.toFixed(1)} s stay within 10 a second (and a second's burst)`);
    assert.ok(answered >= 6 * seconds, `${answered} calls in ${seconds.toFixed(1)} s: the shared budget is used, not starved`);
  } finally {
    await pace({ rate_limit: 0 });
    await c.close();
    await d.close();
  }
});
