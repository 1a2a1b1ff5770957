/** 2022-08-01 renamed a Checkout Session's `shipping` to `shipping_details`. */
import { without, type VersionChange } from '../change.js';

export const checkoutShipping: VersionChange = {
  version: '2022-08-01',
  title: 'Checkout Sessions: `shipping` renamed `shipping_details`',
  objects: ['checkout.session'],
  down: (s) => ({ ...without(s, 'shipping_details'), shipping: s.shipping_details ?? null }),
};
