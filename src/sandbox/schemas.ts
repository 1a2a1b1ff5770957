/**
 * The request-parameter schema of each route: Stripe's own (compiled from
 * the OpenAPI spec) with the route's patches for the current API. The
 * sandbox validates requests with it; the gateway validates connector
 * action definitions with it.
 */
import { readFileSync } from 'node:fs';
import type { Operation } from './engine/resource.js';
import type { ParamSchema } from '../stripe/schema.js';

const SPEC = JSON.parse(readFileSync(new URL('../stripe/spec/operations.json', import.meta.url), 'utf8')) as Record<string, ParamSchema>;

/** Stripe's own schema for `method path`, as compiled from the spec (before any route's patch). */
export function specSchema(method: string, path: string): ParamSchema | undefined {
  return SPEC[`${method} ${path}`];
}

export function schemaFor(op: Operation): ParamSchema {
  const schema = op.params ?? SPEC[`${op.method} ${op.path}`];
  if (!schema) throw new Error(`No parameter schema for ${op.method} ${op.path}: add it to the spec table or declare op.params`);
  if (!op.specPatch) return schema;
  const { add = {}, optional = [] } = op.specPatch;
  return { ...schema, p: { ...schema.p, ...add }, r: schema.r?.filter((name) => !optional.includes(name)) };
}
