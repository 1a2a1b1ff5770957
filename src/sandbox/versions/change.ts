/**
 * One published API change, as the sandbox undoes it: the version that
 * introduced it, the objects it touches, and `down`, which turns an object
 * of that version's shape into the shape it had before. Rendering for an
 * older version applies every newer change, newest first.
 */
import type { StripeObject } from '../store/store.js';

/** What a change may read besides the object: other objects of the same account. */
export interface RenderSource {
  get(collection: string, id: string): StripeObject | undefined;
  /** Every object of a collection, oldest first. */
  list(collection: string): Iterable<StripeObject>;
}

export interface VersionChange {
  /** The first version with the new shape. */
  version: string;
  /** What changed, in words, for the docs. */
  title: string;
  /** The `object` values it changes. */
  objects: string[];
  /** A copy of `obj` in the shape before `version` (never change `obj`: stored objects are shared). */
  down(obj: StripeObject, source: RenderSource): StripeObject;
}

/** A list as Stripe embeds one in an object (customer.sources before 2020-08-27, payment_intent.charges before 2022-11-15). */
export function embeddedList(data: StripeObject[], url: string): Record<string, unknown> {
  return { object: 'list', data, has_more: false, total_count: data.length, url };
}

export function* where(source: RenderSource, collection: string, test: (o: StripeObject) => boolean): Generator<StripeObject> {
  for (const o of source.list(collection)) if (!o.deleted && test(o)) yield o;
}

/** Removes keys from a copy. */
export function without(obj: StripeObject, ...keys: string[]): StripeObject {
  const copy = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

/** The Coupon an id names, embedded as versions before 2025-09-30.clover embed it (the id when it is gone). */
export function embeddedCoupon(id: unknown, source: RenderSource): unknown {
  return typeof id === 'string' ? source.get('coupons', id) ?? id : id ?? null;
}
