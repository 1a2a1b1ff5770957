/** App keys (modes kept apart, rotation, revocation) and the per-connection rate limit. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startGatewayHarness, type GatewayHarness } from './harness.js';

let h: GatewayHarness;
before(async () => {
  h = await startGatewayHarness({ env: { PAYBRIDGE_RATE_LIMIT_TEST: '5' } });
});
after(() => h?.close());

it('keeps test and live apart, rotates and revokes app keys', async () => {
  const live = h.gw.bootstrap!.live_key;
  const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_modes' })).json;
  assert.equal((await h.api('GET', `/v1/connections/${conn.id}`, undefined, live)).status, 404, 'a live key does not see test connections');
  assert.equal((await h.api('GET', '/v1/connections', undefined, live)).json.data.length, 0);
  assert.equal((await h.api('POST', '/v1/connections', { secret_key: 'sk_test_modes' }, live)).json.error.code, 'mode_mismatch');

  const rotated = await h.api('POST', '/v1/app/keys/rotate', { mode: 'live' });
  assert.match(rotated.json.secret, /^pb_live_/);
  await new Promise((r) => setTimeout(r, 5100));
  assert.equal((await h.api('GET', '/v1/app', undefined, live)).status, 401, 'the old live key stopped working');
  assert.equal((await h.api('GET', '/v1/app', undefined, rotated.json.secret)).status, 200);
  const revoked = await h.api('DELETE', `/v1/app/keys/${rotated.json.id}`);
  assert.equal(revoked.json.revoked, true);
  await new Promise((r) => setTimeout(r, 5100));
  assert.equal((await h.api('GET', '/v1/app', undefined, rotated.json.secret)).status, 401);
});

it('rolls a key with an expiry window for the old one, as Stripe offers (now, 1 hour, 24 hours, 7 days)', async () => {
  const made = await h.gw.services.apps.create('Rolled with grace');
  const old = made.keys.test;
  const bad = await h.api('POST', '/v1/app/keys/rotate', { expires_in: 42 }, old);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.param, 'expires_in');
  const rolled = await h.api('POST', '/v1/app/keys/rotate', { expires_in: 3600 }, old);
  assert.equal(rolled.status, 200, JSON.stringify(rolled.json));
  const oldKey = rolled.json.previous_key;
  assert.ok(oldKey && Math.abs(oldKey.expires_at - (Date.now() / 1000 + 3600)) < 60, JSON.stringify(rolled.json));
  await new Promise((r) => setTimeout(r, 5100));
  assert.equal((await h.api('GET', '/v1/app', undefined, old)).status, 200, 'the old key keeps working through its window');
  const listed = (await h.api('GET', '/v1/app', undefined, rolled.json.secret)).json.keys.filter((k: { mode: string }) => k.mode === 'test');
  const shown = listed.find((k: { id: string }) => k.id === oldKey.id);
  assert.deepEqual([shown.revoked, typeof shown.expires_at], [false, 'number']);
  // Rolling again ends the window now.
  await h.api('POST', '/v1/app/keys/rotate', { expires_in: 0 }, rolled.json.secret);
  await new Promise((r) => setTimeout(r, 5100));
  assert.equal((await h.api('GET', '/v1/app', undefined, old)).status, 401);
  assert.equal((await h.api('GET', '/v1/app', undefined, rolled.json.secret)).status, 401);
});

it('keeps each connection under its rate limit by making excess requests wait', async () => {
  const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_limited' })).json;
  const started = Date.now();
  const statuses = await Promise.all(Array.from({ length: 15 }, () =>
    fetch(`${h.gw.url}/proxy/${conn.id}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${h.key}` } }).then((r) => r.status)));
  const elapsed = Date.now() - started;
  assert.deepEqual([...new Set(statuses)], [200], 'nobody is refused: they wait their turn');
  assert.ok(elapsed >= 1800, `15 requests at 5/s with a burst of 5 take about 2 s (took ${elapsed} ms)`);
});
