/**
 * Stripe's search query language, for the fields each resource declares:
 *   email:'a@b.com' AND metadata['plan']:'pro' AND amount>=1000
 *   name~'jen'  -status:'canceled'  created>1700000000  a:'x' OR b:'y'
 * Clauses are joined by all-AND or all-OR (Stripe refuses a mix).
 */
import { invalidRequest } from '../../stripe/errors.js';
import type { Collection, StripeObject } from '../store/collection.js';
import { readLimit } from './list.js';

type Op = ':' | '~' | '>' | '<' | '>=' | '<=';
interface Clause {
  negate: boolean;
  field: string;
  metadataKey?: string;
  op: Op;
  value: string | number | null;
}

const CLAUSE = /^\s*(-)?\s*(metadata\[\s*(['"])(.*?)\3\s*\]|[a-z_][a-z0-9_.]*)\s*(>=|<=|:|~|>|<)\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(null))\s*/i;

export function parseQuery(query: string, fields: string[]): { clauses: Clause[]; joiner: 'AND' | 'OR' } {
  const clauses: Clause[] = [];
  let joiner: 'AND' | 'OR' | undefined;
  let rest = query;
  const fail = (why: string) => invalidRequest(`${why} (query: ${query})`, { param: 'query', code: 'parameter_invalid_string' });
  if (!rest.trim()) throw fail('The query must not be empty');
  for (;;) {
    const m = CLAUSE.exec(rest);
    if (!m) throw fail(`Search query is invalid near: '${rest.trim().slice(0, 30)}'`);
    const metadataKey = m[4];
    const field = metadataKey !== undefined ? 'metadata' : m[2];
    const names = fields.map((f) => f.split('=')[0]);
    if (metadataKey === undefined && !names.includes(field)) {
      throw fail(`Field '${field}' is an unsupported search field. Supported fields: ${names.join(', ')}, metadata`);
    }
    const quoted = m[6] ?? m[7];
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : m[8] !== undefined ? Number(m[8]) : null;
    const op = m[5] as Op;
    if (op === '~' && (typeof value !== 'string' || value.length < 3)) throw fail('Substring search (~) needs a quoted value of at least 3 characters');
    // `name=path` declares a search field stored elsewhere in the object (invoice `subscription` → parent.subscription_details.subscription).
    const path = fields.find((f) => f.startsWith(field + '='))?.slice(field.length + 1) ?? field;
    clauses.push({ negate: !!m[1], field: path, metadataKey, op, value });
    rest = rest.slice(m[0].length);
    if (!rest) break;
    const j = /^(AND|OR)\s+/i.exec(rest);
    if (!j) throw fail(`Search query is invalid near: '${rest.trim().slice(0, 30)}'`);
    const word = j[1].toUpperCase() as 'AND' | 'OR';
    if (joiner && joiner !== word) throw fail('Queries cannot mix AND and OR');
    joiner = word;
    rest = rest.slice(j[0].length);
  }
  return { clauses, joiner: joiner ?? 'AND' };
}

function fieldValue(obj: StripeObject, clause: Clause): unknown {
  if (clause.metadataKey !== undefined) return obj.metadata?.[clause.metadataKey] ?? null;
  let v: any = obj;
  for (const part of clause.field.split('.')) v = v?.[part];
  return v ?? null;
}

function test(obj: StripeObject, clause: Clause): boolean {
  const actual = fieldValue(obj, clause);
  const expected = clause.value;
  let ok: boolean;
  switch (clause.op) {
    case ':':
      if (expected === null) ok = actual === null;
      else if (typeof actual === 'string') ok = actual.toLowerCase() === String(expected).toLowerCase();
      else ok = String(actual) === String(expected);
      break;
    case '~':
      ok = typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
      break;
    default: {
      const a = Number(actual);
      const e = Number(expected);
      ok = actual !== null && (clause.op === '>' ? a > e : clause.op === '<' ? a < e : clause.op === '>=' ? a >= e : a <= e);
    }
  }
  return clause.negate ? !ok : ok;
}

export interface SearchResult {
  object: 'search_result';
  data: StripeObject[];
  has_more: boolean;
  next_page: string | null;
  url: string;
  total_count?: number;
}

export function search(collection: Collection, params: Record<string, unknown>, url: string, fields: string[]): SearchResult {
  const { clauses, joiner } = parseQuery(String(params.query ?? ''), fields);
  const limit = readLimit(params);
  let offset = 0;
  if (params.page !== undefined) {
    const decoded = /^page_(\d+)$/.exec(Buffer.from(String(params.page), 'base64url').toString());
    if (!decoded) throw invalidRequest(`Invalid page: ${params.page}`, { param: 'page' });
    offset = Number(decoded[1]);
  }
  const matches = (o: StripeObject) =>
    !o.deleted && (joiner === 'AND' ? clauses.every((c) => test(o, c)) : clauses.some((c) => test(o, c)));
  const data: StripeObject[] = [];
  let seen = 0;
  let has_more = false;
  let total = 0;
  const wantTotal = Array.isArray(params.expand) && params.expand.includes('total_count');
  for (const obj of collection.descending()) {
    if (!matches(obj)) continue;
    total++;
    if (seen++ < offset) continue;
    if (data.length < limit) data.push(obj);
    else {
      has_more = true;
      if (!wantTotal) break;
    }
  }
  const next_page = has_more ? Buffer.from(`page_${offset + limit}`).toString('base64url') : null;
  const result: SearchResult = { object: 'search_result', data, has_more, next_page, url };
  if (wantTotal) result.total_count = total;
  return result;
}
