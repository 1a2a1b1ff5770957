/**
 * Renders answers and events for an API version. The sandbox builds every
 * object in the current version's shape; for an older version the chain of
 * published changes (newest first) turns each object, at any depth, back
 * into the shape that version had. An event keeps the version it was
 * created in (its `api_version`) whatever version reads it, as Stripe's do.
 */
import { CURRENT_API_VERSION, olderThan } from '../../stripe/versions.js';
import type { StripeObject } from '../store/store.js';
import type { RenderSource, VersionChange } from './change.js';
import { checkoutUiMode } from './changes/2026-03-25-checkout-ui-mode.js';
import { discountSource } from './changes/2025-09-30-discount-source.js';
import { promotionCoupon } from './changes/2025-09-30-promotion-coupon.js';
import { invoicePayments } from './changes/2025-03-31-invoice-payments.js';
import { invoiceLinePricing } from './changes/2025-03-31-invoice-line-pricing.js';
import { subscriptionPeriods } from './changes/2025-03-31-subscription-periods.js';
import { intentInvoice } from './changes/2025-03-31-intent-invoice.js';
import { checkoutShippingDetails } from './changes/2025-03-31-checkout-shipping-details.js';
import { invoiceRendering, productMarketingFeatures } from './changes/2024-04-10-renames.js';
import { chargeRefunds, intentCharges } from './changes/2022-11-15-charge-lists.js';
import { checkoutShipping } from './changes/2022-08-01-checkout-shipping.js';
import { customerLists, subscriptionPlan } from './changes/2020-08-27-embedded-lists.js';

export type { RenderSource, VersionChange } from './change.js';

/** Newest first: the order they are undone in. */
export const VERSION_CHANGES: readonly VersionChange[] = [
  checkoutUiMode,
  promotionCoupon, discountSource,
  invoicePayments, invoiceLinePricing, subscriptionPeriods, intentInvoice, checkoutShippingDetails,
  productMarketingFeatures, invoiceRendering,
  chargeRefunds, intentCharges,
  checkoutShipping,
  customerLists, subscriptionPlan,
].sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));

/** The changes an object of kind `object` goes through to reach `version`. */
function changesFor(version: string): Map<string, VersionChange[]> {
  const byObject = new Map<string, VersionChange[]>();
  for (const change of VERSION_CHANGES) {
    if (!olderThan(version, change.version)) continue;
    for (const o of change.objects) byObject.set(o, [...(byObject.get(o) ?? []), change]);
  }
  return byObject;
}

const plans = new Map<string, Map<string, VersionChange[]>>();
function planFor(version: string): Map<string, VersionChange[]> {
  let plan = plans.get(version);
  if (!plan) plans.set(version, (plan = changesFor(version)));
  return plan;
}

function walk(value: unknown, plan: Map<string, VersionChange[]>, source: RenderSource): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, plan, source));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as StripeObject;
  if (obj.object === 'event' && obj.data) return renderEvent(obj, source);
  let out: StripeObject = obj;
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object') {
      const rendered = walk(v, plan, source);
      if (rendered !== v) {
        if (out === obj) out = { ...obj };
        out[k] = rendered;
      }
    }
  }
  for (const change of (typeof obj.object === "string" && plan.get(obj.object)) || []) out = change.down(out, source);
  return out;
}

/** `value` (an answer: an object, a list, a search result) in `version`'s shape. */
export function renderForVersion<T>(value: T, version: string, source: RenderSource): T {
  if (!olderThan(version, CURRENT_API_VERSION) && !containsEvent(value)) return value;
  return walk(value, planFor(version), source) as T;
}

/** An event with its object in `version` (default: the event's own), as an endpoint pinned to a version receives it. */
export function renderEvent(event: StripeObject, source: RenderSource, version: string = event.api_version ?? CURRENT_API_VERSION): StripeObject {
  if (!olderThan(version, CURRENT_API_VERSION)) return version === event.api_version ? event : { ...event, api_version: version };
  const plan = planFor(version);
  const data: StripeObject = { ...event.data, object: walk(event.data.object, plan, source) };
  return { ...event, api_version: version, data };
}

function containsEvent(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as StripeObject;
  return v.object === 'event' || (v.object === 'list' || v.object === 'search_result' ? (v.data as unknown[]).some((e) => (e as StripeObject)?.object === 'event') : false);
}
