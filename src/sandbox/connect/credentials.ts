/**
 * Every credential the sandbox issues beyond plain `sk_test_` keys:
 * restricted keys, OAuth authorization codes, access and refresh tokens
 * (Connect OAuth and Stripe Apps OAuth), and connected accounts'
 * publishable keys. Only SHA-256 hashes are stored, in the platform's own
 * partition, so neither the journal nor any API answer holds a secret.
 */
import { createHash } from 'node:crypto';
import { maskKey } from '../auth.js';
import { authenticationError } from '../../stripe/errors.js';
import { randomText } from '../../stripe/ids.js';
import type { Store, StripeObject } from '../store/store.js';

export type Level = 'read' | 'write';
export type Permissions = Record<string, Level | 'none'>;

/** Credentials belong to the platform, not to an account's data. */
export const KEYS_ACCOUNT = '_platform';
const CREDENTIALS = 'credentials';
/** Authorization codes live five minutes and work once. */
const CODE_TTL = 5 * 60;
export const DEFAULT_ACCESS_TOKEN_TTL = 3600;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const PLAIN_KEYS = new Set<string>();

export interface Grant {
  account: string;
  /** Absent: full access. */
  permissions?: Permissions;
}

interface Credential extends StripeObject {
  kind: 'restricted_key' | 'access_token' | 'refresh_token' | 'code' | 'publishable_key';
  account: string;
  permissions?: Permissions;
  /** The OAuth application (`ca_…`) the credential was issued to. */
  client_id?: string;
  flow?: 'connect' | 'stripe_app';
  scope?: string;
  expires_at?: number | null;
  revoked?: boolean;
  used?: boolean;
}

/** Exact seconds, not whole ones: a token given one second must not expire at the next second's boundary, a moment after it was issued. */
const now = () => Date.now() / 1000;

function save(store: Store, secret: string, c: Omit<Credential, 'id'>): string {
  const id = hashKey(secret);
  store.commit(KEYS_ACCOUNT, [[CREDENTIALS, id, { id, ...c }]]);
  return secret;
}

function find(store: Store, secret: string): Credential | undefined {
  return store.get(KEYS_ACCOUNT, CREDENTIALS, hashKey(secret)) as Credential | undefined;
}

export function issueRestrictedKey(store: Store, account: string, permissions: Permissions): string {
  return save(store, `rk_test_${randomText(40)}`, { kind: 'restricted_key', account, permissions });
}

export function publishableKeyFor(store: Store, account: string): string {
  return save(store, `pk_test_${randomText(40)}`, { kind: 'publishable_key', account });
}

/**
 * The account and permissions a key grants. Plain `sk_test_`/`pk_test_`
 * keys reach the platform; issued credentials reach their account, until
 * revoked or expired (Stripe's 401 `api_key_expired`).
 */
export function resolveKey(store: Store, key: string, platform: string): Grant | undefined {
  if (PLAIN_KEYS.has(key)) return { account: platform };
  const found = find(store, key);
  if (!found) {
    if (key.startsWith('rk_')) return undefined;
    // Issued credentials are fresh random strings, so a key seen as plain stays plain: skip hashing it again.
    if (PLAIN_KEYS.size >= 10_000) PLAIN_KEYS.clear();
    PLAIN_KEYS.add(key);
    return { account: platform };
  }
  if (found.kind === 'restricted_key' || found.kind === 'publishable_key') return { account: found.account, permissions: found.permissions };
  if (found.kind !== 'access_token') return undefined;
  if (found.revoked) throw authenticationError(`Expired API Key provided: ${maskKey(key)}. Application access may have been revoked.`, 'api_key_expired');
  if (found.expires_at && found.expires_at <= now()) throw authenticationError(`Expired API Key provided: ${maskKey(key)}`, 'api_key_expired');
  return { account: found.account, permissions: found.scope === 'read_only' ? READ_ONLY : found.permissions };
}

export interface CodeGrant {
  account: string;
  client_id: string;
  flow: 'connect' | 'stripe_app';
  scope: string;
  permissions?: Permissions;
}

export function issueCode(store: Store, g: CodeGrant): string {
  return save(store, `ac_${randomText(32)}`, { kind: 'code', ...g, expires_at: now() + CODE_TTL });
}

export interface TokenSet {
  access_token: string;
  refresh_token: string;
  account: string;
  scope: string;
}

/** OAuth's own error shape: `{error, error_description}` with a 400/401. */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string, readonly status = 400) {
    super(description);
  }
}

function issueTokens(store: Store, g: CodeGrant, ttl: number | null): TokenSet {
  const common = { account: g.account, client_id: g.client_id, flow: g.flow, scope: g.scope, permissions: g.permissions };
  const access = save(store, `sk_test_${randomText(40)}`, { kind: 'access_token', ...common, expires_at: ttl ? now() + ttl : null });
  const refresh = save(store, `rt_${randomText(40)}`, { kind: 'refresh_token', ...common });
  return { access_token: access, refresh_token: refresh, account: g.account, scope: g.scope };
}

/** Exchanges a code once; a second use fails as Stripe's does. */
export function redeemCode(store: Store, code: string, flow: 'connect' | 'stripe_app', ttl: number | null): TokenSet {
  const found = find(store, code);
  if (!found || found.kind !== 'code' || found.flow !== flow) throw new OAuthError('invalid_grant', `Authorization code does not exist: ${code}`);
  if (found.used) throw new OAuthError('invalid_grant', `Authorization code already used: ${code}`);
  if (found.expires_at! <= now()) throw new OAuthError('invalid_grant', `Authorization code expired: ${code}`);
  store.commit(KEYS_ACCOUNT, [[CREDENTIALS, found.id, { ...found, used: true }]]);
  return issueTokens(store, found as CodeGrant & Credential, ttl);
}

/**
 * A new access token for a refresh token. Stripe Apps rotate the refresh
 * token too (the old one stops working); Connect keeps it.
 */
export function refreshTokens(store: Store, refreshToken: string, flow: 'connect' | 'stripe_app', ttl: number | null, scope?: string): TokenSet {
  const found = find(store, refreshToken);
  if (!found || found.kind !== 'refresh_token' || found.flow !== flow || found.revoked) {
    throw new OAuthError('invalid_grant', `Invalid refresh token: ${refreshToken}`);
  }
  const narrowed = scope ?? found.scope!;
  if (scope && found.scope === 'read_only' && scope === 'read_write') throw new OAuthError('invalid_scope', 'Cannot upgrade a read_only token to read_write.');
  const grant = { account: found.account, client_id: found.client_id!, flow, scope: narrowed, permissions: found.permissions };
  if (flow === 'stripe_app') {
    store.commit(KEYS_ACCOUNT, [[CREDENTIALS, found.id, { ...found, revoked: true }]]);
    return issueTokens(store, grant, ttl);
  }
  const access = save(store, `sk_test_${randomText(40)}`, { kind: 'access_token', ...grant, expires_at: null });
  return { access_token: access, refresh_token: refreshToken, account: found.account, scope: narrowed };
}

/** Revokes every token `client_id` holds on `account`; false when it held none. */
export function revokeAccess(store: Store, account: string, clientId: string): boolean {
  const changes: [string, string, StripeObject][] = [];
  for (const c of store.collection(KEYS_ACCOUNT, CREDENTIALS).ascending()) {
    if (c.account === account && c.client_id === clientId && !c.revoked && (c.kind === 'access_token' || c.kind === 'refresh_token')) {
      changes.push([CREDENTIALS, c.id, { ...c, revoked: true }]);
    }
  }
  if (changes.length) store.commit(KEYS_ACCOUNT, changes);
  return changes.length > 0;
}

/** `read_only` Connect scope: reading every resource, writing none (computed, never stored). */
const READ_ONLY: Permissions = new Proxy({}, { get: () => 'read' }) as Permissions;
