/**
 * 2020-08-27 stopped embedding a customer's `sources`, `subscriptions` and
 * `tax_ids` (expand them instead), and removed a subscription's single-plan
 * `plan` and `quantity` (its items hold them).
 */
import { embeddedList, where, type VersionChange } from '../change.js';

export const customerLists: VersionChange = {
  version: '2020-08-27',
  title: 'Customers: `sources`, `subscriptions` and `tax_ids` no longer included unless expanded',
  objects: ['customer'],
  down(cus, source) {
    const listed = (key: string, collection: string, url: string) =>
      cus[key] && typeof cus[key] === 'object' ? cus[key] : embeddedList([...where(source, collection, (o) => o.customer === cus.id)].reverse(), url);
    return {
      ...cus,
      sources: listed('sources', 'cards', `/v1/customers/${cus.id}/sources`),
      subscriptions: listed('subscriptions', 'subscriptions', `/v1/customers/${cus.id}/subscriptions`),
      tax_ids: listed('tax_ids', 'tax_ids', `/v1/customers/${cus.id}/tax_ids`),
    };
  },
};

export const subscriptionPlan: VersionChange = {
  version: '2020-08-27',
  title: 'Subscriptions: `plan` and `quantity` removed (items hold them)',
  objects: ['subscription'],
  down(sub) {
    const items = sub.items?.data ?? [];
    return items.length === 1 ? { ...sub, plan: items[0].plan ?? null, quantity: items[0].quantity ?? null } : { ...sub, plan: null, quantity: null };
  },
};
