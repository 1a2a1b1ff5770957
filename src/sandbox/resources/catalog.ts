/** Products, prices and coupons: the catalogue that payments and billing refer to. */
import { invalidRequest } from '../../stripe/errors.js';
import type { Ctx } from '../engine/context.js';
import { newId } from '../../stripe/ids.js';
import { deleteObject, applyUpdate, patchSpec, saveUpdate, standardOperations, type Operation, type Params, type Resource } from '../engine/resource.js';
import type { StripeObject } from '../store/collection.js';

const bool = (field: string) => (v: boolean) => (o: StripeObject) => o[field] === v;

function createProduct(ctx: Ctx, p: Params): StripeObject {
  if (p.id && ctx.get('products', p.id)) {
    throw invalidRequest(`Product already exists.`, { param: 'id', code: 'resource_already_exists' });
  }
  const product: StripeObject = {
    id: p.id ?? newId('prod', 14),
    object: 'product',
    active: p.active ?? true,
    created: ctx.now(),
    default_price: null,
    description: p.description ?? null,
    images: p.images ?? [],
    livemode: false,
    marketing_features: p.marketing_features ?? p.features ?? [],
    metadata: p.metadata || {},
    name: p.name,
    package_dimensions: p.package_dimensions ?? null,
    shippable: p.shippable ?? null,
    statement_descriptor: p.statement_descriptor ?? null,
    tax_code: p.tax_details?.tax_code ?? p.tax_code ?? null,
    tax_details: taxDetails(p),
    type: 'service',
    unit_label: p.unit_label ?? null,
    updated: ctx.now(),
    url: p.url ?? null,
  };
  ctx.put('products', product);
  ctx.emit('product.created', product);
  if (p.default_price_data) {
    const price = createPrice(ctx, { ...p.default_price_data, product: product.id });
    const withDefault = { ...product, default_price: price.id };
    ctx.put('products', withDefault);
    return withDefault;
  }
  return product;
}

function updateProduct(ctx: Ctx, product: StripeObject, p: Params): StripeObject {
  if (p.default_price) {
    const price = ctx.require('prices', p.default_price, 'price', 'default_price');
    if (price.product !== product.id) throw invalidRequest('The default price must belong to this product.', { param: 'default_price' });
  }
  const next = ctx.edit(product);
  // `features` is the name before 2024-04-10; both set the same list.
  const { features, ...rest } = p;
  const previous = applyUpdate(next, features !== undefined && rest.marketing_features === undefined ? { ...rest, marketing_features: features } : rest);
  if (p.tax_code !== undefined || p.tax_details !== undefined) {
    // Either name sets both: they are one setting.
    Object.assign(previous, { tax_code: product.tax_code, tax_details: product.tax_details });
    next.tax_details = taxDetails({ tax_code: next.tax_code, ...p });
    next.tax_code = next.tax_details?.tax_code ?? null;
  }
  if (Object.keys(previous).length) next.updated = ctx.now();
  return saveUpdate(ctx, 'products', next, previous, 'product.updated');
}

function deleteProduct(ctx: Ctx, product: StripeObject): StripeObject {
  for (const price of ctx.collection('prices').descending()) {
    if (price.product === product.id) {
      throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.', { code: 'product_has_prices' });
    }
  }
  return deleteObject(ctx, 'products', product, 'product.deleted');
}

const productDeclaration = {
  collection: 'products', object: 'product', prefix: 'prod', noun: 'product', path: '/v1/products', permission: 'products',
  searchFields: ['active', 'description', 'name', 'url', 'created'],
  listFilters: { active: bool('active'), shippable: bool('shippable'), url: (v: string) => (o: StripeObject) => o.url === v, ids: (ids: string[]) => (o: StripeObject) => ids.includes(o.id) },
};

/** `tax_details` (2026-09-30.endive) holds the tax code beside a performance location; `tax_code` alone fills it too. */
function taxDetails(p: Params): { performance_location: string | null; tax_code: string | null } | null {
  const code = p.tax_details?.tax_code ?? p.tax_code;
  if (!code && !p.tax_details) return null;
  return { performance_location: p.tax_details?.performance_location ?? null, tax_code: code ?? null };
}

/**
 * The bundled spec (2023-08-16) knows only `features`; today's clients send `marketing_features`, and
 * `tax_details` since 2026-09-30.endive.
 */
const MARKETING_FEATURES: Operation['specPatch'] = {
  add: {
    marketing_features: { t: 'a', z: 1, i: { t: 'o', p: { name: { t: 's' } }, r: ['name'] } },
    tax_details: { t: 'o', p: { tax_code: { t: 's' }, performance_location: { t: 's' } } },
  },
};

export const products: Resource = {
  ...productDeclaration,
  operations: patchSpec(patchSpec(standardOperations(productDeclaration, { idParam: 'id', create: createProduct, update: updateProduct, del: deleteProduct, search: true }),
    'POST', '/v1/products', MARKETING_FEATURES), 'POST', '/v1/products/{id}', MARKETING_FEATURES),
};

export function createPrice(ctx: Ctx, p: Params): StripeObject {
  let productId = p.product;
  if (!productId && !p.product_data) throw invalidRequest('Missing required param: product.', { param: 'product', code: 'parameter_missing' });
  if (productId) ctx.require('products', productId, 'product', 'product');
  else productId = createProduct(ctx, { ...p.product_data }).id;
  if (p.unit_amount === undefined && p.unit_amount_decimal === undefined && p.billing_scheme !== 'tiered' && !p.custom_unit_amount) {
    throw invalidRequest('Missing required param: unit_amount.', { param: 'unit_amount', code: 'parameter_missing' });
  }
  if (p.unit_amount !== undefined && p.unit_amount < 0) throw invalidRequest('Invalid unit_amount: must be at least 0', { param: 'unit_amount' });
  if (p.lookup_key && !p.transfer_lookup_key) {
    for (const other of ctx.collection('prices').descending()) {
      if (other.lookup_key === p.lookup_key) {
        throw invalidRequest(`A price (\`${other.id}\`) already uses that lookup key.`, { param: 'lookup_key', code: 'lookup_key_already_exists' });
      }
    }
  }
  const unitAmount = p.unit_amount ?? (p.unit_amount_decimal !== undefined ? Math.round(Number(p.unit_amount_decimal)) : null);
  const price: StripeObject = {
    id: newId('price'),
    object: 'price',
    active: p.active ?? true,
    billing_scheme: p.billing_scheme ?? 'per_unit',
    created: ctx.now(),
    currency: String(p.currency).toLowerCase(),
    custom_unit_amount: p.custom_unit_amount ? { maximum: null, minimum: null, preset: null, ...p.custom_unit_amount } : null,
    livemode: false,
    lookup_key: p.lookup_key ?? null,
    metadata: p.metadata || {},
    nickname: p.nickname ?? null,
    product: productId,
    recurring: p.recurring
      ? { interval: p.recurring.interval, interval_count: p.recurring.interval_count ?? 1, meter: p.recurring.meter ?? null, trial_period_days: p.recurring.trial_period_days ?? null, usage_type: p.recurring.usage_type ?? 'licensed' }
      : null,
    tax_behavior: p.tax_behavior ?? 'unspecified',
    tiers_mode: p.tiers_mode ?? null,
    transform_quantity: p.transform_quantity ?? null,
    type: p.recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: unitAmount === null ? null : String(p.unit_amount_decimal ?? unitAmount),
  };
  ctx.put('prices', price);
  ctx.emit('price.created', price);
  return price;
}

const priceDeclaration = {
  collection: 'prices', object: 'price', prefix: 'price', noun: 'price', path: '/v1/prices', permission: 'prices',
  searchFields: ['active', 'currency', 'lookup_key', 'product', 'type', 'created'],
  listFilters: {
    active: bool('active'),
    currency: (v: string) => (o: StripeObject) => o.currency === v.toLowerCase(),
    product: (v: string) => (o: StripeObject) => o.product === v,
    type: (v: string) => (o: StripeObject) => o.type === v,
    lookup_keys: (keys: string[]) => (o: StripeObject) => keys.includes(o.lookup_key),
    recurring: (r: Params) => (o: StripeObject) => !!o.recurring && (!r.interval || o.recurring.interval === r.interval),
  },
};

export const prices: Resource = {
  ...priceDeclaration,
  operations: standardOperations(priceDeclaration, {
    idParam: 'price',
    create: createPrice,
    update: (ctx, price, p) => {
      const next = ctx.edit(price);
      const previous = applyUpdate(next, p, ['transfer_lookup_key', 'currency_options']);
      return saveUpdate(ctx, 'prices', next, previous, 'price.updated');
    },
    search: true,
  }),
};

function createCoupon(ctx: Ctx, p: Params): StripeObject {
  if (p.percent_off === undefined && p.amount_off === undefined) {
    throw invalidRequest('You must pass either `percent_off` or `amount_off`.', { param: 'percent_off' });
  }
  if (p.percent_off !== undefined && (p.percent_off <= 0 || p.percent_off > 100)) {
    throw invalidRequest('Invalid percent_off: must be greater than 0 and at most 100', { param: 'percent_off' });
  }
  if (p.amount_off !== undefined && !p.currency) throw invalidRequest('You must pass currency when passing amount_off', { param: 'currency' });
  const duration = p.duration ?? 'once';
  if (duration === 'repeating' && !p.duration_in_months) {
    throw invalidRequest('You must pass duration_in_months when duration is repeating', { param: 'duration_in_months' });
  }
  if (p.id && ctx.get('coupons', p.id)) throw invalidRequest('Coupon already exists.', { param: 'id', code: 'resource_already_exists' });
  const coupon: StripeObject = {
    id: p.id ?? newId('', 8).slice(1).toUpperCase(),
    object: 'coupon',
    amount_off: p.amount_off ?? null,
    applies_to: p.applies_to ? { products: p.applies_to.products ?? [] } : undefined,
    created: ctx.now(),
    currency: p.currency?.toLowerCase() ?? null,
    duration,
    duration_in_months: duration === 'repeating' ? p.duration_in_months : null,
    livemode: false,
    max_redemptions: p.max_redemptions ?? null,
    metadata: p.metadata || {},
    name: p.name ?? null,
    percent_off: p.percent_off ?? null,
    redeem_by: p.redeem_by ?? null,
    times_redeemed: 0,
    valid: true,
  };
  ctx.put('coupons', coupon);
  ctx.emit('coupon.created', coupon);
  return coupon;
}

const couponDeclaration = { collection: 'coupons', object: 'coupon', prefix: 'coupon', noun: 'coupon', path: '/v1/coupons', permission: 'coupons' };

export const coupons: Resource = {
  ...couponDeclaration,
  operations: standardOperations(couponDeclaration, {
    idParam: 'coupon',
    create: createCoupon,
    update: (ctx, coupon, p) => {
      const next = ctx.edit(coupon);
      return saveUpdate(ctx, 'coupons', next, applyUpdate(next, p), 'coupon.updated');
    },
    del: (ctx, coupon) => {
      return deleteObject(ctx, 'coupons', coupon, 'coupon.deleted');
    },
  }),
};
