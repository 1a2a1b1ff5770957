import { startSandbox } from '/work/main/src/sandbox/index.js';
import { PGlite, types } from '@electric-sql/pglite';
import pg from 'pg';
const sb = await startSandbox({ port: 0 });
const url = sb.url;
const h = { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' };
await Promise.all(Array.from({ length: 16 }, async (_, k) => { for (let i = 0; i < 63; i++) await (await fetch(url + '/v1/payment_intents', { method: 'POST', headers: h, body: 'amount=1500&currency=usd&payment_method=pm_card_visa&confirm=true' })).arrayBuffer(); }));
const pages: Buffer[] = [];
let after = '';
for (let i = 0; i < 10; i++) { const t = Buffer.from(await (await fetch(url + `/v1/charges?limit=100${after ? '&starting_after=' + after : ''}`, { headers: h })).arrayBuffer()); pages.push(t); after = JSON.parse(t.toString()).data.at(-1).id; }
await sb.close();
const bin = Buffer.concat([Buffer.from([1, 0x5b]), ...pages.flatMap((p, i) => (i ? [Buffer.from(','), p] : [p])), Buffer.from(']')]);
// jsonb[] binary: objects re-serialized individually (stand-in for byte ranges from the scanner)
const objs = pages.flatMap((p) => JSON.parse(p.toString()).data.map((o: any) => Buffer.from(JSON.stringify(o))));
function arrayParam(items: Buffer[]): Buffer {
  const head = Buffer.alloc(20);
  head.writeInt32BE(1, 0); head.writeInt32BE(0, 4); head.writeInt32BE(3802, 8); head.writeInt32BE(items.length, 12); head.writeInt32BE(1, 16);
  const parts: Buffer[] = [head];
  for (const it of items) { const len = Buffer.alloc(5); len.writeInt32BE(it.length + 1, 0); len[4] = 1; parts.push(len, it); }
  return Buffer.concat(parts);
}
const arr = arrayParam(objs);
const ddl = `CREATE TABLE records (connection_id text NOT NULL, model text NOT NULL, id text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY,
  data jsonb NOT NULL, stripe_created bigint, version_at bigint NOT NULL, deleted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (connection_id, model, id)); ALTER TABLE records SET (toast_tuple_target = 8160);
  CREATE INDEX ON records (connection_id, model, seq);`;
const cols = '(connection_id, model, id, data, stripe_created, version_at, deleted)';
const A = `INSERT INTO records ${cols} SELECT $2::text, 'charges', e->>'id', e, (e->>'created')::bigint, 1, false FROM jsonb_array_elements($1::jsonb) p, jsonb_array_elements(p->'data') e`;
const B = `INSERT INTO records ${cols} SELECT $2::text, 'charges', e->>'id', e, (e->>'created')::bigint, 1, false FROM unnest($1::jsonb[]) e`;
const PA = `SELECT count(*) FROM jsonb_array_elements($1::jsonb) p, jsonb_array_elements(p->'data') e`;
const PB = `SELECT count(*) FROM unnest($1::jsonb[]) e`;
async function run(name: string, q: (text: string, params: unknown[]) => Promise<unknown>) {
  let n = 0;
  const res: Record<string, number[]> = {};
  for (let r = 0; r < 4; r++) for (const [k, text, param] of [['parseA', PA, bin], ['parseB', PB, arr], ['insertA', A, bin], ['insertB', B, arr]] as const) {
    const t = performance.now();
    for (let i = 0; i < 6; i++) await q(text, k.startsWith('parse') ? [param] : [param, 'c' + n++]);
    (res[k] ??= []).push((performance.now() - t) / 6);
  }
  console.log(name, Object.entries(res).map(([k, v]) => `${k} ${v.slice(1).sort((a, b) => a - b)[1].toFixed(1)}`).join('  '));
}
const lite = new PGlite({ serializers: { [types.JSONB]: (v: any) => v, 3807: (v: any) => v } });
await lite.exec(ddl);
await run('pglite', (t, p) => lite.query(t, p));
await lite.close();
const c = new pg.Client('postgres://postgres@127.0.0.1:5432/test');
await c.connect();
await c.query('DROP SCHEMA IF EXISTS mt CASCADE; CREATE SCHEMA mt; SET search_path = mt');
await c.query(ddl);
await run('postgres', (t, p) => c.query(t, p));
await c.query('DROP SCHEMA mt CASCADE');
await c.end();
