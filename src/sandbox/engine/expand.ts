/**
 * `expand[]`: replaces ids with the objects they name, along dotted paths
 * (`latest_charge.balance_transaction`, `data.customer` on lists). Stored
 * objects are never changed: each expanded level is a shallow copy.
 */
import { invalidRequest } from '../../stripe/errors.js';
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
    if (segments.length === 0 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.walk(ctx, v, segments, path));
    const obj = value as StripeObject;
    const [field, ...rest] = segments;
    if (obj.object === 'list' && field === 'data') {
      return { ...obj, data: obj.data.map((item: unknown) => this.walk(ctx, item, rest, path)) };
    }
    const virtual = obj.object ? this.virtual[obj.object]?.[field] : undefined;
    let child: unknown = obj[field];
    if (virtual && child === undefined) child = virtual(ctx, obj);
    else if (typeof child === 'string') child = this.lookup(ctx, child) ?? child;
    else if (Array.isArray(child)) child = child.map((v) => (typeof v === 'string' ? this.lookup(ctx, v) ?? v : v));
    // A field is expandable when it names an object by id (or could: null ids, nested objects already expanded).
    const expandable = virtual || ID_FIELDS.has(field) || (child !== null && typeof child === 'object');
    if (!expandable || child === undefined) throw notExpandable(path);
    return { ...obj, [field]: this.walk(ctx, child, rest, path) };
  }
}

/** Fields that hold the id of another object, and so can be expanded even while null. */
const ID_FIELDS = new Set([
  'customer', 'payment_method', 'default_payment_method', 'latest_charge', 'charge', 'payment_intent', 'setup_intent',
  'balance_transaction', 'failure_balance_transaction', 'product', 'price', 'default_price', 'invoice', 'latest_invoice',
  'subscription', 'default_source', 'source', 'application', 'on_behalf_of', 'review', 'dispute', 'refund', 'promotion_code',
  'coupon', 'test_clock', 'payment_link', 'account', 'destination', 'transfer', 'application_fee', 'mandate', 'latest_attempt',
  'single_use_mandate', 'plan', 'schedule', 'pending_setup_intent', 'last_setup_error', 'billing_portal_session',
]);

const notExpandable = (path: string) =>
  invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
