/**
 * Tax rates (`txr_`) and the tax they add to an amount. A rate is
 * exclusive (added on top) or inclusive (already inside the amount);
 * invoices, subscriptions and Checkout line items name rates by id, and
 * each taxed line carries one `taxes` entry per rate, the way Stripe's
 * current API reports them.
 */
import { invalidRequest } from '../../stripe/errors.js';
import { newId } from '../../stripe/ids.js';
import type { Ctx } from '../engine/context.js';
import { applyUpdate, saveUpdate, standardOperations, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/store.js';

function createTaxRate(ctx: Ctx, p: Params): StripeObject {
  if (!(p.percentage >= 0 && p.percentage <= 100)) throw invalidRequest('Invalid percentage: must be between 0 and 100.', { param: 'percentage' });
  const rate: StripeObject = {
    id: newId('txr'),
    object: 'tax_rate',
    active: p.active ?? true,
    country: p.country ?? null,
    created: ctx.now(),
    description: p.description ?? null,
    display_name: p.display_name,
    effective_percentage: p.percentage,
    flat_amount: null,
    inclusive: p.inclusive,
    jurisdiction: p.jurisdiction ?? null,
    jurisdiction_level: null,
    livemode: false,
    metadata: p.metadata || {},
    percentage: p.percentage,
    rate_type: 'percentage',
    state: p.state ?? null,
    tax_type: p.tax_type ?? null,
  };
  ctx.put('tax_rates', rate);
  ctx.emit('tax_rate.created', rate);
  return rate;
}

/** Percentage, inclusiveness and country are fixed once created (Stripe's update takes only the descriptive fields). */
function updateTaxRate(ctx: Ctx, rate: StripeObject, p: Params): StripeObject {
  const next = ctx.edit(rate);
  return saveUpdate(ctx, 'tax_rates', next, applyUpdate(next, p), 'tax_rate.updated');
}

const declaration = {
  collection: 'tax_rates', object: 'tax_rate', prefix: 'txr', noun: 'tax_rate', path: '/v1/tax_rates', permission: 'tax_rates',
  listFilters: { active: (v: boolean) => (o: StripeObject) => o.active === v, inclusive: (v: boolean) => (o: StripeObject) => o.inclusive === v },
};

export const taxRates: Resource = {
  ...declaration,
  operations: standardOperations(declaration, { idParam: 'tax_rate', create: createTaxRate, update: updateTaxRate }),
};

/** The rates `ids` names, each existing and active (Stripe refuses archived rates on new lines). */
export function requireTaxRates(ctx: Ctx, ids: unknown, param: string): StripeObject[] {
  if (ids === undefined || ids === null || ids === '') return [];
  if (!Array.isArray(ids)) throw invalidRequest(`Invalid array: ${param}`, { param });
  const rates = ids.map((id, i) => ctx.require('tax_rates', id, 'tax_rate', `${param}[${i}]`));
  const inactive = rates.find((r) => !r.active);
  if (inactive) throw invalidRequest(`Tax rate ${inactive.id} is archived and cannot be used.`, { param });
  return rates;
}

export interface TaxEntry {
  amount: number;
  tax_behavior: 'exclusive' | 'inclusive';
  tax_rate_details: { tax_rate: string };
  taxability_reason: 'standard_rated';
  taxable_amount: number;
  type: 'tax_rate_details';
}

/**
 * The tax of each rate on `amount` (after discounts). Exclusive rates apply
 * to the whole amount; inclusive rates are taken out of it together, so
 * two inclusive rates of 10% and 5% leave a taxable amount of amount/1.15.
 */
export function taxesOn(amount: number, rates: StripeObject[]): TaxEntry[] {
  const inclusivePct = rates.filter((r) => r.inclusive).reduce((s, r) => s + r.percentage, 0);
  const net = Math.round(amount / (1 + inclusivePct / 100));
  return rates.map((r) => ({
    amount: Math.round(((r.inclusive ? net : amount) * r.percentage) / 100),
    tax_behavior: r.inclusive ? 'inclusive' : 'exclusive',
    tax_rate_details: { tax_rate: r.id },
    taxability_reason: 'standard_rated',
    taxable_amount: r.inclusive ? net : amount,
    type: 'tax_rate_details',
  }));
}

/** Taxes of many lines summed per rate, as an invoice's `total_taxes`. */
export function totalTaxes(entries: TaxEntry[]): TaxEntry[] {
  const byRate = new Map<string, TaxEntry>();
  for (const e of entries) {
    const seen = byRate.get(e.tax_rate_details.tax_rate);
    byRate.set(e.tax_rate_details.tax_rate, seen ? { ...seen, amount: seen.amount + e.amount, taxable_amount: seen.taxable_amount + e.taxable_amount } : e);
  }
  return [...byRate.values()];
}

