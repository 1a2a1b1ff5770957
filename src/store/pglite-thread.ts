/**
 * The embedded database in a worker thread, with the part of PGlite's API
 * that Drizzle and the store use (`query`, `exec`, `transaction`, `close`).
 * PGlite executes on the thread that calls it; in the gateway that thread
 * also serves every HTTP request, and under load half its time went to the
 * database. Queries are sent in order; while a transaction is open, other
 * queries wait for it, as PGlite itself makes them do.
 */
import { Worker } from 'node:worker_threads';

interface Results {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

type QueryOptions = { rowMode?: 'array' | 'object'; parsers?: Record<number, unknown>; blob?: Blob };

export interface PGliteLike {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results>;
  exec(sql: string): Promise<Results[]>;
  transaction<T>(fn: (tx: PGliteLike & { rollback(): Promise<void> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class PGliteThread implements PGliteLike {
  private readonly worker: Worker;
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  private next = 0;
  /** Resolves when the open transaction ends; undefined when none is open. */
  private open?: Promise<void>;
  readonly ready: Promise<void>;

  constructor(dataDir?: string) {
    this.worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
    this.ready = new Promise((resolve, reject) => {
      const onReady = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        this.worker.off('message', onReady);
        resolve();
      };
      this.worker.on('message', onReady);
      this.worker.once('error', reject);
    });
    this.worker.on('message', (m: { id?: number; result?: unknown; error?: Record<string, unknown> }) => {
      if (m.id === undefined) return;
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.error) call?.reject(Object.assign(new Error(String(m.error.message)), m.error));
      else call?.resolve(m.result);
    });
    this.worker.on('error', (e) => {
      for (const call of this.calls.values()) call.reject(e);
      this.calls.clear();
    });
  }

  private send<T>(op: string, sql?: string, params?: unknown[], options?: QueryOptions & { blobBytes?: Uint8Array }): Promise<T> {
    const id = this.next++;
    const wire = options && { rowMode: options.rowMode, rawTypes: options.parsers ? Object.keys(options.parsers).map(Number) : undefined, blobBytes: options.blobBytes };
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      // A blob's bytes move to the worker rather than being copied (a COPY of request logs is hundreds of kB).
      this.worker.postMessage({ id, op, sql, params, options: wire }, options?.blobBytes ? [options.blobBytes.buffer as ArrayBuffer] : []);
    });
  }

  // Each wait for an open transaction is followed, with no await in between, by the message it guards:
  // a query cannot slip into a transaction that begins after it was checked.
  async query(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results> {
    const blobBytes = options?.blob ? new Uint8Array(await options.blob.arrayBuffer()) : undefined;
    while (this.open) await this.open;
    return this.send('query', sql, params, { ...options, blobBytes });
  }

  async exec(sql: string): Promise<Results[]> {
    while (this.open) await this.open;
    return this.send('exec', sql);
  }

  async transaction<T>(fn: (tx: PGliteLike & { rollback(): Promise<void> }) => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    let end!: () => void;
    this.open = new Promise((r) => (end = r));
    const tx = {
      query: (sql: string, params?: unknown[], options?: QueryOptions) => this.send<Results>('query', sql, params, options),
      exec: (sql: string) => this.send<Results[]>('exec', sql),
      transaction: () => Promise.reject(new Error('nested transactions use savepoints')),
      close: () => Promise.reject(new Error('close the database, not the transaction')),
      rollback: async () => {
        throw new Error('rollback');
      },
    };
    try {
      await this.send('query', 'BEGIN');
      const result = await fn(tx as never);
      await this.send('query', 'COMMIT');
      return result;
    } catch (e) {
      await this.send('query', 'ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      this.open = undefined;
      end();
    }
  }

  async close(): Promise<void> {
    while (this.open) await this.open;
    await this.send('close');
    await this.worker.terminate();
  }
}
