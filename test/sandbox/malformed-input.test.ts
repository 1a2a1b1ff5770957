/**
 * Generated malformed input: a seeded random generator throws broken
 * requests at every route. Each must get a Stripe-shaped 4xx (or a normal
 * answer), never a 5xx, never a non-JSON body, and the server must stay up.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { harnessPerFile, type Harness } from '../helpers.js';
import qs from 'qs';
import { RESOURCES } from '../../src/sandbox/resources/index.js';
import { parseForm, parseSimple } from '../../src/sandbox/params/form.js';

let h: Harness;
harnessPerFile((x) => (h = x));

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];

const WEIRD_VALUES = [
  '', ' ', '-1', '0', '1e309', '99999999999999999999999', 'NaN', 'true', 'null', '[]', '{}', '%FF%FE', '%C0%AF', '%00',
  '\u202e\u0000', 'é', '💳', 'a'.repeat(6000), '<script>alert(1)</script>', "' OR 1=1 --", '4242424242424242', 'pm_card_visa',
  'cus_nope', '__proto__', 'constructor', '1.5', '-0', '0x10', 'usd', 'manual',
];
const WEIRD_KEYS = [
  'amount', 'currency', 'email', 'metadata', 'metadata[a]', 'metadata[][]', 'expand[]', 'expand[0]', 'limit', 'starting_after',
  'items[0][price]', 'card[number]', 'a[b][c][d][e][f][g][h][i][j]', '[]', '[x]', '__proto__[polluted]', 'constructor[prototype][x]',
  'payment_method', 'confirm', 'customer', 'address[line1]', 'invoice_settings[default_payment_method]', 'created[gte]', 'query', 'type',
];

function garbageForm(): string {
  const pairs: string[] = [];
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) {
    const key = pick(WEIRD_KEYS);
    const value = pick(WEIRD_VALUES);
    pairs.push(`${key.startsWith('%') ? key : encodeURI(key)}=${value.startsWith('%') ? value : encodeURIComponent(value)}`);
  }
  if (random() < 0.1) pairs.push('&&&==&');
  return pairs.join('&');
}

const PATHS = RESOURCES.flatMap((r) => r.operations.map((op) => ({ method: op.method, path: op.path })));

function fill(path: string): string {
  return path.replace(/\{\w+\}/g, () => encodeURIComponent(pick(['cus_nope', 'pi_nope', '%2e%2e', 'x'.repeat(300), 'pm_card_visa', '💳', ''])) || 'x');
}

it(`never answers generated malformed input with a 5xx or a non-JSON body (seed ${SEED})`, async () => {
  const failures: string[] = [];
  for (let i = 0; i < 700; i++) {
    const route = pick(PATHS);
    const method = random() < 0.85 ? route.method : pick(['GET', 'POST', 'DELETE', 'PUT', 'PATCH']);
    let path = fill(route.path);
    let body: string | undefined;
    const headers: Record<string, string> = {};
    const style = random();
    if (method === 'GET' || method === 'DELETE') {
      path += `?${garbageForm()}`;
    } else if (style < 0.6) {
      body = garbageForm();
    } else if (style < 0.75) {
      body = pick(['{', '[1,2]', '"str"', 'null', '{"amount": {"$gt": 1}}', '{"metadata": [1,2,3]}', '\u0000\u0001']);
      headers['content-type'] = 'application/json';
    } else if (style < 0.85) {
      body = Buffer.from([0xff, 0xfe, 0x3d, 0x80, 0x26, 0x61, 0x3d, 0xc3]).toString('latin1');
      headers['content-type'] = pick(['text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x']);
    } else {
      body = `${'deep'}${'[x]'.repeat(40)}=1&amount=${'9'.repeat(400)}`;
    }
    const key = random() < 0.1 ? pick(['', 'sk_test_', 'sk_test_ünïcode', 'Bearer', 'pk_test_x', 'rk_test_x', 'sk_live_x']) : undefined;
    const res = await h.http(method, path, { body, headers, key: key === '' ? null : key });
    const label = `${method} ${path.slice(0, 80)} body=${JSON.stringify(body?.slice(0, 80))}`;
    if (res.status >= 500) failures.push(`${res.status} ${label}: ${res.text.slice(0, 200)}`);
    else if (res.status >= 400 && !(res.json?.error?.type && typeof res.json.error.message === 'string')) failures.push(`not Stripe-shaped: ${label}: ${res.text.slice(0, 200)}`);
    else if (res.json === undefined) failures.push(`not JSON: ${label}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(({} as any).polluted, undefined);
  const alive = await h.stripe.customers.create({ email: 'still-alive@example.com' });
  assert.match(alive.id, /^cus_/);
});

it('answers an oversize body with a Stripe-shaped 413', async () => {
  const res = await h.http('POST', '/v1/customers', { body: `description=${'x'.repeat(2 * 1024 * 1024)}` });
  assert.equal(res.status, 413);
  assert.equal(res.json.error.type, 'invalid_request_error');
});

it('rejects wrong types in well-formed requests with the parameter named', async () => {
  const cases: [string, string, string][] = [
    ['/v1/payment_intents', 'amount=abc&currency=usd', 'amount'],
    ['/v1/payment_intents', 'amount=1000&currency=usd&confirm=maybe', 'confirm'],
    ['/v1/payment_intents', 'amount[a]=1&currency=usd', 'amount'],
    ['/v1/customers', 'metadata=notanobject', 'metadata'],
    ['/v1/customers', 'preferred_locales=fr', 'preferred_locales'],
    ['/v1/customers', 'address=%5B%5D', 'address'],
  ];
  for (const [path, body, param] of cases) {
    const res = await h.http('POST', path, { body });
    assert.equal(res.status, 400, `${path} ${body}: ${res.text}`);
    assert.equal(res.json.error.param, param, `${path} ${body}: ${res.text}`);
  }
});

it(`parses generated forms exactly as qs does, the fast path and its fallback alike (seed ${SEED})`, () => {
  const PLAIN_KEYS = ['email', 'name', 'metadata[plan]', 'metadata[a.b]', 'metadata[x-y]', 'address[line1]', 'description', 'metadata[plan]', 'expand[]', 'items[0][price]', 'toString', 'metadata[hasOwnProperty]', 'a b', 'email%5Bx%5D', 'metadata%5Bk%5D'];
  const PLAIN_VALUES = ['bench', 'a+b', 'bench%40example.com', '%E2%82%AC', '', '100', '%ZZ', '1%2B1', 'x=y'];
  let fast = 0;
  for (let i = 0; i < 4000; i++) {
    const pairs: string[] = [];
    const n = Math.floor(random() * 6);
    for (let j = 0; j < n; j++) {
      if (random() < 0.7) pairs.push(`${pick(PLAIN_KEYS)}=${pick(PLAIN_VALUES)}`);
      else pairs.push(garbageForm());
    }
    const form = pairs.join('&');
    const expected = qs.parse(form, { depth: 8, arrayLimit: 100, parameterLimit: 5000, allowPrototypes: false });
    assert.deepStrictEqual(parseForm(form), expected, `form: ${form}`);
    if (parseSimple(form)) fast++;
  }
  assert.ok(fast > 500, 'the generator must exercise the fast path too');
});
