/**
 * Money that adds up (issue 17): refunds after partial captures, captures
 * below the currency minimum, and a property test that runs random sequences
 * of charges, partial captures, refunds, disputes, invoices paid with
 * credit and payouts, and checks Stripe's
 * invariants after every step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

const authorize = (amount: number) => h.stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
const chargeOf = async (pi: Stripe.PaymentIntent) => h.stripe.charges.retrieve(pi.latest_charge as string);

describe('refunds after partial captures', () => {
  it('refunds what was captured after authorising 4300 and capturing 1300', async () => {
    const pi = await h.stripe.paymentIntents.capture((await authorize(4300)).id, { amount_to_capture: 1300 });
    assert.equal(pi.amount_received, 1300);
    const refund = await h.stripe.refunds.create({ payment_intent: pi.id });
    assert.equal(refund.amount, 1300);
    const charge = await chargeOf(pi);
    assert.equal(charge.amount_captured, 1300);
    assert.equal(charge.refunded, true);
    assert.equal((await stripeError(() => h.stripe.refunds.create({ payment_intent: pi.id }))).code, 'charge_already_refunded');
  });

  it('a full refund of 1000 authorised and 800 captured returns 800, and partial refunds add up to it', async () => {
    const pi = await h.stripe.paymentIntents.capture((await authorize(1000)).id, { amount_to_capture: 800 });
    const first = await h.stripe.refunds.create({ payment_intent: pi.id, amount: 300 });
    assert.equal(first.amount, 300);
    assert.equal((await stripeError(() => h.stripe.refunds.create({ payment_intent: pi.id, amount: 501 }))).code, 'amount_too_large');
    const rest = await h.stripe.refunds.create({ payment_intent: pi.id });
    assert.equal(rest.amount, 500);
  });

  it('refuses a capture below the currency minimum', async () => {
    const pi = await authorize(1000);
    const e = await stripeError(() => h.stripe.paymentIntents.capture(pi.id, { amount_to_capture: 20 }));
    assert.equal(e.code, 'amount_too_small');
    assert.equal(e.param, 'amount_to_capture');
    assert.equal((await h.stripe.paymentIntents.retrieve(pi.id)).status, 'requires_capture', 'nothing was captured');
  });
});

describe('money invariants under random operations', () => {
  /** mulberry32, seeded: a failure names the seed that reproduces it. */
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it('keeps every charge, the balance and its transactions consistent after each step', async () => {
    const seed = Number(process.env.MONEY_SEED ?? 17);
    const rnd = prng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const intents: Stripe.PaymentIntent[] = [];
    const customers: Stripe.Customer[] = [];
    const check = async (step: string) => {
      for (const cus of customers) {
        const fresh = (await h.stripe.customers.retrieve(cus.id)) as Stripe.Customer;
        let sum = 0;
        for await (const t of h.stripe.customers.listBalanceTransactions(cus.id, { limit: 100 })) sum += t.amount;
        assert.equal(fresh.balance, sum, `seed ${seed}, ${step}: ${cus.id}'s balance equals the sum of their balance transactions`);
      }
      for (const pi of intents) {
        const c = await chargeOf(await h.stripe.paymentIntents.retrieve(pi.id));
        const released = c.captured ? c.amount - c.amount_captured : 0;
        // Stripe counts a partial capture's released remainder as refunded; what was refunded of the captured part never exceeds it.
        assert.ok(c.amount_refunded >= released && c.amount_refunded - released <= c.amount_captured, `seed ${seed}, ${step}: ${c.id} captured ${c.amount_captured}, refunded ${c.amount_refunded}, released ${released}`);
        const refunds = await h.stripe.refunds.list({ charge: c.id, limit: 100 });
        assert.equal(refunds.data.reduce((n, r) => n + r.amount, 0), c.amount_refunded - released, `seed ${seed}, ${step}: refunds of ${c.id}`);
        assert.equal(c.refunded, c.amount_refunded >= c.amount, `seed ${seed}, ${step}: refunded flag of ${c.id}`);
      }
      const balance = await h.stripe.balance.retrieve();
      let sum = 0;
      for await (const txn of h.stripe.balanceTransactions.list({ limit: 100 })) if (txn.currency === 'usd') sum += txn.net;
      const usd = [...balance.available, ...balance.pending].filter((b) => b.currency === 'usd').reduce((n, b) => n + b.amount, 0);
      assert.equal(usd, sum, `seed ${seed}, ${step}: balance equals the sum of its balance transactions`);
    };
    for (let step = 0; step < 40; step++) {
      const op = intents.length === 0 ? 0 : int(0, 5);
      const pi = intents[int(0, intents.length - 1)];
      let what = '';
      if (op === 0) {
        const manual = rnd() < 0.5;
        const created = await h.stripe.paymentIntents.create({ amount: int(50, 10_000), currency: 'usd', payment_method: rnd() < 0.15 ? 'pm_card_createDispute' : rnd() < 0.3 ? 'pm_card_bypassPending' : 'pm_card_visa', confirm: true, capture_method: manual ? 'manual' : 'automatic', automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
        intents.push(created);
        what = `create ${created.amount} ${manual ? 'manual' : 'automatic'}`;
      } else if (op === 1 && pi) {
        const fresh = await h.stripe.paymentIntents.retrieve(pi.id);
        if (fresh.status === 'requires_capture') {
          const amount = int(50, fresh.amount_capturable);
          await h.stripe.paymentIntents.capture(pi.id, { amount_to_capture: amount });
          what = `capture ${amount} of ${fresh.amount}`;
        }
      } else if (op === 4) {
        // An invoice paid partly or wholly by the customer's credit, the rest by card.
        const credit = -int(0, 5000);
        const cus = await h.stripe.customers.create({ email: `money${step}@example.com`, balance: credit, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } as Stripe.CustomerCreateParams);
        customers.push(cus);
        const amount = int(100, 8000);
        await h.stripe.invoiceItems.create({ customer: cus.id, amount, currency: 'usd' });
        const inv = await h.stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: 'include' });
        const finalized = await h.stripe.invoices.finalizeInvoice(inv.id);
        const paid = finalized.status === 'paid' ? finalized : await h.stripe.invoices.pay(inv.id);
        assert.equal(paid.amount_paid, Math.max(0, amount + credit), `seed ${seed}: credit ${credit} applied before charging ${amount}`);
        what = `invoice ${amount} with credit ${credit}`;
      } else if (op === 5) {
        const available = (await h.stripe.balance.retrieve()).available.find((b) => b.currency === 'usd')?.amount ?? 0;
        if (available > 0) {
          const payout = await h.stripe.payouts.create({ amount: int(1, available), currency: 'usd' });
          what = `payout ${payout.amount} of ${available}`;
        }
      } else if (pi) {
        const c = await chargeOf(await h.stripe.paymentIntents.retrieve(pi.id));
        const released = c.captured ? c.amount - c.amount_captured : 0;
        const left = c.captured ? c.amount_captured - (c.amount_refunded - released) : 0;
        if (left > 0 && !c.disputed) {
          const amount = rnd() < 0.3 ? undefined : int(1, left);
          const refund = await h.stripe.refunds.create({ charge: c.id, amount });
          assert.equal(refund.amount, amount ?? left);
          what = `refund ${refund.amount} of ${c.id}`;
        }
      }
      await check(`step ${step} (${what || 'nothing'})`);
    }
  });
});

describe('customer balance on invoices', () => {
  it('applies a credit balance before charging, and records each movement as a customer balance transaction', async () => {
    const customer = await h.stripe.customers.create({ email: 'credit@example.com', balance: -20000 });
    const price = await h.stripe.prices.create({ unit_amount: 1500, currency: 'usd', recurring: { interval: 'month' }, product_data: { name: 'Credit plan' } });
    // No payment method at all: the credit pays the first invoice, so the subscription is active.
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    assert.equal(invoice.starting_balance, -20000);
    assert.equal(invoice.ending_balance, -18500);
    assert.equal(invoice.amount_due, 0);
    assert.equal(invoice.status, 'paid');
    assert.equal(sub.status, 'active');
    assert.equal((await h.stripe.customers.retrieve(customer.id) as Stripe.Customer).balance, -18500);
    const txns = await h.stripe.customers.listBalanceTransactions(customer.id);
    assert.deepEqual(txns.data.map((t) => [t.type, t.amount, t.ending_balance]), [['applied_to_invoice', 1500, -18500], ['initial', -20000, -20000]]);
    assert.equal(txns.data[0].invoice, invoice.id);
  });

  it('charges what is left after the credit, and adds an amount owed to the next invoice', async () => {
    const customer = await h.stripe.customers.create({ email: 'partial@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    await h.stripe.customers.createBalanceTransaction(customer.id, { amount: -500, currency: 'usd', description: 'Goodwill' });
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd', description: 'Setup' });
    const draft = await h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const paid = await h.stripe.invoices.pay((await h.stripe.invoices.finalizeInvoice(draft.id)).id);
    assert.equal(paid.amount_due, 1500);
    assert.equal(paid.amount_paid, 1500);
    assert.equal(paid.ending_balance, 0);
    const owes = await h.stripe.customers.createBalanceTransaction(customer.id, { amount: 700, currency: 'usd' });
    assert.equal(owes.type, 'adjustment');
    assert.equal(owes.ending_balance, 700);
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'usd' });
    const next = await h.stripe.invoices.finalizeInvoice((await h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' })).id);
    assert.equal(next.amount_due, 1700);
    const all = await h.stripe.customers.listBalanceTransactions(customer.id, { limit: 100 });
    const balance = (await h.stripe.customers.retrieve(customer.id) as Stripe.Customer).balance;
    assert.equal(balance, 0);
    assert.equal(all.data.reduce((n, t) => n + t.amount, 0), balance, 'a customer’s balance is the sum of their balance transactions');
  });
});

describe('voiding an invoice that used credit', () => {
  it('gives the credit back as unapplied_from_invoice, so the balance still equals its transactions', async () => {
    const customer = await h.stripe.customers.create({ email: 'void-credit@example.com', balance: -3000 });
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd' });
    const inv = await h.stripe.invoices.create({ customer: customer.id, collection_method: 'send_invoice', days_until_due: 7, pending_invoice_items_behavior: 'include' });
    const open = await h.stripe.invoices.finalizeInvoice(inv.id);
    assert.equal(open.amount_due, 2000);
    assert.equal(((await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance, 0, 'the credit was used');
    await h.stripe.invoices.voidInvoice(inv.id);
    const after = (await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    assert.equal(after.balance, -3000, 'voiding gives the credit back');
    const txns = (await h.stripe.customers.listBalanceTransactions(customer.id)).data;
    assert.deepEqual(txns.map((t) => [t.type, t.amount]), [['unapplied_from_invoice', -3000], ['applied_to_invoice', 3000], ['initial', -3000]]);
    assert.equal(txns.reduce((n, t) => n + t.amount, 0), after.balance);
  });
});

describe('invoices below the currency minimum', () => {
  it('marks an invoice for less than Stripe charges paid without a charge, and adds its amount to the next invoice', async () => {
    const customer = await h.stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } as Stripe.CustomerCreateParams);
    const price = await h.stripe.prices.create({ currency: 'usd', unit_amount: 30, recurring: { interval: 'month' }, product_data: { name: 'Thirty cents' } });
    const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], expand: ['latest_invoice'] });
    const first = sub.latest_invoice as Stripe.Invoice;
    assert.equal(sub.status, 'active');
    assert.deepEqual([first.status, first.total, first.amount_due, first.amount_paid, first.starting_balance, first.ending_balance], ['paid', 30, 0, 0, 0, 30]);
    assert.equal((await h.stripe.paymentIntents.list({ customer: customer.id })).data.length, 0, 'nothing was charged');
    assert.equal(((await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance, 30);
    const txns = await h.stripe.customers.listBalanceTransactions(customer.id);
    assert.deepEqual(txns.data.map((t) => [t.type, t.amount, t.invoice]), [['invoice_too_small', 30, first.id]]);
    await h.stripe.invoiceItems.create({ customer: customer.id, amount: 40, currency: 'usd' });
    const next = await h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const paid = await h.stripe.invoices.pay((await h.stripe.invoices.finalizeInvoice(next.id)).id);
    assert.deepEqual([paid.status, paid.total, paid.starting_balance, paid.amount_due, paid.amount_paid, paid.ending_balance], ['paid', 40, 30, 70, 70, 0]);
    assert.equal(((await h.stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance, 0);
  });
});
