/**
 * The dashboard's sign-in: one admin password (set on first start, printed
 * once, stored as a scrypt hash), sessions by cookie, and a CSRF token per
 * session that every state-changing request must echo in `X-CSRF-Token`.
 * A signed-in dashboard acts as any app, in the mode it names per request.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StripeError, invalidRequest } from '../stripe/errors.js';
import type { Db } from '../store/db.js';
import { adminSessions, apps, settings, signInAttempts } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Mode } from './config.js';
import { randomToken, sha256 } from './ids.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

const COOKIE = 'pb_admin';
const SESSION_MS = 12 * 3600 * 1000;
const SCRYPT = { N: 16384, r: 8, p: 1 };
/**
 * Wrong passwords are counted per address and for the admin account, in the database (so parallel attempts and
 * other instances count too). Past `free` attempts, each further attempt must wait a back-off that doubles, up to
 * `capSeconds` (from `firstSeconds`); the right password resets the count. The account's allowance is larger and its cap short: an
 * attacker spraying from many addresses slows the real admin down for a minute at most, never locks them out.
 */
const BACKOFF = { address: { free: 5, firstSeconds: 5, capSeconds: 900 }, account: { free: 20, firstSeconds: 1, capSeconds: 60 } };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected);
}

const unauthenticated = (message: string) => new StripeError(401, 'invalid_request_error', message, { code: 'not_signed_in' });

/** The cookie's value; a value that is not one we could have set (malformed, oversized) counts as no cookie. */
function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eqAt = part.indexOf('=');
    if (eqAt > 0 && part.slice(0, eqAt).trim() === name) {
      const value = part.slice(eqAt + 1).trim();
      return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Browsers keep `Secure` cookies over https and on loopback (a secure context); elsewhere plain http would lose them. */
function secureCookies(publicUrl: string): boolean {
  const u = new URL(publicUrl);
  return u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

export class AdminAuth {
  /** `trustHost`: no public URL is configured, so an Origin naming the Host the request was sent to is ours. */
  constructor(private readonly db: Db, private readonly publicUrl: () => string, private readonly trustHost = true) {}

  /** Sets the password on first start; answers it (to print once) when this call generated it. */
  async ensurePassword(configured?: string): Promise<{ generated?: string } | undefined> {
    const password = configured ?? randomToken(20);
    const claimed = await this.db.insert(settings).values({ key: 'admin_password', value: { hash: await hashPassword(password) } }).onConflictDoNothing().returning();
    if (claimed.length === 0) return undefined;
    return { generated: configured ? undefined : password };
  }

  /** A new password (the CLI's reset); every signed-in session ends. */
  async resetPassword(password = randomToken(20)): Promise<string> {
    const value = { hash: await hashPassword(password) };
    await this.db.insert(settings).values({ key: 'admin_password', value }).onConflictDoUpdate({ target: settings.key, set: { value } });
    await this.db.delete(adminSessions);
    return password;
  }

  private async storedHash(): Promise<string | undefined> {
    const [row] = await this.db.select().from(settings).where(eq(settings.key, 'admin_password'));
    return (row?.value as { hash?: string } | undefined)?.hash;
  }

  private checkOrigin(req: FastifyRequest): void {
    // A browser names the page's origin on cross-site posts; ours must be this gateway.
    const origin = req.headers.origin;
    if (!origin) return;
    const host = this.trustHost ? req.headers.host : undefined;
    const allowed = new Set([new URL(this.publicUrl()).origin, ...(host ? [`http://${host}`, `https://${host}`] : [])]);
    if (!allowed.has(origin)) throw new StripeError(403, 'invalid_request_error', 'This request came from another site and was refused.', { code: 'csrf_origin' });
  }

  /**
   * Claims one sign-in attempt for the address and the account, atomically: refused (with how long to wait) while
   * either is backing off; otherwise counted before the password is checked, so attempts sent in parallel count.
   */
  private async claimAttempt(ip: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      let wait = 0;
      const claims: { key: string; free: number; firstSeconds: number; capSeconds: number; failures: number }[] = [];
      for (const [key, rule] of [[`address:${ip}`, BACKOFF.address], ['account:admin', BACKOFF.account]] as const) {
        await tx.insert(signInAttempts).values({ key, failures: 0 }).onConflictDoNothing();
        const [row] = (await tx.execute(sql`SELECT failures, greatest(0, extract(epoch FROM next_allowed_at - now()))::float AS wait
          FROM sign_in_attempts WHERE key = ${key} FOR UPDATE`)).rows as { failures: number; wait: number }[];
        wait = Math.max(wait, Number(row.wait));
        claims.push({ key, ...rule, failures: Number(row.failures) + 1 });
      }
      if (wait > 0) return Math.ceil(wait);
      for (const c of claims) {
        const backoff = c.failures >= c.free ? Math.min(c.capSeconds, c.firstSeconds * 2 ** (c.failures - c.free)) : 0;
        await tx.update(signInAttempts).set({ failures: c.failures, nextAllowedAt: sql`now() + make_interval(secs => ${backoff})`, updatedAt: new Date() }).where(eq(signInAttempts.key, c.key));
      }
      return 0;
    });
  }

  async signIn(req: FastifyRequest, reply: FastifyReply, password: unknown) {
    this.checkOrigin(req);
    const now = Date.now();
    if (typeof password !== 'string' || !password) throw invalidRequest('Enter the admin password.', { param: 'password', code: 'parameter_missing' });
    const wait = await this.claimAttempt(req.ip);
    if (wait > 0) {
      throw new StripeError(429, 'invalid_request_error', `Too many wrong passwords. Try again in ${wait} seconds.`, { code: 'rate_limit', headers: { 'retry-after': String(wait) } });
    }
    const stored = await this.storedHash();
    if (!stored || !(await passwordMatches(password, stored))) {
      throw new StripeError(401, 'invalid_request_error', 'That password is not right.', { code: 'wrong_password', param: 'password' });
    }
    await this.db.delete(signInAttempts).where(inArray(signInAttempts.key, [`address:${req.ip}`, 'account:admin']));
    const sid = randomToken(40);
    const csrf = randomToken(32);
    await this.db.delete(adminSessions).where(lt(adminSessions.expiresAt, new Date()));
    await this.db.insert(adminSessions).values({ idHash: sha256(sid), csrfToken: csrf, expiresAt: new Date(now + SESSION_MS) });
    const attributes = [`Path=/`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${SESSION_MS / 1000}`, ...(secureCookies(this.publicUrl()) ? ['Secure'] : [])];
    reply.header('set-cookie', `${COOKIE}=${sid}; ${attributes.join('; ')}`);
    return { object: 'admin_session', signed_in: true, csrf_token: csrf };
  }

  async signOut(req: FastifyRequest, reply: FastifyReply) {
    const sid = cookieOf(req, COOKIE);
    if (sid) {
      await this.session(req, true);
      await this.db.delete(adminSessions).where(eq(adminSessions.idHash, sha256(sid)));
    }
    reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { object: 'admin_session', signed_in: false };
  }

  hasCookie(req: FastifyRequest): boolean {
    return cookieOf(req, COOKIE) !== undefined;
  }

  /** The signed-in session; state-changing requests must carry its CSRF token. */
  async session(req: FastifyRequest, unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(req.method)): Promise<{ csrfToken: string }> {
    const sid = cookieOf(req, COOKIE);
    if (!sid) throw unauthenticated('Sign in to the dashboard first.');
    const [row] = await this.db.select().from(adminSessions).where(and(eq(adminSessions.idHash, sha256(sid)), gt(adminSessions.expiresAt, new Date())));
    if (!row) throw unauthenticated('Your dashboard session has ended. Sign in again.');
    if (unsafe) {
      this.checkOrigin(req);
      const sent = String(req.headers['x-csrf-token'] ?? '');
      const ok = sent.length === row.csrfToken.length && timingSafeEqual(Buffer.from(sent), Buffer.from(row.csrfToken));
      if (!ok) throw new StripeError(403, 'invalid_request_error', 'This form has expired or did not come from the dashboard. Reload the page and try again.', { code: 'csrf_token_invalid' });
    }
    return { csrfToken: row.csrfToken };
  }

  /** The app and mode a signed-in dashboard request acts as (`PayBridge-App`, `PayBridge-Mode` headers). */
  async appKey(req: FastifyRequest): Promise<AppKey> {
    await this.session(req);
    const mode = String(req.headers['paybridge-mode'] ?? 'test');
    if (mode !== 'test' && mode !== 'live') throw invalidRequest('PayBridge-Mode must be test or live.', { param: 'mode' });
    const named = req.headers['paybridge-app'];
    const [app] = typeof named === 'string' && named
      ? await this.db.select().from(apps).where(eq(apps.id, named))
      : await this.db.select().from(apps).orderBy(asc(apps.createdAt)).limit(1);
    if (!app) throw invalidRequest(named ? `No such app: '${named}'` : 'There is no app yet: create one first.', { code: 'resource_missing', param: 'app' }, 404);
    return { appId: app.id, mode: mode as Mode, keyId: 'dashboard' };
  }
}
