/**
 * What the dashboard stands on, over HTTP: admin sign-in with a session
 * cookie and CSRF token, acting as an app in a mode, the hosted connect
 * result, and the log, event and action routes its pages use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, dropTestDatabases, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

const PASSWORD = 'correct horse battery staple';

for (const backend of list) {
  describe(`the dashboard's API on ${backend.name}`, () => {
    let h: GatewayHarness;
    let conn: string;
    let cookie = '';
    let csrf = '';
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database(), env: { PAYBRIDGE_ADMIN_PASSWORD: PASSWORD } });
      conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_dashboard_api' })).json.id;
    });
    after(() => h?.close());

    /** A request as the signed-in dashboard (cookie, and the CSRF token unless told otherwise). */
    const admin = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
      const headers: Record<string, string> = { cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }), ...extra };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(h.gw.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json(), headers: res.headers };
    };

    it('uses the configured password (none printed) and signs in with it', async () => {
      assert.equal(h.gw.adminPassword, undefined, 'PAYBRIDGE_ADMIN_PASSWORD set: nothing to print');
      const wrong = await h.api('POST', '/dashboard/api/session', { password: 'nope' }, null);
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error.message, 'That password is not right.');
      assert.equal(wrong.json.error.param, 'password');
      const res = await fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
      assert.equal(res.status, 200);
      const setCookie = res.headers.get('set-cookie')!;
      assert.match(setCookie, /^pb_admin=\w{40}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
      cookie = setCookie.split(';')[0];
      csrf = (await res.json()).csrf_token;
      assert.match(csrf, /^\w{32}$/);
      const session = await admin('GET', '/dashboard/api/session');
      assert.deepEqual([session.json.signed_in, session.json.csrf_token], [true, csrf]);
    });

    it('acts as the app and mode a request names, and keeps test and live apart', async () => {
      const apps = (await admin('GET', '/dashboard/api/apps')).json.data;
      assert.equal(apps.length, 1);
      const test = await admin('GET', '/v1/connections', undefined, { 'paybridge-app': apps[0].id, 'paybridge-mode': 'test' });
      assert.deepEqual(test.json.data.map((c: { id: string }) => c.id), [conn]);
      const live = await admin('GET', '/v1/connections', undefined, { 'paybridge-app': apps[0].id, 'paybridge-mode': 'live' });
      assert.deepEqual(live.json.data, []);
      const missing = await admin('GET', '/v1/connections', undefined, { 'paybridge-app': 'app_nope' });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.message, "No such app: 'app_nope'");
      const created = await admin('POST', '/dashboard/api/apps', { name: 'Second app' });
      assert.match(created.json.secrets.test, /^pb_test_/);
      assert.equal((await h.api('GET', '/v1/app', undefined, created.json.secrets.test)).json.name, 'Second app');
      const rolled = await admin('POST', '/v1/app/keys/rotate', { mode: 'live' }, { 'paybridge-app': created.json.id });
      assert.match(rolled.json.secret, /^pb_live_/);
      assert.equal((await h.api('GET', '/v1/app', undefined, created.json.secrets.live)).status, 401, 'the rolled key stops working');
    });

    it('refuses changes without the CSRF token or from another site, and reads without a session', async () => {
      const noToken = await admin('POST', '/v1/actions', { name: 'x' }, { 'x-csrf-token': '' });
      assert.equal(noToken.status, 403);
      assert.equal(noToken.json.error.code, 'csrf_token_invalid');
      const otherSite = await admin('POST', '/v1/actions', { name: 'x' }, { origin: 'https://evil.example' });
      assert.equal(otherSite.status, 403);
      assert.equal(otherSite.json.error.code, 'csrf_origin');
      const forgedLogin = await fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ password: PASSWORD }) });
      assert.equal(forgedLogin.status, 403);
      const stale = await fetch(`${h.gw.url}/v1/connections`, { headers: { cookie: 'pb_admin=forged' } });
      assert.equal(stale.status, 401);
      assert.equal((await stale.json()).error.code, 'not_signed_in');
    });

    it('serves request logs filtered by path and status, one by id, and counted over time', async () => {
      await h.api('POST', `/proxy/${conn}/v1/customers`, undefined);
      await fetch(`${h.gw.url}/proxy/${conn}/v1/customers/cus_missing`, { headers: { authorization: `Bearer ${h.key}` } });
      const byPath = (await h.api('GET', '/v1/logs?path=/v1/customers/cus_')).json.data;
      assert.deepEqual(byPath.map((l: { path: string; status: number }) => [l.path, l.status]), [['/v1/customers/cus_missing', 404]]);
      const failed = (await h.api('GET', `/v1/logs?status=error&connection=${conn}`)).json.data;
      assert.ok(failed.length >= 1 && failed.every((l: { status: number }) => l.status >= 400));
      const ok = (await h.api('GET', `/v1/logs?status=2xx&connection=${conn}`)).json.data;
      assert.ok(ok.length >= 1 && ok.every((l: { status: number }) => l.status < 300));
      assert.equal((await h.api('GET', '/v1/logs?status=teapot')).status, 400);
      const one = await h.api('GET', `/v1/logs/${byPath[0].id}`);
      assert.equal(one.json.path, '/v1/customers/cus_missing');
      assert.equal((await h.api('GET', '/v1/logs/log_nope')).status, 404);
      const stats = (await h.api('GET', `/v1/logs/stats?hours=24&connection=${conn}`)).json;
      assert.equal(stats.buckets.length, 49);
      const total = (await h.api('GET', `/v1/logs?connection=${conn}&limit=100`)).json.data;
      assert.equal(stats.total.requests, total.length);
      assert.equal(stats.total.errors, total.filter((l: { status: number }) => l.status >= 400).length);
      assert.equal((await h.api('GET', '/v1/logs/stats?hours=0')).status, 400);
    });

    it('lists payment sessions of one connection', async () => {
      const other = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_dashboard_api_other' })).json.id;
      const onFirst = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 1200, currency: 'usd', connection: conn });
      const onOther = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 3400, currency: 'usd', connection: other });
      assert.equal(onFirst.status, 200, JSON.stringify(onFirst.json));
      assert.equal(onOther.status, 200, JSON.stringify(onOther.json));
      const ids = async (query: string) => (await h.api('GET', `/v1/sessions${query}`)).json.data.map((x: { id: string }) => x.id);
      assert.deepEqual(await ids(`?connection=${other}`), [onOther.json.id]);
      assert.ok((await ids(`?connection=${conn}`)).includes(onFirst.json.id));
      assert.ok(!(await ids(`?connection=${conn}`)).includes(onOther.json.id));
      assert.deepEqual(await ids('?connection=conn_nope'), []);
      assert.deepEqual((await ids('?limit=100')).slice(0, 2), [onOther.json.id, onFirst.json.id]);
    });

    it('pages through events newest first, filters by type prefix, and reads one', async () => {
      for (let i = 0; i < 3; i++) {
        const made = (await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 500 + i, currency: 'usd', connection: conn })).json;
        await h.api('POST', `/v1/sessions/${made.id}/cancel`);
      }
      const first = (await h.api('GET', '/v1/gateway_events?type=session.*&limit=2')).json;
      assert.equal(first.data.length, 2);
      assert.equal(first.has_more, true);
      assert.ok(first.data.every((e: { type: string }) => e.type.startsWith('session.')));
      const second = (await h.api('GET', `/v1/gateway_events?type=session.*&limit=2&starting_after=${first.data[1].id}`)).json;
      assert.equal(second.data.length, 1);
      assert.equal(second.has_more, false);
      assert.equal(second.data[0].data.session.amount, 500, 'the oldest comes last');
      const one = await h.api('GET', `/v1/gateway_events/${first.data[0].id}`);
      assert.equal(one.json.type, first.data[0].type);
      assert.equal((await h.api('GET', '/v1/gateway_events/pbevt_nope')).status, 404);
    });

    it('traces an action run: the request sent to Stripe and its answer, or its refusal', async () => {
      const run = await h.api('POST', `/v1/actions/${conn}/create-customer?trace=true`, { customer_email: 'trace@example.com' });
      assert.equal(run.status, 200);
      assert.deepEqual(run.json.stripe_request, { method: 'POST', path: '/v1/customers', params: { email: 'trace@example.com' } });
      assert.equal(run.json.stripe_response.email, 'trace@example.com');
      assert.equal(run.json.output.customer_id, run.json.stripe_response.id);
      const declined = await h.api('POST', `/v1/actions/${conn}/process-payment?trace=true`, { amount: 700, currency: 'usd', payment_method: 'pm_card_chargeDeclined' });
      assert.equal(declined.status, 402);
      assert.equal(declined.json.error.decline_code, 'generic_decline');
      assert.equal(declined.json.error.stripe_request.params.amount, 700);
      const plain = await h.api('POST', `/v1/actions/${conn}/create-customer`, { customer_email: 'plain@example.com' });
      assert.equal(plain.json.stripe_request, undefined, 'no trace unless asked');
    });

    it('lists the versions of a custom action', async () => {
      const def = { name: 'tag-customer', operation: 'POST /v1/customers', input: { email: { type: 'string', required: true } }, map: { email: '$.email' } };
      await h.api('POST', '/v1/actions', def);
      await h.api('POST', '/v1/actions', { ...def, map: { email: '$.email', 'metadata.source': { const: 'dashboard' } } });
      const versions = (await h.api('GET', '/v1/actions/tag-customer/versions')).json.data;
      assert.deepEqual(versions.map((v: { version: number }) => v.version), [2, 1]);
      assert.equal((await h.api('GET', '/v1/actions/create-customer/versions')).json.data[0].built_in, true);
      assert.equal((await h.api('GET', '/v1/actions/nope/versions')).status, 404);
      // Inputs keep the order they were defined in: it is the order of the action's form.
      await h.api('POST', '/v1/actions', { name: 'ordered-inputs', operation: 'POST /v1/customers', input: { customer_email: { type: 'string', required: true }, plan: { type: 'string' } }, map: { email: '$.customer_email', 'metadata.plan': '$.plan' } });
      assert.deepEqual(Object.keys((await h.api('GET', '/v1/actions/ordered-inputs')).json.input), ['customer_email', 'plan']);
    });

    it('ends a connect session without a return_url on the hosted result page, and explains a used link', async () => {
      const session = (await h.api('POST', '/v1/connect_sessions', {})).json;
      assert.equal(session.return_url, `${h.gw.url}/connected`);
      const callback = `${h.gw.url}/oauth/callback?state=unknown&code=ac_x`;
      // A person's browser asks for HTML and gets the page; anything else gets Stripe's JSON error.
      const used = await fetch(callback, { headers: { accept: 'text/html,application/xhtml+xml' } });
      assert.equal(used.status, 400);
      assert.match(used.headers.get('content-type') ?? '', /text\/html/);
      const asApi = await fetch(callback);
      assert.equal(asApi.status, 400);
      assert.match((await asApi.json()).error.message, /^Stripe was not connected: /);
      const html = await used.text();
      assert.match(html, /Stripe was not connected/);
      assert.match(html, /invalid, expired or already used/);
      const ok = await (await fetch(`${h.gw.url}/connected?connection=conn_123&connect_session=csess_1`)).text();
      assert.match(ok, /Stripe account connected/);
      assert.match(ok, /conn_123/);
      const denied = await fetch(`${h.gw.url}/connected?error=access_denied&connect_session=csess_1`);
      assert.equal(denied.status, 400);
      assert.match(await denied.text(), /The account owner declined to connect/);
    });

    it('locks sign-in for a minute after five wrong passwords', async () => {
      const attempt = (password: string) => fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
      for (let i = 0; i < 5; i++) assert.equal((await attempt(`wrong-${i}`)).status, 401);
      const locked = await attempt(PASSWORD);
      assert.equal(locked.status, 429);
      assert.match((await locked.json()).error.message, /^Too many wrong passwords\. Try again in \d+ seconds\.$/);
    });

    it('signs out: the cookie stops working', async () => {
      const out = await admin('DELETE', '/dashboard/api/session');
      assert.equal(out.json.signed_in, false);
      assert.equal((await admin('GET', '/v1/connections')).status, 401);
    });
  });
}
