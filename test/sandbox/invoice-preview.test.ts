/**
 * The next invoice, previewed without being created (issue 17):
 * `GET /v1/invoices/upcoming` for clients before 2025-03-31.basil and
 * `POST /v1/invoices/create_preview` for today's, both drafting what a
 * renewal would, with the customer's credit applied, and writing nothing.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Stripe from 'stripe';
import { harnessPerFile, stripeError, type Harness } from '../helpers.js';

let h: Harness;
harnessPerFile((x) => (h = x));

async function subscribed(balance = 0) {
  const customer = await h.stripe.customers.create({ email: 'preview@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' }, balance } as Stripe.CustomerCreateParams);
  const price = await h.stripe.prices.create({ product_data: { name: 'Preview plan' }, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
  const sub = await h.stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  return { customer, sub };
}

const count = async (path: string) => (await h.http('GET', path)).json.data.length;

it('previews the next renewal as GET /v1/invoices/upcoming for a client pinned before 2025-03-31, creating nothing', async () => {
  const { customer, sub } = await subscribed();
  const invoicesBefore = await count(`/v1/invoices?customer=${customer.id}&limit=100`);
  const eventsBefore = await count('/v1/events?limit=100');
  const res = await h.http('GET', `/v1/invoices/upcoming?customer=${customer.id}`, { headers: { 'stripe-version': '2022-11-15' } });
  assert.equal(res.status, 200, res.text);
  const upcoming = res.json;
  assert.equal(upcoming.object, 'invoice');
  assert.equal(upcoming.id, undefined, 'an upcoming invoice has no id');
  assert.equal(upcoming.amount_due, 1500);
  assert.equal(upcoming.subscription, sub.id);
  assert.equal(upcoming.lines.data[0].period.start, sub.items.data[0].current_period_end, 'the next period starts where this one ends');
  assert.equal(await count(`/v1/invoices?customer=${customer.id}&limit=100`), invoicesBefore, 'nothing was created');
  assert.equal(await count('/v1/events?limit=100'), eventsBefore, 'no event was emitted');
});

it('applies the customer’s credit balance to the preview as finalizing would', async () => {
  const { customer, sub } = await subscribed();
  await h.stripe.customers.update(customer.id, { balance: -500 });
  const preview = await h.stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id });
  assert.match(preview.id!, /^upcoming_in_/);
  assert.equal(preview.total, 1500);
  assert.equal(preview.starting_balance, -500);
  assert.equal(preview.ending_balance, 0);
  assert.equal(preview.amount_due, 1000);
  assert.equal((await h.stripe.customers.retrieve(customer.id) as Stripe.Customer).balance, -500, 'the credit is still on the customer');
});

it('answers today’s clients that upcoming is gone, refuses what it cannot preview, and names a missing customer', async () => {
  const { customer } = await subscribed();
  const gone = await h.http('GET', `/v1/invoices/upcoming?customer=${customer.id}`);
  assert.equal(gone.status, 404);
  assert.match(gone.json.error.message, /create_preview/);
  const unknown = await stripeError(() => h.stripe.invoices.createPreview({ customer: customer.id, subscription_details: { proration_behavior: 'none' } }));
  assert.equal(unknown.code, 'parameter_unknown', 'proposed changes are refused, not silently ignored');
  const lonely = await h.stripe.customers.create({ email: 'nothing@example.com' });
  const none = await stripeError(() => h.stripe.invoices.createPreview({ customer: lonely.id }));
  assert.equal(none.code, 'invoice_upcoming_none');
  const missing = await stripeError(() => h.stripe.invoices.createPreview({}));
  assert.equal(missing.code, 'parameter_missing');
});
