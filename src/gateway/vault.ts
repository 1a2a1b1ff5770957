/**
 * The vault: every secret PayBridge keeps (Stripe keys, OAuth tokens,
 * webhook secrets) is sealed with AES-256-GCM under a master key and stored
 * as `base64(iv | tag | ciphertext)` with the id of the key that sealed it,
 * and with the row's id and purpose as associated data: a ciphertext copied
 * into another row (another app's connection, say) does not open there.
 * The master key comes from `PAYBRIDGE_MASTER_KEY` (32 bytes, base64 or hex)
 * or, for the embedded default, a key file generated in the data folder.
 * A check value sealed under the key at first start detects a wrong key.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../store/db.js';
import { secrets, settings } from '../store/schema.js';
import { newGatewayId } from './ids.js';

export class MasterKey {
  readonly id: string;
  constructor(readonly bytes: Buffer) {
    if (bytes.length !== 32) throw new Error('The master key must be 32 bytes (base64 or hex in PAYBRIDGE_MASTER_KEY).');
    // The id names the key without revealing it: a truncated hash.
    this.id = 'mk_' + createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  }

  static parse(text: string): MasterKey {
    const t = text.trim();
    const bytes = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
    return new MasterKey(bytes);
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(32));
  }

  toString(): string {
    return this.bytes.toString('base64');
  }
}

export interface MasterKeys {
  current: MasterKey;
  /** Older keys that still open rows not yet re-sealed. */
  previous: MasterKey[];
  source: string;
  /** Reads the keys again (the key file changes when another process rotates). */
  reload?: () => MasterKeys;
}

export const keyFile = (dataDir: string) => join(dataDir, 'master.key');

/**
 * The master keys: `PAYBRIDGE_MASTER_KEY` (and `PAYBRIDGE_MASTER_KEY_PREVIOUS`,
 * comma-separated, during a rotation), else the data folder's key file: one
 * key per line, current first, created on first start with mode 0600.
 */
export function loadMasterKeys(env: { current?: string; previous?: string }, dataDir: string | undefined): MasterKeys {
  if (env.current) {
    const previous = (env.previous ?? '').split(',').filter((k) => k.trim()).map(MasterKey.parse);
    return { current: MasterKey.parse(env.current), previous, source: 'PAYBRIDGE_MASTER_KEY' };
  }
  if (!dataDir) return { current: MasterKey.generate(), previous: [], source: 'generated for this process (in memory)' };
  const file = keyFile(dataDir);
  if (!existsSync(file)) writeFileSync(file, MasterKey.generate().toString() + '\n', { mode: 0o600 });
  const [current, ...previous] = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map(MasterKey.parse);
  return { current, previous, source: file, reload: () => loadMasterKeys(env, dataDir) };
}

/** Puts a new current key at the top of the key file, keeping the old ones for rows not yet re-sealed. */
export function writeKeyFile(dataDir: string, keys: MasterKey[]): void {
  const file = keyFile(dataDir);
  writeFileSync(file + '.tmp', keys.map((k) => k.toString()).join('\n') + '\n', { mode: 0o600 });
  renameSync(file + '.tmp', file);
}

const CHECK = 'vault_check';

/** The associated data a row's ciphertext is sealed with: its id and purpose, so it opens in that row only. */
const boundTo = (id: string, purpose: string) => Buffer.from(`paybridge-vault:v1:${id}:${purpose}`);

const OPENED_TTL_MS = 5 * 60_000;

export class Vault {
  private keys = new Map<string, MasterKey>();
  private opened = new Map<string, { plain: string; at: number }>();
  private current: MasterKey;
  private keyFileMtime?: number;

  constructor(private readonly db: Db, private masterKeys: MasterKeys) {
    this.current = masterKeys.current;
    this.learn(masterKeys);
    if (masterKeys.reload) this.keyFileMtime = statSync(masterKeys.source, { throwIfNoEntry: false })?.mtimeMs;
  }

  get keyId(): string {
    return this.current.id;
  }

  private learn(k: MasterKeys): void {
    for (const key of [k.current, ...k.previous]) this.keys.set(key.id, key);
  }

  private keyFor(keyId: string): MasterKey {
    let key = this.keys.get(keyId);
    if (!key && this.masterKeys.reload) {
      // Another process rotated the key file: learn its keys and seal new secrets with its current one.
      this.masterKeys = this.masterKeys.reload();
      this.learn(this.masterKeys);
      this.current = this.masterKeys.current;
      key = this.keys.get(keyId);
    }
    if (!key) throw new Error(`secret sealed under unknown master key ${keyId}`);
    return key;
  }

  /** Fails with a clear message when the database was sealed under another key. */
  async verify(): Promise<void> {
    const [row] = await this.db.select().from(settings).where(eq(settings.key, CHECK));
    if (!row) {
      const id = await this.seal('paybridge');
      await this.db.insert(settings).values({ key: CHECK, value: { secret: id } }).onConflictDoNothing();
      return;
    }
    try {
      await this.open((row.value as { secret: string }).secret);
    } catch {
      throw new Error('The master key does not open this database\'s secrets. Set PAYBRIDGE_MASTER_KEY to the key it was created with (or restore <data-dir>/master.key).');
    }
    await this.bindLegacyRows();
  }

  /** Seals with the newest key once another process has rotated the key file. */
  private followRotation(): void {
    if (!this.masterKeys.reload || !this.masterKeys.source) return;
    const mtime = statSync(this.masterKeys.source, { throwIfNoEntry: false })?.mtimeMs;
    if (mtime === undefined || mtime === this.keyFileMtime) return;
    this.keyFileMtime = mtime;
    this.masterKeys = this.masterKeys.reload();
    this.learn(this.masterKeys);
    this.current = this.masterKeys.current;
  }

  encrypt(plain: string, key = this.current, aad?: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
    if (aad) cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  decrypt(sealed: string, keyId: string, aad?: Buffer): string {
    const key = this.keyFor(keyId);
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, raw.subarray(0, 12));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Stores a secret for `purpose` (what it is: `stripe_key`, `webhook_secret`, …); returns its vault id. */
  async seal(plain: string, purpose = 'secret', db: Pick<Db, 'insert'> = this.db): Promise<string> {
    this.followRotation();
    const id = newGatewayId('sec');
    await db.insert(secrets).values({ id, keyId: this.current.id, ciphertext: this.encrypt(plain, this.current, boundTo(id, purpose)), bound: true, purpose });
    return id;
  }

  /** A row's plaintext, whichever way it was sealed. */
  private openRow(row: typeof secrets.$inferSelect): string {
    return this.decrypt(row.ciphertext, row.keyId, row.bound ? boundTo(row.id, row.purpose) : undefined);
  }

  /** Re-seals, bound to their rows, the secrets sealed before ciphertexts were bound (at start; any instance may run it). */
  async bindLegacyRows(): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.db.select().from(secrets).where(eq(secrets.bound, false)).limit(200);
      if (batch.length === 0) return count;
      for (const row of batch) {
        const ciphertext = this.encrypt(this.openRow(row), this.keyFor(row.keyId), boundTo(row.id, row.purpose));
        await this.db.update(secrets).set({ ciphertext, bound: true }).where(and(eq(secrets.id, row.id), eq(secrets.bound, false)));
        count++;
      }
    }
  }

  /** Ids of the master keys some secret is still sealed under. */
  async keysInUse(): Promise<string[]> {
    return (await this.db.selectDistinct({ keyId: secrets.keyId }).from(secrets)).map((r) => r.keyId);
  }

  /**
   * The plaintext of a sealed secret. A secret's plaintext never changes under its id (rotation re-seals the
   * same value), so what was opened is remembered for a few minutes: every webhook Stripe sends is checked
   * with one, and a database read per webhook cost more than the rest of receiving it.
   */
  async open(id: string, db: Pick<Db, 'select'> = this.db): Promise<string> {
    const hit = this.opened.get(id);
    if (hit && Date.now() - hit.at < OPENED_TTL_MS) return hit.plain;
    const [row] = await db.select().from(secrets).where(eq(secrets.id, id));
    if (!row) throw new Error(`no such secret ${id}`);
    const plain = this.openRow(row);
    if (this.opened.size > 10_000) this.opened.clear();
    this.opened.set(id, { plain, at: Date.now() });
    return plain;
  }

  /**
   * Re-seals every secret under `next`, batch by batch, each row in its own
   * short update: the gateway keeps running, and any instance that holds
   * both keys can read every row at every moment.
   */
  async rotate(next: MasterKey): Promise<number> {
    this.keys.set(next.id, next);
    let count = 0;
    for (;;) {
      const batch = await this.db.select().from(secrets).where(sql`${secrets.keyId} <> ${next.id}`).limit(200);
      if (batch.length === 0) break;
      for (const row of batch) {
        await this.db.update(secrets).set({ keyId: next.id, ciphertext: this.encrypt(this.openRow(row), next, boundTo(row.id, row.purpose)), bound: true }).where(eq(secrets.id, row.id));
        count++;
      }
    }
    this.current = next;
    return count;
  }
}
