/**
 * Payouts with their balance movement, and the test cards of Stripe's
 * testing page that the sandbox did not know (issue 17).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

const available = async (currency = 'usd') => (await h.stripe.balance.retrieve()).available.find((b) => b.currency === currency)?.amount ?? 0;

describe('payouts', () => {
  it('pays out only what is available, moves the balance by a payout transaction, and puts it back on cancel', async () => {
    const before = await available();
    const tooMuch = await stripeError(() => h.stripe.payouts.create({ amount: before + 1_000_000, currency: 'usd' }));
    assert.equal(tooMuch.code, 'balance_insufficient');
    // Pending funds (an ordinary card) cannot be paid out; 4000000000000077 makes them available at once.
    await h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const funded = await available();
    assert.ok(funded > before);
    const payout = await h.stripe.payouts.create({ amount: 3000, currency: 'usd', description: 'Weekly' });
    assert.match(payout.id, /^po_/);
    assert.equal(payout.status, 'pending');
    assert.equal(await available(), funded - 3000);
    const txn = await h.stripe.balanceTransactions.retrieve(payout.balance_transaction as string);
    assert.equal(txn.type, 'payout');
    assert.equal(txn.amount, -3000);
    const canceled = await h.stripe.payouts.cancel(payout.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(await available(), funded);
    const again = await stripeError(() => h.stripe.payouts.cancel(payout.id));
    assert.equal(again.statusCode, 400);
    const instant = await h.stripe.payouts.create({ amount: 1000, currency: 'usd', method: 'instant' });
    assert.equal(instant.status, 'paid');
    const listed = await h.stripe.payouts.list({ status: 'paid' });
    assert.deepEqual(listed.data.map((p) => p.id), [instant.id]);
    const types = (await h.stripe.events.list({ limit: 20 })).data.map((e) => e.type);
    for (const t of ['payout.created', 'payout.canceled', 'payout.paid']) assert.ok(types.includes(t as Stripe.Event.Type), t);
  });
});

describe('test cards', () => {
  const pay = (payment_method: string) =>
    h.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, expand: ['latest_charge'] });

  it('reports each international card’s country', async () => {
    for (const [token, country] of [['pm_card_br', 'BR'], ['pm_card_gb', 'GB'], ['pm_card_jp', 'JP'], ['pm_card_de', 'DE'], ['pm_card_au', 'AU'], ['pm_card_ca', 'CA']]) {
      const pi = await pay(token);
      assert.equal(pi.status, 'succeeded', token);
      assert.equal((pi.latest_charge as Stripe.Charge).payment_method_details!.card!.country, country, token);
    }
    const debit = await h.stripe.paymentMethods.create({ type: 'card', card: { number: '4000058260000005', exp_month: 12, exp_year: 2034 } });
    assert.equal(debit.card!.funding, 'debit');
    assert.equal(debit.card!.country, 'GB');
  });

  it('reports failed address and CVC checks while the payment succeeds', async () => {
    const checks = async (number: string) => {
      const pm = await h.stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc: '123' } });
      return pm.card!.checks!;
    };
    assert.deepEqual(await checks('4000000000000010'), { address_line1_check: 'fail', address_postal_code_check: 'fail', cvc_check: 'pass' });
    assert.equal((await checks('4000000000000028')).address_line1_check, 'fail');
    assert.equal((await checks('4000000000000036')).address_postal_code_check, 'fail');
    assert.equal((await checks('4000000000000044')).address_line1_check, 'unavailable');
    assert.equal((await checks('4000000000000101')).cvc_check, 'fail');
    const pi = await pay('pm_card_cvcCheckFail');
    assert.equal(pi.status, 'succeeded');
    assert.equal((await pay('pm_card_avsFail')).status, 'succeeded');
  });
});

describe('customer tax ids', () => {
  it('keeps tax_id_data given at creation, lists, retrieves and deletes tax ids, and refuses malformed ones', async () => {
    const customer = await h.stripe.customers.create({ email: 'vat@example.com', tax_id_data: [{ type: 'eu_vat', value: 'DE123456789' }], expand: ['tax_ids'] });
    const embedded = customer.tax_ids!.data;
    assert.equal(embedded.length, 1, 'tax_id_data is applied, not dropped');
    assert.equal(embedded[0].country, 'DE');
    assert.equal(embedded[0].verification!.status, 'pending');
    const ein = await h.stripe.customers.createTaxId(customer.id, { type: 'us_ein', value: '12-3456789' });
    assert.equal(ein.country, 'US');
    const listed = await h.stripe.customers.listTaxIds(customer.id);
    assert.deepEqual(listed.data.map((t) => t.type).sort(), ['eu_vat', 'us_ein']);
    const bad = await stripeError(() => h.stripe.customers.createTaxId(customer.id, { type: 'eu_vat', value: 'banana' }));
    assert.equal(bad.code, 'tax_id_invalid');
    const badData = await stripeError(() => h.stripe.customers.create({ email: 'nope@example.com', tax_id_data: [{ type: 'gb_vat', value: 'nope' }] }));
    assert.equal((badData as any).param, 'tax_id_data[0][value]');
    assert.equal((await h.stripe.customers.list({ email: 'nope@example.com' })).data.length, 0);
    await h.stripe.customers.deleteTaxId(customer.id, ein.id);
    const missing = await stripeError(() => h.stripe.customers.retrieveTaxId(customer.id, ein.id));
    assert.equal(missing.statusCode, 404);
    // Another customer's tax id is not reachable through this customer.
    const other = await h.stripe.customers.create({ email: 'other@example.com' });
    const foreign = await stripeError(() => h.stripe.customers.retrieveTaxId(other.id, embedded[0].id));
    assert.equal(foreign.statusCode, 404);
  });

  it('lists a customer’s card sources when sources are expanded', async () => {
    const customer = await h.stripe.customers.create({ source: 'tok_visa', expand: ['sources'] });
    assert.equal(customer.sources!.data.length, 1);
  });
});

/** Waits for Stripe's asynchronous outcome of a test card: `read` until `done` holds (a second at most). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value) || i === 50) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('test cards with outcomes after the answer', () => {
  const pay = (pm: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
    h.stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: pm, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, ...extra });
  const eventsOf = async (type: string, id: string) => (await h.stripe.events.list({ type, limit: 20 })).data.filter((e) => (e.data.object as { id: string }).id === id);

  it('answers a refund on 4000 0000 0000 5126 as succeeded, then fails it and gives the money back', async () => {
    const before = await available();
    const pi = await pay('pm_card_refundFail');
    const refund = await h.stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    assert.equal(refund.status, 'succeeded');
    const failed = await eventually(() => h.stripe.refunds.retrieve(refund.id), (r) => r.status === 'failed');
    assert.deepEqual([failed.status, failed.failure_reason], ['failed', 'expired_or_canceled_card']);
    const back = await h.stripe.balanceTransactions.retrieve(failed.failure_balance_transaction as string);
    assert.deepEqual([back.type, back.amount], ['refund_failure', 1000]);
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    assert.deepEqual([charge.amount_refunded, charge.refunded], [0, false]);
    assert.equal((await eventsOf('refund.failed', refund.id)).length, 1);
    assert.equal((await eventsOf('charge.refund.updated', refund.id)).length, 1);
    // The charge's own transactions stay pending; the refund and its failure cancel out.
    assert.equal(await available(), before);
  });

  it('answers a refund on 4000 0000 0000 7726 as pending, then succeeds it', async () => {
    const pi = await pay('pm_card_pendingRefund');
    const refund = await h.stripe.refunds.create({ payment_intent: pi.id });
    assert.equal(refund.status, 'pending');
    const done = await eventually(() => h.stripe.refunds.retrieve(refund.id), (r) => r.status === 'succeeded');
    assert.equal(done.status, 'succeeded');
    const updated = await eventsOf('charge.refund.updated', refund.id);
    assert.equal(updated.length, 1);
    assert.deepEqual(updated[0].data.previous_attributes, { status: 'pending' });
  });

  it('draws an early fraud warning after a charge on 4000 0000 0000 5423, no longer actionable once refunded', async () => {
    const pi = await pay('pm_card_createIssuerFraudRecord');
    const list = await eventually(() => h.stripe.radar.earlyFraudWarnings.list({ payment_intent: pi.id }), (l) => l.data.length > 0);
    const warning = list.data[0];
    assert.deepEqual([warning.object, warning.charge, warning.actionable, warning.fraud_type], ['radar.early_fraud_warning', pi.latest_charge, true, 'made_with_stolen_card']);
    assert.match(warning.id, /^issfr_/);
    assert.equal((await h.stripe.radar.earlyFraudWarnings.retrieve(warning.id)).id, warning.id);
    assert.equal((await eventsOf('radar.early_fraud_warning.created', warning.id)).length, 1);
    await h.stripe.refunds.create({ payment_intent: pi.id });
    assert.equal((await h.stripe.radar.earlyFraudWarnings.retrieve(warning.id)).actionable, false);
  });

  for (const [card, pm, declineCode] of [
    ['4000 0082 6000 3178', 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['4000 0084 0000 1629', '4000008400001629', 'generic_decline'],
  ]) it(`asks ${card} for 3-D Secure and declines it (${declineCode}) once authenticated`, async () => {
    const payment_method = pm.startsWith('pm_') ? pm : (await h.stripe.paymentMethods.create({ type: 'card', card: { number: pm, exp_month: 12, exp_year: 2040, cvc: '123' } })).id;
    const pi = await h.stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method, confirm: true, return_url: 'https://example.com/back', automatic_payment_methods: { enabled: true } });
    assert.equal(pi.status, 'requires_action');
    const page = await fetch((pi.next_action!.redirect_to_url!.url as string), { redirect: 'manual' });
    assert.equal(page.status, 200);
    const approve = await fetch(`${h.sandbox.url}/_sandbox/3ds/${pi.id}/complete`, { method: 'POST', body: new URLSearchParams({ return_url: 'https://example.com/back' }), redirect: 'manual' });
    assert.ok(approve.status < 400, String(approve.status));
    const after = await h.stripe.paymentIntents.retrieve(pi.id);
    assert.equal(after.status, 'requires_payment_method');
    assert.equal(after.last_payment_error?.decline_code, declineCode);
  });

  it('knows the other cards of the testing page: debit Discover and UnionPay, 19-digit UnionPay, domestic pricing, co-branded Cartes Bancaires and eftpos, international bypass of pending', async () => {
    for (const [number, brand, funding] of [['6011981111111113', 'discover', 'debit'], ['6200000000000047', 'unionpay', 'debit'], ['6205500000000000004', 'unionpay', 'credit'], ['4000000000000093', 'visa', 'credit']]) {
      const pm = await h.stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } });
      assert.deepEqual([pm.card!.brand, pm.card!.funding], [brand, funding], number);
    }
    for (const [number, networks, country] of [['4000002500001001', ['cartes_bancaires', 'visa'], 'FR'], ['5555552500001001', ['cartes_bancaires', 'mastercard'], 'FR'], ['4000050360000001', ['eftpos_au', 'visa'], 'AU'], ['5555050360000080', ['eftpos_au', 'mastercard'], 'AU']] as const) {
      const pm = await h.stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } });
      assert.deepEqual([pm.card!.networks?.available, pm.card!.country], [networks, country], number);
    }
    const before = await available();
    const pi = await pay('pm_card_bypassPendingInternational');
    const charge = await h.stripe.charges.retrieve(pi.latest_charge as string);
    assert.equal(charge.payment_method_details!.card!.country, 'IE');
    assert.ok((await available()) > before, 'funds available at once');
  });
});

describe('the dispute test cards and test evidence', () => {
  const disputed = async (pm: string) => {
    const pi = await h.stripe.paymentIntents.create({ amount: 3000, currency: 'usd', payment_method: pm, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    return (await h.stripe.disputes.list({ payment_intent: pi.id })).data[0];
  };

  it('opens disputes eligible for Visa Compelling Evidence 3.0, Visa and Mastercard compliance', async () => {
    const ce3 = await disputed('pm_card_createCe3EligibleDispute');
    assert.deepEqual([ce3.reason, ce3.enhanced_eligibility_types], ['fraudulent', ['visa_compelling_evidence_3']]);
    assert.equal(ce3.evidence_details.enhanced_eligibility.visa_compelling_evidence_3?.status, 'requires_action');
    const visa = await disputed('pm_card_createComplianceDispute');
    assert.deepEqual([visa.reason, visa.enhanced_eligibility_types], ['noncompliant', ['visa_compliance']]);
    const mastercard = await disputed('pm_card_createMastercardComplianceDispute');
    assert.deepEqual([mastercard.reason, mastercard.enhanced_eligibility_types], ['noncompliant', ['mastercard_compliance']]);
    assert.equal((await disputed('pm_card_createAutoRepresentmentEligibleDispute')).reason, 'fraudulent');
  });

  it('escalates an inquiry to a chargeback with escalate_inquiry_evidence, and gives a won chargeback’s funds back', async () => {
    const before = await available();
    const inquiry = await disputed('pm_card_createDisputeInquiry');
    assert.equal(inquiry.status, 'warning_needs_response');
    const escalated = await h.stripe.disputes.update(inquiry.id, { evidence: { uncategorized_text: 'escalate_inquiry_evidence' } });
    assert.deepEqual([escalated.status, escalated.payment_method_details?.card?.case_type, escalated.balance_transactions.length], ['needs_response', 'chargeback', 1]);
    assert.equal(await available(), before - 3000 - 1500, 'the chargeback withdrew the amount and the fee');
    const won = await h.stripe.disputes.update(inquiry.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    assert.equal(won.status, 'won');
    assert.deepEqual(won.balance_transactions.map((t) => [t.amount, t.fee, t.reporting_category]), [[-3000, 1500, 'dispute'], [3000, -1500, 'dispute_reversal']]);
    assert.equal(await available(), before);
  });
});
