/**
 * `expand[]`: replaces ids with the objects they name, along dotted paths
 * (`latest_charge.balance_transaction`, `data.customer` on lists). Stored
 * objects are never changed: each expanded level is a shallow copy.
 */
import { invalidRequest } from '../errors.js';
import type { StripeObject } from '../store/collection.js';
import type { Ctx } from './context.js';

/** Fields that exist only when expanded, computed per object type. */
export type VirtualExpansions = Record<string, Record<string, (ctx: Ctx, obj: StripeObject) => unknown>>;

export class Expander {
  constructor(
    private readonly collectionOfPrefix: Record<string, string>,
    private readonly virtual: VirtualExpansions,
  ) {}

  /** Resolves an id of any known kind to its object. */
  lookup(ctx: Ctx, id: string): StripeObject | undefined {
    const underscore = id.indexOf('_');
    const collection = this.collectionOfPrefix[id.slice(0, underscore)];
    return collection ? ctx.get(collection, id) : undefined;
  }

  expand(ctx: Ctx, value: unknown, paths: string[] | undefined): unknown {
    if (!paths?.length) return value;
    if (paths.length > 20) throw invalidRequest('You cannot expand more than 20 properties at once.', { param: 'expand' });
    let out = value;
    for (const path of paths) {
      const segments = path.split('.');
      if (segments.length > 4) {
        throw invalidRequest(`You cannot expand more than 4 levels of a property. Property: ${path}`, { param: 'expand' });
      }
      out = this.walk(ctx, out, segments, path);
    }
    return out;
  }

  private walk(ctx: Ctx, value: unknown, segments: string[], path: string): unknown {
    if (segments.length === 0 || value === null || value === undefined) return value;
    if (Array.isArray(value)) return value.map((v) => this.walk(ctx, v, segments, path));
    if (typeof value !== 'object') return value;
    const obj = value as StripeObject;
    const [field, ...rest] = segments;
    let child: unknown;
    if (obj.object === 'list' && field === 'data') {
      return { ...obj, data: obj.data.map((item: unknown) => this.walk(ctx, item, rest, path)) };
    }
    const virtual = obj.object ? this.virtual[obj.object]?.[field] : undefined;
    if (virtual && (obj[field] === undefined || rest.length === 0)) child = virtual(ctx, obj);
    else if (!(field in obj)) throw notExpandable(path);
    else child = obj[field];
    if (typeof child === 'string') {
      const target = this.lookup(ctx, child);
      if (!target) {
        if (rest.length === 0 && segments.length === path.split('.').length) throw notExpandable(path);
        return obj;
      }
      child = target;
    } else if (rest.length === 0 && !virtual && (child === null || typeof child !== 'object')) {
      if (child !== null) throw notExpandable(path);
    }
    return { ...obj, [field]: this.walk(ctx, child, rest, path) };
  }
}

const notExpandable = (path: string) =>
  invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
