/**
 * `paybridge start`, `rotate-master-key` and `stripe-app-manifest` as a
 * user runs them, in child processes with a data folder of their own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, it } from 'node:test';
import { BIN, ENV, startPaybridge } from './paybridge-process.js';

const run = promisify(execFile);
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const start = (dataDir: string, env: Record<string, string> = {}) => startPaybridge(dataDir, env);

it('starts with embedded defaults, prints the first key once and writes bootstrap.json (0600)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-start-'));
  dirs.push(dir);
  const first = await start(dir);
  assert.match(first.output, /PayBridge gateway listening on http:\/\/127\.0\.0\.1:\d+ \(storage: PGlite in .*db\)/);
  assert.match(first.output, /Stripe: embedded sandbox at http:\/\/127\.0\.0\.1:\d+/);
  const key = /Its test API key .*: (pb_test_\w+)/.exec(first.output)![1];
  const bootstrap = JSON.parse(readFileSync(join(dir, 'bootstrap.json'), 'utf8'));
  assert.equal(bootstrap.test_key, key);
  // The live key is shown once and kept nowhere in clear (issue 18: bootstrap.json held it).
  assert.match(first.output, /Its live API key \(shown once, kept nowhere in clear[^)]*\): pb_live_\w+/);
  assert.equal(bootstrap.live_key, undefined);
  assert.equal(readFileSync(join(dir, 'bootstrap.json'), 'utf8').includes('pb_live_'), false);
  assert.equal(statSync(join(dir, 'bootstrap.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
  const conn = await fetch(`${first.url}/v1/connections`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ secret_key: 'sk_test_cli123' }) });
  const created = await conn.json();
  assert.match(created.id, /^conn_/);
  await first.stop();

  const second = await start(dir);
  assert.equal(/First start/.test(second.output), false, 'the key is printed once');
  const again = await fetch(`${second.url}/v1/connections/${created.id}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(again.status, 200, 'state survives a restart');
  await second.stop();

  // Rotation re-seals every secret; the gateway then starts and reads them with the new key.
  const before = readFileSync(join(dir, 'master.key'), 'utf8').trim().split('\n');
  const rotated = await run(process.execPath, [BIN, 'rotate-master-key', '--data-dir', dir], { env: ENV });
  assert.match(rotated.stdout, /Re-encrypted \d+ secrets under master key mk_[0-9a-f]{16}/);
  const afterKeys = readFileSync(join(dir, 'master.key'), 'utf8').trim().split('\n');
  assert.notEqual(afterKeys[0], before[0]);
  assert.deepEqual(afterKeys, [afterKeys[0]], 'the old master key is retired once no secret uses it');
  const third = await start(dir);
  const test = await fetch(`${third.url}/v1/connections/${created.id}/test`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  assert.equal((await test.json()).ok, true);
  await third.stop();
  // Nothing in the data folder is readable by another user: folders 0700, files 0600 (PGlite's and the sandbox's journal included).
  const loose: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) {
        if ((st.mode & 0o777) !== 0o700) loose.push(`${path} ${(st.mode & 0o777).toString(8)}`);
        walk(path);
      } else if ((st.mode & 0o077) !== 0) loose.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    }
  };
  // The embedded sandbox's journal holds the sandbox's keys and webhook secrets: sealed, none of them in clear.
  const journal = readFileSync(join(dir, 'sandbox', 'journal.ndjson'), 'utf8');
  assert.ok(journal.length > 0);
  assert.doesNotMatch(journal, /whsec_|sk_test_|rk_test_|"object"/);
  if ((statSync(dir).mode & 0o777) !== 0o700) loose.push(`${dir} ${(statSync(dir).mode & 0o777).toString(8)}`);
  walk(dir);
  assert.deepEqual(loose, []);
});

it('refuses a configuration it cannot use, naming the variable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-config-'));
  dirs.push(dir);
  const failed = await start(dir, { DATABASE_URL: 'mysql://nope', STRIPE_SECRET_KEY_TEST: 'sk_live_wrongmode' }).catch((e) => e);
  assert.equal(failed.code, 2);
  assert.match(failed.output, /DATABASE_URL must be a postgres:\/\/ URL/);
  assert.match(failed.output, /STRIPE_SECRET_KEY_TEST must be a test-mode secret key/);
  assert.equal(existsSync(join(dir, 'bootstrap.json')), false);
  const wrongKey = await start(dir, { PAYBRIDGE_MASTER_KEY: 'short' }).catch((e) => e);
  assert.match(wrongKey.output, /master key must be 32 bytes/);
});

it('prints a Stripe App manifest with OAuth access and the callback', async () => {
  const { stdout } = await run(process.execPath, [BIN, 'stripe-app-manifest', '--permissions', 'customer_read,payment_intent_write', '--public-url', 'https://pay.example.com'], { env: ENV });
  const manifest = JSON.parse(stdout);
  assert.equal(manifest.stripe_api_access_type, 'oauth');
  assert.deepEqual(manifest.allowed_redirect_uris, ['https://pay.example.com/oauth/callback']);
  assert.deepEqual(manifest.permissions.map((p: { permission: string }) => p.permission), ['customer_read', 'payment_intent_write']);
  const bad = await run(process.execPath, [BIN, 'stripe-app-manifest', '--permissions', 'everything'], { env: ENV }).catch((e) => e);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Invalid permission 'everything'/);
});

it('prints the dashboard password once; reset-admin-password replaces it and ends sessions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paybridge-admin-'));
  dirs.push(dir);
  const signIn = (url: string, password: string) => fetch(`${url}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
  const first = await start(dir);
  const password = /Dashboard admin password \(shown once[^)]*\): (\w+)/.exec(first.output)![1];
  const dashboard = await fetch(`${first.url}/`);
  assert.match(await dashboard.text(), /<div id="root"><\/div>/, 'the built dashboard is served at /');
  assert.equal((await signIn(first.url, password)).status, 200);
  await first.stop();
  const reset = await run(process.execPath, [BIN, 'reset-admin-password', '--data-dir', dir], { env: ENV });
  const fresh = /New dashboard admin password \(shown once\): (\w+)/.exec(reset.stdout)![1];
  const second = await start(dir);
  assert.doesNotMatch(second.output, /Dashboard admin password/, 'printed on the first start only');
  assert.equal((await signIn(second.url, password)).status, 401);
  assert.equal((await signIn(second.url, fresh)).status, 200);
  await second.stop();
});

it('prints its version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  for (const flag of ['--version', '-v']) assert.equal((await run(process.execPath, [BIN, flag], { env: ENV })).stdout.trim(), version);
});
