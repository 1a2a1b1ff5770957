/**
 * Opens the gateway's database: embedded PGlite under the data folder by
 * default, PostgreSQL when `DATABASE_URL` is set. Both are driven through
 * Drizzle with the same schema; migrations run before anything else.
 */
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { PGliteThread } from './pglite-thread.js';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { MIGRATIONS } from './migrations.js';
import * as schema from './schema.js';

export type Db = ReturnType<typeof drizzlePg<typeof schema>>;
/** A transaction, or the database itself: what a write that may join a transaction runs on. */
export type Queryable = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /**
   * Bulk insert of CSV rows. PGlite runs on the gateway's own thread, where
   * COPY costs a third of an INSERT … SELECT over JSON; PostgreSQL does that
   * work in its own process, so it has no need of this.
   */
  copyCsv?: (table: string, columns: string[], csv: string) => Promise<void>;
  close(): Promise<void>;
}

/** Arbitrary constant naming the migration lock (pg advisory locks take a bigint). */
const MIGRATION_LOCK = 7_202_611;

export async function openDatabase(o: { url?: string; dataDir?: string }): Promise<Database> {
  if (o.url) {
    const pool = new pg.Pool({ connectionString: o.url, max: 10 });
    // An idle client dropped by the server must not take the process down; the next query reconnects.
    pool.on('error', (e) => console.error('[paybridge] PostgreSQL connection error:', e.message));
    const db = drizzlePg(pool, { schema });
    await migrate(db);
    return { db, kind: 'postgres', close: () => pool.end() };
  }
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
  const client = new PGliteThread(o.dataDir);
  await client.ready;
  const db = drizzlePglite(client as unknown as PGlite, { schema }) as unknown as Db;
  await migrate(db);
  const copyCsv = async (table: string, columns: string[], csv: string) => {
    await client.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob([csv]) });
  };
  return { db, kind: 'pglite', copyCsv, close: () => client.close() };
}

async function migrate(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    // The lock comes first: even CREATE TABLE IF NOT EXISTS races between instances starting together.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`CREATE TABLE IF NOT EXISTS paybridge_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = await tx.execute(sql`SELECT id FROM paybridge_migrations`);
    const applied = new Set((done.rows as { id: string }[]).map((r) => r.id));
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      // One statement at a time: drivers run parameterless SQL through prepared statements, which take one command.
      for (const statement of m.sql.split(';').map((x) => x.trim()).filter(Boolean)) await tx.execute(sql.raw(statement));
      await tx.execute(sql`INSERT INTO paybridge_migrations (id) VALUES (${m.id})`);
    }
  });
}
