/**
 * 2025-09-30.clover moved a promotion code's `coupon` (the Coupon itself,
 * embedded) to `promotion.coupon` (its id, unexpanded), in a polymorphic
 * `promotion` hash.
 */
import { embeddedCoupon, without, type VersionChange } from '../change.js';

export const promotionCoupon: VersionChange = {
  version: '2025-09-30.clover',
  title: 'Promotion codes: `coupon` moved to `promotion.coupon`',
  objects: ['promotion_code'],
  down(code, source) {
    const coupon = embeddedCoupon(code.promotion?.coupon, source);
    return { ...without(code, 'promotion'), coupon };
  },
};
