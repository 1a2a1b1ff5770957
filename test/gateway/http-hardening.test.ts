/**
 * The gateway's HTTP edge as an attacker finds it (issue 16): sign-in
 * attempts counted even in parallel, slow bodies cut off, malformed cookies,
 * URLs, headers, repeated or NUL-bearing parameters answered as Stripe-shaped
 * 4xx (never 500), security headers on every answer, and the public URL as the
 * only trusted origin when it is configured.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { backends, dropTestDatabases, startGatewayHarness, type GatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

/** Writes raw bytes to the gateway and answers what came back before the socket closed (or `waitMs` passed). */
function raw(port: number, chunks: (string | { wait: number })[], waitMs = 10_000): Promise<{ text: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', async () => {
      for (const c of chunks) {
        if (socket.destroyed) break;
        if (typeof c === 'string') socket.write(c);
        else await new Promise((r) => setTimeout(r, c.wait));
      }
    });
    const done = () => resolve({ text, closedAfterMs: Date.now() - started });
    const timer = setTimeout(() => {
      socket.destroy();
      done();
    }, waitMs);
    socket.on('data', (d) => (text += d));
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.on('error', () => undefined);
  });
}

const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4) || 'null');

for (const backend of list) {
  describe(`HTTP hardening on ${backend.name}`, () => {
    let h: GatewayHarness;
    before(async () => {
      h = await startGatewayHarness({ databaseUrl: await backend.database(), config: { requestTimeoutMs: 1500 } });
    });
    after(() => h?.close());

    it('answers a malformed dashboard cookie with 401, never 500', async () => {
      for (const cookie of ['pb_admin=%E0%A4%A', 'pb_admin=%', 'pb_admin=%00', `pb_admin=${'a'.repeat(5000)}`]) {
        const res = await fetch(`${h.gw.url}/v1/connections`, { headers: { cookie } });
        assert.equal(res.status, 401, cookie);
        assert.equal((await res.json()).error.type, 'invalid_request_error');
      }
    });

    it('refuses repeated, NaN, out-of-range and NUL-bearing parameters with 400', async () => {
      const paths = ['/v1/logs?method=GET&method=POST', '/v1/logs?limit=NaN', '/v1/logs?limit=1e999', '/v1/reports/failed_payments?hours=1e999',
        '/v1/connections/%00', '/v1/logs?path=%00', '/v1/sessions?status=a&status=b', '/v1/logs/stats?hours=NaN', '/v1/gateway_events?type=%00'];
      for (const path of paths) {
        const res = await h.api('GET', path);
        assert.ok(res.status === 400 || res.status === 404, `${path} → ${res.status} ${JSON.stringify(res.json)}`);
        assert.equal(res.json.error.type, 'invalid_request_error', path);
      }
      for (const body of [{ secret_key: 'sk_test_\u0000x' }, { secret_key: 'sk_test_ok', metadata: { a: 'b\u0000' } }, { secret_key: 'sk_test_ok', metadata: { ['\u0000']: 'x' } }]) {
        const res = await h.api('POST', '/v1/connections', body);
        assert.equal(res.status, 400, JSON.stringify(res.json));
      }
      const big = await h.api('POST', '/v1/sessions', { mode: 'charge', amount: 1e30, currency: 'usd' });
      assert.equal(big.status, 400);
    });

    it('answers framework errors in Stripe’s shape: a bad URL, an unknown method, an oversize header', async () => {
      const badUrl = await raw(h.gw.port, ['GET /v1/%%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      assert.match(badUrl.text, /^HTTP\/1\.1 400/);
      assert.equal(bodyOf(badUrl.text).error.type, 'invalid_request_error');
      const method = await raw(h.gw.port, ['BREW /v1/app HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
      assert.match(method.text, /^HTTP\/1\.1 4\d\d/);
      assert.equal(bodyOf(method.text).error.type, 'invalid_request_error');
      const header = await raw(h.gw.port, [`GET /v1/app HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`]);
      assert.match(header.text, /^HTTP\/1\.1 431/);
      assert.equal(bodyOf(header.text).error.type, 'invalid_request_error');
      const garbage = await raw(h.gw.port, ['\u0000\u0001 not http\r\n\r\n']);
      assert.match(garbage.text, /^HTTP\/1\.1 400/);
      assert.equal(bodyOf(garbage.text).error.type, 'invalid_request_error');
    });

    it('cuts off a body that trickles in', async () => {
      const chunks: (string | { wait: number })[] = [`POST /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`];
      for (let i = 0; i < 40; i++) chunks.push('{', { wait: 250 });
      const slow = await raw(h.gw.port, chunks, 8000);
      assert.ok(slow.closedAfterMs < 5000, `held for ${slow.closedAfterMs} ms`);
      assert.match(slow.text, /^HTTP\/1\.1 408/);
    });

    it('puts security headers on every answer, and no-store on API answers', async () => {
      for (const path of ['/', '/v1/app', '/v1/nothing-here', '/s/ses_unknown', '/health']) {
        const res = await fetch(h.gw.url + path, { headers: { authorization: `Bearer ${h.key}` } });
        assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
        assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      }
      const rotated = await fetch(`${h.gw.url}/v1/app`, { headers: { authorization: `Bearer ${h.key}` } });
      assert.equal(rotated.headers.get('cache-control'), 'no-store');
      // The MCP route answers past Fastify's hooks; it carries the same headers.
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_headers' })).json.id;
      const mcp = await fetch(`${h.gw.url}/mcp?connection=${conn}`, {
        method: 'POST', headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'headers', version: '1' } } }),
      });
      assert.equal(mcp.status, 200, await mcp.clone().text());
      assert.match(mcp.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(mcp.headers.get('cache-control'), 'no-store');
    });

    it('counts wrong passwords sent in parallel, and backs off rather than resetting', async () => {
      const signIn = (password: string) => fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => signIn(`wrong-password-${i}`)));
      const statuses = answers.map((a) => a.status);
      assert.ok(statuses.filter((s) => s === 401).length <= 5, `wrong passwords checked: ${statuses.filter((s) => s === 401).length}`);
      assert.ok(statuses.filter((s) => s === 429).length >= 35);
      const right = await signIn(h.gw.adminPassword!);
      assert.equal(right.status, 429, 'even the right password waits out the back-off from this address');
      assert.match((await right.json()).error.message, /Try again in \d+ seconds/);
      assert.ok(Number(right.headers.get('retry-after')) >= 1);
    });

    it('redacts secrets inside longer strings in logged bodies', async () => {
      const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_redaction' })).json.id;
      await fetch(`${h.gw.url}/proxy/${conn}/v1/customers`, { method: 'POST', headers: { authorization: `Bearer ${h.key}` }, body: 'description=my%20key%20is%20sk_live_abcdefghijklmnop1234%20ok&name=whsec_abcdefghijkl' });
      const [entry] = (await h.api('GET', `/v1/logs?connection=${conn}&method=POST&limit=1`)).json.data;
      assert.equal(entry.request.description, 'my key is [redacted] ok');
      assert.equal(entry.request.name, '[redacted]');
    });
  });
}

describe('a configured public URL is the only trusted origin', () => {
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness({ env: { PAYBRIDGE_PUBLIC_URL: 'https://pay.example.test' } });
  });
  after(() => h?.close());

  it('refuses a sign-in whose Origin only matches the Host header it sent', async () => {
    const forged = await raw(h.gw.port, [`POST /dashboard/api/session HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{"password":"x"}`]);
    assert.match(forged.text, /^HTTP\/1\.1 403/);
    assert.equal(bodyOf(forged.text).error.code, 'csrf_origin');
    const ours = await fetch(`${h.gw.url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://pay.example.test' }, body: '{"password":"x"}' });
    assert.equal(ours.status, 401);
  });
});
