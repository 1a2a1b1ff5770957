/**
 * What the gateway keeps, as an attacker with a copy of the database or a
 * patient client would probe it (issue 16): a sealed secret opens only in its
 * own row, secrets sealed before that binding are re-sealed on start, and
 * retention removes old logs, events, deliveries and finished sessions while
 * keeping recent ones and pending work.
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { secrets } from '../../src/store/schema.js';
import { backends, dropTestDatabases, startGatewayHarness } from './harness.js';

const list = await backends();
after(() => (list.some((b) => b.name === 'postgres') ? dropTestDatabases() : undefined));

for (const backend of list) {
  describe(`storage hardening on ${backend.name}`, () => {
    it('binds each ciphertext to its row: swapped between rows, neither opens', async () => {
      const h = await startGatewayHarness({ databaseUrl: await backend.database() });
      try {
        const { vault, db } = h.gw.services.rt;
        const a = await vault.seal('sk_test_secretOfAppA', 'stripe_key');
        const b = await vault.seal('sk_test_secretOfAppB', 'stripe_key');
        const [rowA] = await db.select().from(secrets).where(eq(secrets.id, a));
        const [rowB] = await db.select().from(secrets).where(eq(secrets.id, b));
        await db.update(secrets).set({ ciphertext: rowB.ciphertext }).where(eq(secrets.id, a));
        await db.update(secrets).set({ ciphertext: rowA.ciphertext }).where(eq(secrets.id, b));
        await assert.rejects(vault.open(a));
        await assert.rejects(vault.open(b));
      } finally {
        await h.close();
      }
    });

    it('re-seals secrets sealed before the binding when it starts, and they still open', async () => {
      const databaseUrl = await backend.database();
      const masterKey = randomBytes(32).toString('base64');
      const first = await startGatewayHarness({ databaseUrl, env: { PAYBRIDGE_MASTER_KEY: masterKey } });
      let legacyId: string;
      try {
        if (!databaseUrl) return; // PGlite in memory does not outlive its gateway: the PostgreSQL run covers the restart.
        const { vault, db } = first.gw.services.rt;
        legacyId = 'sec_legacyUnbound0001';
        // Sealed as the vault sealed before this change: AES-256-GCM with no associated data.
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', Buffer.from(masterKey, 'base64'), iv);
        const body = Buffer.concat([cipher.update('whsec_sealedLongAgo', 'utf8'), cipher.final()]);
        await db.insert(secrets).values({ id: legacyId, keyId: vault.keyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), bound: false });
      } finally {
        await first.close();
      }
      const second = await startGatewayHarness({ databaseUrl, env: { PAYBRIDGE_MASTER_KEY: masterKey } });
      try {
        const [row] = (await second.gw.services.rt.db.execute(sql`SELECT bound FROM secrets WHERE id = ${legacyId}`)).rows as { bound: boolean }[];
        assert.equal(row.bound, true);
        assert.equal(await second.gw.services.rt.vault.open(legacyId), 'whsec_sealedLongAgo');
      } finally {
        await second.close();
      }
    });

    it('prunes what is older than the retention age, in small batches, and keeps the rest', async () => {
      const h = await startGatewayHarness({ databaseUrl: await backend.database(), env: { PAYBRIDGE_RETENTION_DAYS: '30' } });
      try {
        const { db } = h.gw.services.rt;
        const conn = (await h.api('POST', '/v1/connections', { secret_key: 'sk_test_retention' })).json.id;
        for (let i = 0; i < 3; i++) await fetch(`${h.gw.url}/proxy/${conn}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${h.key}` } });
        await h.gw.services.rt.logs.flush();
        // Age two of the logs, and one of every other kind of row.
        await db.execute(sql`UPDATE request_logs SET created_at = now() - interval '40 days' WHERE id IN (SELECT id FROM request_logs ORDER BY seq LIMIT 2)`);
        const appId = h.gw.bootstrap!.app_id;
        await db.execute(sql`INSERT INTO gateway_events (id, app_id, mode, type, data, created_at) VALUES ('pbevt_old', ${appId}, 'test', 'sync.completed', '{}'::jsonb, now() - interval '40 days'), ('pbevt_new', ${appId}, 'test', 'sync.completed', '{}'::jsonb, now())`);
        await db.execute(sql`INSERT INTO stripe_events_in (id, event_id, event_type, payload, status, received_at) VALUES
          ('evt_old:platform', 'evt_old', 'customer.created', '{}', 'processed', now() - interval '40 days'),
          ('evt_stuck:platform', 'evt_stuck', 'customer.created', '{}', 'pending', now() - interval '40 days')`);
        const before = (await h.api('GET', '/v1/logs?limit=100')).json.data.length;
        const pruned = await h.gw.services.retention.prune();
        assert.ok(pruned.request_logs >= 2, JSON.stringify(pruned));
        assert.equal((await h.api('GET', '/v1/logs?limit=100')).json.data.length, before - 2);
        const events = (await db.execute(sql`SELECT id FROM gateway_events WHERE id IN ('pbevt_old', 'pbevt_new')`)).rows.map((r) => (r as { id: string }).id);
        assert.deepEqual(events, ['pbevt_new']);
        const inbound = (await db.execute(sql`SELECT id FROM stripe_events_in WHERE id IN ('evt_old:platform', 'evt_stuck:platform')`)).rows.map((r) => (r as { id: string }).id);
        assert.deepEqual(inbound, ['evt_stuck:platform'], 'pending work is never pruned');
      } finally {
        await h.close();
      }
    });
  });
}
