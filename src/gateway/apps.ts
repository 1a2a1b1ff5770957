/**
 * Apps and their API keys. An app owns connections; it has a `pb_test_…`
 * and a `pb_live_…` key, stored as SHA-256 hashes, shown once, rotatable
 * and revocable. A key's mode decides which connections it can see.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { authenticationError, invalidRequest } from '../stripe/errors.js';
import type { Db } from '../store/db.js';
import { apiKeys, apps } from '../store/schema.js';
import type { Mode } from './config.js';
import { hintOf, newGatewayId, randomToken, sha256 } from './ids.js';

export interface AppKey {
  appId: string;
  mode: Mode;
  keyId: string;
}

/** Key → app, remembered briefly so revocation reaches every instance within seconds. */
const CACHE_MS = 5000;

export class Apps {
  private cache = new Map<string, { key: AppKey | null; at: number }>();

  constructor(private readonly db: Db) {}

  async create(name: string): Promise<{ app: { id: string; name: string }; keys: Record<Mode, string> }> {
    const id = newGatewayId('app', 16);
    await this.db.insert(apps).values({ id, name });
    const test = await this.issueKey(id, 'test');
    const live = await this.issueKey(id, 'live');
    return { app: { id, name }, keys: { test: test.secret, live: live.secret } };
  }

  async issueKey(appId: string, mode: Mode): Promise<{ id: string; secret: string; hint: string }> {
    const secret = `pb_${mode}_${randomToken(32)}`;
    const id = newGatewayId('key', 16);
    await this.db.insert(apiKeys).values({ id, appId, mode, keyHash: sha256(secret), hint: hintOf(secret) });
    return { id, secret, hint: hintOf(secret) };
  }

  /** A new key for `mode`; the old one stops working at once. */
  async rotate(appId: string, mode: Mode): Promise<{ id: string; secret: string; hint: string }> {
    await this.db.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.appId, appId), eq(apiKeys.mode, mode), isNull(apiKeys.revokedAt)));
    this.cache.clear();
    return this.issueKey(appId, mode);
  }

  async revoke(appId: string, keyId: string): Promise<boolean> {
    const done = await this.db.update(apiKeys).set({ revokedAt: new Date() }).where(and(eq(apiKeys.appId, appId), eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).returning();
    this.cache.clear();
    return done.length > 0;
  }

  async listKeys(appId: string) {
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.appId, appId));
    return rows.map((k) => ({ id: k.id, object: 'api_key', mode: k.mode, hint: k.hint, created: Math.floor(k.createdAt.getTime() / 1000), revoked: k.revokedAt !== null }));
  }

  async get(appId: string) {
    const [app] = await this.db.select().from(apps).where(eq(apps.id, appId));
    return app;
  }

  /** The app and mode of a `pb_test_` / `pb_live_` key, or Stripe's 401. */
  async authenticate(secret: string): Promise<AppKey> {
    const cached = this.cache.get(secret);
    let key = cached && Date.now() - cached.at < CACHE_MS ? cached.key : undefined;
    if (key === undefined) {
      const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, sha256(secret)));
      key = row && !row.revokedAt ? { appId: row.appId, mode: row.mode as Mode, keyId: row.id } : null;
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(secret, { key, at: Date.now() });
    }
    if (!key) throw authenticationError(`Invalid API Key provided: ${hintOf(secret)}`, 'api_key_invalid');
    return key;
  }
}

const NO_KEY = "You did not provide an API key. Provide your PayBridge app key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer pb_test_...').";

/** The bearer (or Basic user name) of an Authorization header. */
export function bearer(authorization: string | undefined): string {
  if (!authorization?.trim()) throw authenticationError(NO_KEY);
  const [scheme, ...rest] = authorization.trim().split(/\s+/);
  const value = rest.join(' ');
  if (/^basic$/i.test(scheme)) return Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  if (/^bearer$/i.test(scheme) && value) return value;
  throw authenticationError(NO_KEY);
}

export function modeOfKey(secret: string): Mode {
  const m = /^(?:pb|pbk|sk|rk|pk)_(test|live)_/.exec(secret);
  if (!m) throw invalidRequest(`Unrecognised key format: ${hintOf(secret)}`, { code: 'api_key_invalid' });
  return m[1] as Mode;
}
