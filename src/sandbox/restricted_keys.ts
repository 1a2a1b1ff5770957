/**
 * Restricted keys (`rk_test_…`): keys limited to a set of Stripe resource
 * permissions (`customers: write`, `payment_intents: read`, …). Created
 * through `POST /_sandbox/restricted_keys`; only a hash of each key is kept.
 */
import type { FastifyInstance } from 'fastify';
import { invalidRequest, permissionError } from '../stripe/errors.js';
import type { Operation } from './engine/resource.js';
import type { Store } from './store/store.js';
import { maskKey } from './auth.js';
import { issueRestrictedKey, type Level, type Permissions } from './connect/credentials.js';

export function checkPermissionNames(permissions: Permissions, known: Set<string>): void {
  for (const [resource, level] of Object.entries(permissions)) {
    if (!known.has(resource)) {
      throw invalidRequest(`Unknown permission resource: ${resource}. Known: ${[...known].sort().join(', ')}`, { param: `permissions[${resource}]` });
    }
    if (!['read', 'write', 'none'].includes(level)) {
      throw invalidRequest(`Invalid permission level for ${resource}: ${level}. Use read, write or none.`, { param: `permissions[${resource}]` });
    }
  }
}

/** Stripe's permission names are singular: `rak_customer_write`. */
const rakName = (resource: string, level: Level) => `rak_${resource.replace(/ies$/, 'y').replace(/s$/, '')}_${level}`;

/** Throws Stripe's 403 unless `permissions` allow `op` (write implies read). */
export function checkPermission(key: string, account: string, permissions: Permissions, op: Operation): void {
  const needed: Level = op.method === 'GET' ? 'read' : 'write';
  const granted = permissions[op.permission];
  if (granted === 'write' || granted === needed) return;
  throw permissionError(
    `The provided key '${maskKey(key)}' does not have the required permissions for this endpoint on account '${account}'. Having the '${rakName(op.permission, needed)}' permission would allow this request to continue.`,
  );
}

export function registerRestrictedKeys(app: FastifyInstance, store: Store, known: Set<string>, defaultAccount: string): void {
  app.post<{ Body: { permissions?: Permissions; account?: string } }>('/_sandbox/restricted_keys', async (req, reply) => {
    const permissions = req.body?.permissions;
    if (!permissions || typeof permissions !== 'object' || Array.isArray(permissions)) {
      throw invalidRequest('Missing required param: permissions.', { param: 'permissions', code: 'parameter_missing' });
    }
    const account = req.body.account ?? defaultAccount;
    checkPermissionNames(permissions, known);
    const key = issueRestrictedKey(store, account, permissions);
    return reply.send({ object: 'restricted_key', secret: key, permissions, account });
  });
}
