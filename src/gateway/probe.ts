/**
 * What a restricted key may do, found by asking Stripe: for each resource a
 * harmless read, and an update of an object that cannot exist (403 means
 * the permission is missing, 404 that it is there). Nothing is changed.
 */
/** Each resource: a read to try, and a write on an object that cannot exist (null: the resource has no update route). */
export const PROBES: [resource: string, read: string, write: string | null][] = [
  ['customers', '/v1/customers?limit=1', '/v1/customers/pb_permission_probe'],
  ['payment_intents', '/v1/payment_intents?limit=1', '/v1/payment_intents/pb_permission_probe'],
  ['charges', '/v1/charges?limit=1', '/v1/charges/pb_permission_probe'],
  ['refunds', '/v1/refunds?limit=1', '/v1/refunds/pb_permission_probe'],
  ['products', '/v1/products?limit=1', '/v1/products/pb_permission_probe'],
  ['prices', '/v1/prices?limit=1', '/v1/prices/pb_permission_probe'],
  ['subscriptions', '/v1/subscriptions?limit=1', '/v1/subscriptions/pb_permission_probe'],
  ['invoices', '/v1/invoices?limit=1', '/v1/invoices/pb_permission_probe'],
  ['payment_methods', '/v1/payment_methods?limit=1&customer=cus_pb_permission_probe', '/v1/payment_methods/pb_permission_probe'],
  ['setup_intents', '/v1/setup_intents?limit=1', '/v1/setup_intents/pb_permission_probe'],
  ['checkout_sessions', '/v1/checkout/sessions?limit=1', '/v1/checkout/sessions/pb_permission_probe/expire'],
  ['payment_links', '/v1/payment_links?limit=1', '/v1/payment_links/pb_permission_probe'],
  ['disputes', '/v1/disputes?limit=1', '/v1/disputes/pb_permission_probe'],
  ['coupons', '/v1/coupons?limit=1', '/v1/coupons/pb_permission_probe'],
  ['webhook_endpoints', '/v1/webhook_endpoints?limit=1', '/v1/webhook_endpoints/pb_permission_probe'],
  ['tax_rates', '/v1/tax_rates?limit=1', '/v1/tax_rates/pb_permission_probe'],
  ['payouts', '/v1/payouts?limit=1', '/v1/payouts/pb_permission_probe'],
  ['transfers', '/v1/transfers?limit=1', '/v1/transfers/pb_permission_probe'],
  ['application_fees', '/v1/application_fees?limit=1', '/v1/application_fees/pb_permission_probe/refunds'],
  ['events', '/v1/events?limit=1', null],
  ['balance', '/v1/balance', null],
];

export async function probePermissions(send: (method: 'GET' | 'POST', path: string) => Promise<number>): Promise<Record<string, 'read' | 'write' | 'none'>> {
  const results = await Promise.all(PROBES.map(async ([resource, read, write]) => {
    if ((await send('GET', read)) === 403) return [resource, 'none'] as const;
    if (!write) return [resource, 'read'] as const;
    return [resource, (await send('POST', write)) === 403 ? 'read' : 'write'] as const;
  }));
  return Object.fromEntries(results);
}
