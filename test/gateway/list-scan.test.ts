/**
 * The backfill reads a list page's ids and `has_more` from its bytes without parsing it into objects: on
 * generated pages (nested lists with their own `has_more` and `id`s, text that JSON escapes, any key order,
 * compact or pretty-printed as Stripe sends them) it must agree with JSON.parse, and refuse what is not a list.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { NotAListError, scanListPage } from '../../src/gateway/list-scan.js';

let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
const tricky = ['', 'plain', 'quote " inside', 'back\\slash', 'ends with \\', '"id":"fake"', '{"has_more":true}', 'Zoë 💳 ✓', 'tab\tnew\nline', '\u0001\u001f', ']}],[{'];

function value(depth: number): unknown {
  const kind = depth > 3 ? pick(['s', 'n', 'b']) : pick(['s', 'n', 'b', 'o', 'a', 'list']);
  if (kind === 's') return pick(tricky) + (random() < 0.3 ? String(Math.floor(random() * 100)) : '');
  if (kind === 'n') return pick([0, -1, 1.5e-7, 1500, null]);
  if (kind === 'b') return random() < 0.5;
  if (kind === 'a') return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
  if (kind === 'list') return { object: 'list', data: [{ id: `re_${Math.floor(random() * 1e6)}` }], has_more: random() < 0.5, url: '/v1/refunds' };
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [pick(['id', 'has_more', 'data', 'k' + i, tricky[i]]), value(depth + 1)]));
}

function page(): { object: string; data: unknown[]; has_more: boolean; url: string } {
  const data = Array.from({ length: Math.floor(random() * 6) }, (_, i) => {
    const id = random() < 0.1 ? `cus_${i}\\"odd"é` : `cus_${Math.floor(random() * 1e9)}`;
    const rest = Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, (_, k) => [pick(['object', 'metadata', 'refunds', 'has_more', `f${k}`]), value(1)]));
    // `created` at the top of most objects (and nested ones elsewhere, which must not count).
    if (random() < 0.8) rest.created = Math.floor(random() * 2e9);
    if (random() < 0.3) rest.nested = { created: 7, data: [{ created: 9 }] };
    // Stripe puts `id` first; the scanner must not depend on it.
    return random() < 0.5 ? { id, ...rest } : { ...rest, id };
  });
  const has_more = random() < 0.5;
  return pick([{ object: 'list', data, has_more, url: '/v1/customers' }, { has_more, url: '/v1/customers', object: 'list', data }]);
}

it('agrees with JSON.parse on generated list pages, compact and pretty-printed', () => {
  for (let i = 0; i < 3000; i++) {
    const p = page();
    const text = JSON.stringify(p, null, pick([undefined, 2, '\t']));
    const scanned = scanListPage(Buffer.from(text));
    const parsed = JSON.parse(text);
    const last = parsed.data.at(-1) as { created?: number } | undefined;
    assert.deepEqual(scanned, { ids: parsed.data.map((o: { id: string }) => o.id), hasMore: parsed.has_more, lastCreated: last?.created }, text);
  }
});

it('refuses what is not a list page', () => {
  for (const body of ['', '[]', '{"object":"customer","id":"cus_1"}', '{"data":[{"object":"x"}],"has_more":false}', '{"data":[1,2],"has_more":false}', '{"data":[{"id":"cus_1"}', '{"data":[{"id":"cus_1}]}']) {
    assert.throws(() => scanListPage(Buffer.from(body)), NotAListError, body);
  }
});
