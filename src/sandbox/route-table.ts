/**
 * The sandbox's routes as data for `src/stripe/routes.json` (see scripts/gen-routes.ts): method, path template,
 * permission, and the schema where it is not Stripe's spec as it stands.
 */
import type { RouteEntry } from '../stripe/routes.js';
import { RESOURCES } from './resources/index.js';
import { schemaFor } from './schemas.js';

export function routeTable(): RouteEntry[] {
  return RESOURCES.flatMap((r) => r.operations.map((op): RouteEntry => ({
    method: op.method, path: op.path, permission: op.permission, ...(op.params || op.specPatch ? { schema: schemaFor(op) } : {}),
  })));
}
