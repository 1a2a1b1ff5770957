/**
 * Checks form-decoded parameters against a compiled Stripe schema and
 * coerces them to their types ("100" → 100, "true" → true), raising the
 * errors Stripe raises: unknown parameter, missing required parameter,
 * invalid integer/boolean/enum/array/object, string too long.
 */
import { invalidRequest } from '../../stripe/errors.js';
import type { ParamSchema } from '../../stripe/schema.js';

type Params = Record<string, unknown>;

const INT = /^-?\d+$/;
const NUM = /^-?(\d+\.?\d*|\.\d+)$/;
const MAX_SAFE_AMOUNT = Number.MAX_SAFE_INTEGER;

const bracket = (path: string, key: string) => (path ? `${path}[${key}]` : key);

/** Validates `input` against `schema`; returns the coerced params. */
export function validateParams(schema: ParamSchema, input: Params): Params {
  const out = coerce(schema, input, '');
  return (out ?? {}) as Params;
}

function coerce(schema: ParamSchema, value: unknown, path: string): unknown {
  if (value === '' && schema.z) return '';
  switch (schema.t) {
    case 'x': return value;
    case 's': return coerceString(schema, value, path);
    case 'i': return coerceNumber(value, path, true);
    case 'n': return coerceNumber(value, path, false);
    case 'b': return coerceBoolean(value, path);
    case 'a': return coerceArray(schema, value, path);
    case 'o': return coerceObject(schema, value, path);
    case 'u': return coerceUnion(schema, value, path);
  }
}

function coerceString(schema: ParamSchema, value: unknown, path: string): string {
  if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
  if (typeof value !== 'string') {
    throw invalidRequest(`Invalid string: ${describe(value)}`, { param: path, code: 'parameter_invalid_string' });
  }
  if (schema.e && !schema.e.includes(value)) {
    const options = schema.e.filter((e) => e !== '');
    throw invalidRequest(`Invalid ${path}: must be one of ${oneOf(options)}`, { param: path, code: 'parameter_invalid_string' });
  }
  if (schema.m && value.length > schema.m) {
    throw invalidRequest(`Invalid string: ${value.slice(0, 20)}...; must be at most ${schema.m} characters`, { param: path, code: 'parameter_invalid_string' });
  }
  return value;
}

function coerceNumber(value: unknown, path: string, integer: boolean): number {
  const kind = integer ? 'integer' : 'number';
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && (integer ? INT : NUM).test(value.trim())) n = Number(value);
  else throw invalidRequest(`Invalid ${kind}: ${describe(value)}`, { param: path, code: `parameter_invalid_${kind}` });
  if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || Math.abs(n) > MAX_SAFE_AMOUNT))) {
    throw invalidRequest(`Invalid ${kind}: ${describe(value)}`, { param: path, code: `parameter_invalid_${kind}` });
  }
  return n;
}

/** Stripe's v1 API reads booleans case-insensitively: older SDKs (stripe-python before 2025, stripe-dotnet) send `True`. */
function coerceBoolean(value: unknown, path: string): boolean {
  if (value === true || (typeof value === 'string' && value.toLowerCase() === 'true')) return true;
  if (value === false || (typeof value === 'string' && value.toLowerCase() === 'false')) return false;
  throw invalidRequest(`Invalid boolean: ${describe(value)}`, { param: path, code: 'parameter_invalid_boolean' });
}

function coerceArray(schema: ParamSchema, value: unknown, path: string): unknown[] {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  // qs turns `a[25]=x` into an object once indexes pass its array limit.
  else if (isPlainObject(value) && Object.keys(value).every((k) => INT.test(k))) {
    items = Object.keys(value).sort((a, b) => Number(a) - Number(b)).map((k) => value[k]);
  } else throw invalidRequest(`Invalid array`, { param: path, code: 'parameter_invalid_array' });
  return items.map((item, i) => coerce(schema.i ?? { t: 'x' }, item, `${path}[${i}]`));
}

function coerceObject(schema: ParamSchema, value: unknown, path: string): Params {
  if (!isPlainObject(value)) {
    throw invalidRequest(`Invalid object`, { param: path, code: 'parameter_invalid_object' });
  }
  const out: Params = {};
  for (const [key, v] of Object.entries(value)) {
    const child = schema.p?.[key] ?? schema.ap;
    const childPath = bracket(path, key);
    if (!child) throw invalidRequest(`Received unknown parameter: ${childPath}`, { param: childPath, code: 'parameter_unknown' });
    out[key] = coerce(child, v, childPath);
    if (key === 'metadata' && isPlainObject(out[key])) checkMetadata(out[key] as Params, childPath);
  }
  for (const key of schema.r ?? []) {
    if (out[key] === undefined) {
      const p = bracket(path, key);
      throw invalidRequest(`Missing required param: ${p}.`, { param: p, code: 'parameter_missing' });
    }
  }
  return out;
}

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500. */
function checkMetadata(metadata: Params, path: string): void {
  const keys = Object.keys(metadata);
  if (keys.length > 50) throw invalidRequest(`Invalid ${path}: metadata can have up to 50 keys, but you passed in ${keys.length} keys.`, { param: path, code: 'parameter_invalid_object' });
  for (const key of keys) {
    if (key.length > 40) throw invalidRequest(`Metadata keys can have up to 40 characters, but you passed in a key with ${key.length} characters.`, { param: bracket(path, key) });
    const value = metadata[key];
    if (typeof value === 'string' && value.length > 500) {
      throw invalidRequest(`Metadata values can have up to 500 characters, but you passed in a value with ${value.length} characters.`, { param: bracket(path, key) });
    }
  }
}

function coerceUnion(schema: ParamSchema, value: unknown, path: string): unknown {
  let first: unknown;
  for (const option of schema.o ?? []) {
    try {
      return coerce(option, value, path);
    } catch (e) {
      first ??= e;
    }
  }
  throw first ?? invalidRequest(`Invalid value`, { param: path });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? value.slice(0, 40) + '...' : value;
  if (Array.isArray(value)) return 'array';
  if (value === null || value === undefined) return 'null';
  return typeof value === 'object' ? 'object' : String(value);
}

function oneOf(options: string[]): string {
  if (options.length <= 1) return options.join('');
  return `${options.slice(0, -1).join(', ')}, or ${options[options.length - 1]}`;
}
