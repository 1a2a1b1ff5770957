/**
 * Plans, the older name of recurring prices: Stripe still serves `/v1/plans`,
 * and a plan and its price are one object seen two ways (the same id, usable
 * as `price` or `plan` on subscription items). Here a plan is stored as its
 * recurring price and shown as a plan.
 */
import { invalidRequest } from '../../../stripe/errors.js';
import type { Ctx } from '../../engine/context.js';
import { paginate } from '../../engine/list.js';
import { applyUpdate, saveUpdate, type Params, type Resource } from '../../engine/resource.js';
import type { StripeObject } from '../../store/store.js';
import { createPrice } from '../catalog.js';

export function planOf(price: StripeObject): StripeObject {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring.interval,
    interval_count: price.recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: price.tiers_mode,
    transform_usage: null,
    trial_period_days: price.recurring.trial_period_days ?? null,
    usage_type: price.recurring.usage_type ?? 'licensed',
  };
}

/** Plans deleted through `/v1/plans`: their prices stay (inactive) for what already names them. */
const DELETED_PLANS = 'deleted_plans';

function loadPlan(ctx: Ctx, id: string): StripeObject {
  const price = ctx.get('prices', id);
  if (!price || ctx.get(DELETED_PLANS, id) || !price.recurring) throw invalidRequest(`No such plan: '${id}'`, { param: 'plan', code: 'resource_missing' }, 404);
  return price;
}

function create(ctx: Ctx, p: Params): StripeObject {
  if (p.amount === undefined && p.amount_decimal === undefined && p.billing_scheme !== 'tiered') throw invalidRequest('Missing required param: amount.', { param: 'amount', code: 'parameter_missing' });
  if (!p.product) throw invalidRequest('Missing required param: product.', { param: 'product', code: 'parameter_missing' });
  if (p.id !== undefined && ctx.get('prices', p.id)) throw invalidRequest('Plan already exists.', { param: 'id', code: 'resource_already_exists' });
  const price = createPrice(ctx, {
    currency: p.currency, unit_amount: p.amount, unit_amount_decimal: p.amount_decimal, billing_scheme: p.billing_scheme, nickname: p.nickname,
    metadata: p.metadata, active: p.active, tiers_mode: p.tiers_mode,
    ...(typeof p.product === 'string' ? { product: p.product } : { product_data: p.product }),
    recurring: { interval: p.interval, interval_count: p.interval_count, trial_period_days: p.trial_period_days, usage_type: p.usage_type },
  });
  ctx.emit('plan.created', planOf(price));
  if (p.id === undefined) return planOf(price);
  // A plan may name its own id; the price behind it has the same one.
  const renamed = { ...price, id: p.id };
  ctx.remove('prices', price.id);
  ctx.put('prices', renamed);
  return planOf(renamed);
}

export const plans: Resource = {
  collection: 'prices', object: 'plan', prefix: 'plan', noun: 'plan', path: '/v1/plans', permission: 'plans',
  operations: [
    { method: 'POST', path: '/v1/plans', permission: 'plans', handle: (ctx, p) => create(ctx, p) },
    { method: 'GET', path: '/v1/plans/{plan}', permission: 'plans', handle: (ctx, _p, path) => planOf(loadPlan(ctx, path.plan)) },
    {
      method: 'POST', path: '/v1/plans/{plan}', permission: 'plans',
      handle: (ctx, p, path) => {
        const next = ctx.edit(loadPlan(ctx, path.plan));
        const { trial_period_days: trial, ...rest } = p;
        const previous = applyUpdate(next, rest, ['product']);
        if (trial !== undefined) next.recurring = { ...next.recurring, trial_period_days: trial === '' ? null : trial };
        return planOf(saveUpdate(ctx, 'prices', next, previous, 'price.updated'));
      },
    },
    {
      method: 'DELETE', path: '/v1/plans/{plan}', permission: 'plans',
      handle: (ctx, _p, path) => {
        const price = loadPlan(ctx, path.plan);
        // The price stays for the subscriptions and invoices that name it; it is no longer active, nor listed as a plan.
        ctx.put('prices', { ...price, active: false });
        ctx.put(DELETED_PLANS, { id: price.id });
        ctx.emit('plan.deleted', planOf(price));
        return { id: price.id, object: 'plan', deleted: true };
      },
    },
    {
      method: 'GET', path: '/v1/plans', permission: 'plans',
      handle: (ctx, p) => {
        const page = paginate(ctx.collection('prices'), p, '/v1/plans', 'plan', [
          (price) => !!price.recurring && !ctx.get(DELETED_PLANS, price.id) && (p.active === undefined || price.active === p.active) && (!p.product || price.product === p.product),
        ]);
        return { ...page, data: page.data.map(planOf) };
      },
    },
  ],
};
