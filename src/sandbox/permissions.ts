/**
 * Which Stripe resource permission a request needs, from the resource
 * table: `GET /v1/customers/cus_1` needs `customers: read`. The gateway
 * checks its connection keys with this, so they speak the same permission
 * names as Stripe's restricted keys.
 */
import { RESOURCES } from './resources/index.js';

interface Route {
  method: string;
  pattern: RegExp;
  permission: string;
  /** Literal segments first: `/v1/customers/search` wins over `/v1/customers/{id}`. */
  literal: number;
}

const ROUTES: Route[] = RESOURCES.flatMap((r) => r.operations.map((op) => ({
  method: op.method,
  pattern: new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  permission: op.permission,
  literal: op.path.split('/').filter((s) => s && !s.startsWith('{')).length,
}))).sort((a, b) => b.literal - a.literal);

export const PERMISSION_NAMES = [...new Set(ROUTES.map((r) => r.permission))].sort();

type Needed = { permission: string; level: 'read' | 'write' } | undefined;
/** Recent answers: a proxy sees the same few paths over and over, and the table has hundreds of patterns. */
const recent = new Map<string, Needed>();

export function permissionFor(method: string, path: string): Needed {
  const key = `${method} ${path}`;
  if (recent.has(key)) return recent.get(key);
  const route = ROUTES.find((r) => r.method === method && r.pattern.test(path));
  const needed: Needed = route && { permission: route.permission, level: method === 'GET' ? 'read' : 'write' };
  if (recent.size >= 10_000) recent.clear();
  recent.set(key, needed);
  return needed;
}
