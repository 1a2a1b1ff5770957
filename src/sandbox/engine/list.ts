/**
 * Stripe's cursor pagination over a Collection: newest first, `limit`
 * 1–100 (default 10), `starting_after` / `ending_before`, `created` ranges
 * and per-resource filters, answered as `{object: "list", data, has_more, url}`.
 */
import { invalidRequest, resourceMissing } from '../../stripe/errors.js';
import type { Collection, StripeObject } from '../store/collection.js';
import { isPlainObject } from '../params/validate.js';

export interface ListObject {
  object: 'list';
  data: StripeObject[];
  has_more: boolean;
  url: string;
}

export type Predicate = (obj: StripeObject) => boolean;

/** `created` (or any timestamp) filter: an exact number or a {gt,gte,lt,lte} range. */
function rangeFilter(field: string, value: unknown): Predicate {
  if (typeof value === 'number') return (o) => o[field] === value;
  if (!isPlainObject(value)) return () => true;
  const { gt, gte, lt, lte } = value as Record<string, number | undefined>;
  return (o) => {
    const v = o[field] as number;
    return (gt === undefined || v > gt) && (gte === undefined || v >= gte) && (lt === undefined || v < lt) && (lte === undefined || v <= lte);
  };
}

export function readLimit(params: Record<string, unknown>): number {
  const limit = (params.limit as number | undefined) ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest('Invalid limit: must be between 1 and 100', { param: 'limit', code: 'parameter_invalid_integer' });
  }
  return limit;
}

export function paginate(
  collection: Collection,
  params: Record<string, unknown>,
  url: string,
  noun: string,
  predicates: Predicate[] = [],
): ListObject {
  const limit = readLimit(params);
  if (params.created !== undefined) predicates = [...predicates, rangeFilter('created', params.created)];
  const matches = (o: StripeObject) => !o.deleted && predicates.every((p) => p(o));
  const cursorOf = (param: string): number => {
    const id = params[param] as string;
    const position = collection.positionOf(id);
    if (position === undefined) throw resourceMissing(noun, id, param);
    return position;
  };
  const data: StripeObject[] = [];
  let has_more = false;
  if (params.ending_before !== undefined) {
    for (const obj of collection.ascending(cursorOf('ending_before'))) {
      if (!matches(obj)) continue;
      if (data.length === limit) {
        has_more = true;
        break;
      }
      data.push(obj);
    }
    data.reverse();
  } else {
    const start = params.starting_after !== undefined ? cursorOf('starting_after') : undefined;
    for (const obj of collection.descending(start)) {
      if (!matches(obj)) continue;
      if (data.length === limit) {
        has_more = true;
        break;
      }
      data.push(obj);
    }
  }
  return { object: 'list', data, has_more, url };
}

/** A list built from objects already in hand (e.g. a charge's refunds). */
export function listOf(data: StripeObject[], url: string, has_more = false): ListObject {
  return { object: 'list', data, has_more, url };
}
