/** A broad integration flow through the API, shared by the tests that look at everything the sandbox serves. */
import type Stripe from 'stripe';

/**
 * Every object a 2023-08-16 integration meets, made through the API. Cards only: by `payment_method_types`
 * before 2026-09-30.endive (`version`, the client's), by `allowed_payment_method_types` since.
 */
export async function objectsOfEveryKind(s: Stripe, version: string): Promise<[string, unknown][]> {
  const cards = version < '2026-09-30' ? { payment_method_types: ['card'] } : { allowed_payment_method_types: ['card'] };
  const customer = await s.customers.create({ email: 'spec@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' }, tax_id_data: [{ type: 'eu_vat', value: 'DE123456789' }] });
  const product = await s.products.create({ name: 'Spec' });
  const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000 });
  const recurring = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 500, recurring: { interval: 'month' } });
  const plan = await s.plans.create({ product: product.id, currency: 'usd', amount: 700, interval: 'month' });
  const coupon = await s.coupons.create({ percent_off: 10 });
  const promotionCode = await s.promotionCodes.create({ coupon: coupon.id } as unknown as Stripe.PromotionCodeCreateParams);
  const pm = await s.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: 2040, cvc: '314' } });
  const disputed = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true, ...cards } as Stripe.PaymentIntentCreateParams);
  const pi = await s.paymentIntents.create({ amount: 20000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, ...cards } as Stripe.PaymentIntentCreateParams);
  const si = await s.setupIntents.create({ payment_method: 'pm_card_visa', ...cards } as Stripe.SetupIntentCreateParams);
  const charge = await s.charges.retrieve(pi.latest_charge as string);
  const refund = await s.refunds.create({ payment_intent: pi.id, amount: 100 });
  const txn = await s.balanceTransactions.retrieve(charge.balance_transaction as string);
  const dispute = (await s.disputes.list({ payment_intent: disputed.id })).data[0];
  const token = await s.tokens.create({ card: { number: '4242424242424242', exp_month: '1', exp_year: '2040', cvc: '314' } } as Stripe.TokenCreateParams);
  const withCard = await s.customers.create({ source: 'tok_visa' });
  const card = await s.customers.retrieveSource(withCard.id, withCard.default_source as string);
  const legacy = await s.charges.create({ amount: 900, currency: 'usd', source: 'tok_visa' });
  const taxRate = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false });
  const subscription = await s.subscriptions.create({ customer: customer.id, items: [{ price: recurring.id, tax_rates: [taxRate.id] }] });
  const invoice = await s.invoices.retrieve(subscription.latest_invoice as string);
  const invoiceitem = await s.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd' });
  const clock = await s.testHelpers.testClocks.create({ frozen_time: 2_000_000_000 });
  const endpoint = await s.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['*'] });
  const session = await s.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com', line_items: [{ price: price.id, quantity: 1 }] });
  const lineItems = await s.checkout.sessions.listLineItems(session.id);
  const link = await s.paymentLinks.create({ line_items: [{ price: price.id, quantity: 1 }] });
  const account = await s.accounts.create({ type: 'express' });
  // Connect's money (issue 20): an onboarded account, a destination charge with a fee, a transfer, their refunds.
  const seller = await s.accounts.create({
    type: 'custom', country: 'US', business_type: 'individual', business_profile: { mcc: '5734', url: 'https://accessible.stripe.com' },
    individual: { first_name: 'Jenny', last_name: 'Rosen', email: 'seller@example.com' }, external_account: 'btok_us_verified',
    tos_acceptance: { date: 1_700_000_000, ip: '127.0.0.1' }, capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
  });
  const destination = await s.paymentIntents.create({
    amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, application_fee_amount: 500, transfer_data: { destination: seller.id }, ...cards,
  } as Stripe.PaymentIntentCreateParams);
  const applicationFee = await s.applicationFees.retrieve((await s.charges.retrieve(destination.latest_charge as string)).application_fee as string);
  const feeRefund = await s.applicationFees.createRefund(applicationFee.id, { amount: 100 });
  const transfer = await s.transfers.create({ amount: 1000, currency: 'usd', destination: seller.id, transfer_group: 'spec' });
  const reversal = await s.transfers.createReversal(transfer.id, { amount: 100 });
  const accountLink = await s.accountLinks.create({ account: account.id, type: 'account_onboarding', refresh_url: 'https://example.com/refresh', return_url: 'https://example.com/return' });
  const loginLink = await s.accounts.createLoginLink(account.id);
  const accountSession = await s.accountSessions.create({ account: seller.id, components: { account_onboarding: { enabled: true } } });
  const capability = (await s.accounts.listCapabilities(seller.id)).data[0];
  const bankAccount = seller.external_accounts!.data[0];
  const payout = await s.payouts.create({ amount: 500, currency: 'usd' });
  const credit = await s.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd' });
  const taxIds = await s.customers.listTaxIds(customer.id);
  const events = await s.events.list({ limit: 100 });
  const eventOf = (type: string) => events.data.find((e) => e.type === type);
  return [
    ['customer', customer], ['product', product], ['price', price], ['price', recurring], ['plan', plan], ['coupon', coupon], ['promotion_code', promotionCode],
    ['payment_method', pm], ['payment_intent', pi], ['payment_intent', disputed], ['setup_intent', si], ['charge', charge], ['charge', legacy], ['refund', refund],
    ['balance_transaction', txn], ['dispute', dispute], ['token', token], ['card', card], ['tax_rate', taxRate], ['subscription', subscription],
    ['subscription_item', subscription.items.data[0]], ['invoice', invoice], ['line_item', invoice.lines.data[0]], ['invoiceitem', invoiceitem],
    ['test_helpers.test_clock', clock], ['webhook_endpoint', endpoint], ['checkout.session', session], ['item', lineItems.data[0]], ['payment_link', link],
    ['account', account], ['payout', payout], ['customer_balance_transaction', credit], ['tax_id', taxIds.data[0]], ['balance', await s.balance.retrieve()],
    ['event', eventOf('customer.created')], ['event', eventOf('invoice.paid')], ['event', eventOf('charge.dispute.created')],
    ['account', seller], ['application_fee', applicationFee], ['fee_refund', feeRefund], ['transfer', transfer], ['transfer_reversal', reversal],
    ['account_link', accountLink], ['login_link', loginLink], ['account_session', accountSession], ['capability', capability], ['bank_account', bankAccount],
    ['event', eventOf('transfer.created')], ['event', eventOf('application_fee.created')],
  ];
}

