/**
 * 2025-09-30.clover replaced a Discount's embedded `coupon` (the Coupon
 * itself) with `source` (`{type: 'coupon', coupon: <id>}`).
 */
import { embeddedCoupon, without, type VersionChange } from '../change.js';

export const discountSource: VersionChange = {
  version: '2025-09-30.clover',
  title: 'Discounts: `coupon` (the Coupon, embedded) replaced by `source.coupon` (its id)',
  objects: ['discount'],
  down(discount, source) {
    const coupon = embeddedCoupon(discount.source?.coupon, source);
    return { ...without(discount, 'source'), coupon };
  },
};
