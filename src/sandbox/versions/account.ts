/**
 * Each sandbox account's default API version: what a request without
 * `Stripe-Version` gets and what its events are rendered in, as a Stripe
 * account's version set in Workbench. Unset, it is the bundled SDK's.
 */
import { SETTINGS } from '../resources/billing/subscriptions.js';
import type { Store } from '../store/store.js';
import type { Ctx } from '../engine/context.js';
import type { RenderSource } from './change.js';

const ID = 'api_version';

export function accountApiVersion(store: Store, account: string, fallback: string): string {
  return store.get(account, SETTINGS, ID)?.version ?? fallback;
}

export function setAccountApiVersion(ctx: Ctx, version: string): void {
  ctx.put(SETTINGS, { id: ID, version });
}

/** What version changes read besides the object: the request's view of its account. */
export const ctxSource = (ctx: Ctx): RenderSource => ({ get: (c, id) => ctx.get(c, id), list: (c) => ctx.all(c) });

/** The committed objects of one account, for renders outside a request (webhook deliveries). */
export const storeSource = (store: Store, account: string): RenderSource => ({
  get: (c, id) => store.get(account, c, id),
  list: (c) => store.collection(account, c).ascending(),
});
