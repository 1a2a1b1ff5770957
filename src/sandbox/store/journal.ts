/**
 * Append-only journal that makes the sandbox's state survive `kill -9`.
 * Each committed transaction is one JSON line, written with a synchronous
 * `write(2)` before the client gets its answer: once written, the bytes are
 * in the kernel's page cache and outlive the process. (`fsync: true` also
 * survives power loss, at the cost of one disk flush per write.)
 * A torn last line — the process died mid-write — is ignored on replay;
 * its client never got an answer.
 *
 * With a key (the embedding gateway passes one it keeps in its vault), each
 * line is sealed with AES-256-GCM, so the keys and webhook secrets the
 * sandbox holds are not in clear on disk; a plain journal is sealed on open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface JournalEntry {
  /** account id */
  a: string;
  /** changes: [collection, id, object or null for removal] */
  c: [string, string, unknown, string?][];
  /** idempotency record saved with this transaction */
  k?: unknown;
}

/** A sealed line: `~` and base64 of iv (12) | tag (16) | ciphertext. */
const SEALED = '~';

function seal(key: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function unseal(key: Buffer | undefined, line: string): string {
  if (!key) throw new Error('The sandbox journal is encrypted: start it with the key it was written with (the embedding gateway keeps it in its vault).');
  const raw = Buffer.from(line.slice(1), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

export class Journal {
  private fd: number;
  private readonly path: string;

  private constructor(path: string, private readonly fsync: boolean, private readonly key?: Buffer) {
    this.path = path;
    this.fd = openSync(path, 'a', 0o600);
  }

  private line(entry: JournalEntry): string {
    const json = JSON.stringify(entry);
    return (this.key ? seal(this.key, json) : json) + '\n';
  }

  /** Opens (creating) the journal in `dir`, first replaying what it holds. `key`: 32 bytes to seal each line with. */
  static open(dir: string, replay: (entry: JournalEntry) => void, options: { fsync?: boolean; key?: Buffer } = {}): Journal {
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
        if (line) replay(JSON.parse(line.startsWith(SEALED) ? unseal(options.key, line) : line) as JournalEntry);
      }
    }
    return new Journal(path, options.fsync ?? false, options.key);
  }

  append(entry: JournalEntry): void {
    writeSync(this.fd, this.line(entry));
    if (this.fsync) fdatasyncSync(this.fd);
  }

  /** Replaces the journal with `entries` (a compacted snapshot), atomically. */
  rewrite(entries: Iterable<JournalEntry>): void {
    const tmp = this.path + '.tmp';
    const fd = openSync(tmp, 'w', 0o600);
    let buffer = '';
    for (const entry of entries) {
      buffer += this.line(entry);
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
