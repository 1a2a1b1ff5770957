/**
 * The one request pipeline every Stripe route goes through:
 * authenticate → validate parameters → replay or reserve the idempotency
 * key → run the operation on a private transaction → expand → commit →
 * answer. Errors leave this function as Stripe-shaped JSON.
 */
import * as crypto from 'node:crypto';
import { maskKey, PUBLISHABLE_NOT_ALLOWED, readApiKey } from './auth.js';
import { checkPermission } from './restricted_keys.js';
import { resolveKey } from './connect/credentials.js';
import { accountInvalid, actingAccount } from './connect/accounts.js';
import { authenticationError, idempotencyError, invalidRequest, StripeError } from '../stripe/errors.js';
import { Ctx, type SandboxEnv } from './engine/context.js';
import type { Expander } from './engine/expand.js';
import { newId } from '../stripe/ids.js';
import type { Operation } from './engine/resource.js';
import type { ParamSchema } from '../stripe/schema.js';
import { validateParams } from './params/validate.js';
import { refuseUnsupported } from './unsupported.js';
import { requestForVersion } from './versions/requests.js';
import type { Pace } from './pace.js';
import type { Store } from './store/store.js';
import { parseApiVersion } from '../stripe/versions.js';
import { accountApiVersion, ctxSource } from './versions/account.js';
import { renderForVersion } from './versions/index.js';

/** Node's one-shot hash where it has one (20.12+): about a third of the cost of a Hash object per request. */
const sha1 = (text: string): string => (crypto.hash ? crypto.hash('sha1', text, 'base64') : crypto.createHash('sha1').update(text).digest('base64'));

export const DEFAULT_ACCOUNT = 'acct_1PayBridgeSandbox0';

export interface PipelineRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  params: Record<string, string>;
  input: Record<string, unknown>;
}

export interface PipelineAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface PipelineDeps {
  store: Store;
  env: SandboxEnv;
  expander: Expander;
  /**
   * Test instrumentation: the top-level parameters an operation's handler read (absent ones included, as
   * `p.x ?? default` reads them), and whether it enumerated them all (a generic update applies every one given).
   */
  onParamsRead?: (route: string, read: Set<string>, enumerated: boolean) => void;
  /** Called after a request committed, with the webhook deliveries its events queued. */
  onCommit?: (account: string, deliveries: string[]) => void;
  /** Where later work that failed is reported (the server's logger). */
  log?: { warn(obj: object, msg: string): void };
  /** Stripe's pace (rate limit per account, injected errors), when set. */
  pace?: Pace;
}

const header = (h: PipelineRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Runs `fn` as one committed transaction on `account`, outside the API
 * pipeline (hosted pages, test clocks' background work, admin routes). A
 * Stripe error that asks to commit (a recorded decline) still commits.
 */
export function transact<T>(deps: PipelineDeps, account: string, fn: (ctx: Ctx) => T): T {
  const apiVersion = accountApiVersion(deps.store, account, deps.env.apiVersion);
  const ctx = new Ctx(deps.store, account, deps.env, { id: newId('req', 14), apiVersion, eventVersion: apiVersion });
  const commit = () => {
    deps.store.commit(account, ctx.changes());
    if (ctx.deliveries.length) deps.onCommit?.(account, ctx.deliveries);
    runLater(deps, account, ctx.later);
  };
  try {
    const result = fn(ctx);
    commit();
    return result;
  } catch (e) {
    if (e instanceof StripeError && e.fields.commit) commit();
    throw e;
  }
}

/** How long after answering Stripe's asynchronous outcomes (a refund failing, a pending refund settling) happen here. */
export const LATER_MS = 50;

/**
 * Runs each piece of a committed request's later work in a transaction of its own, after the answer has gone: what
 * the answer showed is what the caller saw first, and a later read sees what happened since. A failure of the work
 * is logged and loses nothing else.
 */
/** Later work may say how much later (a payout reaching the bank), else it runs moments after the answer. */
type LaterWork = ((ctx: Ctx) => void) & { delayMs?: number };

function runLater(deps: PipelineDeps, account: string, work: ((ctx: Ctx) => void)[]): void {
  for (const fn of work) {
    setTimeout(() => {
      try {
        transact(deps, account, fn);
      } catch (e) {
        deps.log?.warn({ err: e }, 'sandbox: later work failed');
      }
    }, (fn as LaterWork).delayMs ?? LATER_MS).unref();
  }
}

/**
 * Stripe.js sends its publishable key as the `key` form field (or query parameter) instead of a header. It is the
 * request's key when no Authorization header came, and never a parameter of the operation; a secret key is refused
 * there, since a key in a form is a key in a browser.
 */
function keyFromForm(authorization: string | undefined, input: Record<string, unknown>): { authorization: string | undefined; input: Record<string, unknown> } {
  if (!('key' in input)) return { authorization, input };
  const { key, ...rest } = input;
  if (authorization) return { authorization, input: rest };
  if (typeof key !== 'string' || !key.startsWith('pk_')) {
    throw authenticationError('The key parameter takes a publishable key (pk_test_…), as Stripe.js sends it; send secret keys in the Authorization header.', 'api_key_invalid');
  }
  return { authorization: `Bearer ${key}`, input: rest };
}

/**
 * The account a request names: `Stripe-Context` (a path of account ids from the key's account, `acct_1/acct_2`),
 * which supersedes `Stripe-Account`, else `Stripe-Account`. The sandbox's accounts are one level deep: the platform
 * and its connected accounts, so a longer path names an account the key cannot reach.
 */
function targetAccount(headers: PipelineRequest['headers'], keyAccount: string, key: string): string | undefined {
  const context = header(headers, 'stripe-context');
  if (context === undefined || context === '') return header(headers, 'stripe-account');
  const segments = context.split('/');
  if (segments.some((s) => !/^acct_\w+$/.test(s))) throw invalidRequest(`Invalid Stripe-Context header: '${context.slice(0, 100)}'. Give account ids separated by /, e.g. acct_123.`, { code: 'stripe_context_invalid' });
  const path = segments[0] === keyAccount ? segments.slice(1) : segments;
  if (path.length > 1) throw accountInvalid(key, path[path.length - 1]);
  return path[0];
}

/** The parameters, telling `report` (once the handler is done) each name it read and whether it walked them all. */
function tracedParams(params: Record<string, unknown>, route: string, report: NonNullable<PipelineDeps['onParamsRead']>): Record<string, unknown> {
  const read = new Set<string>();
  let enumerated = false;
  queueMicrotask(() => report(route, read, enumerated));
  return new Proxy(params, {
    get: (target, key, receiver) => {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver);
    },
    ownKeys: (target) => {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** Parameter errors raised before the operation starts are not saved under an idempotency key (Stripe does the same). */
export function runOperation(deps: PipelineDeps, op: Operation, schema: ParamSchema, req: PipelineRequest): PipelineAnswer {
  const requestId = newId('req', 14);
  const asked = header(req.headers, 'stripe-version');
  const headers: Record<string, string> = { 'request-id': requestId, 'stripe-version': deps.env.apiVersion };
  const idempotencyKey = req.method === 'POST' ? header(req.headers, 'idempotency-key') : undefined;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  try {
    const named = asked === undefined || asked === '' ? undefined : parseApiVersion(asked);
    if (asked && !named) throw invalidRequest(`Invalid Stripe API version: ${asked.slice(0, 100)}`, { code: 'api_version_invalid' });
    const { authorization, input } = keyFromForm(header(req.headers, 'authorization'), req.input);
    const key = readApiKey(authorization);
    if (key.kind === 'publishable' && !op.publishable) throw authenticationError(PUBLISHABLE_NOT_ALLOWED);
    const grant = resolveKey(deps.store, key.key, deps.env.platform);
    if (!grant) throw authenticationError(`Invalid API Key provided: ${maskKey(key.key)}`, 'api_key_invalid');
    if (grant.permissions) checkPermission(key.key, grant.account, grant.permissions, op);
    const account = actingAccount(deps.store, deps.env.platform, grant.account, targetAccount(req.headers, grant.account, key.key), key.key);
    const refused = deps.pace?.admit(account);
    if (refused) throw refused;
    // Without a header, the key's account's default (a platform acting on a connected account uses its own, as Stripe does).
    const eventVersion = accountApiVersion(deps.store, account, deps.env.apiVersion);
    const apiVersion = named ?? (account === grant.account ? eventVersion : accountApiVersion(deps.store, grant.account, deps.env.apiVersion));
    headers['stripe-version'] = apiVersion;
    const route = `${op.method} ${op.path}`;
    const params = requestForVersion(route, validateParams(schema, input), apiVersion);
    refuseUnsupported(route, params);
    let fingerprint = '';
    if (idempotencyKey) {
      if (idempotencyKey.length > 255) throw idempotencyError('Idempotency keys can be at most 255 characters long.');
      fingerprint = sha1(`${req.method} ${op.path} ${JSON.stringify(req.params)} ${JSON.stringify(input)}`);
      const saved = deps.store.answer(account, idempotencyKey);
      if (saved) {
        if (saved.fingerprint !== fingerprint) {
          throw idempotencyError(
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          );
        }
        return { status: saved.status, body: saved.body, headers: { ...headers, 'idempotent-replayed': 'true', 'original-request': saved.requestId ?? requestId } };
      }
    }
    const ctx = new Ctx(deps.store, account, deps.env, { id: requestId, idempotencyKey, apiVersion, eventVersion, publishable: key.kind === 'publishable', keyHint: maskKey(key.key) });
    let status = 200;
    let body: string;
    let commit = true;
    try {
      const expand = Array.isArray(params.expand) ? (params.expand as string[]).filter((e) => e !== 'total_count') : undefined;
      const given = deps.onParamsRead ? tracedParams(params, route, deps.onParamsRead) : params;
      body = JSON.stringify(renderForVersion(deps.expander.expand(ctx, op.handle(ctx, given, req.params), expand), apiVersion, ctxSource(ctx)));
    } catch (e) {
      if (!(e instanceof StripeError) || e.status >= 500) throw e;
      status = e.status;
      body = JSON.stringify(e.toJSON());
      commit = e.fields.commit === true;
      Object.assign(headers, e.fields.headers);
    }
    const answer = idempotencyKey ? { key: idempotencyKey, fingerprint, status, body, created: Date.now(), requestId } : undefined;
    deps.store.commit(account, commit ? ctx.changes() : [], answer);
    if (commit && ctx.deliveries.length) deps.onCommit?.(account, ctx.deliveries);
    if (commit) runLater(deps, account, ctx.later);
    return { status, body, headers };
  } catch (e) {
    if (e instanceof StripeError) {
      return { status: e.status, body: JSON.stringify(e.toJSON()), headers: { ...headers, ...e.fields.headers } };
    }
    throw Object.assign(e as Error, { requestId });
  }
}
