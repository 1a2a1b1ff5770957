/**
 * Apps and their API keys. An app owns connections; it has a `pb_test_…`
 * and a `pb_live_…` key, stored as SHA-256 hashes, shown once, rotatable
 * and revocable. A key's mode decides which connections it can see.
 */
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
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

  /**
   * A new key for `mode`. The keys in use stop working after `expiresInSeconds` (0: now, within the few seconds
   * instances cache keys), or sooner if they were already due to: the window Stripe offers when rolling a key,
   * so deployments can move to the new key before the old one stops.
   */
  async rotate(appId: string, mode: Mode, expiresInSeconds = 0): Promise<{ id: string; secret: string; hint: string; previous?: { id: string; expires_at: number } }> {
    const ends = new Date(Date.now() + expiresInSeconds * 1000);
    const ended = await this.db.update(apiKeys).set({ revokedAt: sql`LEAST(COALESCE(${apiKeys.revokedAt}, 'infinity'::timestamptz), ${ends.toISOString()}::timestamptz)` })
      .where(and(eq(apiKeys.appId, appId), eq(apiKeys.mode, mode), or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, new Date())))).returning({ id: apiKeys.id, revokedAt: apiKeys.revokedAt });
    this.cache.clear();
    const issued = await this.issueKey(appId, mode);
    const previous = ended.sort((a, b) => (b.revokedAt?.getTime() ?? 0) - (a.revokedAt?.getTime() ?? 0))[0];
    return { ...issued, ...(previous ? { previous: { id: previous.id, expires_at: Math.floor(previous.revokedAt!.getTime() / 1000) } } : {}) };
  }

  async revoke(appId: string, keyId: string): Promise<boolean> {
    const done = await this.db.update(apiKeys).set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.appId, appId), eq(apiKeys.id, keyId), or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, new Date())))).returning();
    this.cache.clear();
    return done.length > 0;
  }

  async listKeys(appId: string) {
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.appId, appId));
    const now = Date.now();
    return rows.map((k) => ({
      id: k.id, object: 'api_key', mode: k.mode, hint: k.hint, created: Math.floor(k.createdAt.getTime() / 1000),
      revoked: k.revokedAt !== null && k.revokedAt.getTime() <= now,
      // A rolled key still in its window: when it stops.
      expires_at: k.revokedAt && k.revokedAt.getTime() > now ? Math.floor(k.revokedAt.getTime() / 1000) : null,
    }));
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
      key = row && (!row.revokedAt || row.revokedAt.getTime() > Date.now()) ? { appId: row.appId, mode: row.mode as Mode, keyId: row.id } : null;
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
