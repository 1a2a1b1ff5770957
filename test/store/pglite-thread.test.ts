/**
 * The embedded database in its worker thread, through `openDatabase`: a
 * failed transaction leaves nothing behind, a query sent while a transaction
 * is open waits for it (never sees half of it), COPY and errors cross over.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/store/db.js';

let database: Database;
before(async () => {
  database = await openDatabase({});
  await database.db.execute(sql`CREATE TABLE t (id int PRIMARY KEY, note text)`);
});
after(() => database?.close());

const count = async () => Number(((await database.db.execute(sql`SELECT count(*)::int AS n FROM t`)).rows[0] as { n: number }).n);

it('rolls a failed transaction back whole', async () => {
  await assert.rejects(database.db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO t VALUES (1, 'one'), (2, 'two')`);
    await tx.execute(sql`INSERT INTO t VALUES (1, 'again')`);
  }), (e: { cause?: { message: string; code?: string } }) => /duplicate key value violates unique constraint/.test(e.cause?.message ?? '') && e.cause?.code === '23505');
  assert.equal(await count(), 0);
});

it('holds other queries back until an open transaction ends', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const tx = database.db.transaction(async (t) => {
    await t.execute(sql`INSERT INTO t VALUES (10, 'first half')`);
    await gate;
    await t.execute(sql`INSERT INTO t VALUES (11, 'second half')`);
  });
  await new Promise((r) => setTimeout(r, 20));
  const seen = count();
  const raced = await Promise.race([seen.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 100))]);
  assert.equal(raced, 'waiting', 'the outside query waits while the transaction is open');
  release();
  await tx;
  assert.equal(await seen, 2, 'and then sees both halves');
});

it('copies CSV in and passes Postgres errors with their codes', async () => {
  await database.copyCsv!('t', ['id', 'note'], '20,"a, b"\n21,"c ""quoted"""');
  const rows = (await database.db.execute(sql`SELECT note FROM t WHERE id >= 20 ORDER BY id`)).rows as { note: string }[];
  assert.deepEqual(rows.map((r) => r.note), ['a, b', 'c "quoted"']);
  await assert.rejects(database.db.execute(sql`SELECT * FROM missing_table`), (e: { cause?: { message: string; code?: string } }) => /does not exist/.test(e.cause?.message ?? '') && e.cause?.code === '42P01');
});
