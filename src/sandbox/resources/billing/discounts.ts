/**
 * Coupons applied as discounts (to subscriptions, invoices and Checkout
 * Sessions), and promotion codes: the customer-facing codes for coupons.
 */
import { invalidRequest } from '../../../stripe/errors.js';
import type { Ctx } from '../../engine/context.js';
import { newId, randomText } from '../../../stripe/ids.js';
import { applyUpdate, equals, patchSpec, saveUpdate, standardOperations, type Params, type Resource } from '../../engine/resource.js';
import type { StripeObject } from '../../store/collection.js';

export interface DiscountTarget {
  customer?: string | null;
  subscription?: string | null;
  invoice?: string | null;
  checkout_session?: string | null;
}

function redeemable(ctx: Ctx, coupon: StripeObject, param: string): void {
  const exhausted = coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions;
  const expired = coupon.redeem_by !== null && coupon.redeem_by < ctx.now();
  if (!coupon.valid || exhausted || expired) {
    throw invalidRequest(`Coupon expired: ${coupon.id}`, { param, code: 'coupon_expired' });
  }
}

function checkPromotionCode(ctx: Ctx, promo: StripeObject, customer: string | null | undefined, param: string): void {
  const exhausted = promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions;
  const expired = promo.expires_at !== null && promo.expires_at < ctx.now();
  if (!promo.active || exhausted || expired) {
    throw invalidRequest(`This promotion code cannot be redeemed: ${promo.code}`, { param, code: 'promotion_code_invalid' });
  }
  if (promo.customer && promo.customer !== customer) {
    throw invalidRequest('This promotion code cannot be redeemed because the associated customer does not match.', { param, code: 'promotion_code_invalid' });
  }
}

/** Counts a redemption on the coupon and on the promotion code, if any. */
function redeem(ctx: Ctx, coupon: StripeObject, promo: StripeObject | null): void {
  const nextCoupon = ctx.edit(coupon);
  nextCoupon.times_redeemed += 1;
  if (nextCoupon.max_redemptions !== null && nextCoupon.times_redeemed >= nextCoupon.max_redemptions) nextCoupon.valid = false;
  ctx.put('coupons', nextCoupon);
  if (promo) {
    const nextPromo = ctx.edit(promo);
    nextPromo.times_redeemed += 1;
    ctx.put('promotion_codes', nextPromo);
  }
}

/** The end of a discount, from its coupon's duration. */
function discountEnd(coupon: StripeObject, start: number): number | null {
  if (coupon.duration !== 'repeating') return null;
  const d = new Date(start * 1000);
  d.setUTCMonth(d.getUTCMonth() + coupon.duration_in_months);
  return Math.floor(d.getTime() / 1000);
}

/**
 * Turns `discounts: [{coupon} | {promotion_code} | {discount}]` (and the
 * older top-level `coupon` / `promotion_code`) into stored Discount objects.
 */
export function applyDiscounts(ctx: Ctx, p: Params, target: DiscountTarget): string[] {
  const requested: Params[] = Array.isArray(p.discounts) ? [...p.discounts] : [];
  if (p.coupon) requested.push({ coupon: p.coupon });
  if (p.promotion_code) requested.push({ promotion_code: p.promotion_code });
  const ids: string[] = [];
  requested.forEach((d, i) => {
    const param = Array.isArray(p.discounts) && i < p.discounts.length ? `discounts[${i}]` : d.coupon ? 'coupon' : 'promotion_code';
    if (d.discount) {
      ctx.require('discounts', d.discount, 'discount', `${param}[discount]`);
      ids.push(d.discount);
      return;
    }
    let promo: StripeObject | null = null;
    let couponId = d.coupon;
    if (d.promotion_code) {
      promo = ctx.require('promotion_codes', d.promotion_code, 'promotion code', `${param}[promotion_code]`);
      checkPromotionCode(ctx, promo, target.customer, `${param}[promotion_code]`);
      couponId = promo.promotion.coupon;
    }
    if (!couponId) return;
    const coupon = ctx.require('coupons', couponId, 'coupon', `${param}[coupon]`);
    redeemable(ctx, coupon, `${param}[coupon]`);
    redeem(ctx, coupon, promo);
    const discount: StripeObject = {
      id: newId('di'),
      object: 'discount',
      checkout_session: target.checkout_session ?? null,
      customer: target.customer ?? null,
      customer_account: null,
      end: discountEnd(coupon, ctx.now()),
      invoice: target.invoice ?? null,
      invoice_item: null,
      promotion_code: promo?.id ?? null,
      source: { coupon: coupon.id, type: 'coupon' },
      start: ctx.now(),
      subscription: target.subscription ?? null,
      subscription_item: null,
    };
    ctx.put('discounts', discount);
    ids.push(discount.id);
  });
  if (new Set(ids).size !== ids.length) throw invalidRequest('You cannot apply the same discount twice.', { param: 'discounts' });
  return ids;
}

/** How much `discountIds` take off `amount` (in `currency`), discount by discount. */
export function discountAmounts(ctx: Ctx, discountIds: string[], amount: number, currency: string): { amount: number; discount: string }[] {
  let remaining = amount;
  const out: { amount: number; discount: string }[] = [];
  for (const id of discountIds) {
    const discount = ctx.get('discounts', id);
    const coupon = discount && ctx.get('coupons', discount.source.coupon);
    if (!discount || !coupon) continue;
    if (discount.end !== null && discount.end <= ctx.now()) continue;
    let off = 0;
    if (coupon.percent_off !== null) off = Math.round((remaining * coupon.percent_off) / 100);
    else if (coupon.amount_off !== null && coupon.currency === currency) off = Math.min(coupon.amount_off, remaining);
    remaining -= off;
    out.push({ amount: off, discount: id });
  }
  return out;
}

/** Discounts whose coupon lasts only once drop off after their first invoice. */
export function remainingDiscounts(ctx: Ctx, discountIds: string[]): string[] {
  return discountIds.filter((id) => {
    const discount = ctx.get('discounts', id);
    const coupon = discount && ctx.get('coupons', discount.source.coupon);
    return coupon && coupon.duration !== 'once' && (discount!.end === null || discount!.end > ctx.now());
  });
}

function createPromotionCode(ctx: Ctx, p: Params): StripeObject {
  const couponId = p.promotion?.coupon ?? p.coupon;
  if (!couponId) throw invalidRequest('Missing required param: promotion[coupon].', { param: 'promotion[coupon]', code: 'parameter_missing' });
  ctx.require('coupons', couponId, 'coupon', p.promotion ? 'promotion[coupon]' : 'coupon');
  if (p.customer) ctx.require('customers', p.customer, 'customer', 'customer');
  const code = p.code ?? randomText(8).toUpperCase();
  for (const other of ctx.collection('promotion_codes').descending()) {
    if (other.active && other.code.toLowerCase() === code.toLowerCase()) {
      throw invalidRequest(`An active promotion code with \`code: ${code}\` already exists.`, { param: 'code', code: 'resource_already_exists' });
    }
  }
  const promo: StripeObject = {
    id: newId('promo'),
    object: 'promotion_code',
    active: p.active ?? true,
    code,
    created: ctx.now(),
    customer: p.customer ?? null,
    customer_account: null,
    expires_at: p.expires_at ?? null,
    livemode: false,
    max_redemptions: p.max_redemptions ?? null,
    metadata: p.metadata || {},
    promotion: { coupon: couponId, type: 'coupon' },
    restrictions: {
      currency_options: {},
      first_time_transaction: p.restrictions?.first_time_transaction ?? false,
      minimum_amount: p.restrictions?.minimum_amount ?? null,
      minimum_amount_currency: p.restrictions?.minimum_amount_currency ?? null,
    },
    times_redeemed: 0,
  };
  ctx.put('promotion_codes', promo);
  ctx.emit('promotion_code.created', promo);
  return promo;
}

const declaration = {
  collection: 'promotion_codes', object: 'promotion_code', prefix: 'promo', noun: 'promotion code', path: '/v1/promotion_codes', permission: 'promotion_codes',
  listFilters: {
    active: equals('active'),
    code: (v: string) => (o: StripeObject) => o.code.toLowerCase() === v.toLowerCase(),
    coupon: (v: string) => (o: StripeObject) => o.promotion.coupon === v,
    customer: equals('customer'),
  },
};

export const promotionCodes: Resource = {
  ...declaration,
  operations: patchSpec(standardOperations(declaration, {
    idParam: 'promotion_code',
    create: createPromotionCode,
    update: (ctx, promo, p) => {
      const next = ctx.edit(promo);
      return saveUpdate(ctx, 'promotion_codes', next, applyUpdate(next, p, ['restrictions']), 'promotion_code.updated');
    },
  }), 'POST', '/v1/promotion_codes', {
    add: { promotion: { t: 'o', p: { coupon: { t: 's' }, type: { t: 's', e: ['coupon'] } }, r: ['type'] } },
    optional: ['coupon'],
  }),
};

export const discounts: Resource = {
  collection: 'discounts', object: 'discount', prefix: 'di', noun: 'discount', path: '/v1/discounts', permission: 'coupons', operations: [],
};
