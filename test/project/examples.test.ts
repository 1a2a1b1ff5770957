/**
 * Every shell and code example in README.md and docs/ runs against `npm
 * start`'s defaults, so none can rot: a `paybridge start` with embedded
 * storage and sandbox (on free ports, written into the examples in place of
 * 4000 and 12111) in a fresh folder, the folder the examples' commands run
 * in. Per page, its `sh` blocks run in order in one bash (variables carry
 * from block to block) and must exit 0 without answering a Stripe-shaped
 * error; its `ts` blocks run as modules with tsx; `json` blocks must parse.
 * Not run: the two set-up commands (`npm install && npm start`, `npm test`:
 * CI runs them) and blocks marked `text` (command synopses, output).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPaybridge, type PaybridgeProcess } from '../cli/paybridge-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const SETUP = new Set(['npm install && npm start', 'npm test']);

interface Block { lang: string; code: string; line: number }

export function blocksOf(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^```\s*$/.test(lines[i])) body.push(lines[i]);
    blocks.push({ lang: open[1], code: body.join('\n'), line: start + 1 });
  }
  return blocks;
}

const run = (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { cwd, env, timeout: 60_000, maxBuffer: 8 << 20 }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

let pb: PaybridgeProcess;
let folder: string;
let env: NodeJS.ProcessEnv;
/** Examples name the default ports; this run's are free ones. */
let localize: (code: string) => string;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'paybridge-examples-'));
  pb = await startPaybridge(join(folder, '.paybridge'));
  const { port, sandboxPort } = pb.ports;
  localize = (code) => code.replace(/(localhost|127\.0\.0\.1):4000\b/g, `127.0.0.1:${port}`).replace(/\b4000(?=[,\s}])/g, String(port)).replace(/\b12111\b/g, String(sandboxPort));
  const bootstrap = JSON.parse(readFileSync(join(folder, '.paybridge', 'bootstrap.json'), 'utf8'));
  // A connection and a connection key for the examples that start from one.
  const auth = { authorization: `Bearer ${bootstrap.test_key}`, 'content-type': 'application/json' };
  const conn = await fetch(`${pb.url}/v1/connections`, { method: 'POST', headers: auth, body: JSON.stringify({ secret_key: 'sk_test_examples' }) }).then((r) => r.json());
  const key = await fetch(`${pb.url}/v1/connections/${conn.id}/keys`, { method: 'POST', headers: auth, body: JSON.stringify({ permissions: { customers: 'write' } }) }).then((r) => r.json());
  assert.match(key.secret ?? key.key ?? '', /^pbk_/, JSON.stringify(key));
  // The docs' shell examples continue from the README tour's KEY and CONN.
  env = { ...process.env, KEY: bootstrap.test_key, CONN: conn.id, PAYBRIDGE_KEY: bootstrap.test_key, PAYBRIDGE_CONNECTION_KEY: key.secret ?? key.key, PAYBRIDGE_CONNECTION: conn.id, PATH: process.env.PATH };
});

after(async () => {
  await pb?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the examples in README.md and docs/', () => {
  for (const page of PAGES) {
    const blocks = blocksOf(readFileSync(join(ROOT, page), 'utf8'));
    const shell = blocks.filter((b) => b.lang === 'sh' && !SETUP.has(b.code.trim()));
    const code = blocks.filter((b) => b.lang === 'ts');
    const json = blocks.filter((b) => b.lang === 'json');
    const unmarked = blocks.filter((b) => b.lang === '');
    it(`${page}: every block says what it is (sh, ts, json or text)`, () => {
      assert.deepEqual(unmarked.map((b) => `${page}:${b.line}`), []);
    });
    if (json.length) {
      it(`${page}: its JSON parses`, () => {
        for (const b of json) assert.doesNotThrow(() => JSON.parse(b.code), `${page}:${b.line}`);
      });
    }
    if (shell.length) {
      it(`${page}: its shell examples run`, async () => {
        const script = ['set -euo pipefail', ...shell.map((b) => `echo "--- ${page}:${b.line}"\n${localize(b.code)}\necho`)].join('\n');
        const r = await run('bash', ['-c', script], folder, env);
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const errors = r.stdout.split('\n').filter((l) => /"error"\s*:\s*\{/.test(l));
        assert.deepEqual(errors, [], r.stdout);
      });
    }
    for (const b of code) {
      it(`${page}:${b.line} runs`, async () => {
        const dir = join(ROOT, 'test', 'artifacts', 'examples');
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${page.replace(/\W/g, '_')}_${b.line}.mts`);
        writeFileSync(file, localize(b.code));
        const r = await run(process.execPath, ['--import', 'tsx', file], ROOT, env);
        assert.equal(r.code, 0, `${page}:${b.line}\n${r.stdout}\n${r.stderr}`);
      });
    }
  }
});
