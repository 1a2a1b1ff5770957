/**
 * Tax rates (issue 17): exclusive rates add to what is due, inclusive ones
 * are reported inside it, on invoice items, subscriptions (defaults and
 * per item) and Checkout line items; old clients see `tax` and
 * `total_tax_amounts`, today's `total_taxes`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

const rate = (percentage: number, inclusive: boolean) => h.stripe.taxRates.create({ display_name: inclusive ? 'VAT' : 'Sales tax', percentage, inclusive, country: 'US' });

it('creates, retrieves, updates and lists tax rates, and keeps the percentage fixed', async () => {
  const r = await rate(8.25, false);
  assert.match(r.id, /^txr_/);
  assert.equal(r.percentage, 8.25);
  assert.equal(r.effective_percentage, 8.25);
  const updated = await h.stripe.taxRates.update(r.id, { display_name: 'State tax', active: false });
  assert.equal(updated.display_name, 'State tax');
  assert.equal(updated.active, false);
  const e = await stripeError(() => h.stripe.taxRates.update(r.id, { percentage: 5 } as Stripe.TaxRateUpdateParams));
  assert.equal(e.code, 'parameter_unknown');
  const inactive = await h.stripe.taxRates.list({ active: false });
  assert.ok(inactive.data.some((x) => x.id === r.id));
  const missing = await stripeError(() => h.stripe.taxRates.create({ display_name: 'x', inclusive: false } as Stripe.TaxRateCreateParams));
  assert.equal(missing.code, 'parameter_missing');
});

it('adds exclusive tax to an invoice and reports inclusive tax inside it', async () => {
  const exclusive = await rate(10, false);
  const inclusive = await rate(20, true);
  const customer = await h.stripe.customers.create({ email: 'tax@example.com' });
  await h.stripe.invoiceItems.create({ customer: customer.id, amount: 1000, currency: 'usd', tax_rates: [exclusive.id] });
  await h.stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd', tax_rates: [inclusive.id] });
  const inv = await h.stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
  assert.equal(inv.subtotal, 2200);
  assert.equal(inv.total, 2300, 'the 10% exclusive tax (100) is added; the inclusive 200 is already in 1200');
  assert.equal(inv.total_excluding_tax, 2000);
  assert.equal(inv.amount_due, 2300);
  const taxes = Object.fromEntries(inv.total_taxes!.map((t) => [t.tax_rate_details!.tax_rate, t]));
  assert.equal(taxes[exclusive.id].amount, 100);
  assert.equal(taxes[exclusive.id].tax_behavior, 'exclusive');
  assert.equal(taxes[inclusive.id].amount, 200);
  assert.equal(taxes[inclusive.id].taxable_amount, 1000);
  // A client before 2025-03-31 reads the same taxes as `tax` and `total_tax_amounts`.
  const old = await h.http('GET', `/v1/invoices/${inv.id}`, { headers: { 'stripe-version': '2024-06-20' } });
  assert.equal(old.json.tax, 300);
  assert.deepEqual(old.json.total_tax_amounts.map((t: { amount: number; inclusive: boolean }) => [t.amount, t.inclusive]).sort(), [[100, false], [200, true]]);
  const archived = await h.stripe.taxRates.update(exclusive.id, { active: false });
  const refused = await stripeError(() => h.stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: 'usd', tax_rates: [archived.id] }));
  assert.equal(refused.statusCode, 400);
});

it('charges a subscription its default tax rate, and an item its own', async () => {
  const standard = await rate(10, false);
  const reduced = await rate(5, false);
  const customer = await h.stripe.customers.create({ email: 'subtax@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } } as Stripe.CustomerCreateParams);
  const a = await h.stripe.prices.create({ product_data: { name: 'A' }, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  const b = await h.stripe.prices.create({ product_data: { name: 'B' }, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
  const sub = await h.stripe.subscriptions.create({ customer: customer.id, default_tax_rates: [standard.id], items: [{ price: a.id }, { price: b.id, tax_rates: [reduced.id] }], expand: ['latest_invoice'] });
  assert.equal(sub.default_tax_rates![0].id, standard.id);
  const inv = sub.latest_invoice as Stripe.Invoice;
  assert.equal(inv.total, 1000 + 100 + 2000 + 100);
  assert.equal(inv.amount_paid, 3200);
  assert.equal(sub.status, 'active');
});

it('taxes Checkout line items, with the exclusive tax in the amount the payer pays', async () => {
  const r = await rate(10, false);
  const price = await h.stripe.prices.create({ product_data: { name: 'Taxed' }, currency: 'usd', unit_amount: 5000 });
  const session = await h.stripe.checkout.sessions.create({ mode: 'payment', success_url: 'https://example.com/ok', line_items: [{ price: price.id, quantity: 2, tax_rates: [r.id] }] });
  assert.equal(session.amount_subtotal, 10000);
  assert.equal(session.amount_total, 11000);
  assert.equal(session.total_details!.amount_tax, 1000);
  const items = await h.stripe.checkout.sessions.listLineItems(session.id);
  assert.equal(items.data[0].amount_tax, 1000);
  assert.equal(items.data[0].amount_total, 11000);
});
