/**
 * Generic tools over the whole Stripe API, as Stripe's hosted MCP server
 * offers them: find an operation (`stripe_api_search`), read its parameters
 * (`stripe_api_details`), and call it (`stripe_api_read` for GET,
 * `stripe_api_write` for POST and DELETE), by Stripe's own operation id
 * (`GetCustomersCustomer`). The catalogue is compiled from Stripe's OpenAPI
 * spec by `npm run gen:spec`. Before anything is sent, a call's permission
 * is looked up in the same table as restricted keys': credentials with
 * permissions may only call operations that table knows, at a level they
 * grant.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { permissionFor } from '../stripe/routes.js';
import { ToolFailure, type Caller, type Tool } from './tools.js';

export interface ApiOperation {
  id: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  summary: string;
  params: { name: string; in: 'path' | 'query' | 'body'; type: string; required: boolean; description: string }[];
}

let catalog: ApiOperation[] | undefined;
/** Read on first use: the MCP server is the only reader, and most gateway processes never start one. */
export function apiCatalog(): ApiOperation[] {
  catalog ??= JSON.parse(readFileSync(new URL('../stripe/spec/api-catalog.json', import.meta.url), 'utf8')) as ApiOperation[];
  return catalog;
}

let index: Map<string, ApiOperation> | undefined;

export function operation(id: string): ApiOperation {
  index ??= new Map(apiCatalog().map((op) => [op.id, op]));
  const op = index.get(id);
  if (!op) throw new ToolFailure(`No Stripe API operation is called '${id}'. Find one with stripe_api_search (ids look like GetCustomers or PostPaymentIntents).`, 'operation_unknown');
  return op;
}

/** The concrete path of `op` for `parameters` (its path parameters filled in), and the rest of them. */
export function pathOf(op: ApiOperation, parameters: Record<string, unknown>): { path: string; rest: Record<string, unknown> } {
  const rest = { ...parameters };
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = rest[name];
    if (typeof value !== 'string' || !value) throw new ToolFailure(`${op.id} needs the path parameter '${name}' (a string).`, 'parameter_missing');
    delete rest[name];
    return encodeURIComponent(value);
  });
  return { path, rest };
}

/** The permission `op` needs on `path`, or undefined when the restricted-key table does not know the route. */
export function permissionOf(op: ApiOperation, path: string): { permission: string; level: 'read' | 'write' } | undefined {
  return permissionFor(op.method, path);
}

/** Operations whose words best match `query`: the id's words, the path and the summary, all of the query's words counted. */
export function searchOperations(query: string, limit = 10): ApiOperation[] {
  const words = query.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1);
  if (!words.length) return [];
  const scored = apiCatalog().map((op) => {
    const idWords = op.id.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    const hay = `${idWords} ${op.path.toLowerCase()} ${op.summary.toLowerCase()}`;
    let score = 0;
    for (const w of words) {
      const singular = w.replace(/s$/, '');
      if (idWords.includes(w) || idWords.includes(singular)) score += 3;
      if (hay.includes(singular)) score += 1;
    }
    // Fewer path segments first among equals: the list before its sub-resources.
    return { op, score: score - op.path.split('/').length * 0.01 };
  });
  return scored.filter((s) => s.score > 0).sort((a, b) => b.score - a.score).slice(0, limit).map((s) => s.op);
}

const operationId = z.string().min(3).max(200).describe("Stripe's operation id, e.g. GetCustomers or PostPaymentIntentsIntentConfirm (find one with stripe_api_search)");
const parameters = z.record(z.string(), z.unknown()).optional().describe("The operation's parameters: path parameters by name (e.g. customer), then query or body parameters as Stripe takes them, nested objects included");

/** An object's id prefix → the operation that retrieves it (Stripe's ids say what they are). */
const RETRIEVE_BY_PREFIX: Record<string, string> = {
  cus: 'GetCustomersCustomer', pi: 'GetPaymentIntentsIntent', ch: 'GetChargesCharge', py: 'GetChargesCharge', re: 'GetRefundsRefund',
  in: 'GetInvoicesInvoice', sub: 'GetSubscriptionsSubscriptionExposedId', si: 'GetSubscriptionItemsItem', prod: 'GetProductsId',
  price: 'GetPricesPrice', plan: 'GetPlansPlan', pm: 'GetPaymentMethodsPaymentMethod', seti: 'GetSetupIntentsIntent',
  cs: 'GetCheckoutSessionsSession', dp: 'GetDisputesDispute', du: 'GetDisputesDispute', txr: 'GetTaxRatesTaxRate', po: 'GetPayoutsPayout',
  promo: 'GetPromotionCodesPromotionCode', evt: 'GetEventsId', ii: 'GetInvoiceitemsInvoiceitem', plink: 'GetPaymentLinksPaymentLink',
  txn: 'GetBalanceTransactionsId', acct: 'GetAccountsAccount',
};

/** The generic read that retrieves the object `id` names. */
function retrieval(id: unknown): { stripe_api_operation_id: string; parameters: Record<string, unknown> } {
  const prefix = typeof id === 'string' ? /^([a-z]+)_/.exec(id)?.[1] : undefined;
  const opId = prefix && RETRIEVE_BY_PREFIX[prefix];
  if (!opId) throw new ToolFailure(`Cannot tell what '${String(id).slice(0, 60)}' is from its prefix; known: ${Object.keys(RETRIEVE_BY_PREFIX).map((p) => `${p}_`).join(', ')}. Use stripe_api_read with an operation id instead.`, 'resource_unknown');
  const op = operation(opId);
  const name = /\{(\w+)\}/.exec(op.path)![1];
  return { stripe_api_operation_id: opId, parameters: { [name]: id } };
}

const describeOp = (op: ApiOperation) => ({ operation_id: op.id, method: op.method, path: op.path, summary: op.summary });

/** Runs `op` with `args.parameters`: GET parameters as the query, POST parameters as the form body. */
async function call(s: Caller, op: ApiOperation, args: Record<string, any>, idempotencyKey?: string): Promise<unknown> {
  const { path, rest } = pathOf(op, args.parameters ?? {});
  return s.call(op.method, path, rest, op.method === 'POST' ? idempotencyKey : undefined);
}

export const API_TOOLS: Tool[] = [
  {
    name: 'stripe_api_search', description: 'Find Stripe API operations by words (e.g. "subscription schedule cancel"): their ids, methods, paths and summaries, for stripe_api_details, stripe_api_read and stripe_api_write.',
    permission: 'none', level: 'read', local: true,
    input: { query: z.string().min(1).max(500).describe('Words describing what to do'), limit: z.number().int().min(1).max(50).optional() },
    run: async (_s, a) => ({ operations: searchOperations(a.query, a.limit ?? 10).map(describeOp) }),
  },
  {
    name: 'stripe_api_details', description: "An operation's method, path and parameters (name, where it goes, type, whether required, what it is), by its operation id.",
    permission: 'none', level: 'read', local: true,
    input: { stripe_api_operation_id: operationId },
    run: async (_s, a) => {
      const op = operation(a.stripe_api_operation_id);
      return { ...describeOp(op), parameters: op.params };
    },
  },
  {
    name: 'fetch_stripe_resources', description: 'Retrieve Stripe objects by their ids (cus_…, pi_…, ch_…, in_…, sub_…, prod_…, price_…, and more), whatever their kind.',
    permission: 'any', level: 'read', fetches: true,
    input: { ids: z.array(z.string().min(3).max(255)).min(1).max(20).describe('The objects\' ids') },
    run: async (s, a) => ({
      objects: await Promise.all((a.ids as string[]).map((id) => {
        const read = retrieval(id);
        return call(s, operation(read.stripe_api_operation_id), read);
      })),
    }),
  },
  {
    name: 'stripe_api_read', description: 'Call any GET operation of the Stripe API by its operation id (lists take limit and starting_after).',
    permission: 'any', level: 'read',
    input: { stripe_api_operation_id: operationId, parameters },
    run: async (s, a) => {
      const op = operation(a.stripe_api_operation_id);
      if (op.method !== 'GET') throw new ToolFailure(`${op.id} is a ${op.method} operation, which changes data: call it with stripe_api_write.`, 'operation_not_read');
      return call(s, op, a);
    },
  },
  {
    name: 'stripe_api_write', description: 'Call any POST or DELETE operation of the Stripe API by its operation id; a creating call carries an idempotency key, so a retry never does it twice.',
    permission: 'any', level: 'write', creates: true,
    input: { stripe_api_operation_id: operationId, parameters },
    run: async (s, a, key) => {
      const op = operation(a.stripe_api_operation_id);
      if (op.method === 'GET') throw new ToolFailure(`${op.id} only reads: call it with stripe_api_read.`, 'operation_not_write');
      return call(s, op, a, key);
    },
  },
];

/**
 * The resource and level a generic call needs, found before anything is sent: `null` for a tool that calls nothing,
 * or `unknown` with the route when the restricted-key table has no entry for it.
 */
export function apiNeeds(tool: Tool, args: Record<string, any>): [string, 'read' | 'write'][] | { unknown: string } | null {
  if (tool.local) return null;
  const calls = tool.fetches ? (args.ids as string[]).map(retrieval) : [args as { stripe_api_operation_id: string; parameters?: Record<string, unknown> }];
  const out: [string, 'read' | 'write'][] = [];
  for (const c of calls) {
    const op = operation(c.stripe_api_operation_id);
    const { path } = pathOf(op, c.parameters ?? {});
    const needed = permissionOf(op, path);
    if (!needed) return { unknown: `${op.method} ${op.path}` };
    out.push([needed.permission, needed.level]);
  }
  return out;
}
