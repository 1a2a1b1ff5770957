/**
 * Append-only journal that makes the sandbox's state survive `kill -9`.
 * Each committed transaction is one JSON line, written with a synchronous
 * `write(2)` before the client gets its answer: once written, the bytes are
 * in the kernel's page cache and outlive the process. (`fsync: true` also
 * survives power loss, at the cost of one disk flush per write.)
 * A torn last line — the process died mid-write — is ignored on replay;
 * its client never got an answer.
 */
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface JournalEntry {
  /** account id */
  a: string;
  /** changes: [collection, id, object or null for removal] */
  c: [string, string, unknown][];
  /** idempotency record saved with this transaction */
  k?: unknown;
}

export class Journal {
  private fd: number;
  private readonly path: string;

  private constructor(path: string, private readonly fsync: boolean) {
    this.path = path;
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Opens (creating) the journal in `dir`, first replaying what it holds. */
  static open(dir: string, replay: (entry: JournalEntry) => void, options: { fsync?: boolean } = {}): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, 'journal.ndjson');
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      let start = 0;
      while (start < text.length) {
        const end = text.indexOf('\n', start);
        if (end === -1) break; // torn tail: never acknowledged
        const line = text.slice(start, end);
        start = end + 1;
        if (line) replay(JSON.parse(line) as JournalEntry);
      }
    }
    return new Journal(path, options.fsync ?? false);
  }

  append(entry: JournalEntry): void {
    const line = JSON.stringify(entry) + '\n';
    writeSync(this.fd, line);
    if (this.fsync) fdatasyncSync(this.fd);
  }

  /** Replaces the journal with `entries` (a compacted snapshot), atomically. */
  rewrite(entries: Iterable<JournalEntry>): void {
    const tmp = this.path + '.tmp';
    const fd = openSync(tmp, 'w', 0o600);
    let buffer = '';
    for (const entry of entries) {
      buffer += JSON.stringify(entry) + '\n';
      if (buffer.length > 1 << 20) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    if (buffer) writeSync(fd, buffer);
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a', 0o600);
  }

  close(): void {
    closeSync(this.fd);
  }
}
