/**
 * Connect fund flows (issue 20) through the official SDK: direct charges
 * with an application fee, destination charges (with a fee, or with a
 * transfer amount), separate charges and transfers, refunds that reverse the
 * transfer and refund the fee, fee refunds, payouts, and onboarding by an
 * account link. Every balance is asserted to the cent, on both sides. The
 * card 4000000000000077 (`pm_card_bypassPending`) makes funds available at
 * once, so the available balances tell the whole story; card fees are
 * Stripe's 2.9% + 30¢ (320 on 100.00).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

const BYPASS = 'pm_card_bypassPending';
const noRedirects = { enabled: true, allow_redirects: 'never' as const };

/** An account whose creation already gives what Stripe requires: it takes payments and transfers at once. */
async function onboarded(extra: Partial<Stripe.AccountCreateParams> = {}): Promise<Stripe.Account> {
  return h.stripe.accounts.create({
    type: 'custom', country: 'US', email: 'seller@example.com', business_type: 'individual',
    business_profile: { mcc: '5734', url: 'https://accessible.stripe.com' },
    individual: { first_name: 'Jenny', last_name: 'Rosen', email: 'seller@example.com' },
    external_account: 'btok_us_verified', tos_acceptance: { date: Math.floor(Date.now() / 1000), ip: '127.0.0.1' },
    capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    ...extra,
  });
}

/** Available and pending USD of the platform (no account) or a connected account. */
async function usd(account?: string): Promise<{ available: number; pending: number }> {
  const b = await h.stripe.balance.retrieve(undefined, account ? { stripeAccount: account } : undefined);
  return { available: b.available.find((x) => x.currency === 'usd')?.amount ?? 0, pending: b.pending.find((x) => x.currency === 'usd')?.amount ?? 0 };
}

/** Balance changes since `before`, as [platform, account]. */
async function moved(before: [number, number], account: string): Promise<[number, number]> {
  return [(await usd()).available - before[0], (await usd(account)).available - before[1]];
}
const now = async (account: string): Promise<[number, number]> => [(await usd()).available, (await usd(account)).available];

describe('direct charges with an application fee', () => {
  it('charges on the account, pays the platform its fee, and refunds the fee in proportion when asked', async () => {
    const acct = await onboarded();
    const start = await now(acct.id);
    const pi = await h.stripe.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method: BYPASS, confirm: true, application_fee_amount: 1000, automatic_payment_methods: noRedirects, expand: ['latest_charge'] }, { stripeAccount: acct.id });
    const charge = pi.latest_charge as Stripe.Charge;
    assert.match(String(charge.application_fee), /^fee_/);
    assert.equal(charge.application_fee_amount, 1000);
    assert.deepEqual(await moved(start, acct.id), [1000, 10_000 - 320 - 1000]);
    const txn = await h.stripe.balanceTransactions.retrieve(charge.balance_transaction as string, undefined, { stripeAccount: acct.id });
    assert.deepEqual(txn.fee_details.map((d) => [d.type, d.amount]), [['stripe_fee', 320], ['application_fee', 1000]]);
    const fee = await h.stripe.applicationFees.retrieve(charge.application_fee as string);
    assert.deepEqual([fee.account, fee.charge, fee.amount, fee.originating_transaction], [acct.id, charge.id, 1000, null]);
    const platformTxn = await h.stripe.balanceTransactions.retrieve(fee.balance_transaction as string);
    assert.deepEqual([platformTxn.type, platformTxn.net, platformTxn.reporting_category], ['application_fee', 1000, 'platform_earning']);

    // A quarter refunded with the fee: a quarter of the fee goes back to the account.
    await h.stripe.refunds.create({ payment_intent: pi.id, amount: 2500, refund_application_fee: true }, { stripeAccount: acct.id });
    assert.deepEqual(await moved(start, acct.id), [750, 8680 - 2500 + 250]);
    // Another quarter without it: the platform keeps its fee.
    await h.stripe.refunds.create({ payment_intent: pi.id, amount: 2500 }, { stripeAccount: acct.id });
    assert.deepEqual(await moved(start, acct.id), [750, 6430 - 2500]);
    // The rest with the fee: all that is left of the fee, whatever the proportion.
    await h.stripe.refunds.create({ payment_intent: pi.id, refund_application_fee: true }, { stripeAccount: acct.id });
    assert.deepEqual(await moved(start, acct.id), [0, 3930 - 5000 + 750]);
    const after = await h.stripe.applicationFees.retrieve(fee.id);
    assert.deepEqual([after.amount_refunded, after.refunded, after.refunds.data.length], [1000, true, 2]);
    const types = (await h.stripe.events.list({ limit: 30 })).data.map((e) => e.type);
    for (const t of ['application_fee.created', 'application_fee.refunded']) assert.ok(types.includes(t as Stripe.Event.Type), t);
  });

  it('refunds an application fee on its own, and refuses a fee without a connected account', async () => {
    const acct = await onboarded();
    const pi = await h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: BYPASS, confirm: true, application_fee_amount: 500, automatic_payment_methods: noRedirects, expand: ['latest_charge'] }, { stripeAccount: acct.id });
    const start = await now(acct.id);
    const feeId = (pi.latest_charge as Stripe.Charge).application_fee as string;
    const refund = await h.stripe.applicationFees.createRefund(feeId, { amount: 200 });
    assert.deepEqual([refund.object, refund.amount, refund.fee], ['fee_refund', 200, feeId]);
    assert.deepEqual(await moved(start, acct.id), [-200, 200]);
    assert.equal((await h.stripe.applicationFees.listRefunds(feeId)).data[0].id, refund.id);
    assert.equal((await h.stripe.applicationFees.retrieveRefund(feeId, refund.id)).amount, 200);
    const tooMuch = await stripeError(() => h.stripe.applicationFees.createRefund(feeId, { amount: 301 }));
    assert.equal(tooMuch.code, 'amount_too_large');
    const noAccount = await stripeError(() => h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', application_fee_amount: 100 }));
    assert.equal(noAccount.param, 'application_fee_amount');
    const overAmount = await stripeError(() => h.stripe.paymentIntents.create({ amount: 500, currency: 'usd', application_fee_amount: 600 }, { stripeAccount: acct.id }));
    assert.equal(overAmount.code, 'amount_too_large');
  });
});

describe('destination charges', () => {
  it('transfers the amount to the account, which pays the platform its fee; refunds reverse the transfer and the fee in proportion', async () => {
    const acct = await onboarded();
    const start = await now(acct.id);
    const pi = await h.stripe.paymentIntents.create({
      amount: 10_000, currency: 'usd', payment_method: BYPASS, confirm: true, automatic_payment_methods: noRedirects, expand: ['latest_charge'],
      application_fee_amount: 1000, transfer_data: { destination: acct.id }, on_behalf_of: acct.id,
    });
    const charge = pi.latest_charge as Stripe.Charge;
    assert.equal(charge.on_behalf_of, acct.id);
    assert.deepEqual(charge.transfer_data, { amount: null, destination: acct.id });
    assert.equal(charge.transfer_group, `group_${pi.id}`);
    assert.deepEqual(await moved(start, acct.id), [10_000 - 320 - 10_000 + 1000, 10_000 - 1000]);
    const transfer = await h.stripe.transfers.retrieve(charge.transfer as string);
    assert.deepEqual([transfer.amount, transfer.destination, transfer.source_transaction, transfer.transfer_group], [10_000, acct.id, charge.id, `group_${pi.id}`]);
    const payment = await h.stripe.charges.retrieve(transfer.destination_payment as string, undefined, { stripeAccount: acct.id });
    assert.match(payment.id, /^py_/);
    assert.deepEqual([payment.amount, payment.source_transfer, payment.application_fee_amount], [10_000, transfer.id, 1000]);
    const fee = await h.stripe.applicationFees.retrieve(charge.application_fee as string);
    assert.deepEqual([fee.account, fee.charge, fee.originating_transaction], [acct.id, payment.id, charge.id]);

    const partial = await h.stripe.refunds.create({ payment_intent: pi.id, amount: 4000, reverse_transfer: true, refund_application_fee: true });
    assert.match(String(partial.transfer_reversal), /^trr_/);
    assert.deepEqual(await moved(start, acct.id), [680 - 4000 + 4000 - 400, 9000 - 4000 + 400]);
    await h.stripe.refunds.create({ payment_intent: pi.id, amount: 3000 });
    assert.deepEqual(await moved(start, acct.id), [280 - 3000, 5400]);
    await h.stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true, refund_application_fee: true });
    assert.deepEqual(await moved(start, acct.id), [-320, 0], 'in the end the platform has paid Stripe’s fee and the account has nothing');
    const reversed = await h.stripe.transfers.retrieve(transfer.id);
    assert.deepEqual([reversed.amount_reversed, reversed.reversed, reversed.reversals.data.length], [10_000, true, 2]);
  });

  it('transfers transfer_data[amount] and keeps the rest, and refuses an account that cannot receive transfers', async () => {
    const acct = await onboarded();
    const start = await now(acct.id);
    const pi = await h.stripe.paymentIntents.create({
      amount: 10_000, currency: 'usd', payment_method: BYPASS, confirm: true, automatic_payment_methods: noRedirects, transfer_data: { destination: acct.id, amount: 8000 },
    });
    assert.deepEqual(await moved(start, acct.id), [10_000 - 320 - 8000, 8000]);
    assert.equal((await h.stripe.applicationFees.list({ limit: 100 })).data.filter((f) => f.account === acct.id).length, 0, 'no application fee');
    await h.stripe.refunds.create({ payment_intent: pi.id, reverse_transfer: true });
    assert.deepEqual(await moved(start, acct.id), [-320, 0]);

    const unready = await h.stripe.accounts.create({ type: 'express' });
    const refused = await stripeError(() => h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', transfer_data: { destination: unready.id } }));
    assert.equal(refused.code, 'insufficient_capabilities_for_transfer');
    const unknown = await stripeError(() => h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', transfer_data: { destination: 'acct_1Nobody' } }));
    assert.equal(unknown.code, 'resource_missing');
  });
});

describe('separate charges and transfers', () => {
  it('transfers from the available balance or from a charge, reverses, and refuses more than is available', async () => {
    const acct = await onboarded();
    await h.stripe.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method: BYPASS, confirm: true, automatic_payment_methods: noRedirects });
    const start = await now(acct.id);
    const transfer = await h.stripe.transfers.create({ amount: 3000, currency: 'usd', destination: acct.id, transfer_group: 'ORDER-1', metadata: { order: '1' } });
    assert.deepEqual([transfer.object, transfer.transfer_group, transfer.metadata.order], ['transfer', 'ORDER-1', '1']);
    assert.deepEqual(await moved(start, acct.id), [-3000, 3000]);
    const reversal = await h.stripe.transfers.createReversal(transfer.id, { amount: 1000 });
    assert.deepEqual([reversal.object, reversal.amount, reversal.transfer], ['transfer_reversal', 1000, transfer.id]);
    assert.deepEqual(await moved(start, acct.id), [-2000, 2000]);
    assert.equal((await h.stripe.transfers.listReversals(transfer.id)).data[0].id, reversal.id);
    assert.deepEqual((await h.stripe.transfers.list({ transfer_group: 'ORDER-1' })).data.map((t) => t.id), [transfer.id]);
    assert.equal((await h.stripe.transfers.update(transfer.id, { description: 'Order 1' })).description, 'Order 1');

    const tooMuch = await stripeError(() => h.stripe.transfers.create({ amount: 1_000_000, currency: 'usd', destination: acct.id }));
    assert.equal(tooMuch.code, 'balance_insufficient');
    // Tied to a charge whose funds are still pending: allowed, and pending on both sides.
    const pending = await h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, automatic_payment_methods: noRedirects });
    const pendingBefore = (await usd(acct.id)).pending;
    await h.stripe.transfers.create({ amount: 4000, currency: 'usd', destination: acct.id, source_transaction: pending.latest_charge as string });
    assert.equal((await usd(acct.id)).pending - pendingBefore, 4000);
    const beyond = await stripeError(() => h.stripe.transfers.create({ amount: 2000, currency: 'usd', destination: acct.id, source_transaction: pending.latest_charge as string }));
    assert.equal(beyond.code, 'amount_too_large');
    const types = (await h.stripe.events.list({ limit: 40 })).data.map((e) => e.type);
    for (const t of ['transfer.created', 'transfer.reversed']) assert.ok(types.includes(t as Stripe.Event.Type), t);
  });
});

describe('payouts of a connected account', () => {
  const waitFor = async (account: string, id: string, status: string) => {
    for (let i = 0; i < 60; i++) {
      const p = await h.stripe.payouts.retrieve(id, undefined, { stripeAccount: account });
      if (p.status === status) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`payout ${id} never became ${status}`);
  };

  it('pays out what is available (paid in seconds), refuses more, and a failing bank account gives the money back', async () => {
    const acct = await onboarded();
    await h.stripe.transfers.create({ amount: 2000, currency: 'usd', destination: acct.id }).catch(async () => {
      await h.stripe.paymentIntents.create({ amount: 10_000, currency: 'usd', payment_method: BYPASS, confirm: true, automatic_payment_methods: noRedirects });
      return h.stripe.transfers.create({ amount: 2000, currency: 'usd', destination: acct.id });
    });
    const payout = await h.stripe.payouts.create({ amount: 1500, currency: 'usd' }, { stripeAccount: acct.id });
    assert.equal(payout.status, 'pending');
    assert.equal(payout.destination, acct.external_accounts?.data[0]?.id);
    assert.equal((await usd(acct.id)).available, 500);
    await waitFor(acct.id, payout.id, 'paid');
    const refused = await stripeError(() => h.stripe.payouts.create({ amount: 600, currency: 'usd' }, { stripeAccount: acct.id }));
    assert.equal(refused.code, 'balance_insufficient');
    const types = (await h.stripe.events.list({ limit: 20 }, { stripeAccount: acct.id })).data.map((e) => e.type);
    for (const t of ['payout.created', 'payout.paid']) assert.ok(types.includes(t as Stripe.Event.Type), t);

    const closed = await onboarded({ external_account: { object: 'bank_account', country: 'US', currency: 'usd', routing_number: '110000000', account_number: '000111111116' } });
    await h.stripe.transfers.create({ amount: 1000, currency: 'usd', destination: closed.id });
    const failing = await h.stripe.payouts.create({ amount: 1000, currency: 'usd' }, { stripeAccount: closed.id });
    const failed = await waitFor(closed.id, failing.id, 'failed');
    assert.equal(failed.failure_code, 'no_account');
    assert.equal((await usd(closed.id)).available, 1000, 'the failed payout’s amount is back');
  });
});

describe('accounts and onboarding', () => {
  it('describes an account by controller properties, and keeps a new one from payments until it is onboarded', async () => {
    const account = await h.stripe.accounts.create({
      controller: { fees: { payer: 'application' }, losses: { payments: 'application' }, stripe_dashboard: { type: 'express' } },
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    });
    assert.equal(account.type, 'express');
    assert.deepEqual([account.controller?.fees?.payer, account.controller?.losses?.payments, account.controller?.requirement_collection, account.controller?.stripe_dashboard?.type], ['application', 'application', 'stripe', 'express']);
    assert.deepEqual([account.charges_enabled, account.payouts_enabled, account.details_submitted], [false, false, false]);
    assert.ok(account.requirements?.currently_due?.includes('external_account'));
    assert.equal(account.capabilities?.transfers, 'inactive');
    const both = await stripeError(() => h.stripe.accounts.create({ type: 'express', controller: { stripe_dashboard: { type: 'express' } } }));
    assert.equal(both.param, 'controller');

    const link = await h.stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', refresh_url: 'https://platform.example/refresh', return_url: 'https://platform.example/return' });
    assert.equal(link.object, 'account_link');
    assert.ok(link.expires_at > link.created);
    const form = await fetch(link.url);
    assert.equal(form.status, 200);
    const html = await form.text();
    assert.match(html, /value="110000000"/);
    assert.match(html, /<button class="primary" type="submit">Submit<\/button>/);
    const submitted = await fetch(link.url, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ business_type: 'individual', business_name: 'Rosen Pottery', url: 'https://accessible.stripe.com', mcc: '5734', first_name: 'Jenny', last_name: 'Rosen', email: 'jenny@example.com', routing_number: '110000000', account_number: '000123456789', tos: 'accepted' }),
    });
    assert.equal(submitted.status, 303);
    assert.equal(submitted.headers.get('location'), 'https://platform.example/return');
    const ready = await h.stripe.accounts.retrieve(account.id);
    assert.deepEqual([ready.charges_enabled, ready.payouts_enabled, ready.details_submitted, ready.requirements?.currently_due], [true, true, true, []]);
    assert.equal(ready.capabilities?.transfers, 'active');
    assert.equal(ready.external_accounts?.data[0]?.last4, '6789');
    const again = await fetch(link.url, { redirect: 'manual' });
    assert.deepEqual([again.status, again.headers.get('location')], [302, 'https://platform.example/refresh'], 'a used link goes to refresh_url');
    const events = (await h.stripe.events.list({ limit: 10 }, { stripeAccount: account.id })).data;
    const updated = events.find((e) => e.type === 'account.updated');
    assert.ok(updated, events.map((e) => e.type).join());
    assert.equal(updated.account, account.id);
    assert.ok(events.some((e) => e.type === 'capability.updated'));

    const login = await h.stripe.accounts.createLoginLink(account.id);
    assert.equal(login.object, 'login_link');
    const session = await h.stripe.accountSessions.create({ account: account.id, components: { payments: { enabled: true } } });
    assert.match(session.client_secret, /^accs_secret__/);
    assert.equal((await h.stripe.accounts.listCapabilities(account.id)).data.find((c) => c.id === 'transfers')?.status, 'active');
  });
});

describe('Connect through Checkout and Billing', () => {
  const pay = async (session: Stripe.Checkout.Session, account?: string) => {
    const res = await h.http('POST', `/_sandbox/checkout/${session.id}/complete`, {
      body: new URLSearchParams({ card_number: '4000000000000077', email: 'buyer@example.com', name: 'Buyer' }).toString(),
      headers: account ? { 'stripe-account': account } : {},
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
  };

  it('takes a platform fee on a destination charge made through Checkout', async () => {
    const acct = await onboarded();
    const start = await now(acct.id);
    const session = await h.stripe.checkout.sessions.create({
      mode: 'payment', success_url: 'https://platform.example/ok',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 10_000, product_data: { name: 'Vase' } }, quantity: 1 }],
      payment_intent_data: { application_fee_amount: 1500, transfer_data: { destination: acct.id } },
    });
    await pay(session);
    const paid = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent.latest_charge'] });
    const charge = (paid.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge;
    assert.equal(charge.application_fee_amount, 1500);
    assert.deepEqual(await moved(start, acct.id), [10_000 - 320 - 10_000 + 1500, 10_000 - 1500]);
    const refused = await stripeError(() => h.stripe.checkout.sessions.create({
      mode: 'payment', success_url: 'https://platform.example/ok', line_items: [{ price_data: { currency: 'usd', unit_amount: 1000, product_data: { name: 'X' } }, quantity: 1 }],
      payment_intent_data: { application_fee_amount: 100 },
    }));
    assert.equal(refused.param, 'payment_intent_data[application_fee_amount]');
  });

  it('takes application_fee_percent of each invoice of a subscription on a connected account', async () => {
    const acct = await onboarded();
    const opts = { stripeAccount: acct.id };
    const customer = await h.stripe.customers.create({ email: 'sub@example.com', payment_method: BYPASS, invoice_settings: { default_payment_method: BYPASS } }, opts);
    const price = await h.stripe.prices.create({ currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' }, product_data: { name: 'Plan' } }, opts);
    const start = await now(acct.id);
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], application_fee_percent: 10, expand: ['latest_invoice'] }, opts);
    assert.equal(sub.status, 'active');
    assert.equal(sub.application_fee_percent, 10);
    assert.deepEqual(await moved(start, acct.id), [200, 2000 - 88 - 200]);
    const fees = await h.stripe.applicationFees.list({ limit: 100 });
    assert.ok(fees.data.some((f) => f.account === acct.id && f.amount === 200));
    const changed = await h.stripe.subscriptions.update(sub.id, { application_fee_percent: 25 }, opts);
    assert.equal(changed.application_fee_percent, 25);
    const platformCustomer = await h.stripe.customers.create({ email: 'p@example.com' });
    const platformPrice = await h.stripe.prices.create({ currency: 'usd', unit_amount: 500, recurring: { interval: 'month' }, product_data: { name: 'P' } });
    const onPlatform = await stripeError(() => h.stripe.subscriptions.create({ customer: platformCustomer.id, items: [{ price: platformPrice.id }], application_fee_percent: 5 }));
    assert.equal(onPlatform.param, 'application_fee_percent');
  });
});
