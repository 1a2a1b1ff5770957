/**
 * How a Stripe resource is declared: its collection, id prefix, routes and
 * what lists and searches may filter on. `standardOperations` derives the
 * usual create / retrieve / update / delete / list / search routes from a
 * declaration, so most resources only write what is special about them.
 */
import type { ParamSchema } from '../../stripe/schema.js';
import type { StripeObject } from '../store/collection.js';
import type { Ctx } from './context.js';
import { invalidRequest } from '../../stripe/errors.js';
import { paginate, type Predicate } from './list.js';
import { search } from './search.js';

export type Params = Record<string, any>;
export type Method = 'GET' | 'POST' | 'DELETE';

export interface Operation {
  method: Method;
  /** Stripe's path template, as in the OpenAPI spec: `/v1/customers/{customer}`. */
  path: string;
  /** Restricted-key resource this route needs (`read` for GET, `write` otherwise). */
  permission: string;
  /** Publishable keys may call it (Stripe allows a few client-side routes). */
  publishable?: boolean;
  /** Replaces the spec's parameter schema (routes newer than the bundled spec). */
  params?: ParamSchema;
  /** Differences of the current API from the bundled 2023 spec: parameters it added, and ones no longer required. */
  specPatch?: { add?: Record<string, ParamSchema>; optional?: string[] };
  handle(ctx: Ctx, params: Params, path: Record<string, string>): unknown;
}

export interface Resource {
  collection: string;
  /** The `object` field of its objects. */
  object: string;
  prefix: string;
  /** Word used in `No such <noun>: 'id'`. */
  noun: string;
  path: string;
  permission: string;
  searchFields?: string[];
  /** List filters: parameter → predicate on objects. */
  listFilters?: Record<string, (value: any, ctx: Ctx) => Predicate>;
  /** Fields that appear only when expanded. */
  virtual?: Record<string, (ctx: Ctx, obj: StripeObject) => unknown>;
  operations: Operation[];
}

interface Standard {
  create?: (ctx: Ctx, params: Params) => StripeObject;
  update?: (ctx: Ctx, obj: StripeObject, params: Params) => StripeObject;
  del?: (ctx: Ctx, obj: StripeObject, params: Params) => StripeObject;
  retrieve?: boolean;
  list?: boolean;
  search?: boolean;
  /** Path parameter name in Stripe's spec (`customer` in /v1/customers/{customer}). */
  idParam: string;
}

type Declaration = Omit<Resource, 'operations'>;

/** Applies a spec patch to the operation at `method path` among `ops`. */
export function patchSpec(ops: Operation[], method: Method, path: string, specPatch: Operation['specPatch']): Operation[] {
  return ops.map((op) => (op.method === method && op.path === path ? { ...op, specPatch } : op));
}

export function standardOperations(r: Declaration, s: Standard): Operation[] {
  const one = `${r.path}/{${s.idParam}}`;
  const load = (ctx: Ctx, path: Record<string, string>) => ctx.require(r.collection, path[s.idParam], r.noun, 'id');
  const ops: Operation[] = [];
  const op = (method: Method, path: string, handle: Operation['handle']) => ops.push({ method, path, permission: r.permission, handle });
  if (s.create) {
    const create = s.create;
    op('POST', r.path, (ctx, params) => create(ctx, params));
  }
  if (s.retrieve !== false) op('GET', one, (ctx, _p, path) => load(ctx, path));
  if (s.update) {
    const update = s.update;
    op('POST', one, (ctx, params, path) => update(ctx, load(ctx, path), params));
  }
  if (s.del) {
    const del = s.del;
    op('DELETE', one, (ctx, params, path) => del(ctx, load(ctx, path), params));
  }
  if (s.list !== false) {
    op('GET', r.path, (ctx, params) => {
      const predicates = Object.entries(r.listFilters ?? {})
        .filter(([name]) => params[name] !== undefined)
        .map(([name, filter]) => filter(params[name], ctx));
      return paginate(ctx.collection(r.collection), params, r.path, r.noun, predicates);
    });
  }
  if (s.search) {
    const fields = r.searchFields ?? [];
    op('GET', `${r.path}/search`, (ctx, params) => search(ctx.collection(r.collection), params, `${r.path}/search`, fields));
  }
  return ops;
}

/**
 * Opens `op` to publishable keys that show the object's `client_secret`, as
 * Stripe does for Stripe.js (retrieve and confirm of PaymentIntents and
 * SetupIntents). Secret keys may send the client secret too; it is ignored.
 */
export function withClientSecret(op: Operation, collection: string, idParam: string): Operation {
  return {
    ...op,
    publishable: true,
    handle(ctx, params, path) {
      const { client_secret: secret, ...rest } = params;
      if (ctx.request.publishable) {
        if (!secret) throw invalidRequest('Missing required param: client_secret.', { param: 'client_secret', code: 'parameter_missing' });
        const obj = ctx.get(collection, path[idParam]);
        if (obj && obj.client_secret !== secret) {
          throw invalidRequest(`The client_secret provided does not match the client_secret associated with the ${obj.object === 'setup_intent' ? 'SetupIntent' : 'PaymentIntent'}.`, { param: 'client_secret' });
        }
      }
      return op.handle(ctx, rest, path);
    },
  };
}

/** Wraps the retrieve and confirm routes of an intent resource with `withClientSecret`. */
export function clientSecretRoutes(ops: Operation[], r: { path: string; collection: string }, idParam: string): Operation[] {
  const open = new Set([`GET ${r.path}/{${idParam}}`, `POST ${r.path}/{${idParam}}/confirm`]);
  return ops.map((op) => (open.has(`${op.method} ${op.path}`) ? withClientSecret(op, r.collection, idParam) : op));
}

/** A list filter matching a field to the given value exactly. */
export const equals = (field: string) => (value: unknown) => (o: StripeObject) => o[field] === value;

/**
 * Stripe's update semantics on a copy of `obj`: `metadata` merges and an
 * empty value removes a key (empty `metadata` clears it); an empty string
 * elsewhere sets the field to null. Returns the previous values of what
 * changed, for the event's `previous_attributes`.
 */
export function applyUpdate(obj: StripeObject, params: Params, skip: string[] = []): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (key === 'expand' || skip.includes(key)) continue;
    if (key === 'metadata') {
      const before = obj.metadata ?? {};
      const next = value === '' ? {} : mergeMetadata(before, value);
      if (JSON.stringify(next) !== JSON.stringify(before)) {
        const prev: Record<string, unknown> = {};
        for (const k of new Set([...Object.keys(before), ...Object.keys(next)])) {
          if (before[k] !== next[k]) prev[k] = before[k] ?? null;
        }
        previous.metadata = prev;
        obj.metadata = next;
      }
      continue;
    }
    const next = value === '' ? null : value;
    if (JSON.stringify(obj[key]) !== JSON.stringify(next)) {
      previous[key] = obj[key] ?? null;
      obj[key] = next;
    }
  }
  return previous;
}

function mergeMetadata(before: Record<string, string>, updates: Record<string, string> | undefined): Record<string, string> {
  const next = { ...before };
  for (const [k, v] of Object.entries(updates ?? {})) {
    if (v === '' || v === null) delete next[k];
    else next[k] = String(v);
  }
  return next;
}

/** Replaces `obj` by Stripe's deletion stub `{id, object, deleted: true}` and emits `eventType` with the last version. */
export function deleteObject(ctx: Ctx, collection: string, obj: StripeObject, eventType?: string): StripeObject {
  const stub = { id: obj.id, object: obj.object, deleted: true };
  ctx.put(collection, stub);
  if (eventType) ctx.emit(eventType, obj);
  return stub;
}

/** Writes an updated copy and emits `<object>.updated` if anything changed. */
export function saveUpdate(ctx: Ctx, collection: string, obj: StripeObject, previous: Record<string, unknown>, eventType: string): StripeObject {
  ctx.put(collection, obj);
  if (Object.keys(previous).length) ctx.emit(eventType, obj, previous);
  return obj;
}
