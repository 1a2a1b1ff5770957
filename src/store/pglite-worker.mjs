// PGlite in its own thread: the database's WebAssembly runs beside the gateway's
// JavaScript instead of on its thread. Plain ESM (no TypeScript) so the worker
// starts without a loader. Messages: {id, op: 'query' | 'exec' | 'close', sql, params, options}.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

// Bytes for a jsonb parameter are sent as they are, in jsonb's binary input format (a version byte, then the
// text), as node-postgres sends a Buffer: a large text parameter cost PGlite more to take in than to parse.
const jsonb = types.serializers[types.JSONB];
const options = { serializers: { [types.JSONB]: (value) => (value instanceof Uint8Array ? value : jsonb(value)) } };
const db = workerData.dataDir ? new PGlite(workerData.dataDir, options) : new PGlite(options);
await db.waitReady;

const identity = (value) => value;

parentPort.on('message', async (m) => {
  try {
    let result;
    if (m.op === 'query') {
      const o = m.options ?? {};
      // Parser functions cannot cross threads: the client sends the type ids whose text is kept as is.
      const options = { rowMode: o.rowMode, ...(o.rawTypes ? { parsers: Object.fromEntries(o.rawTypes.map((t) => [t, identity])) } : {}), ...(o.blobBytes !== undefined ? { blob: new Blob([o.blobBytes]) } : {}) };
      result = await db.query(m.sql, m.params ?? [], options);
      result = { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows };
    } else if (m.op === 'exec') {
      result = (await db.exec(m.sql)).map((r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows }));
    } else if (m.op === 'close') {
      await db.close();
      result = null;
    }
    parentPort.postMessage({ id: m.id, result });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: e?.message ?? String(e), ...Object.fromEntries(Object.entries(e ?? {}).filter(([, v]) => typeof v !== 'function' && typeof v !== 'object')) } });
  }
});
parentPort.postMessage({ ready: true });
