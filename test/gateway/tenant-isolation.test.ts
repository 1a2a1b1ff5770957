/**
 * One app may not harm another through the gateway (issue 16): events forged on
 * an app's own webhook endpoint act on that connection only, malformed paths do
 * not stall anyone else's calls, a bad byte in one app's body loses no log entry,
 * `Stripe-Context` never reaches another account, and connection keys can be
 * listed and revoked with their app key. Each test is written as the attacking
 * tenant would try it, with an ordinary app key of its own.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { signatureHeader } from '../../src/sandbox/index.js';
import { connections, paymentSessions, stripeEventsIn } from '../../src/store/schema.js';
import { anotherApp, backends, connectByOAuth, dropTestDatabases, eventually, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

const FORGER_SECRET = 'whsec_chosenByTheAttacker';

/** A GET as raw bytes on the socket: fetch would resolve dot segments and refuse most malformed paths itself. */
const raw = (port: number, path: string, key: string) => new Promise<string>((resolve) => {
  const socket = connect(port, '127.0.0.1', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`));
  let answer = '';
  socket.on('data', (c) => (answer += c));
  socket.on('close', () => resolve(answer));
  socket.on('error', () => resolve(answer));
});

for (const backend of list) {
  describe(`tenant isolation on ${backend.name}`, () => {
    let h: GatewayHarness;
    let victim: { connection: string; account: string };
    let attackerKey: string;
    let attackerConn: string;
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database() });
      victim = await connectByOAuth(h);
      attackerKey = await anotherApp(h, 'Attacker');
      const created = await h.api('POST', '/v1/connections', { secret_key: 'sk_test_attackerOwnKey', webhook_secret: FORGER_SECRET }, attackerKey);
      assert.equal(created.status, 200, JSON.stringify(created.json));
      attackerConn = created.json.id;
    });
    after(() => h?.close());

    const proxy = (key: string, conn: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
      fetch(`${h.gw.url}/proxy/${conn}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: { authorization: `Bearer ${key}`, ...init.headers }, body: init.body });

    /** Signs `event` with the attacker's own secret and posts it to the attacker's own connection endpoint; waits until it is processed. */
    const forge = async (event: Record<string, unknown>) => {
      const payload = JSON.stringify({ object: 'event', created: Math.floor(Date.now() / 1000), livemode: false, ...event });
      const res = await fetch(`${h.gw.url}/webhooks/stripe/${attackerConn}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(FORGER_SECRET, payload) }, body: payload });
      assert.equal(res.status, 200, await res.text());
      await eventually(async () => {
        const [row] = await h.gw.services.rt.db.select().from(stripeEventsIn).where(eq(stripeEventsIn.id, `${event.id}:${attackerConn}`));
        assert.notEqual(row?.status, 'pending');
      });
    };

    it('a deauthorization forged on one app’s endpoint leaves another app’s OAuth connection connected', async () => {
      await forge({ id: 'evt_forged_deauth', type: 'account.application.deauthorized', account: victim.account, data: { object: { id: 'ca_PayBridgeEmbeddedPlatform', object: 'application' } } });
      const [row] = await h.gw.services.rt.db.select().from(connections).where(eq(connections.id, victim.connection));
      assert.equal(row.status, 'active');
      const call = await proxy(h.key, victim.connection, '/v1/customers?limit=1');
      assert.equal(call.status, 200);
    });

    it('a Checkout event forged with another app’s session id leaves that session as Stripe sees it', async () => {
      const session = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 1500, currency: 'usd', connection: victim.connection });
      assert.equal(session.status, 200, JSON.stringify(session.json));
      await forge({
        id: 'evt_forged_failure', type: 'checkout.session.async_payment_failed', account: victim.account,
        data: { object: { id: 'cs_test_forged', object: 'checkout.session', status: 'complete', payment_status: 'unpaid', metadata: { paybridge_session: session.json.id } } },
      });
      const [row] = await h.gw.services.rt.db.select().from(paymentSessions).where(eq(paymentSessions.id, session.json.id));
      assert.equal(row.status, 'open');
      assert.equal((await h.api('GET', `/v1/sessions/${session.json.id}`)).json.status, 'open');
    });

    it('malformed paths from one app are refused at once, and another app’s call still answers within a second', async () => {
      const bad = ['%00', '%0d%0aX-Injected:%201', '%0a', '%20', 'a%20b', '%2f..%2faccount', '..%2fbalance', 'customers/%2e%2e/balance', 'customers/..', 'customers/%00x',
        'cus%09tomers', 'customers%23frag', 'customers/%ff', 'customers/%c0%ae', 'customers\\..', 'customers/./x', '%2e%2e', 'customers//x', 'customers/%5c', 'x%7f'];
      const answers = await Promise.all(bad.map((p) => raw(h.gw.port, `/proxy/${attackerConn}/v1/${p}`, attackerKey)));
      for (const [i, a] of answers.entries()) {
        assert.match(a, /^HTTP\/1\.1 400 /, `${bad[i]} → ${a.split('\r\n')[0]}`);
        assert.match(a, /"type":"invalid_request_error"/, bad[i]);
      }
      const started = Date.now();
      const ok = await proxy(h.key, victim.connection, '/v1/customers?limit=1', { headers: {} });
      assert.equal(ok.status, 200);
      assert.ok(Date.now() - started < 1000, `another app waited ${Date.now() - started} ms`);
    });

    it('checks a connection key’s permission on the canonical path: no ../ around it', async () => {
      const key = await h.api('POST', `/v1/connections/${attackerConn}/keys`, { permissions: { customers: 'read' } }, attackerKey);
      assert.equal(key.status, 200, JSON.stringify(key.json));
      // fetch resolves plain dots itself (it asks for /v1/balance, which this key may not read); escaped ones reach the gateway.
      const dotted = await fetch(`${h.gw.url}/v1/customers/../balance`, { headers: { authorization: `Bearer ${key.json.secret}` } });
      assert.equal(dotted.status, 403);
      for (const path of ['/v1/customers/../refunds', '/v1/customers/%2e%2e/refunds', '/v1/customers/%2E./balance', '/v1/customers%2f..%2fbalance']) {
        const answer = await raw(h.gw.port, path, key.json.secret);
        assert.match(answer, /^HTTP\/1\.1 400 /, path);
        assert.match(answer, /"code":"invalid_path"/, path);
      }
    });

    it('a NUL byte in one app’s body costs no app its log entries', async () => {
      const mine = await proxy(h.key, victim.connection, '/v1/customers', { body: 'email=victim%40example.com' });
      assert.equal(mine.status, 200);
      const nul = await proxy(attackerKey, attackerConn, '/v1/customers', { body: 'description=a%00b&name=%ff%fe' });
      assert.ok(nul.status < 500, String(nul.status));
      const again = await proxy(h.key, victim.connection, '/v1/customers?limit=2');
      assert.equal(again.status, 200);
      const logs = (await h.api('GET', `/v1/logs?connection=${victim.connection}&limit=100`)).json.data;
      assert.ok(logs.some((l: { method: string; path: string }) => l.method === 'POST' && l.path === '/v1/customers'), 'the victim’s POST is logged');
      assert.ok(logs.some((l: { method: string; path: string }) => l.method === 'GET' && l.path === '/v1/customers'), 'the victim’s GET is logged');
      const theirs = (await h.api('GET', `/v1/logs?connection=${attackerConn}&method=POST&limit=100`, undefined, attackerKey)).json.data;
      const stored = theirs.find((l: { request: { description?: string } | null }) => l.request && typeof l.request.description === 'string');
      assert.ok(stored, 'the entry with the NUL is kept too, in a storable form');
      assert.equal(stored.request.description, 'a\\u0000b');
    });

    it('caps a logged body and marks it truncated', async () => {
      const big = 'description=' + 'x'.repeat(200_000);
      await proxy(attackerKey, attackerConn, '/v1/customers', { body: big });
      const [entry] = (await h.api('GET', `/v1/logs?connection=${attackerConn}&method=POST&limit=1`, undefined, attackerKey)).json.data;
      assert.equal(entry.request_truncated, true);
      assert.ok(JSON.stringify(entry.request).length <= 70_000, String(JSON.stringify(entry.request).length));
    });

    it('never forwards Stripe-Context: not on an OAuth connection, not on an API-key connection by default', async () => {
      const seen: Record<string, string>[] = [];
      const api = h.gw.services.rt.api;
      const send = api.send.bind(api);
      api.send = (req) => {
        seen.push({ ...req.headers });
        return send(req);
      };
      try {
        const other = await h.sandbox.accounts.create({ type: 'express' });
        const viaOAuth = await proxy(h.key, victim.connection, '/v1/customers', { body: 'email=ctx%40example.com', headers: { 'stripe-context': other.id } });
        assert.equal(viaOAuth.status, 200);
        const created = await viaOAuth.json();
        await h.sandbox.customers.retrieve(created.id, {}, { stripeAccount: victim.account });
        // The attacker's API key is the platform's: with Stripe-Context it would act on the victim's account.
        const viaKey = await proxy(attackerKey, attackerConn, '/v1/customers?limit=100', { headers: { 'stripe-context': victim.account } });
        assert.equal(viaKey.status, 200);
        assert.ok(!(await viaKey.json()).data.some((c: { id: string }) => c.id === created.id), 'the victim’s customer is not visible to the attacker');
        assert.ok(seen.length >= 2);
        for (const headers of seen) assert.equal(headers['stripe-context'], undefined);
      } finally {
        api.send = send;
      }
    });

    it('limits how fast one app creates connect sessions, keys and endpoints', async () => {
      const answers = await Promise.all(Array.from({ length: 80 }, () => h.api('POST', '/v1/connect_sessions', { mode: 'test' }, attackerKey)));
      const limited = answers.filter((a) => a.status === 429);
      assert.ok(limited.length > 0, 'some are refused');
      assert.equal(limited[0].json.error.code, 'rate_limit');
      assert.ok(answers.every((a) => a.status === 200 || a.status === 429));
      const keys = await Promise.all(Array.from({ length: 80 }, () => h.api('POST', `/v1/connections/${attackerConn}/keys`, { permissions: { customers: 'read' } }, attackerKey)));
      assert.ok(keys.some((a) => a.status === 429), 'connection keys too');
      assert.ok(keys.filter((a) => a.status === 200).length <= 60);
      // The other app is not limited by the attacker's burst.
      assert.equal((await h.api('POST', '/v1/connect_sessions', { mode: 'test' })).status, 200);
      assert.equal((await h.api('POST', `/v1/connections/${victim.connection}/keys`, { permissions: { customers: 'read' } })).status, 200);
    });
    it('lists connection keys, and revokes them with the app key when asked', async () => {
      const made = await h.api('POST', `/v1/connections/${victim.connection}/keys`, { permissions: { customers: 'read' } });
      assert.equal(made.status, 200);
      const listed = await h.api('GET', `/v1/connections/${victim.connection}/keys`);
      assert.equal(listed.status, 200, JSON.stringify(listed.json));
      const mine = listed.json.data.find((k: { id: string }) => k.id === made.json.id);
      assert.equal(mine.secret, undefined, 'a secret is never shown after creation');
      assert.equal(mine.hint, made.json.hint);
      assert.deepEqual(mine.permissions, { customers: 'read' });
      assert.equal((await h.api('GET', `/v1/connections/${victim.connection}/keys`, undefined, attackerKey)).status, 404, 'another app cannot list them');
      const before = await fetch(`${h.gw.url}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${made.json.secret}` } });
      assert.equal(before.status, 200);
      const rotated = await h.api('POST', '/v1/app/keys/rotate', { revoke_connection_keys: true });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
      assert.ok(rotated.json.connection_keys_revoked >= 1);
      await eventually(async () => {
        const after = await fetch(`${h.gw.url}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${made.json.secret}` } });
        assert.equal(after.status, 401);
      }, 7000);
      h.key = rotated.json.secret;
    });

  });
}
