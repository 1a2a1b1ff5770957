/**
 * Connections made by OAuth through the embedded sandbox's real pages:
 * Connect OAuth (single-use state, access_denied, deauthorization seen from
 * Stripe's webhook and answers) and Stripe Apps OAuth (hour-long tokens
 * refreshed once under concurrency, rotation, refresh_failed and recovery).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, dropTestDatabases, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

const RETURN = 'https://merchant-app.example.com/connected';

/** Opens Stripe's (the sandbox's) authorize or install page and presses a button; returns where the browser lands. */
async function authorize(url: string, decision: 'approve' | 'deny'): Promise<URL> {
  const html = await (await fetch(url)).text();
  const form = new URLSearchParams({ decision, account: 'new' });
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) form.set(m[1], m[2].replace(/&amp;/g, '&'));
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
  const toGateway = await fetch(new URL(action, url), { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(toGateway.status, 302);
  const callback = toGateway.headers.get('location')!;
  const back = await fetch(callback, { redirect: 'manual' });
  assert.equal(back.status, 302, await back.text());
  return Object.assign(new URL(back.headers.get('location')!), { callback });
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const backend of list) {
  describe(`OAuth connections on ${backend.name}`, () => {
    let h: GatewayHarness;
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database(), sandbox: { oauthTokenTtl: 2 }, config: { stripeAppTokenTtlSeconds: 2, refreshMarginSeconds: 1 } });
    });
    after(() => h?.close());

    const proxy = (conn: string, path: string, body?: string) =>
      fetch(`${h.gw.url}/proxy/${conn}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${h.key}` }, body });

    it('connects an account by Connect OAuth and proxies as it, with Stripe-Account', async () => {
      const session = await h.api('POST', '/v1/connect_sessions', { mode: 'test', return_url: RETURN });
      assert.equal(session.status, 200, JSON.stringify(session.json));
      assert.match(session.json.url, /\/oauth\/authorize\?response_type=code&scope=read_write&client_id=ca_\w+&state=\w+&redirect_uri=/);
      const landed = await authorize(session.json.url, 'approve');
      assert.equal(landed.origin + landed.pathname, RETURN);
      const connId = landed.searchParams.get('connection')!;
      assert.match(connId, /^conn_/);
      assert.equal(landed.searchParams.get('connect_session'), session.json.id);
      const conn = (await h.api('GET', `/v1/connections/${connId}`)).json;
      assert.equal(conn.type, 'oauth');
      assert.match(conn.account, /^acct_/);
      assert.notEqual(conn.account, 'acct_1PayBridgeSandbox0');
      assert.match(conn.publishable_key, /^pk_test_/);
      const created = await (await proxy(connId, '/v1/customers', 'email=connected%40example.com')).json();
      const seen = await h.sandbox.customers.retrieve(created.id, {}, { stripeAccount: conn.account });
      assert.equal(seen.id, created.id);
      await assert.rejects(h.sandbox.customers.retrieve(created.id), (e: { statusCode?: number }) => e.statusCode === 404);

      const replay = await fetch((landed as URL & { callback: string }).callback, { redirect: 'manual' });
      assert.equal(replay.status, 400);
      assert.match(await replay.text(), /Stripe was not connected.*This authorization link is invalid, expired or already used/s, 'a person sees a page that says why');

      const deleted = await h.api('DELETE', `/v1/connections/${connId}`);
      assert.equal(deleted.json.deleted, true);
      await assert.rejects(h.sandbox.customers.list({}, { stripeAccount: conn.account }), (e: { code?: string }) => e.code === 'account_invalid');
    });

    it('sends the person back with access_denied when they cancel', async () => {
      const session = await h.api('POST', '/v1/connect_sessions', { return_url: RETURN });
      const landed = await authorize(session.json.url, 'deny');
      assert.equal(landed.searchParams.get('error'), 'access_denied');
      assert.equal(landed.searchParams.get('connection'), null);
      const bad = await h.api('POST', '/v1/connect_sessions', { mode: 'live', return_url: RETURN });
      assert.equal(bad.json.error.code, 'mode_mismatch');
    });

    it('shows a connection revoked when the account deauthorizes the platform', async () => {
      const session = await h.api('POST', '/v1/connect_sessions', { return_url: RETURN });
      const connId = (await authorize(session.json.url, 'approve')).searchParams.get('connection')!;
      const conn = (await h.api('GET', `/v1/connections/${connId}`)).json;
      await h.sandbox.oauth.deauthorize({ client_id: 'ca_PayBridgeEmbeddedPlatform', stripe_user_id: conn.account });
      await waitFor(async () => (await h.api('GET', `/v1/connections/${connId}`)).json.status === 'revoked');
      const after = (await h.api('GET', `/v1/connections/${connId}`)).json;
      assert.match(after.health.last_error.message, /deauthorized/);
      const refused = await proxy(connId, '/v1/customers');
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).error.code, 'connection_revoked');
      const events = await h.api('GET', '/v1/gateway_events?type=connection.revoked');
      assert.ok(events.json.data.some((e: { data: { connection: string } }) => e.data.connection === connId));
    });

    it('installs as a Stripe App, refreshes the hour-long token once under concurrent use, and rotates the refresh token', async () => {
      const session = await h.api('POST', '/v1/connect_sessions', { flow: 'stripe_app', return_url: RETURN });
      assert.match(session.json.url, /\/oauth\/v2\/authorize\?/);
      const connId = (await authorize(session.json.url, 'approve')).searchParams.get('connection')!;
      const before = (await h.api('GET', `/v1/connections/${connId}`)).json;
      assert.equal(before.type, 'stripe_app');
      assert.ok(before.health.access_token_expires_at);
      assert.equal((await proxy(connId, '/v1/customers?limit=1')).status, 200);
      const { connections } = await import('../../src/store/schema.js');
      const { eq } = await import('drizzle-orm');
      const row = async () => (await h.gw.services.rt.db.select().from(connections).where(eq(connections.id, connId)))[0];
      const first = await row();
      await new Promise((r) => setTimeout(r, 2100));
      const statuses = await Promise.all(Array.from({ length: 12 }, () => proxy(connId, '/v1/customers?limit=1').then((r) => r.status)));
      assert.deepEqual([...new Set(statuses)], [200]);
      const second = await row();
      assert.equal(second.refreshCount, first.refreshCount + 1, 'refreshed exactly once');
      assert.notEqual(second.refreshSecretId, first.refreshSecretId, 'the rotated refresh token was stored');
      assert.notEqual(second.secretId, first.secretId);
    });

    it('marks a Stripe App connection refresh_failed after repeated failures, and healthy again after a success', async () => {
      const session = await h.api('POST', '/v1/connect_sessions', { flow: 'stripe_app', return_url: RETURN });
      const connId = (await authorize(session.json.url, 'approve')).searchParams.get('connection')!;
      await new Promise((r) => setTimeout(r, 2100));
      await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'POST', body: 'status=500&count=1000&path=/v1/oauth/token' });
      try {
        for (let i = 0; i < 3; i++) {
          const res = await proxy(connId, '/v1/customers');
          assert.equal(res.status, 401);
        }
        const failed = (await h.api('GET', `/v1/connections/${connId}`)).json;
        assert.equal(failed.status, 'refresh_failed');
        assert.equal(failed.health.refresh_failures, 3);
        const refused = await proxy(connId, '/v1/customers');
        assert.equal((await refused.json()).error.code, 'connection_refresh_failed');
        const events = await h.api('GET', '/v1/gateway_events?type=connection.refresh_failed');
        assert.ok(events.json.data.some((e: { data: { connection: string } }) => e.data.connection === connId));
      } finally {
        await fetch(`${h.gw.sandbox!.url}/_sandbox/faults`, { method: 'DELETE' });
      }
      const tested = await h.api('POST', `/v1/connections/${connId}/test`);
      assert.equal(tested.json.ok, true, JSON.stringify(tested.json));
      const healthy = (await h.api('GET', `/v1/connections/${connId}`)).json;
      assert.equal(healthy.status, 'active');
      assert.equal(healthy.health.refresh_failures, 0);
    });
  });
}
