/**
 * `npm install` on the Node.js the README supports (20) warns of no package:
 * every package in the lock file that declares `engines.node` admits Node 20
 * (issue 18: cookie 2, through Fastify's light-my-request, asked for Node 22).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

/** Whether a Node range (`>=18`, `^20.9 || >=22`, `18 || 20`, `>= 14.0.0 < 23`) admits version `v`. */
function admits(range: string, v: [number, number, number]): boolean {
  const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  const parse = (s: string) => s.replace(/^v/, '').split('.').map((x) => (x === 'x' || x === '*' || x === '' ? 0 : Number(x))).concat([0, 0, 0]).slice(0, 3);
  return range.split('||').some((alternative) => alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean).every((token) => {
    const m = /^(>=|<=|>|<|=|\^|~)?(.+)$/.exec(token)!;
    const op = m[1] ?? '';
    if (m[2] === '*' || m[2] === 'x') return true;
    const t = parse(m[2]);
    const c = cmp(v, t);
    if (op === '>=') return c >= 0;
    if (op === '>') return c > 0;
    if (op === '<=') return c <= 0;
    if (op === '<') return c < 0;
    if (op === '^') return v[0] === t[0] && c >= 0;
    if (op === '~') return v[0] === t[0] && v[1] === t[1] && c >= 0;
    // A bare version: `20` means 20.x, `20.9` means 20.9.x.
    const parts = m[2].split('.').length;
    return v[0] === t[0] && (parts < 2 || v[1] === t[1]) && (parts < 3 || v[2] === t[2]);
  }));
}

it('installs on Node 20 without an engine warning', () => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
  const node20: [number, number, number] = [20, 20, 2];
  const refused = Object.entries(lock.packages)
    .filter(([, p]) => p.engines && !Array.isArray(p.engines) && typeof p.engines.node === 'string')
    .filter(([, p]) => !admits((p.engines as { node: string }).node, node20))
    .map(([name, p]) => `${name.replace(/^node_modules\//, '')} wants node ${(p.engines as { node: string }).node}`);
  assert.deepEqual(refused, []);
});
