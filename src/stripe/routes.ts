/**
 * Stripe's routes as PayBridge knows them (routes.json, generated from the
 * sandbox's resource table by `npm run gen:routes`): which restricted-key
 * permission a request needs — `GET /v1/customers/cus_1` needs
 * `customers: read` — and each route's parameter schema (Stripe's OpenAPI
 * spec, or the route's own where it differs). The gateway checks connection
 * keys and connector actions with these, without loading the sandbox.
 */
import { readFileSync } from 'node:fs';
import type { ParamSchema } from './schema.js';

export interface RouteEntry {
  method: string;
  /** `/v1/customers/{customer}` */
  path: string;
  permission: string;
  /** Present when the route's parameters are not Stripe's spec as it stands. */
  schema?: ParamSchema;
}

const read = (name: string) => JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8'));
const SPEC = read('./spec/operations.json') as Record<string, ParamSchema>;
const ROUTES = read('./routes.json') as RouteEntry[];

interface Matcher {
  method: string;
  pattern: RegExp;
  permission: string;
  /** Literal segments first: `/v1/customers/search` wins over `/v1/customers/{id}`. */
  literal: number;
}

const MATCHERS: Matcher[] = ROUTES.map((r) => ({
  method: r.method,
  pattern: new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  permission: r.permission,
  literal: r.path.split('/').filter((s) => s && !s.startsWith('{')).length,
})).sort((a, b) => b.literal - a.literal);

export const PERMISSION_NAMES = [...new Set(ROUTES.map((r) => r.permission))].sort();

type Needed = { permission: string; level: 'read' | 'write' } | undefined;
/** Recent answers: a proxy sees the same few paths over and over, and the table has hundreds of patterns. */
const recent = new Map<string, Needed>();

/** The permission `method path` needs (`path` without its query string), or undefined for a route PayBridge does not know. */
export function permissionFor(method: string, path: string): Needed {
  const key = `${method} ${path}`;
  if (recent.has(key)) return recent.get(key);
  const route = MATCHERS.find((r) => r.method === method && r.pattern.test(path));
  const needed: Needed = route && { permission: route.permission, level: method === 'GET' ? 'read' : 'write' };
  if (recent.size >= 10_000) recent.clear();
  recent.set(key, needed);
  return needed;
}

/** `POST /v1/customers/{customer}` → its schema and permission, if PayBridge knows that route. */
export function routeSchema(method: string, pathTemplate: string): { schema: ParamSchema; permission: string } | undefined {
  const route = ROUTES.find((r) => r.method === method && r.path === pathTemplate);
  if (!route) return undefined;
  const schema = route.schema ?? SPEC[`${method} ${pathTemplate}`];
  return schema && { schema, permission: route.permission };
}
