/**
 * The request-parameter schema of each route: Stripe's own (compiled from
 * the OpenAPI spec) with the route's patches for the current API. The
 * sandbox validates requests with it; the gateway validates connector
 * action definitions with it.
 */
import { readFileSync } from 'node:fs';
import type { Operation } from './engine/resource.js';
import type { ParamSchema } from './params/schema.js';
import { RESOURCES } from './resources/index.js';

const SPEC = JSON.parse(readFileSync(new URL('./spec/operations.json', import.meta.url), 'utf8')) as Record<string, ParamSchema>;

export function schemaFor(op: Operation): ParamSchema {
  const schema = op.params ?? SPEC[`${op.method} ${op.path}`];
  if (!schema) throw new Error(`No parameter schema for ${op.method} ${op.path}: add it to the spec table or declare op.params`);
  if (!op.specPatch) return schema;
  const { add = {}, optional = [] } = op.specPatch;
  return { ...schema, p: { ...schema.p, ...add }, r: schema.r?.filter((name) => !optional.includes(name)) };
}

/** `POST /v1/customers/{customer}` → its schema and permission, if the sandbox serves that route. */
export function routeSchema(method: string, pathTemplate: string): { schema: ParamSchema; permission: string } | undefined {
  for (const resource of RESOURCES) {
    const op = resource.operations.find((o) => o.method === method && o.path === pathTemplate);
    if (op) return { schema: schemaFor(op), permission: op.permission };
  }
  return undefined;
}
