/**
 * Compiles the request-parameter schemas of the Stripe OpenAPI spec into a
 * compact JSON table the sandbox validates against. Run it when the spec
 * changes: `npm run gen:spec [path/to/spec3.yaml]`.
 *
 * Only the paths the sandbox serves are kept (PATH_PREFIXES), so the table
 * stays small enough to load at start-up in a few milliseconds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ParamSchema } from '../src/stripe/schema.js';

const PATH_PREFIXES = [
  '/v1/customers', '/v1/products', '/v1/prices', '/v1/payment_methods', '/v1/payment_intents',
  '/v1/setup_intents', '/v1/charges', '/v1/refunds', '/v1/balance', '/v1/balance_transactions',
  '/v1/disputes', '/v1/coupons', '/v1/events', '/v1/tokens', '/v1/checkout/sessions',
  '/v1/payment_links', '/v1/subscriptions', '/v1/subscription_items', '/v1/invoices',
  '/v1/invoiceitems', '/v1/promotion_codes', '/v1/test_helpers/test_clocks', '/v1/webhook_endpoints',
  '/v1/accounts', '/v1/plans', '/v1/tax_rates', '/v1/payouts', '/v1/radar/early_fraud_warnings',
  '/v1/account_links', '/v1/account_sessions', '/v1/application_fees', '/v1/transfers',
];

type Json = any;
const specPath = process.argv[2] ?? new URL('../../shared/reference/stripe-openapi/spec3-2023-08-16.yaml', import.meta.url).pathname;
const spec: Json = parse(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 });

function compile(s: Json, depth = 0): ParamSchema {
  if (!s || depth > 12) return { t: 'x' };
  if (s.$ref) return { t: 'x' };
  if (s.anyOf) {
    const options = s.anyOf.map((o: Json) => compile(o, depth + 1));
    // `enum: ['']` is Stripe's way of saying "send an empty string to unset".
    const unsettable = options.some((o: ParamSchema) => o.t === 's' && o.e?.length === 1 && o.e[0] === '');
    const rest = options.filter((o: ParamSchema) => !(o.t === 's' && o.e?.length === 1 && o.e[0] === ''));
    const base: ParamSchema = rest.length === 1 ? rest[0] : { t: 'u', o: rest };
    return unsettable ? { ...base, z: 1 } : base;
  }
  switch (s.type) {
    case 'object': {
      const out: ParamSchema = { t: 'o' };
      if (s.properties) {
        out.p = {};
        for (const [k, v] of Object.entries(s.properties)) out.p[k] = compile(v, depth + 1);
      }
      if (s.required?.length) out.r = s.required;
      if (s.additionalProperties && typeof s.additionalProperties === 'object') out.ap = compile(s.additionalProperties, depth + 1);
      else if (!s.properties) out.ap = { t: 'x' };
      return out;
    }
    case 'array': return { t: 'a', i: compile(s.items, depth + 1) };
    case 'string': {
      const out: ParamSchema = { t: 's' };
      if (s.enum) out.e = s.enum;
      if (s.maxLength) out.m = s.maxLength;
      return out;
    }
    case 'integer': return { t: 'i' };
    case 'number': return { t: 'n' };
    case 'boolean': return { t: 'b' };
    default: return { t: 'x' };
  }
}

const operations: Record<string, ParamSchema> = {};
for (const [path, item] of Object.entries<Json>(spec.paths)) {
  if (!PATH_PREFIXES.some((p) => path === p || path.startsWith(p + '/'))) continue;
  for (const method of ['get', 'post', 'delete']) {
    const op = item[method];
    if (!op) continue;
    let schema: ParamSchema = { t: 'o', p: {} };
    const body = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
    if (body) schema = compile(body);
    for (const param of op.parameters ?? []) {
      if (param.in !== 'query') continue;
      schema.p ??= {};
      schema.p[param.name] = compile(param.schema);
      if (param.required) (schema.r ??= []).push(param.name);
    }
    if (schema.t === 'o' && !schema.p) schema.p = {};
    delete schema.ap; // request bodies never accept arbitrary top-level keys
    operations[`${method.toUpperCase()} ${path}`] = schema;
  }
}

const out = new URL('../src/stripe/spec/operations.json', import.meta.url);
writeFileSync(out, JSON.stringify(operations));
console.log(`wrote ${Object.keys(operations).length} operations to ${out.pathname}`);

// Top-level fields of Stripe's current objects, from Stripe's fixtures: the
// contract test checks every sandbox object carries all of them.
const fixturesPath = new URL('../../shared/reference/stripe-openapi/fixtures3.json', import.meta.url).pathname;
const fixtures = JSON.parse(readFileSync(process.argv[3] ?? fixturesPath, 'utf8')).resources as Record<string, Record<string, unknown>>;
const OBJECTS = ['customer', 'product', 'price', 'coupon', 'payment_method', 'payment_intent', 'setup_intent', 'charge', 'refund', 'balance_transaction', 'dispute', 'event', 'balance', 'token'];
const keys = Object.fromEntries(OBJECTS.map((o) => [o, Object.keys(fixtures[o]).sort()]));
const keysOut = new URL('../test/fixtures/stripe-object-keys.json', import.meta.url);
writeFileSync(keysOut, JSON.stringify(keys, null, 1) + '\n');
console.log(`wrote field lists of ${OBJECTS.length} objects to ${keysOut.pathname}`);

// Every served object also takes its contract from the stripe SDK's
// TypeScript types (the current version's shape): every field the type
// declares as always present. The fixtures above are older than the SDK.
const SDK_TYPES: Record<string, [file: string, iface: string]> = {
  customer: ['Customers', 'Customer'],
  product: ['Products', 'Product'],
  price: ['Prices', 'Price'],
  coupon: ['Coupons', 'Coupon'],
  payment_method: ['PaymentMethods', 'PaymentMethod'],
  payment_intent: ['PaymentIntents', 'PaymentIntent'],
  setup_intent: ['SetupIntents', 'SetupIntent'],
  charge: ['Charges', 'Charge'],
  refund: ['Refunds', 'Refund'],
  balance_transaction: ['BalanceTransactions', 'BalanceTransaction'],
  dispute: ['Disputes', 'Dispute'],
  event: ['Events', 'EventBase'],
  balance: ['Balance', 'Balance'],
  token: ['Tokens', 'Token'],
  plan: ['Plans', 'Plan'],
  card: ['Cards', 'Card'],
  'radar.early_fraud_warning': ['Radar/EarlyFraudWarnings', 'EarlyFraudWarning'],
  subscription: ['Subscriptions', 'Subscription'],
  subscription_item: ['SubscriptionItems', 'SubscriptionItem'],
  invoice: ['Invoices', 'Invoice'],
  invoiceitem: ['InvoiceItems', 'InvoiceItem'],
  promotion_code: ['PromotionCodes', 'PromotionCode'],
  'test_helpers.test_clock': ['TestHelpers/TestClocks', 'TestClock'],
  webhook_endpoint: ['WebhookEndpoints', 'WebhookEndpoint'],
  'checkout.session': ['Checkout/Sessions', 'Session'],
  payment_link: ['PaymentLinks', 'PaymentLink'],
  account: ['Accounts', 'Account'],
  tax_rate: ['TaxRates', 'TaxRate'],
  payout: ['Payouts', 'Payout'],
  tax_id: ['TaxIds', 'TaxId'],
  line_item: ['InvoiceLineItems', 'InvoiceLineItem'],
  customer_balance_transaction: ['CustomerBalanceTransactions', 'CustomerBalanceTransaction'],
  application_fee: ['ApplicationFees', 'ApplicationFee'],
  fee_refund: ['FeeRefunds', 'FeeRefund'],
  transfer: ['Transfers', 'Transfer'],
  transfer_reversal: ['TransferReversals', 'TransferReversal'],
  account_link: ['AccountLinks', 'AccountLink'],
  login_link: ['LoginLinks', 'LoginLink'],
  account_session: ['AccountSessions', 'AccountSession'],
  capability: ['Capabilities', 'Capability'],
  bank_account: ['BankAccounts', 'BankAccount'],
};
const sdkDir = new URL('../node_modules/stripe/esm/resources/', import.meta.url);
const sdkKeys: Record<string, string[]> = {};
for (const [object, [file, iface]] of Object.entries(SDK_TYPES)) {
  const source = readFileSync(new URL(`${file}.d.ts`, sdkDir), 'utf8');
  const start = source.indexOf(`export interface ${iface} {`);
  const body = source.slice(start, source.indexOf('\n}', start));
  sdkKeys[object] = [...body.matchAll(/^ {4}([a-z_0-9]+):/gm)].map((m) => m[1]).sort();
}
const sdkOut = new URL('../test/fixtures/stripe-sdk-object-keys.json', import.meta.url);
writeFileSync(sdkOut, JSON.stringify(sdkKeys, null, 1) + '\n');
console.log(`wrote required fields of ${Object.keys(sdkKeys).length} SDK types to ${sdkOut.pathname}`);

// Every event type Stripe can send, for validating webhook endpoints' enabled_events.
const endpointTypes = readFileSync(new URL('WebhookEndpoints.d.ts', sdkDir), 'utf8');
const union = /type EnabledEvent = ([^;]+);/.exec(endpointTypes)![1];
const eventTypes = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]);
const eventsOut = new URL('../src/stripe/spec/event_types.json', import.meta.url);
writeFileSync(eventsOut, JSON.stringify(eventTypes) + '\n');
console.log(`wrote ${eventTypes.length} event types to ${eventsOut.pathname}`);

// The response schemas of every object kind the sandbox serves, with all
// they refer to, converted from OpenAPI 3.0 to JSON Schema (`nullable` as a
// null alternative, refs into $defs, descriptions and vendor keys dropped),
// for the conformance test: it validates the sandbox's answers under
// Stripe-Version 2023-08-16 against these.
const SERVED = [
  'customer', 'product', 'price', 'plan', 'coupon', 'promotion_code', 'payment_method', 'payment_intent', 'setup_intent', 'charge', 'refund',
  'balance_transaction', 'dispute', 'token', 'card', 'tax_rate', 'subscription', 'subscription_item', 'invoice', 'line_item', 'invoiceitem',
  'test_helpers.test_clock', 'webhook_endpoint', 'checkout.session', 'item', 'payment_link', 'account', 'payout', 'customer_balance_transaction',
  'tax_id', 'balance', 'event', 'application_fee', 'fee_refund', 'transfer', 'transfer_reversal', 'account_link', 'login_link', 'account_session',
  'capability', 'bank_account',
];
function toJsonSchema(s: Json): Json {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-') || k === 'description' || k === 'nullable' || k === 'format') continue;
    if (k === '$ref') out.$ref = String(v).replace('#/components/schemas/', '#/$defs/');
    else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, toJsonSchema(ps)]));
    else out[k] = toJsonSchema(v);
  }
  return s.nullable ? { anyOf: [out, { type: 'null' }] } : out;
}
const schemas = spec.components.schemas as Record<string, Json>;
const needed = new Set<string>();
const visit = (name: string) => {
  if (needed.has(name)) return;
  needed.add(name);
  for (const m of JSON.stringify(schemas[name]).matchAll(/#\/components\/schemas\/([\w.]+)/g)) visit(m[1]);
};
SERVED.forEach(visit);
const defs = Object.fromEntries([...needed].sort().map((n) => [n, toJsonSchema(schemas[n])]));
const schemaOut = new URL('../test/fixtures/stripe-openapi-2023-08-16-schemas.json', import.meta.url);
writeFileSync(schemaOut, JSON.stringify({ served: SERVED, $defs: defs }) + '\n');
console.log(`wrote ${needed.size} response schemas (for ${SERVED.length} served objects) to ${schemaOut.pathname}`);

// The whole API as a catalogue for the MCP server's generic tools (stripe_api_search, stripe_api_details,
// stripe_api_read, stripe_api_write): every operation by Stripe's own id, with its method, path, a one-line
// summary and its top-level parameters (name, where, type, whether required, a short description).
const plain = (html: unknown, max: number) => {
  const text = String(html ?? '').replace(/<[^>]+>/g, '').replace(/&[a-z]+;/g, ' ').replace(/\s+/g, ' ').trim();
  const first = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
};
const typeOf = (s: Json): string => {
  if (!s) return 'any';
  if (s.anyOf) return s.anyOf.map(typeOf).filter((t: string, i: number, a: string[]) => a.indexOf(t) === i).join(' | ');
  if (s.enum) return s.enum.map((e: unknown) => JSON.stringify(e)).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  return s.type ?? 'object';
};
const catalog: Json[] = [];
for (const [path, item] of Object.entries<Json>(spec.paths)) {
  if (!path.startsWith('/v1/')) continue;
  for (const method of ['get', 'post', 'delete']) {
    const op = item[method];
    if (!op?.operationId) continue;
    const params: Json[] = [];
    for (const p of op.parameters ?? []) {
      if (p.name === 'expand') continue;
      params.push({ name: p.name, in: p.in, type: typeOf(p.schema), required: !!p.required, description: plain(p.description, 100) });
    }
    const body = op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema;
    for (const [name, s] of Object.entries<Json>(body?.properties ?? {})) {
      if (name === 'expand') continue;
      params.push({ name, in: 'body', type: typeOf(s), required: (body.required ?? []).includes(name), description: plain(s.description, 100) });
    }
    catalog.push({ id: op.operationId, method: method.toUpperCase(), path, summary: plain(op.summary ?? op.description, 160), params });
  }
}
const catalogOut = new URL('../src/stripe/spec/api-catalog.json', import.meta.url);
writeFileSync(catalogOut, JSON.stringify(catalog) + '\n');
console.log(`wrote ${catalog.length} operations of the whole API to ${catalogOut.pathname}`);
