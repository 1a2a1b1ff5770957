import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
let stripe: Stripe;
harnessPerFile((x) => {
  h = x;
  stripe = x.stripe;
});

const pay = (payment_method: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method, confirm: true, ...extra });

/** Follows next_action.redirect_to_url and presses a button on the sandbox's 3-D Secure page. */
async function authenticate(url: string, outcome: 'complete' | 'fail'): Promise<Response> {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Complete authentication/);
  const action = new RegExp(`action="([^"]+/${outcome})"`).exec(html)![1];
  const returnUrl = /name="return_url" value="([^"]+)"/.exec(html)?.[1];
  const form = new URLSearchParams();
  if (returnUrl) form.set('return_url', returnUrl.replace(/&amp;/g, '&'));
  return fetch(new URL(action, url), { method: 'POST', body: form, redirect: 'manual' });
}

describe('payment intents', () => {
  it('succeeds with 4242 and creates a charge with receipt, card details and a balance transaction', async () => {
    const customer = await stripe.customers.create({ email: 'buyer@example.com' });
    const pi = await pay('pm_card_visa', { customer: customer.id, description: 'Order 42', metadata: { order: '42' } });
    assert.match(pi.id, /^pi_/);
    assert.equal(pi.status, 'succeeded');
    assert.equal(pi.amount_received, 2000);
    assert.match(pi.client_secret!, new RegExp(`^${pi.id}_secret_`));
    const charge = await stripe.charges.retrieve(pi.latest_charge as string, { expand: ['balance_transaction'] });
    assert.equal(charge.status, 'succeeded');
    assert.equal(charge.paid, true);
    assert.equal(charge.captured, true);
    assert.equal(charge.payment_intent, pi.id);
    assert.equal(charge.customer, customer.id);
    assert.equal(charge.payment_method_details?.card?.brand, 'visa');
    assert.equal(charge.payment_method_details?.card?.last4, '4242');
    assert.equal(charge.outcome?.type, 'authorized');
    const txn = charge.balance_transaction as Stripe.BalanceTransaction;
    assert.equal(txn.amount, 2000);
    assert.equal(txn.fee, 88);
    assert.equal(txn.net, 1912);
    const receipt = await fetch(charge.receipt_url!);
    assert.equal(receipt.status, 200);
    assert.match(await receipt.text(), /4242/);
    const nested = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction'] });
    assert.equal(((nested.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction).id, txn.id);
  });

  for (const [card, brand] of [['pm_card_mastercard', 'mastercard'], ['pm_card_amex', 'amex'], ['pm_card_discover', 'discover'], ['pm_card_jcb', 'jcb']]) {
    it(`succeeds with ${card}`, async () => {
      const pi = await pay(card);
      assert.equal(pi.status, 'succeeded');
      const charge = await stripe.charges.retrieve(pi.latest_charge as string);
      assert.equal(charge.payment_method_details?.card?.brand, brand);
    });
  }

  const declines: [string, string, string, string][] = [
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline', 'Your card was declined.'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'],
    ['pm_card_chargeDeclinedLostCard', 'card_declined', 'lost_card', 'Your card was declined.'],
    ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card', 'Your card was declined.'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card', 'Your card has expired.'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'],
  ];
  for (const [card, code, declineCode, message] of declines) {
    it(`declines ${card} with ${declineCode}, records a failed charge and leaves the intent open`, async () => {
      const err = await stripeError(() => pay(card));
      assert.equal(err.type, 'StripeCardError');
      assert.equal(err.statusCode, 402);
      assert.equal(err.code, code);
      assert.equal(err.decline_code, declineCode);
      assert.equal(err.message, message);
      const pi = err.payment_intent!;
      assert.equal(pi.status, 'requires_payment_method');
      assert.equal(pi.last_payment_error?.decline_code, declineCode);
      const stored = await stripe.paymentIntents.retrieve(pi.id);
      assert.equal(stored.status, 'requires_payment_method');
      const charge = await stripe.charges.retrieve(stored.latest_charge as string);
      assert.equal(charge.status, 'failed');
      assert.equal(charge.failure_code, code);
      assert.equal(charge.outcome?.reason, declineCode);
      const events = await stripe.events.list({ type: 'payment_intent.payment_failed', limit: 100 });
      assert.ok(events.data.some((e) => (e.data.object as Stripe.PaymentIntent).id === pi.id));
    });
  }

  it('refuses a card number that fails the Luhn check', async () => {
    const err = await stripeError(() =>
      stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424241', exp_month: 12, exp_year: 2040, cvc: '123' } }),
    );
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, 'incorrect_number');
  });

  it('charges a raw test card number and retries a declined intent with another card', async () => {
    const declined = await stripe.paymentMethods.create({ type: 'card', card: { number: '4000000000000002', exp_month: 12, exp_year: 2040, cvc: '123' } });
    const err = await stripeError(() => pay(declined.id));
    const pi = await stripe.paymentIntents.confirm(err.payment_intent!.id, { payment_method: 'pm_card_visa' });
    assert.equal(pi.status, 'succeeded');
  });

  it('asks for 3-D Secure, then succeeds after authentication on the sandbox page', async () => {
    const pi = await pay('pm_card_threeDSecure2Required', { return_url: 'https://shop.example/return' });
    assert.equal(pi.status, 'requires_action');
    assert.equal(pi.next_action?.type, 'redirect_to_url');
    const res = await authenticate(pi.next_action!.redirect_to_url!.url!, 'complete');
    assert.equal(res.status, 303);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin + location.pathname, 'https://shop.example/return');
    assert.equal(location.searchParams.get('payment_intent'), pi.id);
    assert.equal(location.searchParams.get('redirect_status'), 'succeeded');
    const done = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(done.status, 'succeeded');
    const charge = await stripe.charges.retrieve(done.latest_charge as string);
    assert.equal(charge.payment_method_details?.card?.three_d_secure?.result, 'authenticated');
  });

  it('fails the payment when 3-D Secure authentication fails', async () => {
    const pi = await pay('pm_card_threeDSecure2Required');
    await authenticate(pi.next_action!.redirect_to_url!.url!, 'fail');
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_payment_error?.code, 'payment_intent_authentication_failure');
  });

  it('captures a manual payment partially and releases the rest', async () => {
    const pi = await pay('pm_card_visa', { capture_method: 'manual', amount: 5000 });
    assert.equal(pi.status, 'requires_capture');
    assert.equal(pi.amount_capturable, 5000);
    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 3000 });
    assert.equal(captured.status, 'succeeded');
    assert.equal(captured.amount_received, 3000);
    const charge = await stripe.charges.retrieve(captured.latest_charge as string);
    assert.equal(charge.amount_captured, 3000);
    assert.equal(charge.amount_refunded, 2000);
    const again = await stripeError(() => stripe.paymentIntents.capture(pi.id));
    assert.equal(again.code, 'payment_intent_unexpected_state');
  });

  it('cancels an uncaptured payment and refuses to cancel a succeeded one', async () => {
    const pi = await pay('pm_card_visa', { capture_method: 'manual' });
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.cancellation_reason, 'requested_by_customer');
    const done = await pay('pm_card_visa');
    const err = await stripeError(() => stripe.paymentIntents.cancel(done.id));
    assert.equal(err.code, 'payment_intent_unexpected_state');
  });

  it('creates, updates and confirms in separate steps', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', automatic_payment_methods: { enabled: true } });
    assert.equal(pi.status, 'requires_payment_method');
    const missing = await stripeError(() => stripe.paymentIntents.confirm(pi.id));
    assert.equal(missing.code, 'payment_intent_unexpected_state');
    const updated = await stripe.paymentIntents.update(pi.id, { amount: 1500, payment_method: 'pm_card_visa' });
    assert.equal(updated.status, 'requires_confirmation');
    const confirmed = await stripe.paymentIntents.confirm(pi.id);
    assert.equal(confirmed.status, 'succeeded');
    assert.equal(confirmed.amount_received, 1500);
  });

  it('enforces currency minimums', async () => {
    const err = await stripeError(() => stripe.paymentIntents.create({ amount: 49, currency: 'usd' }));
    assert.equal(err.code, 'amount_too_small');
    assert.equal(err.param, 'amount');
    assert.equal(err.message, 'Amount must be at least $0.50 usd');
    const gbp = await stripe.paymentIntents.create({ amount: 30, currency: 'gbp' });
    assert.equal(gbp.amount, 30);
  });

  it('searches payment intents', async () => {
    const tag = `t${Date.now()}`;
    const pi = await pay('pm_card_visa', { metadata: { tag } });
    const found = await stripe.paymentIntents.search({ query: `metadata['tag']:'${tag}' AND status:'succeeded'` });
    assert.deepEqual(found.data.map((p) => p.id), [pi.id]);
  });
});

describe('refunds, balance and disputes', () => {
  it('refunds partially, then fully, then refuses an over-refund', async () => {
    const pi = await pay('pm_card_visa', { amount: 3000 });
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    assert.match(r1.id, /^re_/);
    assert.equal(r1.status, 'succeeded');
    assert.equal(r1.amount, 1000);
    const over = await stripeError(() => stripe.refunds.create({ charge: pi.latest_charge as string, amount: 2500 }));
    assert.equal(over.statusCode, 400);
    assert.equal(over.param, 'amount');
    assert.match(over.message, /greater than unrefunded amount on charge \(\$20\.00\)/);
    const r2 = await stripe.refunds.create({ charge: pi.latest_charge as string });
    assert.equal(r2.amount, 2000);
    const charge = await stripe.charges.retrieve(pi.latest_charge as string, { expand: ['refunds'] });
    assert.equal(charge.refunded, true);
    assert.equal(charge.amount_refunded, 3000);
    assert.equal(charge.refunds?.data.length, 2);
    const done = await stripeError(() => stripe.refunds.create({ charge: charge.id }));
    assert.equal(done.code, 'charge_already_refunded');
    const listed = await stripe.refunds.list({ payment_intent: pi.id });
    assert.equal(listed.data.length, 2);
  });

  it('reports the balance from balance transactions', async () => {
    const before = await stripe.balance.retrieve();
    const usd = (b: Stripe.Balance, k: 'available' | 'pending') => b[k].find((x) => x.currency === 'usd')!.amount;
    await pay('pm_card_visa', { amount: 10000 });
    await pay('pm_card_bypassPending', { amount: 10000 });
    const after = await stripe.balance.retrieve();
    assert.equal(usd(after, 'pending') - usd(before, 'pending'), 10000 - 320);
    assert.equal(usd(after, 'available') - usd(before, 'available'), 10000 - 320);
    const txns = await stripe.balanceTransactions.list({ limit: 3 });
    assert.ok(txns.data.every((t) => t.object === 'balance_transaction'));
  });

  it('opens a dispute for the dispute test card', async () => {
    const pi = await pay('pm_card_createDispute');
    assert.equal(pi.status, 'succeeded');
    const disputes = await stripe.disputes.list({ payment_intent: pi.id });
    assert.equal(disputes.data.length, 1);
    const dispute = disputes.data[0];
    assert.match(dispute.id, /^dp_/);
    assert.equal(dispute.status, 'needs_response');
    assert.equal(dispute.reason, 'fraudulent');
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    assert.equal(charge.disputed, true);
    const won = await stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    assert.equal(won.status, 'won');
    const events = await stripe.events.list({ type: 'charge.dispute.*' });
    assert.ok(events.data.some((e) => e.type === 'charge.dispute.created'));
  });
});

describe('saving cards and charging later', () => {
  it('sets up a 3-D Secure card once and then charges it off-session', async () => {
    const customer = await stripe.customers.create({ email: 'later@example.com' });
    const si = await stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_authenticationRequiredOnSetup', confirm: true, usage: 'off_session' });
    assert.equal(si.status, 'requires_action');
    await authenticate(si.next_action!.redirect_to_url!.url!, 'complete');
    const done = await stripe.setupIntents.retrieve(si.id);
    assert.equal(done.status, 'succeeded');
    const pm = await stripe.paymentMethods.retrieve(done.payment_method as string);
    assert.equal(pm.customer, customer.id);
    const charge = await stripe.paymentIntents.create({ amount: 4999, currency: 'usd', customer: customer.id, payment_method: pm.id, confirm: true, off_session: true });
    assert.equal(charge.status, 'succeeded');
  });

  it('refuses an off-session charge that needs authentication', async () => {
    const customer = await stripe.customers.create();
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
    const err = await stripeError(() => stripe.paymentIntents.create({ amount: 999, currency: 'usd', customer: customer.id, payment_method: pm.id, confirm: true, off_session: true }));
    assert.equal(err.code, 'authentication_required');
    assert.equal(err.decline_code, 'authentication_required');
    assert.equal(err.payment_intent?.status, 'requires_payment_method');
  });

  it('attaches pm_card_chargeCustomerFail, then every charge on it fails', async () => {
    const customer = await stripe.customers.create();
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    assert.equal(pm.customer, customer.id);
    const err = await stripeError(() => stripe.paymentIntents.create({ amount: 999, currency: 'usd', customer: customer.id, payment_method: pm.id, confirm: true, off_session: true }));
    assert.equal(err.code, 'card_declined');
    assert.equal(err.decline_code, 'generic_decline');
  });

  it('refuses to attach a card that declines', async () => {
    const customer = await stripe.customers.create();
    const err = await stripeError(() => stripe.paymentMethods.attach('pm_card_chargeDeclined', { customer: customer.id }));
    assert.equal(err.statusCode, 402);
    assert.equal(err.decline_code, 'generic_decline');
  });

  it('saves a card with setup_future_usage and detaches it', async () => {
    const customer = await stripe.customers.create();
    const pi = await pay('pm_card_mastercard', { customer: customer.id, setup_future_usage: 'off_session' });
    const pm = await stripe.paymentMethods.retrieve(pi.payment_method as string);
    assert.equal(pm.customer, customer.id);
    const detached = await stripe.paymentMethods.detach(pm.id);
    assert.equal(detached.customer, null);
  });
});

describe('events', () => {
  it('records every state change as an event with Stripe types', async () => {
    const customer = await stripe.customers.create({ email: 'events@example.com' });
    await stripe.customers.update(customer.id, { name: 'Evie' });
    const pi = await pay('pm_card_visa', { customer: customer.id });
    const events = await stripe.events.list({ limit: 100 });
    const types = events.data.filter((e) => {
      const o = e.data.object as { id?: string; customer?: string };
      return o.id === customer.id || o.id === pi.id || o.customer === customer.id;
    }).map((e) => e.type);
    for (const t of ['customer.created', 'customer.updated', 'payment_intent.created', 'payment_intent.succeeded', 'charge.succeeded']) {
      assert.ok((types as string[]).includes(t), `missing ${t} in ${types.join(',')}`);
    }
    const updated = events.data.find((e) => e.type === 'customer.updated' && (e.data.object as Stripe.Customer).id === customer.id)!;
    assert.deepEqual(updated.data.previous_attributes, { name: null });
    const one = await stripe.events.retrieve(updated.id);
    assert.equal(one.id, updated.id);
    assert.match(one.id, /^evt_/);
    assert.equal(one.api_version, '2026-10-28.endive');
  });
});

describe('Radar test cards', () => {
  it('blocks the highest-risk cards and passes the elevated-risk card with its risk level', async () => {
    const stripe = h.stripe;
    for (const pm of ['pm_card_riskLevelHighest', 'pm_card_chargeDeclinedFraudulent']) {
      const e = await stripeError(() => stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: pm, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } }));
      assert.equal(e.code, 'card_declined', pm);
      assert.equal(e.decline_code, 'fraudulent', pm);
      const charge = await stripe.charges.retrieve((e.raw as { charge: string }).charge);
      assert.deepEqual([charge.outcome?.type, charge.outcome?.risk_level], ['blocked', 'highest'], pm);
    }
    const elevated = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_riskLevelElevated', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, expand: ['latest_charge'] });
    assert.equal(elevated.status, 'succeeded');
    assert.equal((elevated.latest_charge as Stripe.Charge).outcome?.risk_level, 'elevated');
    const byNumber = await stripe.paymentMethods.create({ type: 'card', card: { number: '4000000000009235', exp_month: 12, exp_year: 2034, cvc: '123' } });
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: byNumber.id, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, expand: ['latest_charge'] });
    assert.equal((pi.latest_charge as Stripe.Charge).outcome?.risk_level, 'elevated');
  });
});
