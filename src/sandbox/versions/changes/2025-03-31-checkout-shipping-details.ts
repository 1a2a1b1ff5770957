/** 2025-03-31.basil removed `shipping_details` from Checkout Sessions (`collected_information.shipping_details` instead). */
import type { VersionChange } from '../change.js';

export const checkoutShippingDetails: VersionChange = {
  version: '2025-03-31.basil',
  title: 'Checkout Sessions: `shipping_details` removed (`collected_information.shipping_details` instead)',
  objects: ['checkout.session'],
  down: (s) => ({ ...s, shipping_details: s.collected_information?.shipping_details ?? null }),
};
