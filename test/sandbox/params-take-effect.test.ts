/**
 * Every parameter the sandbox accepts either takes effect or is refused
 * (issue 17). A broad flow runs with the pipeline reporting which top-level
 * parameters each handler read; a parameter the route's schema accepts but
 * no call read is ignored, and must be listed in
 * test/fixtures/inert-params.json with why it has no effect offline.
 * Parameters that would change money are refused with a clear 400 instead
 * (src/sandbox/unsupported.ts), which this test also checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import Stripe from 'stripe';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { RESOURCES } from '../../src/sandbox/resources/index.js';
import { schemaFor } from '../../src/sandbox/schemas.js';
import { UNSUPPORTED } from '../../src/sandbox/unsupported.js';
import { stripeError } from '../helpers.js';
import { objectsOfEveryKind } from './flows.js';

const INERT = JSON.parse(readFileSync(new URL('../fixtures/inert-params.json', import.meta.url), 'utf8')) as { params: Record<string, string>; routes: Record<string, Record<string, string>> };
const reads = new Map<string, Set<string>>();
let sandbox: Sandbox;
let stripe: Stripe;

before(async () => {
  sandbox = await startSandbox({
    port: 0,
    onParamsRead: (route, read) => {
      const seen = reads.get(route) ?? new Set<string>();
      for (const k of read) seen.add(k);
      reads.set(route, seen);
    },
  });
  stripe = new Stripe('sk_test_params_take_effect', { host: '127.0.0.1', port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
});
after(() => sandbox?.close());

/** Calls that reach the branches the broad flow does not: a handler reads some parameters only on them. */
async function otherBranches(s: Stripe) {
  await s.prices.create({ product_data: { name: 'Inline' }, currency: 'usd', unit_amount: 300 });
  await s.coupons.create({ percent_off: 5, duration: 'repeating', duration_in_months: 3 });
  await s.setupIntents.create({ automatic_payment_methods: { enabled: true, allow_redirects: 'never' }, payment_method: 'pm_card_visa', confirm: true, return_url: 'https://example.com/back' } as Stripe.SetupIntentCreateParams);
  await s.setupIntents.create({ payment_method_data: { type: 'card', card: { token: 'tok_visa' } }, confirm: true } as unknown as Stripe.SetupIntentCreateParams).catch(() => undefined);
  const customer = await s.customers.create({ email: 'branches@example.com', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
  const price = await s.prices.create({ product_data: { name: 'Monthly' }, currency: 'usd', unit_amount: 900, recurring: { interval: 'month' } });
  const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  await s.subscriptions.update(sub.id, { proration_behavior: 'none', items: [{ id: sub.items.data[0].id, quantity: 2 }] });
}

it('reads every parameter it accepts, except those listed as inert with a reason', async () => {
  await objectsOfEveryKind(stripe, Stripe.API_VERSION);
  await otherBranches(stripe);
  await new Promise((r) => setTimeout(r, 20));
  const operations = RESOURCES.flatMap((r) => r.operations);
  const unexplained: string[] = [];
  const stale: string[] = [];
  for (const [route, read] of reads) {
    const op = operations.find((o) => `${o.method} ${o.path}` === route)!;
    const accepted = Object.keys(schemaFor(op).p ?? {}).filter((k) => k !== 'expand' && !UNSUPPORTED[route]?.[k]);
    for (const param of accepted) {
      const reason = INERT.routes[route]?.[param] ?? INERT.params[param];
      if (!read.has(param) && !reason) unexplained.push(`${route} ${param}`);
      if (read.has(param) && INERT.routes[route]?.[param]) stale.push(`${route} ${param}`);
    }
  }
  assert.ok(reads.size >= 30, `the flow reached ${reads.size} routes`);
  assert.deepEqual(unexplained, [], 'accepted, never read, and not listed as inert');
  assert.deepEqual(stale, [], 'listed as inert, but read now: take them off the list');
});

it('refuses the parameters that would change money instead of ignoring them', async () => {
  const customer = await stripeError(() => stripe.customers.create({ coupon: 'SAVE10' } as Stripe.CustomerCreateParams));
  assert.equal(customer.statusCode, 400);
  assert.equal(customer.param, 'coupon');
  assert.match(customer.message, /does not support `coupon`/);
  const charge = await stripeError(() => stripe.charges.create({ amount: 1000, currency: 'usd', source: 'tok_visa', application_fee_amount: 100 } as Stripe.ChargeCreateParams));
  assert.equal(charge.param, 'application_fee_amount');
  const price = await stripeError(() => stripe.prices.create({ product_data: { name: 'Multi' }, currency: 'usd', unit_amount: 100, currency_options: { eur: { unit_amount: 90 } } }));
  assert.equal(price.param, 'currency_options');
  // Taking effect: what a legacy charge is given is on the charge.
  const kept = await stripe.charges.create({ amount: 1200, currency: 'usd', source: 'tok_visa', statement_descriptor_suffix: 'ORDER 42', transfer_group: 'order_42' });
  assert.equal(kept.statement_descriptor_suffix, 'ORDER 42');
  assert.equal(kept.transfer_group, 'order_42');
  const item = await stripe.invoiceItems.create({ customer: (await stripe.customers.create({ email: 'decimal@example.com' })).id, currency: 'usd', unit_amount_decimal: '250.4', quantity: 2 } as unknown as Stripe.InvoiceItemCreateParams);
  assert.equal(item.amount, 501, 'unit_amount_decimal sets the amount');
});
