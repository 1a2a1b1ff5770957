/**
 * `paybridge trigger <event>`: makes the API calls that produce an event,
 * like `stripe trigger`. Each fixture is a short script against the SDK;
 * the event then reaches webhook endpoints and `paybridge listen` as usual.
 */
import type Stripe from 'stripe';

type Fixture = (stripe: Stripe) => Promise<unknown>;

const customer = (stripe: Stripe) => stripe.customers.create({ email: 'trigger@example.com', description: '(created by paybridge trigger)' });
const pay = (stripe: Stripe, payment_method: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method, confirm: true, description: '(created by paybridge trigger)', ...extra });
const declined = async (fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (e) {
    if ((e as { type?: string }).type !== 'StripeCardError') throw e;
  }
};
async function subscription(stripe: Stripe, pm = 'pm_card_visa', extra: Partial<Stripe.SubscriptionCreateParams> = {}) {
  const price = await stripe.prices.create({ currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'Trigger plan' } });
  const c = await stripe.customers.create({ email: 'trigger@example.com', payment_method: pm, invoice_settings: { default_payment_method: pm } });
  return stripe.subscriptions.create({ customer: c.id, items: [{ price: price.id }], ...extra });
}
async function checkoutSession(stripe: Stripe) {
  return stripe.checkout.sessions.create({
    mode: 'payment',
    success_url: 'https://example.com/success',
    line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 3000, product_data: { name: 'T-shirt' } } }],
  });
}

export const FIXTURES: Record<string, Fixture> = {
  'customer.created': customer,
  'customer.updated': async (s) => s.customers.update((await customer(s)).id, { name: 'Jenny Rosen' }),
  'customer.deleted': async (s) => s.customers.del((await customer(s)).id),
  'product.created': (s) => s.products.create({ name: 'Trigger product' }),
  'price.created': (s) => s.prices.create({ currency: 'usd', unit_amount: 1000, product_data: { name: 'Trigger product' } }),
  'coupon.created': (s) => s.coupons.create({ percent_off: 10 }),
  'payment_method.attached': async (s) => s.paymentMethods.attach('pm_card_visa', { customer: (await customer(s)).id }),
  'payment_intent.created': (s) => s.paymentIntents.create({ amount: 2000, currency: 'usd' }),
  'payment_intent.succeeded': (s) => pay(s, 'pm_card_visa'),
  'payment_intent.payment_failed': (s) => declined(() => pay(s, 'pm_card_chargeDeclined')),
  'payment_intent.requires_action': (s) => pay(s, 'pm_card_threeDSecure2Required', { return_url: 'https://example.com/return' }),
  'payment_intent.canceled': async (s) => s.paymentIntents.cancel((await s.paymentIntents.create({ amount: 2000, currency: 'usd' })).id),
  'payment_intent.amount_capturable_updated': (s) => pay(s, 'pm_card_visa', { capture_method: 'manual' }),
  'charge.succeeded': (s) => pay(s, 'pm_card_visa'),
  'charge.failed': (s) => declined(() => pay(s, 'pm_card_chargeDeclined')),
  'charge.captured': async (s) => s.paymentIntents.capture((await pay(s, 'pm_card_visa', { capture_method: 'manual' })).id),
  'charge.refunded': async (s) => s.refunds.create({ payment_intent: (await pay(s, 'pm_card_visa')).id }),
  'refund.created': async (s) => s.refunds.create({ payment_intent: (await pay(s, 'pm_card_visa')).id }),
  'charge.dispute.created': (s) => pay(s, 'pm_card_createDispute'),
  'setup_intent.created': (s) => s.setupIntents.create({}),
  'setup_intent.succeeded': (s) => s.setupIntents.create({ payment_method: 'pm_card_visa', confirm: true }),
  'setup_intent.setup_failed': (s) => declined(() => s.setupIntents.create({ payment_method: 'pm_card_chargeDeclined', confirm: true })),
  'customer.subscription.created': (s) => subscription(s),
  'customer.subscription.updated': async (s) => s.subscriptions.update((await subscription(s)).id, { metadata: { triggered: 'true' } }),
  'customer.subscription.deleted': async (s) => s.subscriptions.cancel((await subscription(s)).id),
  'customer.subscription.trial_will_end': async (s) => {
    const clock = await s.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000) });
    const price = await s.prices.create({ currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'Trigger plan' } });
    const c = await s.customers.create({ test_clock: clock.id, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    await s.subscriptions.create({ customer: c.id, items: [{ price: price.id }], trial_period_days: 7 });
    return s.testHelpers.testClocks.advance(clock.id, { frozen_time: clock.frozen_time + 5 * 86_400 });
  },
  'invoice.created': (s) => subscription(s),
  'invoice.finalized': (s) => subscription(s),
  'invoice.paid': (s) => subscription(s),
  'invoice.payment_succeeded': (s) => subscription(s),
  'invoice.payment_failed': (s) => subscription(s, 'pm_card_chargeCustomerFail'),
  'checkout.session.completed': async (s) => {
    const session = await checkoutSession(s);
    return s.rawRequest('POST', `/_sandbox/checkout/${session.id}/complete`, { card_number: '4242424242424242' });
  },
  'checkout.session.expired': async (s) => s.checkout.sessions.expire((await checkoutSession(s)).id),
  'payment_link.created': async (s) => {
    const price = await s.prices.create({ currency: 'usd', unit_amount: 1000, product_data: { name: 'Trigger product' } });
    return s.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  },
};

export async function trigger(stripe: Stripe, event: string): Promise<void> {
  const fixture = FIXTURES[event];
  if (!fixture) {
    throw new Error(`trigger does not know how to produce '${event}'. Supported events:\n  ${Object.keys(FIXTURES).sort().join('\n  ')}`);
  }
  await fixture(stripe);
}
