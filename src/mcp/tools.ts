/**
 * The Stripe tools, declared as data: name, what an LLM should know, the
 * Stripe resource permission they need (the same names as restricted keys),
 * their input schema, and the calls they make. The server offers only the
 * tools the credentials allow.
 */
import { z } from 'zod';

export interface Caller {
  /**
   * One Stripe call; answers the parsed object or throws a ToolFailure with Stripe's message and code. `account`
   * acts on a connected account (Stripe-Account), for a platform's key used directly only.
   */
  call(method: 'GET' | 'POST' | 'DELETE', path: string, params?: Record<string, unknown>, idempotencyKey?: string, account?: string): Promise<any>;
  /**
   * A report computed by SQL over the gateway's synced records, when the
   * connection is synced; undefined means "crawl the API instead".
   */
  report?(name: 'revenue' | 'failed_payments' | 'subscriptions', params: Record<string, number>): Promise<any | undefined>;
}

/** Set (not enumerable, not serialised) on an answer Stripe replayed for a repeated idempotency key. */
export const REPLAYED = Symbol('paybridge.replayed');

/** Marks `json` as Stripe's replay of an earlier call when its answer said so (`Idempotent-Replayed: true`). */
export function markReplayed<T>(json: T, replayed: boolean): T {
  if (replayed && json && typeof json === 'object') Object.defineProperty(json, REPLAYED, { value: true, enumerable: false });
  return json;
}

export class ToolFailure extends Error {
  constructor(message: string, readonly code?: string, readonly declineCode?: string) {
    super(message);
  }
}

export interface Tool {
  name: string;
  description: string;
  permission: string;
  level: 'read' | 'write';
  /** Creating tools take an idempotency key (or get one derived from the call). */
  creates?: boolean;
  /** Answers from PayBridge's own catalogue, calling nothing (the generic tools' search and details). */
  local?: boolean;
  /** Deletes, cancels or otherwise undoes something (MCP's destructiveHint). */
  destructive?: boolean;
  /** Retrieves objects by their ids (fetch_stripe_resources): each id's kind decides the permission. */
  fetches?: boolean;
  /** Takes `account` (a connected account of the platform whose key is used directly); through a gateway the connection decides. */
  onAccount?: boolean;
  input: z.ZodRawShape;
  run(stripe: Caller, args: Record<string, any>, idempotencyKey?: string): Promise<unknown>;
}

const id = (what: string) => z.string().describe(`The ${what} id`);
const limit = z.number().int().min(1).max(100).optional().describe('How many to return (1-100, default 10)');
const amount = z.number().int().positive().describe('Amount in the smallest currency unit, e.g. 2000 for $20.00');
const currency = z.string().regex(/^[a-zA-Z]{3}$/, 'a three-letter ISO currency code').describe('Three-letter ISO currency code, e.g. usd');
const metadata = z.record(z.string(), z.string()).optional().describe('Key-value pairs to attach');
const email = z.string().email().optional();
const listOf = (filters: z.ZodRawShape = {}) => ({ limit, ...filters });
const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const list = (path: string) => (s: Caller, a: Record<string, any>) => s.call('GET', path, clean(a));
const DAY = 86_400;

export const TOOLS: Tool[] = [
  // Stripe's former local tool set, same names and parameters.
  { name: 'create_customer', description: 'Create a customer in Stripe.', permission: 'customers', level: 'write', creates: true,
    input: { name: z.string().describe('The name of the customer'), email: email.describe('The email of the customer') },
    run: (s, a, key) => s.call('POST', '/v1/customers', clean(a), key) },
  { name: 'list_customers', description: 'Fetch a list of customers from Stripe, optionally by email.', permission: 'customers', level: 'read',
    input: listOf({ email: email.describe('Only customers with this email') }), run: list('/v1/customers') },
  { name: 'create_product', description: 'Create a product in Stripe.', permission: 'products', level: 'write', creates: true,
    input: { name: z.string().describe('The name of the product'), description: z.string().optional() },
    run: (s, a, key) => s.call('POST', '/v1/products', clean(a), key) },
  { name: 'list_products', description: 'Fetch a list of products from Stripe.', permission: 'products', level: 'read', input: listOf(), run: list('/v1/products') },
  { name: 'create_price', description: 'Create a price for a product in Stripe: one-time, or recurring (every interval_count intervals) for subscriptions.', permission: 'prices', level: 'write', creates: true,
    input: {
      product: id('product'), unit_amount: amount, currency,
      recurring: z.object({
        interval: z.enum(['day', 'week', 'month', 'year']).describe('How often it bills'),
        interval_count: z.number().int().min(1).max(365).optional().describe('Every how many intervals (default 1)'),
      }).optional().describe('Makes the price recurring, for create_subscription; leave out for a one-time price'),
    },
    run: (s, a, key) => s.call('POST', '/v1/prices', clean({ ...a, currency: a.currency.toLowerCase() }), key) },
  { name: 'list_prices', description: 'Fetch a list of prices, optionally for one product.', permission: 'prices', level: 'read',
    input: listOf({ product: id('product').optional() }), run: list('/v1/prices') },
  { name: 'create_payment_link', description: 'Create a payment link for a price (a URL customers can pay at).', permission: 'payment_links', level: 'write', creates: true,
    input: { price: id('price'), quantity: z.number().int().positive().describe('How many units') },
    run: (s, a, key) => s.call('POST', '/v1/payment_links', { line_items: [{ price: a.price, quantity: a.quantity }] }, key) },
  { name: 'create_invoice', description: 'Create a draft invoice for a customer, to be paid within days_until_due days.', permission: 'invoices', level: 'write', creates: true,
    input: { customer: id('customer'), days_until_due: z.number().int().positive().optional().describe('Days until the invoice is due (sends it by email)') },
    run: (s, a, key) => s.call('POST', '/v1/invoices', clean({ customer: a.customer, ...(a.days_until_due ? { collection_method: 'send_invoice', days_until_due: a.days_until_due } : {}) }), key) },
  { name: 'list_invoices', description: 'Fetch a list of invoices, optionally for one customer.', permission: 'invoices', level: 'read',
    input: listOf({ customer: id('customer').optional() }), run: list('/v1/invoices') },
  { name: 'create_invoice_item', description: 'Add an item (a price) to a draft invoice.', permission: 'invoices', level: 'write', creates: true,
    input: { customer: id('customer'), price: id('price'), invoice: id('invoice') },
    run: (s, a, key) => s.call('POST', '/v1/invoiceitems', { customer: a.customer, invoice: a.invoice, pricing: { price: a.price } }, key) },
  { name: 'finalize_invoice', description: 'Finalize a draft invoice so it can be paid.', permission: 'invoices', level: 'write',
    input: { invoice: id('invoice') }, run: (s, a) => s.call('POST', `/v1/invoices/${encodeURIComponent(a.invoice)}/finalize`) },
  { name: 'retrieve_balance', description: 'Retrieve the balance: available and pending amounts per currency (of a connected account with `account`).', permission: 'balance', level: 'read', onAccount: true,
    input: {}, run: (s, a) => s.call('GET', '/v1/balance', undefined, undefined, a.account) },
  { name: 'create_refund', description: 'Refund a payment intent, fully or partly.', permission: 'refunds', level: 'write', creates: true, destructive: true,
    input: { payment_intent: id('payment intent'), amount: amount.optional().describe('Amount to refund in minor units (default: all)') },
    run: (s, a, key) => s.call('POST', '/v1/refunds', clean(a), key) },
  { name: 'list_payment_intents', description: 'Fetch a list of payment intents, optionally for one customer.', permission: 'payment_intents', level: 'read',
    input: listOf({ customer: id('customer').optional() }), run: list('/v1/payment_intents') },
  { name: 'list_subscriptions', description: 'Fetch a list of subscriptions, optionally by customer, price or status.', permission: 'subscriptions', level: 'read',
    input: listOf({ customer: id('customer').optional(), price: id('price').optional(), status: z.string().optional().describe('e.g. active, past_due, canceled, all') }),
    run: list('/v1/subscriptions') },
  { name: 'cancel_subscription', description: 'Cancel a subscription now.', permission: 'subscriptions', level: 'write', destructive: true,
    input: { subscription: id('subscription') }, run: (s, a) => s.call('DELETE', `/v1/subscriptions/${encodeURIComponent(a.subscription)}`) },
  { name: 'update_subscription', description: 'Change a subscription: its items (price or quantity) and how to prorate.', permission: 'subscriptions', level: 'write',
    input: {
      subscription: id('subscription'),
      proration_behavior: z.enum(['create_prorations', 'none', 'always_invoice']).optional(),
      items: z.array(z.object({ id: z.string().optional(), price: z.string().optional(), quantity: z.number().int().optional(), deleted: z.boolean().optional() })).optional(),
    },
    run: (s, a) => s.call('POST', `/v1/subscriptions/${encodeURIComponent(a.subscription)}`, clean({ items: a.items, proration_behavior: a.proration_behavior })) },
  { name: 'list_coupons', description: 'Fetch a list of coupons.', permission: 'coupons', level: 'read', input: listOf(), run: list('/v1/coupons') },
  { name: 'create_coupon', description: 'Create a coupon: percent_off or amount_off (with currency), for once, forever or repeating months.', permission: 'coupons', level: 'write', creates: true,
    input: {
      name: z.string(), percent_off: z.number().positive().max(100).optional(), amount_off: amount.optional(), currency: currency.optional(),
      duration: z.enum(['once', 'forever', 'repeating']).optional(), duration_in_months: z.number().int().positive().optional(),
    },
    run: (s, a, key) => s.call('POST', '/v1/coupons', clean(a), key) },
  { name: 'list_disputes', description: 'Fetch a list of disputes, optionally for one charge or payment intent.', permission: 'disputes', level: 'read',
    input: listOf({ charge: id('charge').optional(), payment_intent: id('payment intent').optional() }), run: list('/v1/disputes') },
  { name: 'update_dispute', description: 'Add evidence to a dispute and optionally submit it.', permission: 'disputes', level: 'write',
    input: { dispute: id('dispute'), evidence: z.record(z.string(), z.string()).optional().describe('Evidence fields, e.g. {"uncategorized_text": "…"}'), submit: z.boolean().optional() },
    run: (s, a) => s.call('POST', `/v1/disputes/${encodeURIComponent(a.dispute)}`, clean({ evidence: a.evidence, submit: a.submit })) },

  // What the seeds' agents ask for beyond that set.
  { name: 'create_payment_intent', description: 'Create a payment intent; with confirm and a payment_method it charges at once (off_session for a saved card).', permission: 'payment_intents', level: 'write', creates: true,
    input: { amount, currency, customer: id('customer').optional(), payment_method: z.string().optional(), confirm: z.boolean().optional(), off_session: z.boolean().optional(), description: z.string().optional(), metadata },
    run: (s, a, key) => s.call('POST', '/v1/payment_intents', clean({ ...a, currency: a.currency.toLowerCase() }), key) },
  { name: 'retrieve_payment_intent', description: 'Retrieve a payment intent, with its latest charge.', permission: 'payment_intents', level: 'read',
    input: { payment_intent: id('payment intent') }, run: (s, a) => s.call('GET', `/v1/payment_intents/${encodeURIComponent(a.payment_intent)}`, { expand: ['latest_charge'] }) },
  { name: 'create_checkout_session', description: 'Create a Checkout Session (a hosted payment page) for prices, in payment or subscription mode.', permission: 'checkout_sessions', level: 'write', creates: true,
    input: { mode: z.enum(['payment', 'subscription', 'setup']), success_url: z.string().url(), cancel_url: z.string().url().optional(), customer: id('customer').optional(),
      line_items: z.array(z.object({ price: z.string(), quantity: z.number().int().positive() })).optional(), currency: currency.optional() },
    run: (s, a, key) => s.call('POST', '/v1/checkout/sessions', clean(a), key) },
  { name: 'create_setup_intent', description: 'Create a setup intent to save a card for later payments.', permission: 'setup_intents', level: 'write', creates: true,
    input: { customer: id('customer').optional(), payment_method: z.string().optional(), confirm: z.boolean().optional(), usage: z.enum(['on_session', 'off_session']).optional() },
    run: (s, a, key) => s.call('POST', '/v1/setup_intents', clean(a), key) },
  { name: 'create_subscription', description: 'Subscribe a customer to recurring prices.', permission: 'subscriptions', level: 'write', creates: true,
    input: { customer: id('customer'), items: z.array(z.object({ price: z.string(), quantity: z.number().int().positive().optional() })).min(1),
      trial_period_days: z.number().int().positive().optional(), default_payment_method: z.string().optional(),
      payment_behavior: z.enum(['allow_incomplete', 'default_incomplete', 'error_if_incomplete']).optional() },
    run: (s, a, key) => s.call('POST', '/v1/subscriptions', clean(a), key) },
  searchTool('search', "Search Stripe objects with Stripe's query language, e.g. email:'a@b.com' or metadata['order']:'42' or status:'succeeded' AND amount>1000."),
  // The same under the name Stripe's hosted server gives it.
  searchTool('search_stripe_resources', "Search Stripe objects with Stripe's query language (as the tool of that name on Stripe's hosted server), e.g. email:'a@b.com' or status:'succeeded' AND amount>1000."),
  { name: 'list_charges', description: 'Fetch a list of charges, optionally for one customer or payment intent.', permission: 'charges', level: 'read',
    input: listOf({ customer: id('customer').optional(), payment_intent: id('payment intent').optional() }), run: list('/v1/charges') },
  { name: 'list_refunds', description: 'Fetch a list of refunds, optionally for one payment intent.', permission: 'refunds', level: 'read',
    input: listOf({ payment_intent: id('payment intent').optional() }), run: list('/v1/refunds') },
  { name: 'list_events', description: 'Fetch recent events, optionally of one type (e.g. payment_intent.payment_failed).', permission: 'events', level: 'read',
    input: listOf({ type: z.string().optional() }), run: list('/v1/events') },
  { name: 'revenue_report', description: 'Revenue by product and month over the last `months` months: gross, refunds and net per currency.', permission: 'charges', level: 'read',
    input: { months: z.number().int().min(1).max(24).optional().describe('How many months back (default 3)') },
    run: async (s, a) => (await s.report?.('revenue', { months: a.months ?? 3 })) ?? revenueReport(s, a.months ?? 3) },
  { name: 'failed_payments', description: 'Failed payments of the last `hours` hours, with customer and decline reason, for dunning.', permission: 'charges', level: 'read',
    input: { hours: z.number().int().min(1).max(24 * 90).optional().describe('How far back (default 24)') },
    run: async (s, a) => (await s.report?.('failed_payments', { hours: a.hours ?? 24 })) ?? failedPayments(s, a.hours ?? 24) },
  // Connect: a platform's money to and from its connected accounts (issue 20).
  { name: 'create_transfer', description: 'Send funds from the platform\'s available balance (or from a charge, with source_transaction) to a connected account.', permission: 'transfers', level: 'write', creates: true,
    input: {
      amount, currency, destination: z.string().regex(/^acct_/, 'a connected account id (acct_…)').describe('The connected account'),
      transfer_group: z.string().optional().describe('Groups the transfer with the charges it pays out'), source_transaction: id('charge').optional(), description: z.string().optional(), metadata,
    },
    run: (s, a, key) => s.call('POST', '/v1/transfers', clean({ ...a, currency: a.currency.toLowerCase() }), key) },
  { name: 'list_transfers', description: 'Fetch a list of transfers to connected accounts, optionally to one account or of one transfer group.', permission: 'transfers', level: 'read',
    input: listOf({ destination: z.string().optional().describe('Only transfers to this account (acct_…)'), transfer_group: z.string().optional() }), run: list('/v1/transfers') },
  { name: 'list_application_fees', description: 'Fetch a list of the application fees the platform earned on its connected accounts\' payments.', permission: 'application_fees', level: 'read',
    input: listOf({ charge: id('charge').optional() }), run: list('/v1/application_fees') },
  { name: 'create_payout', description: 'Pay out available funds to the bank account (of a connected account with `account`).', permission: 'payouts', level: 'write', creates: true, onAccount: true,
    input: { amount, currency, method: z.enum(['standard', 'instant']).optional(), description: z.string().optional() },
    run: (s, a, key) => s.call('POST', '/v1/payouts', clean({ amount: a.amount, currency: a.currency.toLowerCase(), method: a.method, description: a.description }), key, a.account) },
  { name: 'list_payouts', description: 'Fetch a list of payouts (of a connected account with `account`), optionally by status.', permission: 'payouts', level: 'read', onAccount: true,
    input: listOf({ status: z.enum(['pending', 'paid', 'failed', 'canceled']).optional() }),
    run: (s, a) => s.call('GET', '/v1/payouts', clean({ limit: a.limit, status: a.status }), undefined, a.account) },

  // The hosted server's report tool, one shape whichever source answers it.
  { name: 'stripe_report', description: "A business report for the account: `revenue` (gross, refunds and net by month, product and currency over `months`), `mrr_and_churn` (monthly recurring revenue per currency, live subscriptions, churn over the last 30 days) or `failed_payments` (over the last `hours`, with the customer and decline reason). From PayBridge's synced records when the account is synced, else read from the API.",
    permission: 'report', level: 'read',
    input: {
      report: z.enum(['revenue', 'mrr_and_churn', 'failed_payments']),
      months: z.number().int().min(1).max(24).optional().describe('revenue: how many months, this one included (default 3)'),
      hours: z.number().int().min(1).max(24 * 90).optional().describe('failed_payments: how far back (default 24)'),
    },
    run: (s, a) => stripeReport(s, a as ReportArgs) },
];

type ReportArgs = { report: 'revenue' | 'mrr_and_churn' | 'failed_payments'; months?: number; hours?: number };

/** The first month (YYYY-MM) of a window of `months` months ending with this one. */
function firstMonth(months: number): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - (months - 1));
  return d.toISOString().slice(0, 7);
}

async function stripeReport(s: Caller, a: ReportArgs) {
  const head = (source: string) => ({ object: 'report', report: a.report, source });
  if (a.report === 'revenue') {
    const months = a.months ?? 3;
    const synced = await s.report?.('revenue', { months });
    const rows: { month: string }[] = synced?.rows ?? (await revenueReport(s, months)).rows;
    const from = firstMonth(months);
    return { ...head(synced ? 'synced records' : 'stripe api'), months, rows: rows.filter((r) => r.month >= from) };
  }
  if (a.report === 'failed_payments') {
    const hours = a.hours ?? 24;
    const synced = await s.report?.('failed_payments', { hours });
    if (synced) return { ...head('synced records'), hours, rows: synced.rows };
    const since = Math.floor(Date.now() / 1000) - hours * 3600;
    const failed = (await all(s, '/v1/charges', { created: { gte: since } })).filter((c) => c.status === 'failed');
    return {
      ...head('stripe api'), hours,
      rows: failed.map((c) => ({
        charge: c.id, customer: c.customer, customer_email: c.billing_details?.email ?? c.receipt_email ?? null, customer_name: c.billing_details?.name ?? null,
        amount: c.amount, currency: c.currency, failure_code: c.failure_code, decline_reason: c.outcome?.reason ?? null, message: c.failure_message, created: c.created,
      })),
    };
  }
  const synced = await s.report?.('subscriptions', {});
  if (synced) return { ...head('synced records'), mrr: synced.mrr, active: synced.active, churned_30d: synced.churned_30d, churn_rate_30d: synced.churn_rate_30d };
  return { ...head('stripe api'), ...mrrAndChurn(await all(s, '/v1/subscriptions', { status: 'all' })) };
}

const LIVE = new Set(['active', 'trialing', 'past_due']);
const PER_MONTH: Record<string, number> = { day: 365 / 12, week: 52 / 12, month: 1, year: 1 / 12 };

/** MRR per currency (each price normalised to a month), live subscriptions, and churn over the last 30 days; as the synced report computes them. */
function mrrAndChurn(subscriptions: any[]) {
  const since = Math.floor(Date.now() / 1000) - 30 * DAY;
  const byCurrency = new Map<string, { mrr: number; subscriptions: Set<string> }>();
  for (const sub of subscriptions.filter((x) => LIVE.has(x.status))) {
    for (const item of sub.items?.data ?? []) {
      const price = item.price;
      if (!price?.recurring) continue;
      const row = byCurrency.get(price.currency) ?? { mrr: 0, subscriptions: new Set<string>() };
      row.mrr += ((price.unit_amount ?? 0) * (item.quantity ?? 1) * (PER_MONTH[price.recurring.interval] ?? 1)) / (price.recurring.interval_count ?? 1);
      row.subscriptions.add(sub.id);
      byCurrency.set(price.currency, row);
    }
  }
  const live = subscriptions.filter((x) => LIVE.has(x.status)).length;
  const churned = subscriptions.filter((x) => x.status === 'canceled' && (x.canceled_at ?? 0) >= since).length;
  return {
    mrr: [...byCurrency].sort(([a], [b]) => a.localeCompare(b)).map(([currency, r]) => ({ currency, mrr: Math.round(r.mrr), subscriptions: r.subscriptions.size })),
    active: live, churned_30d: churned, churn_rate_30d: live + churned ? Math.round((churned / (live + churned)) * 10_000) / 10_000 : 0,
  };
}

/** Search with Stripe's query language; the resource searched decides the permission. */
function searchTool(name: string, description: string): Tool {
  return {
    name, description, permission: 'search', level: 'read',
    input: { resource: z.enum(['customers', 'payment_intents', 'charges', 'products', 'prices', 'subscriptions', 'invoices']), query: z.string(), limit },
    run: (s, a) => s.call('GET', `/v1/${a.resource}/search`, clean({ query: a.query, limit: a.limit })),
  };
}

/** Every page of a list (up to `max` objects). */
async function all(s: Caller, path: string, params: Record<string, unknown>, max = 5000): Promise<any[]> {
  const out: any[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await s.call('GET', path, { ...params, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) });
    out.push(...page.data);
    if (!page.has_more || out.length >= max) return out;
    startingAfter = page.data.at(-1).id;
  }
}

async function revenueReport(s: Caller, months: number) {
  const since = Math.floor(Date.now() / 1000) - months * 31 * DAY;
  const charges = await all(s, '/v1/charges', { created: { gte: since } });
  const rows = new Map<string, { month: string; product: string; currency: string; gross: number; refunds: number; net: number; count: number }>();
  const products = new Map<string, string>();
  for (const charge of charges.filter((c) => c.status === 'succeeded')) {
    let product = charge.description ?? 'Unattributed';
    if (charge.payment_intent && !products.has(charge.payment_intent)) {
      const sessions = await s.call('GET', '/v1/checkout/sessions', { payment_intent: charge.payment_intent, limit: 1 }).catch(() => ({ data: [] }));
      const session = sessions.data[0];
      if (session) {
        const items = await s.call('GET', `/v1/checkout/sessions/${session.id}/line_items`, { limit: 1 }).catch(() => ({ data: [] }));
        products.set(charge.payment_intent, items.data[0]?.description ?? product);
      }
    }
    product = products.get(charge.payment_intent) ?? product;
    const month = new Date(charge.created * 1000).toISOString().slice(0, 7);
    const key = `${month}|${product}|${charge.currency}`;
    const row = rows.get(key) ?? { month, product, currency: charge.currency, gross: 0, refunds: 0, net: 0, count: 0 };
    row.gross += charge.amount_captured ?? charge.amount;
    row.refunds += charge.amount_refunded ?? 0;
    row.net = row.gross - row.refunds;
    row.count++;
    rows.set(key, row);
  }
  return { months, rows: [...rows.values()].sort((a, b) => a.month.localeCompare(b.month) || b.net - a.net) };
}

async function failedPayments(s: Caller, hours: number) {
  const since = Math.floor(Date.now() / 1000) - hours * 3600;
  const charges = await all(s, '/v1/charges', { created: { gte: since } });
  return {
    hours,
    failed: charges.filter((c) => c.status === 'failed').map((c) => ({
      charge: c.id, payment_intent: c.payment_intent, customer: c.customer, amount: c.amount, currency: c.currency, created: c.created,
      failure_code: c.failure_code, decline_code: c.outcome?.reason ?? null, message: c.failure_message,
      card: c.payment_method_details?.card ? `${c.payment_method_details.card.brand} •••• ${c.payment_method_details.card.last4}` : null,
    })),
  };
}
