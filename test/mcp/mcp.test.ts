/**
 * The MCP server through the official MCP SDK client: over stdio (the real
 * `paybridge mcp` in a child process) against the sandbox, and over HTTP at
 * the gateway's /mcp.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ALL_TOOLS } from '../../src/mcp/server.js';
import { TOOLS } from '../../src/mcp/tools.js';
import { harnessPerFile, type Harness } from '../helpers.js';
import { anotherApp, startGatewayHarness, type GatewayHarness } from '../gateway/harness.js';

const BIN = new URL('../../bin/paybridge.mjs', import.meta.url).pathname;
let h: Harness;
harnessPerFile((x) => (h = x));

async function stdioClient(args: string[]): Promise<Client> {
  const client = new Client({ name: 'paybridge-test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], stderr: 'pipe' }));
  return client;
}

type Result = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: Record<string, unknown> };
/** The tool's answer: its last text (a replayed create says so in a text before it). */
const json = (r: Result) => JSON.parse(r.content.at(-1)!.text);

describe('paybridge mcp over stdio, straight to the sandbox', () => {
  let client: Client;
  before(async () => {
    client = await stdioClient(['--api-key', 'sk_test_mcp_agent', '--stripe-base', h.sandbox.url]);
  });
  after(() => client?.close());

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args })) as Result;
    assert.notEqual(r.isError, true, `${name}: ${r.content[0]?.text}`);
    return json(r);
  };

  it('lists every tool, with input schemas', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS.map((t) => t.name).sort());
    const pi = tools.find((t) => t.name === 'create_payment_intent')!;
    assert.ok(pi.description!.length > 20);
    assert.deepEqual((pi.inputSchema as { required?: string[] }).required?.sort(), ['amount', 'currency']);
    assert.ok('idempotency_key' in (pi.inputSchema as { properties: object }).properties);
  });

  it('runs each tool against the sandbox', async () => {
    const seen = new Set<string>();
    const run = async (name: string, args: Record<string, unknown> = {}) => {
      seen.add(name);
      return call(name, args);
    };
    const customer = await run('create_customer', { name: 'Agent Customer', email: 'agent@example.com' });
    assert.equal((await run('list_customers', { email: 'agent@example.com' })).data[0].id, customer.id);
    const product = await run('create_product', { name: 'Agent product' });
    assert.ok((await run('list_products', { limit: 5 })).data.some((p: { id: string }) => p.id === product.id));
    const price = await run('create_price', { product: product.id, unit_amount: 1500, currency: 'USD' });
    assert.equal((await run('list_prices', { product: product.id })).data[0].id, price.id);
    assert.match((await run('create_payment_link', { price: price.id, quantity: 2 })).url, /\/b\/plink_/);
    const invoice = await run('create_invoice', { customer: customer.id, days_until_due: 30 });
    await run('create_invoice_item', { customer: customer.id, price: price.id, invoice: invoice.id });
    const finalized = await run('finalize_invoice', { invoice: invoice.id });
    assert.equal(finalized.status, 'open');
    assert.equal(finalized.amount_due, 1500);
    assert.ok((await run('list_invoices', { customer: customer.id })).data.length >= 1);
    assert.equal((await run('retrieve_balance')).object, 'balance');
    const pi = await run('create_payment_intent', { amount: 3000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, description: 'agent order' });
    assert.equal(pi.status, 'succeeded');
    assert.equal((await run('retrieve_payment_intent', { payment_intent: pi.id })).latest_charge.object, 'charge');
    assert.equal((await run('create_refund', { payment_intent: pi.id, amount: 500 })).amount, 500);
    assert.ok((await run('list_payment_intents', { limit: 3 })).data.length >= 1);
    assert.ok((await run('list_refunds', { payment_intent: pi.id })).data.length === 1);
    assert.ok((await run('list_charges', { payment_intent: pi.id })).data.length === 1);
    const plan = await run('create_price', { product: product.id, unit_amount: 900, currency: 'usd' });
    const recurring = await h.stripe.prices.create({ product: product.id, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
    assert.ok(plan.id);
    await h.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id }).then((pm) => h.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } }));
    const sub = await run('create_subscription', { customer: customer.id, items: [{ price: recurring.id, quantity: 1 }] });
    assert.equal(sub.status, 'active');
    const updated = await run('update_subscription', { subscription: sub.id, items: [{ id: sub.items.data[0].id, quantity: 3 }], proration_behavior: 'none' });
    assert.equal(updated.items.data[0].quantity, 3);
    assert.equal((await run('list_subscriptions', { customer: customer.id })).data[0].id, sub.id);
    assert.equal((await run('cancel_subscription', { subscription: sub.id })).status, 'canceled');
    const coupon = await run('create_coupon', { name: 'Agents', percent_off: 15, duration: 'once' });
    assert.ok((await run('list_coupons')).data.some((c: { id: string }) => c.id === coupon.id));
    const disputed = await run('create_payment_intent', { amount: 2000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
    const dispute = (await run('list_disputes', { payment_intent: disputed.id })).data[0];
    assert.equal((await run('update_dispute', { dispute: dispute.id, evidence: { uncategorized_text: 'winning_evidence' }, submit: true })).id, dispute.id);
    assert.match((await run('create_checkout_session', { mode: 'payment', success_url: 'https://example.com/ok', line_items: [{ price: price.id, quantity: 1 }] })).url, /\/c\/pay\/cs_test_/);
    assert.equal((await run('create_setup_intent', { customer: customer.id })).object, 'setup_intent');
    assert.equal((await run('search', { resource: 'customers', query: "email:'agent@example.com'" })).data[0].id, customer.id);
    assert.equal((await run('search_stripe_resources', { resource: 'customers', query: "email:'agent@example.com'" })).data[0].id, customer.id);
    assert.ok((await run('list_events', { type: 'customer.created', limit: 5 })).data.length >= 1);
    await client.callTool({ name: 'create_payment_intent', arguments: { amount: 1000, currency: 'usd', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', confirm: true } });
    const report = await run('revenue_report', { months: 1 });
    const row = report.rows.find((r: { product: string }) => r.product === 'agent order');
    assert.deepEqual([row.gross, row.refunds, row.net], [3000, 500, 2500]);
    const failed = await run('failed_payments', { hours: 1 });
    assert.ok(failed.failed.some((f: { failure_code: string }) => f.failure_code === 'card_declined'));
    seen.add('failed_payments');
    // Connect (issue 20): the platform's key used directly, acting on a connected account with `account`.
    const seller = await h.stripe.accounts.create({
      type: 'custom', business_type: 'individual', business_profile: { mcc: '5734', url: 'https://accessible.stripe.com' },
      individual: { first_name: 'Jenny', last_name: 'Rosen', email: 'seller@example.com' }, external_account: 'btok_us_verified',
      tos_acceptance: { date: Math.floor(Date.now() / 1000), ip: '127.0.0.1' }, capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    });
    await h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    await h.stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true, application_fee_amount: 400, transfer_data: { destination: seller.id }, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } });
    const transfer = await run('create_transfer', { amount: 700, currency: 'usd', destination: seller.id, transfer_group: 'agent-order' });
    assert.deepEqual([transfer.object, transfer.destination], ['transfer', seller.id]);
    assert.ok((await run('list_transfers', { destination: seller.id })).data.some((t: { id: string }) => t.id === transfer.id));
    assert.ok((await run('list_application_fees', { limit: 5 })).data.some((f: { account: string; amount: number }) => f.account === seller.id && f.amount === 400));
    const sellerBalance = await run('retrieve_balance', { account: seller.id });
    assert.equal(sellerBalance.available.find((b: { currency: string }) => b.currency === 'usd').amount, 5000 - 400 + 700);
    const payout = await run('create_payout', { amount: 1000, currency: 'usd', account: seller.id });
    assert.equal(payout.status, 'pending');
    assert.equal((await run('list_payouts', { account: seller.id })).data[0].id, payout.id);
    // stripe_report (issue 21): the same reports in one shape, read from the API when nothing is synced.
    const revenue = await run('stripe_report', { report: 'revenue', months: 1 });
    assert.deepEqual([revenue.object, revenue.report, revenue.source], ['report', 'revenue', 'stripe api']);
    assert.equal(revenue.rows.find((r: { product: string }) => r.product === 'agent order').net, 2500);
    const mrr = await run('stripe_report', { report: 'mrr_and_churn' });
    assert.ok(mrr.churned_30d >= 1, 'the cancelled subscription counts as churn');
    assert.equal(typeof mrr.churn_rate_30d, 'number');
    const dunning = await run('stripe_report', { report: 'failed_payments', hours: 1 });
    assert.ok(dunning.rows.some((f: { decline_reason: string; amount: number }) => f.amount === 1000 && f.decline_reason === 'insufficient_funds'), JSON.stringify(dunning.rows));
    assert.deepEqual([...seen].sort(), TOOLS.map((t) => t.name).sort(), 'every tool was run');
  });

  it('reaches operations no specific tool covers through the generic tools, by Stripe’s operation ids (issue 21)', async () => {
    const found = (await call('stripe_api_search', { query: 'create a tax rate' })).operations.map((o: { operation_id: string }) => o.operation_id);
    assert.ok(found.includes('PostTaxRates'), found.join(', '));
    const details = await call('stripe_api_details', { stripe_api_operation_id: 'PostTaxRates' });
    assert.deepEqual([details.method, details.path], ['POST', '/v1/tax_rates']);
    assert.ok(details.parameters.some((p: { name: string; required: boolean }) => p.name === 'display_name' && p.required));
    const rate = await call('stripe_api_write', { stripe_api_operation_id: 'PostTaxRates', parameters: { display_name: 'VAT', percentage: 20, inclusive: false } });
    assert.equal(rate.object, 'tax_rate');
    assert.equal((await call('stripe_api_read', { stripe_api_operation_id: 'GetTaxRatesTaxRate', parameters: { tax_rate: rate.id } })).id, rate.id);
    await call('stripe_api_write', { stripe_api_operation_id: 'PostTaxRates', parameters: { display_name: 'GST', percentage: 10, inclusive: true } });
    const first = await call('stripe_api_read', { stripe_api_operation_id: 'GetTaxRates', parameters: { limit: 1 } });
    assert.deepEqual([first.data.length, first.has_more], [1, true]);
    const next = await call('stripe_api_read', { stripe_api_operation_id: 'GetTaxRates', parameters: { limit: 1, starting_after: first.data[0].id } });
    assert.notEqual(next.data[0].id, first.data[0].id, 'starting_after pages on');
    const wrongDoor = (await client.callTool({ name: 'stripe_api_read', arguments: { stripe_api_operation_id: 'PostTaxRates', parameters: { display_name: 'x', percentage: 1, inclusive: false } } })) as Result;
    assert.equal(wrongDoor.isError, true);
    assert.match(wrongDoor.content[0].text, /stripe_api_write/);
    const fetched = (await call('fetch_stripe_resources', { ids: [rate.id] })).objects;
    assert.deepEqual(fetched.map((o: { id: string; object: string }) => [o.id, o.object]), [[rate.id, 'tax_rate']]);
    const unknown = (await client.callTool({ name: 'stripe_api_read', arguments: { stripe_api_operation_id: 'GetBananas' } })) as Result;
    assert.match(unknown.content[0].text, /No Stripe API operation is called 'GetBananas'/);
    // A recurring price from the specific tool, then a subscription on it: create_subscription works from scratch.
    const product = await call('create_product', { name: 'Agent plan' });
    const monthly = await call('create_price', { product: product.id, unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } });
    assert.equal(monthly.recurring.interval, 'month');
    const customer = await call('create_customer', { name: 'Plan customer', email: 'plan@example.com' });
    const sub = await call('create_subscription', { customer: customer.id, items: [{ price: monthly.id }], payment_behavior: 'default_incomplete' });
    assert.equal(sub.items.data[0].price.id, monthly.id);
    const tools = (await client.listTools()).tools;
    const hints = (name: string) => tools.find((t) => t.name === name)!.annotations;
    assert.equal(hints('stripe_api_read')?.readOnlyHint, true);
    assert.equal(hints('stripe_api_search')?.openWorldHint, false);
    assert.equal(hints('cancel_subscription')?.destructiveHint, true);
    assert.equal(hints('create_customer')?.idempotentHint, true);
  });

  it('gives stable answers a schema, says when a create was replayed, and names the one account it acts on (issue 21)', async () => {
    const tools = (await client.listTools()).tools;
    const schema = (name: string) => tools.find((t) => t.name === name)!.outputSchema as { properties: Record<string, unknown>; required?: string[] } | undefined;
    assert.deepEqual(schema('list_customers')?.required?.sort(), ['data', 'has_more', 'object']);
    assert.deepEqual(schema('create_customer')?.required?.sort(), ['id', 'object']);
    assert.ok(schema('stripe_report')?.properties.source);
    assert.equal(schema('stripe_api_read'), undefined, 'a generic call has no fixed shape');
    // The SDK client validates structured answers against the schema: a wrong schema would fail these calls.
    const listed = (await client.callTool({ name: 'list_customers', arguments: { limit: 2 } })) as Result;
    assert.equal(listed.structuredContent?.object, 'list');
    assert.deepEqual(listed.structuredContent, json(listed));
    const args = { name: 'Replayed once', email: 'replay@example.com', idempotency_key: 'agent-replay-1' };
    const first = (await client.callTool({ name: 'create_customer', arguments: args })) as Result;
    assert.equal(first.content.length, 1, 'a first call is not called a replay');
    const again = (await client.callTool({ name: 'create_customer', arguments: args })) as Result;
    assert.match(again.content[0].text, /^Replayed: .*did nothing again/);
    assert.equal(json(again).id, json(first).id);
    assert.equal((again.structuredContent as { id: string }).id, json(first).id);
    const accounts = await call('list_available_accounts_or_orgs');
    assert.equal(accounts.accounts.length, 1);
    assert.match(accounts.accounts[0].account, /^acct_/);
    assert.deepEqual([accounts.accounts[0].connection, accounts.accounts[0].livemode], [null, false]);
  });

  it('makes a repeated create_payment_intent charge once, and reports a decline as a tool error', async () => {
    const args = { amount: 4321, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, description: 'retried by an agent' };
    const first = await call('create_payment_intent', args);
    const again = await call('create_payment_intent', args);
    assert.equal(again.id, first.id);
    const keyed1 = await call('create_payment_intent', { ...args, idempotency_key: 'agent-order-9' });
    const keyed2 = await call('create_payment_intent', { ...args, idempotency_key: 'agent-order-9' });
    assert.equal(keyed1.id, keyed2.id);
    const charges = await h.stripe.charges.list({ limit: 100 });
    assert.equal(charges.data.filter((c) => c.description === 'retried by an agent').length, 2, 'one charge per distinct call');
    const declined = (await client.callTool({ name: 'create_payment_intent', arguments: { amount: 1000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true } })) as Result;
    assert.equal(declined.isError, true);
    assert.match(declined.content[0].text, /^Stripe error: Your card was declined\. \(code: card_declined, decline_code: generic_decline\)$/);
    const invalid = (await client.callTool({ name: 'create_payment_intent', arguments: { amount: 12.5, currency: 'usd' } })) as Result;
    assert.equal(invalid.isError, true, 'a non-integer amount is refused before Stripe');
  });
});

describe('least privilege', () => {
  it('offers only what a restricted key allows, intersected with --tools, and refuses the rest', async () => {
    const rk = await fetch(`${h.sandbox.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write', products: 'read' } }) }).then((r) => r.json());
    const client = await stdioClient(['--api-key', rk.secret, '--stripe-base', h.sandbox.url]);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['create_customer', 'fetch_stripe_resources', 'list_available_accounts_or_orgs', 'list_customers', 'list_products', 'search', 'search_stripe_resources', 'stripe_api_details', 'stripe_api_read', 'stripe_api_search', 'stripe_api_write']);
      const hidden = (await client.callTool({ name: 'create_payment_intent', arguments: { amount: 100, currency: 'usd' } })) as Result;
      assert.equal(hidden.isError, true);
      assert.match(hidden.content[0].text, /^Refused: create_payment_intent is not offered to these credentials: it needs payment_intents: write/, 'a hidden tool says why, not "not found"');
      const unknownTool = (await client.callTool({ name: 'make_coffee', arguments: {} })) as Result;
      assert.match(unknownTool.content[0].text, /not found/, 'a tool that does not exist is still unknown');
      const before = (await h.stripe.events.list({ limit: 1 })).data[0]?.id;
      const refused = (await client.callTool({ name: 'search', arguments: { resource: 'charges', query: "status:'succeeded'" } })) as Result;
      assert.equal(refused.isError, true);
      assert.match(refused.content[0].text, /needs charges: read.*Nothing was sent to Stripe/);
      assert.equal((await h.stripe.events.list({ limit: 1 })).data[0]?.id, before);
    } finally {
      await client.close();
    }
    // Through the generic tools too: a read-only key reads, may not write, and may not call what the table cannot check.
    const readOnly = await fetch(`${h.sandbox.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { tax_rates: 'read' } }) }).then((r) => r.json());
    const reader = await stdioClient(['--api-key', readOnly.secret, '--stripe-base', h.sandbox.url]);
    try {
      const read = (await reader.callTool({ name: 'stripe_api_read', arguments: { stripe_api_operation_id: 'GetTaxRates', parameters: { limit: 3 } } })) as Result;
      assert.notEqual(read.isError, true, read.content[0].text);
      assert.ok(!(await reader.listTools()).tools.some((t) => t.name === 'stripe_api_write'), 'no write tool for a read-only key');
      const before = (await h.stripe.taxRates.list({ limit: 100 })).data.length;
      const write = (await reader.callTool({ name: 'stripe_api_write', arguments: { stripe_api_operation_id: 'PostTaxRates', parameters: { display_name: 'No', percentage: 5, inclusive: false } } })) as Result;
      assert.equal(write.isError, true);
      assert.equal((await h.stripe.taxRates.list({ limit: 100 })).data.length, before, 'nothing was written');
      const unchecked = (await reader.callTool({ name: 'stripe_api_read', arguments: { stripe_api_operation_id: 'GetSubscriptionSchedules' } })) as Result;
      assert.equal(unchecked.isError, true);
      assert.match(unchecked.content[0].text, /does not know which permission GET \/v1\/subscription_schedules needs/);
    } finally {
      await reader.close();
    }
    const narrowed = await stdioClient(['--api-key', rk.secret, '--stripe-base', h.sandbox.url, '--tools', 'customers.read']);
    try {
      assert.deepEqual((await narrowed.listTools()).tools.map((t) => t.name).sort(), ['fetch_stripe_resources', 'list_available_accounts_or_orgs', 'list_customers', 'search', 'search_stripe_resources', 'stripe_api_details', 'stripe_api_read', 'stripe_api_search']);
    } finally {
      await narrowed.close();
    }
  });
});

describe('MCP over HTTP at the gateway', () => {
  let g: GatewayHarness;
  before(async () => {
    g = await startGatewayHarness();
  });
  after(() => g?.close());

  it('serves a connection’s tools, logs each call under the tool’s name, and needs an app key', async () => {
    const conn = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_http' })).json;
    const client = new Client({ name: 'paybridge-http-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.gw.url}/mcp?connection=${conn.id}`), { requestInit: { headers: { authorization: `Bearer ${g.key}` } } }));
    try {
      assert.equal((await client.listTools()).tools.length, ALL_TOOLS.length);
      const r = (await client.callTool({ name: 'create_customer', arguments: { name: 'Via HTTP', email: 'http-agent@example.com' } })) as Result;
      assert.notEqual(r.isError, true, r.content[0].text);
      assert.match(json(r).id, /^cus_/);
      const declined = (await client.callTool({ name: 'create_payment_intent', arguments: { amount: 500, currency: 'usd', payment_method: 'pm_card_chargeDeclinedExpiredCard', confirm: true } })) as Result;
      assert.equal(declined.isError, true);
      assert.match(declined.content[0].text, /expired_card/);
    } finally {
      await client.close();
    }
    await g.gw.services.rt.logs.flush();
    const logs = (await g.api('GET', `/v1/logs?connection=${conn.id}&limit=10`)).json.data;
    const logged = logs.find((l: { source: string }) => l.source === 'mcp:create_customer');
    assert.ok(logged, JSON.stringify(logs.map((l: { source: string }) => l.source)));
    assert.equal(logged.request.email, 'http-agent@example.com');
    const noKey = await fetch(`${g.gw.url}/mcp?connection=${conn.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noKey.status, 401);
  });

  it('serves only a connection key’s tools over HTTP, with its connection implied, and logs each call under the tool (issue 18)', async () => {
    const conn = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_http_key' })).json;
    const key = (await g.api('POST', `/v1/connections/${conn.id}/keys`, { permissions: { customers: 'write' } })).json;
    const client = new Client({ name: 'paybridge-http-key', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key.secret}` } } }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('create_customer'));
      assert.ok(!names.includes('create_payment_intent'), 'a customers-only key offers no payment tools');
      const r = (await client.callTool({ name: 'create_customer', arguments: { name: 'Key agent', email: 'key-agent@example.com' } })) as Result;
      assert.notEqual(r.isError, true, r.content[0].text);
    } finally {
      await client.close();
    }
    await g.gw.services.rt.logs.flush();
    const logs = (await g.api('GET', `/v1/logs?connection=${conn.id}&limit=10`)).json.data;
    assert.ok(logs.some((l: { source: string }) => l.source === 'mcp:create_customer'), JSON.stringify(logs.map((l: { source: string }) => l.source)));
    const keys = (await g.api('GET', `/v1/connections/${conn.id}/keys`)).json;
    assert.equal(typeof keys.data[0].last_used, 'number', 'the key’s last use is recorded');
    await g.api('DELETE', `/v1/connections/${conn.id}/keys/${key.id}`);
    const revoked = await fetch(`${g.gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    assert.equal(revoked.status, 401);
  });

  it('answers revenue_report and failed_payments from synced records once the connection is synced', async () => {
    const conn = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_reports' })).json;
    const pay = (card: string, amount: number) => fetch(`${g.gw.url}/proxy/${conn.id}/v1/payment_intents`, {
      method: 'POST', headers: { authorization: `Bearer ${g.key}` }, body: `amount=${amount}&currency=usd&payment_method=${card}&confirm=true&description=Widgets`,
    });
    await pay('pm_card_visa', 1200);
    await pay('pm_card_chargeDeclined', 800);
    const client = new Client({ name: 'paybridge-reports', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.gw.url}/mcp?connection=${conn.id}`), { requestInit: { headers: { authorization: `Bearer ${g.key}` } } }));
    try {
      const crawled = json((await client.callTool({ name: 'revenue_report', arguments: { months: 1 } })) as Result);
      assert.equal(crawled.source, undefined, 'before a sync the API is crawled');
      await g.api('POST', `/v1/connections/${conn.id}/sync`);
      await g.gw.services.syncs.settled(conn.id);
      const revenue = json((await client.callTool({ name: 'revenue_report', arguments: { months: 1 } })) as Result);
      assert.equal(revenue.source, 'synced records');
      assert.deepEqual(revenue.rows.map((r: { product: string; net: number }) => [r.product, r.net]), [['Widgets', 1200]]);
      const failed = json((await client.callTool({ name: 'failed_payments', arguments: { hours: 1 } })) as Result);
      assert.equal(failed.source, 'synced records');
      assert.equal(failed.rows[0].amount, 800);
      const report = json((await client.callTool({ name: 'stripe_report', arguments: { report: 'revenue', months: 1 } })) as Result);
      assert.deepEqual([report.source, report.rows.map((r: { net: number }) => r.net)], ['synced records', [1200]]);
      const mrr = json((await client.callTool({ name: 'stripe_report', arguments: { report: 'mrr_and_churn' } })) as Result);
      assert.deepEqual([mrr.source, mrr.active], ['synced records', 0]);
    } finally {
      await client.close();
    }
  });

  it('bound to an app, acts on any of its connections by a `connection` argument, each within its own permissions (issue 21)', async () => {
    const full = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_app_bound' })).json;
    const rk = await fetch(`${g.gw.sandbox!.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'read' } }) }).then((r) => r.json());
    const narrow = (await g.api('POST', '/v1/connections', { secret_key: rk.secret })).json;
    const otherKey = await anotherApp(g, 'Other agent app');
    const foreign = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_foreign' }, otherKey)).json;
    const ids = (await g.api('GET', '/v1/connections')).json.data.filter((c: { status: string }) => c.status !== 'revoked').map((c: { id: string }) => c.id);
    const check = async (client: Client) => {
      const tools = (await client.listTools()).tools;
      const pi = tools.find((t) => t.name === 'create_payment_intent')!.inputSchema as { properties: Record<string, { enum?: string[] }>; required: string[] };
      assert.ok(pi.required.includes('connection'));
      assert.deepEqual(pi.properties.connection.enum?.sort(), [...ids].sort(), 'limited to the app’s connections');
      assert.ok(!('connection' in (tools.find((t) => t.name === 'stripe_api_search')!.inputSchema as { properties: object }).properties), 'catalogue tools need no account');
      const accounts = json((await client.callTool({ name: 'list_available_accounts_or_orgs', arguments: {} })) as Result).accounts;
      const listed = accounts.find((a: { connection: string }) => a.connection === narrow.id);
      assert.deepEqual(listed.permissions, { customers: 'read' });
      assert.ok(listed.tools.includes('list_customers') && !listed.tools.includes('create_customer'));
      assert.equal(accounts.find((a: { connection: string }) => a.connection === full.id).account, full.account);
      const made = (await client.callTool({ name: 'create_customer', arguments: { connection: full.id, name: 'App-bound', email: 'app-bound@example.com' } })) as Result;
      assert.notEqual(made.isError, true, made.content[0].text);
      const refused = (await client.callTool({ name: 'create_customer', arguments: { connection: narrow.id, name: 'Not allowed' } })) as Result;
      assert.equal(refused.isError, true);
      assert.match(refused.content[0].text, /^Refused: create_customer needs customers: write/);
      const read = (await client.callTool({ name: 'list_customers', arguments: { connection: narrow.id, limit: 1 } })) as Result;
      assert.notEqual(read.isError, true, read.content[0].text);
      const stolen = (await client.callTool({ name: 'list_customers', arguments: { connection: foreign.id } })) as Result;
      assert.equal(stolen.isError, true, 'another app’s connection is not one of these');
    };
    const http = new Client({ name: 'paybridge-app-bound', version: '1.0.0' });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${g.gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${g.key}` } } }));
    try {
      await check(http);
    } finally {
      await http.close();
    }
    const stdio = new Client({ name: 'paybridge-app-bound-stdio', version: '1.0.0' });
    await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], stderr: 'pipe', env: { ...process.env, PAYBRIDGE_URL: g.gw.url, PAYBRIDGE_API_KEY: g.key } as Record<string, string> }));
    try {
      await check(stdio);
    } finally {
      await stdio.close();
    }
    await g.gw.services.rt.logs.flush();
    const logs = (await g.api('GET', `/v1/logs?connection=${full.id}&limit=10`)).json.data;
    assert.equal(logs.filter((l: { source: string }) => l.source === 'mcp:create_customer').length, 2, 'each call logged on the connection it named');
    // An app with no connection yet gets the catalogue and an empty account list (it had answered 500).
    const empty = new Client({ name: 'paybridge-empty-app', version: '1.0.0' });
    await empty.connect(new StreamableHTTPClientTransport(new URL(`${g.gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${await anotherApp(g, 'No connections yet')}` } } }));
    try {
      assert.deepEqual((await empty.listTools()).tools.map((t) => t.name).sort(), ['list_available_accounts_or_orgs', 'stripe_api_details', 'stripe_api_search']);
      assert.deepEqual(json((await empty.callTool({ name: 'list_available_accounts_or_orgs', arguments: {} })) as Result).accounts, []);
    } finally {
      await empty.close();
    }
  });

  it('runs over stdio through the gateway with --connection, limited to a restricted connection’s permissions', async () => {
    const rk = await fetch(`${g.gw.sandbox!.url}/_sandbox/restricted_keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissions: { customers: 'write' } }) }).then((r) => r.json());
    const conn = (await g.api('POST', '/v1/connections', { secret_key: rk.secret })).json;
    const client = new Client({ name: 'paybridge-stdio-gateway', version: '1.0.0' });
    await client.connect(new StdioClientTransport({
      command: process.execPath, args: [BIN, 'mcp', '--connection', conn.id], stderr: 'pipe',
      env: { ...process.env, PAYBRIDGE_URL: g.gw.url, PAYBRIDGE_API_KEY: g.key } as Record<string, string>,
    }));
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['create_customer', 'fetch_stripe_resources', 'list_available_accounts_or_orgs', 'list_customers', 'search', 'search_stripe_resources', 'stripe_api_details', 'stripe_api_read', 'stripe_api_search', 'stripe_api_write']);
      const r = (await client.callTool({ name: 'create_customer', arguments: { name: 'Through the gateway' } })) as Result;
      assert.notEqual(r.isError, true, r.content[0].text);
    } finally {
      await client.close();
    }
    await g.gw.services.rt.logs.flush();
    const logs = (await g.api('GET', `/v1/logs?connection=${conn.id}&limit=5`)).json.data;
    assert.ok(logs.some((l: { source: string }) => l.source === 'mcp:create_customer'));

    // A connection key is just another restricted key to the MCP server.
    const full = (await g.api('POST', '/v1/connections', { secret_key: 'sk_test_mcp_ckey' })).json;
    const ckey = (await g.api('POST', `/v1/connections/${full.id}/keys`, { permissions: { customers: 'read', payment_intents: 'write' } })).json.secret;
    const viaKey = await stdioClient(['--api-key', ckey, '--stripe-base', g.gw.url]);
    try {
      assert.deepEqual((await viaKey.listTools()).tools.map((t) => t.name).sort(), ['create_payment_intent', 'fetch_stripe_resources', 'list_available_accounts_or_orgs', 'list_customers', 'list_payment_intents', 'retrieve_payment_intent', 'search', 'search_stripe_resources', 'stripe_api_details', 'stripe_api_read', 'stripe_api_search', 'stripe_api_write']);
    } finally {
      await viaKey.close();
    }

    // Least privilege from the environment alone (issue 18): PAYBRIDGE_URL and a connection key, the connection implied.
    for (const args of [[], ['--connection', full.id]]) {
      const agent = new Client({ name: 'paybridge-connection-key', version: '1.0.0' });
      await agent.connect(new StdioClientTransport({
        command: process.execPath, args: [BIN, 'mcp', ...args], stderr: 'pipe',
        env: { ...process.env, PAYBRIDGE_URL: g.gw.url, PAYBRIDGE_API_KEY: ckey } as Record<string, string>,
      }));
      try {
        assert.deepEqual((await agent.listTools()).tools.map((t) => t.name).sort(), ['create_payment_intent', 'fetch_stripe_resources', 'list_available_accounts_or_orgs', 'list_customers', 'list_payment_intents', 'retrieve_payment_intent', 'search', 'search_stripe_resources', 'stripe_api_details', 'stripe_api_read', 'stripe_api_search', 'stripe_api_write'], args.join(' '));
        const listed = (await agent.callTool({ name: 'list_customers', arguments: { limit: 1 } })) as Result;
        assert.notEqual(listed.isError, true, listed.content[0].text);
      } finally {
        await agent.close();
      }
    }
  });
});
