/**
 * Generated input against every route of PayBridge's own API (issue 16):
 * thousands of malformed requests — junk path parameters, repeated and nested
 * query parameters, bodies of every wrong type and encoding, bad and foreign
 * credentials, broken cookies — must each get a 4xx (or a success) in Stripe's
 * error shape, never a 500, and leave the process serving. The generator is
 * seeded, so a failure prints the seed and request that reproduce it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { anotherApp, startGatewayHarness, type GatewayHarness } from './harness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);

/** mulberry32: small, seedable, good enough to pick inputs. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  return { next, pick, int: (n: number) => Math.floor(next() * n) };
}

const JUNK_STRINGS = ['', ' ', '%00', '%0d%0a', '..', '%2e%2e', '%2f', 'a'.repeat(400), '%ff', '%c0%80', '😀', '<script>', "'; DROP TABLE apps; --", 'NaN', '-1', '1e999',
  '0x10', 'null', 'undefined', '[]', '{}', 'conn_', 'ses_x', 'cus_123', 'we_pb_x', 'log_x', '%', '%%', '\\', 'true', '9007199254740993'];
const JUNK_VALUES: unknown[] = [null, true, false, 0, -1, 1e30, -1e30, 1.5, Number.MAX_SAFE_INTEGER + 2, '', '\u0000', 'x\u0000y', '\ud800', 'a'.repeat(5000), [], [1, 2], {}, { a: { b: { c: { d: { e: 1 } } } } },
  ['\u0000'], { '\u0000': 1 }, 'sk_test_abc', 'https://169.254.169.254/', 'http://127.0.0.1:6379/', 'javascript:alert(1)', { $gt: '' }, '2026-13-45'];
const FIELDS = ['mode', 'amount', 'currency', 'connection', 'customer_email', 'description', 'metadata', 'success_url', 'cancel_url', 'secret_key', 'publishable_key', 'webhook_secret',
  'permissions', 'url', 'enabled_events', 'alert_url', 'return_url', 'flow', 'name', 'password', 'limit', 'starting_after', 'revoke_connection_keys', 'models', 'definition', 'input', 'type'];
const QUERY_KEYS = ['limit', 'starting_after', 'status', 'method', 'path', 'connection', 'hours', 'type', 'model', 'mode', 'trace', 'expand[]', 'limit[]', 'status[a]', 'q'];

interface Route {
  method: string;
  url: string;
}

describe('generated input against every route of the gateway', () => {
  let h: GatewayHarness;
  let otherKey: string;
  let conn: string;
  let routes: Route[];
  before(async () => {
    h = await startGatewayHarness();
    otherKey = await anotherApp(h, 'Fuzzer');
    conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_fuzzing' })).json.id;
    routes = (h.gw.app as unknown as { routeList: Route[] }).routeList;
  });
  after(() => h?.close());

  it('answers thousands of malformed requests without a 500 or an unshaped error, and keeps serving', async (t) => {
    assert.ok(routes.length >= 40, `routes seen: ${routes.length}`);
    const r = prng(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    // A generated rotation revokes the key the generator uses: it carries on with the new one.
    let key = h.key;
    const credentials = () => r.pick<Record<string, string>>([
      {}, { authorization: `Bearer ${key}` }, { authorization: `Bearer ${key}` }, { authorization: `Bearer ${otherKey}` }, { authorization: 'Bearer pb_test_forged' },
      { authorization: 'Bearer pbk_test_forged' }, { authorization: 'Basic %%%' }, { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }, { authorization: 'Bearer' },
      { cookie: 'pb_admin=%E0%A4%A' }, { cookie: 'pb_admin=deadbeef' }, { cookie: 'pb_admin=x', 'x-csrf-token': 'y', origin: 'http://evil.example' },
    ]);
    const fill = (url: string) => url.replace(/:(\w+)|\*/g, (m, name: string) => {
      if (name === 'id' && r.next() < 0.3) return conn;
      return m === '*' ? r.pick(['customers', 'customers/%00', 'charges/../refunds', '%2e%2e/x', 'balance', 'a b', 'x'.repeat(300)]) : encodeURIComponent(r.pick(JUNK_STRINGS)).replace(/%25/g, r.next() < 0.5 ? '%' : '%25');
    });
    const query = () => {
      const n = r.int(4);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`${r.pick(QUERY_KEYS)}=${r.pick(JUNK_STRINGS)}`);
      return parts.length ? `?${parts.join('&')}` : '';
    };
    const body = (): { body?: string; type?: string } => {
      const kind = r.int(7);
      const obj = () => Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(FIELDS), r.pick(JUNK_VALUES)]));
      if (kind === 0) return {};
      if (kind === 1) return { body: JSON.stringify(obj()), type: 'application/json' };
      if (kind === 2) return { body: JSON.stringify(r.pick(JUNK_VALUES)), type: 'application/json' };
      if (kind === 3) return { body: r.pick(['{', '{"a":', '\u0000', 'nul\u0000l', '[1,2', '"\\ud800"', '{"__proto__":{"x":1}}']), type: 'application/json' };
      // A lone surrogate cannot be percent-encoded: its bytes as an invalid UTF-8 sequence instead.
      const enc = (v: string) => v.split(/([\ud800-\udfff])/).map((part) => (/^[\ud800-\udfff]$/.test(part) ? '%ED%A0%80' : encodeURIComponent(part))).join('');
      if (kind === 4) return { body: Object.entries(obj()).map(([k, v]) => `${k}=${enc(typeof v === 'object' ? JSON.stringify(v) : String(v))}`).join('&'), type: 'application/x-www-form-urlencoded' };
      if (kind === 5) return { body: `${r.pick(FIELDS)}[${r.pick(FIELDS)}][]=${r.pick(JUNK_STRINGS)}&${r.pick(FIELDS)}=${r.pick(JUNK_STRINGS)}`, type: r.pick(['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', '']) };
      return { body: Buffer.from(Array.from({ length: 64 }, () => r.int(256))).toString('latin1'), type: r.pick(['application/json', 'application/octet-stream']) };
    };
    const one = async (i: number) => {
      const route = r.pick(routes);
      const method = r.next() < 0.85 ? route.method : r.pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH']);
      const path = fill(route.url) + query();
      const { body: payload, type } = method === 'GET' || method === 'HEAD' ? {} : body();
      const headers: Record<string, string> = { ...credentials(), ...(type ? { 'content-type': type } : {}), ...(r.next() < 0.2 ? { 'paybridge-app': r.pick(JUNK_STRINGS), 'paybridge-mode': r.pick(['live', 'x', '']) } : {}) };
      let res: Response;
      try {
        res = await fetch(h.gw.url + path, { method, headers, body: payload, redirect: 'manual' });
      } catch (e) {
        if (/Invalid URL|invalid|ByteString|unsupported/i.test(String((e as Error).cause ?? e))) return; // fetch refused to send it: nothing to test
        failures.push(`#${i} ${method} ${path}: ${(e as Error).message}`);
        return;
      }
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.ok && route.url === '/v1/app/keys/rotate' && /"secret":"pb_test_/.test(text)) key = JSON.parse(text).secret;
      const where = `#${i} ${method} ${path} ${JSON.stringify(headers)} ${payload?.slice(0, 120) ?? ''} → ${res.status} ${text.slice(0, 200)}`;
      if (res.status >= 500) failures.push(where);
      else if (res.status >= 400 && !route.url.startsWith('/mcp')) {
        let shaped = false;
        try {
          const error = JSON.parse(text).error;
          shaped = typeof error?.type === 'string' && typeof error?.message === 'string';
        } catch {
          shaped = false;
        }
        if (!shaped) failures.push(`unshaped ${where}`);
      }
    };
    for (let i = 0; i < REQUESTS; i += 16) await Promise.all(Array.from({ length: Math.min(16, REQUESTS - i) }, (_, j) => one(i + j)));
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    assert.deepEqual(failures.slice(0, 15), [], `seed ${SEED}: ${failures.length} failures`);
    // The generator must get past authentication and validation often enough to mean something.
    const passed = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    assert.ok(passed > REQUESTS / 50, `only ${passed} requests were accepted`);
    const alive = await h.api('GET', '/v1/app', undefined, key);
    assert.equal(alive.status, 200, 'the gateway still serves');
  });
});
