/**
 * The gateway through HTTP and the stripe SDK: apps and keys, connections
 * from API keys, the proxy with retries, connection keys, request logs,
 * and secrets kept out of every answer, log and table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { startSandbox } from '../../src/sandbox/index.js';
import { backends, dropTestDatabases, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`gateway on ${backend.name}`, () => {
    let h: GatewayHarness;
    let databaseUrl: string | undefined;
    before(async () => {
      databaseUrl = await backend.database();
      h = await startGatewayHarness({ databaseUrl });
    });
    after(() => h?.close());

    it('bootstraps a default app whose test key works, and refuses missing or unknown keys in Stripe’s shape', async () => {
      assert.match(h.key, /^pb_test_/);
      assert.match(h.gw.bootstrap!.live_key, /^pb_live_/);
      const app = await h.api('GET', '/v1/app');
      assert.equal(app.status, 200);
      assert.equal(app.json.object, 'app');
      assert.ok(app.json.keys.every((k: { hint: string }) => !k.hint.includes(h.key.slice(8, 20))));
      const none = await h.api('GET', '/v1/connections', undefined, null);
      assert.equal(none.status, 401);
      assert.equal(none.json.error.type, 'invalid_request_error');
      const unknown = await h.api('GET', '/v1/connections', undefined, 'pb_test_nope');
      assert.equal(unknown.status, 401);
      assert.equal(unknown.json.error.code, 'api_key_invalid');
      const missing = await h.api('GET', '/v1/connections/conn_nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'resource_missing');
    });

    it('connects an sk_test_ key after checking it with Stripe, tests it, and proxies with it', async () => {
      const created = await h.api('POST', '/v1/connections', { secret_key: 'sk_test_merchantOne123', metadata: { merchant: 'one' } });
      assert.equal(created.status, 200, JSON.stringify(created.json));
      const conn = created.json;
      assert.match(conn.id, /^conn_/);
      assert.equal(conn.type, 'api_key');
      assert.equal(conn.livemode, false);
      assert.equal(conn.account, 'acct_1PayBridgeSandbox0');
      assert.equal(conn.key_type, 'secret');
      assert.equal(conn.key_hint, 'sk_test_…e123');
      assert.equal(JSON.stringify(conn).includes('sk_test_merchantOne123'), false);
      const tested = await h.api('POST', `/v1/connections/${conn.id}/test`);
      assert.deepEqual([tested.json.ok, tested.json.message], [true, 'Connection successful']);
      const proxied = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, {
        method: 'POST', headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=proxied%40example.com&metadata[via]=paybridge',
      });
      assert.equal(proxied.status, 200);
      const customer = await proxied.json();
      assert.equal(customer.email, 'proxied@example.com');
      assert.match(proxied.headers.get('request-id')!, /^req_/);
      assert.equal(((await h.sandbox.customers.retrieve(customer.id)) as { email?: string }).email, 'proxied@example.com');
      const listed = await h.api('GET', '/v1/connections');
      assert.ok(listed.json.data.some((c: { id: string }) => c.id === conn.id));
      const stripeError = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers/cus_missing`, { headers: { authorization: `Bearer ${h.key}` } });
      assert.equal(stripeError.status, 404);
      assert.equal((await stripeError.json()).error.message, "No such customer: 'cus_missing'", 'Stripe’s answer passes through unchanged');
    });

    it('refuses bad keys with Stripe’s reason, keys of the other mode, and non-keys', async () => {
      const live = await h.api('POST', '/v1/connections', { secret_key: 'sk_live_abc123' });
      assert.equal(live.status, 400);
      assert.equal(live.json.error.code, 'mode_mismatch');
      const garbage = await h.api('POST', '/v1/connections', { secret_key: 'hello' });
      assert.equal(garbage.json.error.param, 'secret_key');
      const missing = await h.api('POST', '/v1/connections', {});
      assert.equal(missing.json.error.code, 'parameter_missing');
      const unknownRk = await h.api('POST', '/v1/connections', { secret_key: 'rk_test_notIssuedByStripe' });
      assert.equal(unknownRk.status, 400);
      assert.match(unknownRk.json.error.message, /^Stripe did not accept this key: Invalid API Key provided/);
    });

    it('learns a restricted key’s account and permissions', async () => {
      const errorsBefore = (await h.api('GET', '/v1/logs/stats?hours=1')).json.total.errors;
      const rk = await fetch(`${h.gw.sandbox!.url}/_sandbox/restricted_keys`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write', payment_intents: 'read' } }),
      }).then((r) => r.json());
      const created = await h.api('POST', '/v1/connections', { secret_key: rk.secret });
      assert.equal(created.status, 200, JSON.stringify(created.json));
      assert.equal(created.json.key_type, 'restricted');
      assert.equal(created.json.account, 'acct_1PayBridgeSandbox0');
      assert.equal(created.json.permissions.customers, 'write');
      assert.equal(created.json.permissions.payment_intents, 'read');
      assert.equal(created.json.permissions.charges, 'none');
      // Tested with something it may do (it may not read the balance), and said so in words (issue 18).
      const tested = await h.api('POST', `/v1/connections/${created.json.id}/test`);
      assert.equal(tested.json.ok, true, JSON.stringify(tested.json));
      assert.equal(tested.json.message, 'Connection successful — restricted key, 2 permissions');
      // The permission probes' refusals are key checks: not errors in the logs' error filter or the error rate.
      const errors = (await h.api('GET', '/v1/logs?status=error&limit=100')).json.data;
      assert.deepEqual(errors.filter((l: { source: string; status: number }) => l.source === 'key_check' && [403, 404].includes(l.status)), []);
      const probes = (await h.api('GET', '/v1/logs?status=403&limit=100')).json.data;
      assert.ok(probes.length > 0 && probes.every((l: { source: string }) => l.source === 'key_check'), JSON.stringify(probes.map((l: { source: string }) => l.source)));
      const stats = (await h.api('GET', '/v1/logs/stats?hours=1')).json;
      assert.equal(stats.total.errors, errorsBefore, JSON.stringify(stats.total));
    });

    it('adds an Idempotency-Key to POSTs and retries 409, 429 and 5xx without duplicating', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_retries' })).json;
      await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', body: 'status=409&path=/v1/products' });
      await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', body: 'status=503&path=/v1/products' });
      await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', body: 'status=429&path=/v1/products&retry_after=0' });
      const res = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/products`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'name=Retried' });
      assert.equal(res.status, 200);
      const product = await res.json();
      const all = await h.sandbox.products.list({ limit: 100 });
      assert.equal(all.data.filter((p) => p.name === 'Retried').length, 1);
      await h.gw.services.rt.logs.flush();
      const logs = await h.api('GET', `/v1/logs?connection=${conn.id}&method=POST&limit=1`);
      assert.equal(logs.json.data[0].attempts, 4);
      assert.equal(logs.json.data[0].status, 200);
      assert.match(logs.json.data[0].idempotency_key, /^pb-/);
      assert.ok(product.id);
      const own = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/products`, { method: 'POST', headers: { authorization: `Bearer ${h.key}`, 'idempotency-key': 'mine-1' }, body: 'name=Mine' });
      const again = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/products`, { method: 'POST', headers: { authorization: `Bearer ${h.key}`, 'idempotency-key': 'mine-1' }, body: 'name=Mine' });
      assert.equal((await own.json()).id, (await again.json()).id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
    });

    it('answers 502 api_connection_error when Stripe cannot be reached, after its retries, and logs the attempts', async () => {
      const stripe = await startSandbox({ port: 0 });
      const far = await startGatewayHarness({ databaseUrl: await backend.database(), env: { STRIPE_API_BASE: stripe.url } });
      try {
        const conn = (await far.api('POST', '/v1/connections', { secret_key: 'sk_test_unreachable', webhook_secret: 'whsec_unreachable' })).json;
        assert.match(conn.id, /^conn_/);
        await stripe.close();
        const res = await fetch(`${far.gw.url}/proxy/${conn.id}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${far.key}` }, body: 'email=lost@example.com' });
        assert.equal(res.status, 502);
        const { error } = await res.json();
        assert.equal(error.type, 'api_connection_error');
        assert.equal(error.code, 'upstream_unreachable');
        assert.match(error.message, /after 4 attempts/);
        const logs = await far.api('GET', `/v1/logs?connection=${conn.id}&method=POST&limit=1`);
        assert.equal(logs.json.data[0].status, null);
        assert.equal(logs.json.data[0].attempts, 4);
        assert.equal((await far.api('GET', `/v1/connections/${conn.id}`)).status, 200, 'the gateway goes on answering');
      } finally {
        await far.close();
      }
    });

    it('issues connection keys that any Stripe SDK uses unchanged, limited to their permissions', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_connectionKeys' })).json;
      const key = await h.api('POST', `/v1/connections/${conn.id}/keys`, { permissions: { customers: 'write', payment_intents: 'read' } });
      assert.equal(key.status, 200);
      assert.match(key.json.secret, /^pbk_test_/);
      const stripe = h.sdk(key.json.secret);
      const customer = await stripe.customers.create({ email: 'sdk@example.com' });
      assert.match(customer.id, /^cus_/);
      assert.equal((await stripe.customers.retrieve(customer.id)).id, customer.id);
      assert.equal((await stripe.paymentIntents.list({ limit: 1 })).object, 'list');
      await assert.rejects(stripe.paymentIntents.create({ amount: 100, currency: 'usd' }), (e: { statusCode?: number; message: string }) => {
        assert.equal(e.statusCode, 403);
        assert.match(e.message, /rak_payment_intent_write/);
        return true;
      });
      await assert.rejects(stripe.products.list(), (e: { statusCode?: number }) => e.statusCode === 403);
      const bad = await h.api('POST', `/v1/connections/${conn.id}/keys`, { permissions: { spaceships: 'write' } });
      assert.equal(bad.status, 400);
      const revoked = await h.api('DELETE', `/v1/connections/${conn.id}/keys/${key.json.id}`);
      assert.equal(revoked.json.deleted, true);
      await new Promise((r) => setTimeout(r, 5100));
      await assert.rejects(stripe.customers.list(), (e: { statusCode?: number }) => e.statusCode === 401);
      const appKeyOnV1 = await h.api('GET', '/v1/customers');
      assert.equal(appKeyOnV1.status, 404);
    });

    it('logs every call with filters and pagination, redacting card data', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_logs' })).json;
      const body = 'type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2040&card[cvc]=123';
      const pm = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/payment_methods`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body });
      assert.equal(pm.status, 200);
      await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers/cus_nope`, { headers: { authorization: `Bearer ${h.key}` } });
      await h.gw.services.rt.logs.flush();
      const logs = await h.api('GET', `/v1/logs?connection=${conn.id}&limit=2`);
      assert.equal(logs.json.data.length, 2);
      const [missing, created] = logs.json.data;
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.error, { type: 'invalid_request_error', code: 'resource_missing', message: "No such customer: 'cus_nope'" });
      assert.equal(missing.response.error.message, "No such customer: 'cus_nope'", 'the failed call keeps Stripe\'s answer');
      assert.equal(created.request.card.number, '[redacted]');
      assert.equal(created.request.card.cvc, '[redacted]');
      assert.equal(created.request.type, 'card');
      assert.equal(JSON.stringify(logs.json).includes('4242424242424242'), false);
      const page2 = await h.api('GET', `/v1/logs?connection=${conn.id}&limit=2&starting_after=${created.id}`);
      assert.ok(page2.json.data.every((l: { id: string }) => l.id !== created.id && l.id !== missing.id));
      const only404 = await h.api('GET', `/v1/logs?connection=${conn.id}&status=404`);
      assert.deepEqual(only404.json.data.map((l: { id: string }) => l.id), [missing.id]);
    });

    it('logs every one of many concurrent calls, batches being written while more arrive', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_manyLogs', webhook_secret: 'whsec_manyLogs' })).json;
      const calls = 1200;
      let next = 0;
      await Promise.all(Array.from({ length: 48 }, async () => {
        while (next < calls) {
          const n = next++;
          const res = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: `email=many${n}%40example.com` });
          assert.equal(res.status, 200);
        }
      }));
      const stats = await h.api('GET', `/v1/logs/stats?hours=1&connection=${conn.id}`);
      assert.equal(stats.json.total.requests, calls);
      const newest = await h.api('GET', `/v1/logs?connection=${conn.id}&limit=1`);
      assert.match(newest.json.data[0].request.email, /^many\d+@example\.com$/);
    });

    it('keeps every secret out of the database in clear', async () => {
      const secret = 'sk_test_findMeNowhereXYZ';
      const conn = (await h.api('POST', '/v1/connections', { secret_key: secret })).json;
      await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'email=x%40example.com' });
      await h.gw.services.rt.logs.flush();
      const dump = await dumpDatabase(h, databaseUrl);
      for (const needle of [secret, h.key, h.gw.bootstrap!.live_key]) assert.equal(dump.includes(needle), false, `found ${needle.slice(0, 12)}… in the database`);
      assert.ok(dump.includes(conn.id), 'the dump does contain the data');
    });

    it('deletes a connection and stops proxying for it', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_deleteMe' })).json;
      const deleted = await h.api('DELETE', `/v1/connections/${conn.id}`);
      assert.deepEqual(deleted.json, { id: conn.id, object: 'connection', deleted: true });
      const gone = await h.api('GET', `/v1/connections/${conn.id}`);
      assert.equal(gone.status, 404);
      const proxied = await fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers`, { headers: { authorization: `Bearer ${h.key}` } });
      assert.equal(proxied.status, 404);
    });
  });
}

/** Every row of every table, as text. */
async function dumpDatabase(h: GatewayHarness, url: string | undefined): Promise<string> {
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.tablename);
    let out = '';
    for (const t of tables) out += JSON.stringify((await client.query(`SELECT * FROM ${t}`)).rows);
    await client.end();
    return out;
  }
  const db = h.gw.services.rt.db;
  const tables = ((await db.execute(sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows as { tablename: string }[]).map((r) => r.tablename);
  let out = '';
  for (const t of tables) out += JSON.stringify((await db.execute(sql.raw(`SELECT * FROM ${t}`))).rows);
  return out;
}
