/**
 * Stripe Apps known to the sandbox. `POST /_sandbox/apps` takes an app's
 * `stripe-app.json` (as `paybridge stripe-app-manifest` prints it) plus its
 * `client_id`, the way `stripe apps upload` registers an app with Stripe.
 * An unregistered `ca_…` id installs as an app asking for every permission,
 * so the flow works with no setup.
 */
import type { FastifyInstance } from 'fastify';
import { invalidRequest } from '../../stripe/errors.js';
import type { Store } from '../store/store.js';
import { KEYS_ACCOUNT } from './credentials.js';

const APPS = 'stripe_apps';

export interface App {
  id: string;
  name: string;
  permissions: string[];
  allowed_redirect_uris: string[];
}

export function appFor(store: Store, clientId: string): App {
  const found = store.get(KEYS_ACCOUNT, APPS, clientId) as App | undefined;
  return found ?? { id: clientId, name: `App ${clientId}`, permissions: ['*_write'], allowed_redirect_uris: [] };
}

/** `customer_read` → "Read customers"; `*_write` → everything. */
export function describePermission(permission: string): string {
  if (permission === '*_write') return 'Read and write all your Stripe data';
  const m = /^(.*)_(read|write)$/.exec(permission);
  if (!m) return permission;
  return `${m[2] === 'read' ? 'Read' : 'Read and write'} ${m[1].replace(/_/g, ' ')}s`;
}

export function registerAppAdmin(app: FastifyInstance, store: Store): void {
  app.post<{ Body: { client_id?: string; name?: string; permissions?: (string | { permission: string })[]; allowed_redirect_uris?: string[] } }>('/_sandbox/apps', async (req) => {
    const b = req.body ?? {};
    if (!b.client_id || !/^ca_[A-Za-z0-9]+$/.test(b.client_id)) throw invalidRequest('Missing or invalid client_id (ca_…).', { param: 'client_id' });
    const registered: App = {
      id: b.client_id,
      name: b.name ?? b.client_id,
      permissions: (b.permissions ?? []).map((p) => (typeof p === 'string' ? p : p.permission)),
      allowed_redirect_uris: b.allowed_redirect_uris ?? [],
    };
    store.commit(KEYS_ACCOUNT, [[APPS, registered.id, { ...registered, object: 'stripe_app' }]]);
    return { object: 'stripe_app', ...registered };
  });
}
