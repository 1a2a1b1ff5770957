/**
 * Connector actions: named, declarative operations on a connection, called
 * at `POST /v1/actions/:connection/:action`. A definition is data — which
 * Stripe operation, an input schema, a mapping from the caller's fields to
 * Stripe's parameters (nested paths, constants, defaults) and from Stripe's
 * answer to the output — validated against Stripe's own parameter schema
 * when saved. Built-in actions are written in the same format.
 */
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { routeSchema } from '../stripe/routes.js';
import type { ParamSchema } from '../stripe/schema.js';
import { invalidRequest, resourceMissing, StripeError } from '../stripe/errors.js';
import { connectorActions } from '../store/schema.js';
import type { AppKey } from './apps.js';
import type { Connections } from './connections.js';
import { newGatewayId } from './ids.js';
import type { Proxy } from './proxy.js';
import type { Runtime } from './runtime.js';

const FieldType = z.enum(['string', 'integer', 'number', 'boolean']);
const Field = z.object({ type: FieldType, required: z.boolean().optional(), default: z.union([z.string(), z.number(), z.boolean()]).optional(), description: z.string().optional() });
/** A map value: `"$.field"` (an input), or `{"const": value}`. */
const Source = z.union([z.string().regex(/^\$\.[a-z_][a-z0-9_]*$/i, 'a map value is "$.<input field>" or {"const": value}'), z.object({ const: z.union([z.string(), z.number(), z.boolean()]) })]);

export const Definition = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'use lowercase letters, digits and dashes, e.g. create-customer'),
  description: z.string().max(500).optional(),
  operation: z.string().regex(/^(GET|POST|DELETE) \/v1\/[a-z_/{}]+$/, 'operation: a method and Stripe path, e.g. "POST /v1/customers"'),
  input: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/i), Field),
  map: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/), Source),
  output: z.record(z.string(), z.string().regex(/^\$(\.[a-z0-9_]+)*$/i)).optional(),
});
export type ActionDefinition = z.infer<typeof Definition>;

export const BUILT_IN: ActionDefinition[] = [
  {
    name: 'create-customer', description: 'Create a customer; a payment method given becomes its default.', operation: 'POST /v1/customers',
    input: { customer_email: { type: 'string', required: true }, name: { type: 'string' }, payment_method: { type: 'string' } },
    map: { email: '$.customer_email', name: '$.name', payment_method: '$.payment_method', 'invoice_settings.default_payment_method': '$.payment_method' },
    output: { customer_id: '$.id', email: '$.email', default_payment_method: '$.invoice_settings.default_payment_method' },
  },
  {
    name: 'process-payment', description: 'Charge a payment method now (a payment intent, created and confirmed).', operation: 'POST /v1/payment_intents',
    input: { amount: { type: 'integer', required: true }, currency: { type: 'string', required: true }, payment_method: { type: 'string', required: true }, customer: { type: 'string' }, description: { type: 'string' } },
    map: { amount: '$.amount', currency: '$.currency', payment_method: '$.payment_method', customer: '$.customer', description: '$.description', confirm: { const: true } },
    output: { payment_intent_id: '$.id', status: '$.status', charge_id: '$.latest_charge', amount: '$.amount', currency: '$.currency' },
  },
  {
    name: 'create-subscription', description: 'Subscribe a customer to a recurring price.', operation: 'POST /v1/subscriptions',
    input: { customer: { type: 'string', required: true }, price: { type: 'string', required: true }, quantity: { type: 'integer', default: 1 }, trial_period_days: { type: 'integer' } },
    map: { customer: '$.customer', 'items.0.price': '$.price', 'items.0.quantity': '$.quantity', trial_period_days: '$.trial_period_days' },
    output: { subscription_id: '$.id', status: '$.status', latest_invoice: '$.latest_invoice' },
  },
  {
    name: 'refund-payment', description: 'Refund a payment, fully or partly.', operation: 'POST /v1/refunds',
    input: { payment_intent: { type: 'string', required: true }, amount: { type: 'integer' }, reason: { type: 'string' } },
    map: { payment_intent: '$.payment_intent', amount: '$.amount', reason: '$.reason' },
    output: { refund_id: '$.id', status: '$.status', amount: '$.amount' },
  },
  {
    name: 'create-checkout-session', description: 'A hosted payment page for one price.', operation: 'POST /v1/checkout/sessions',
    input: { price: { type: 'string', required: true }, quantity: { type: 'integer', default: 1 }, mode: { type: 'string', default: 'payment' }, success_url: { type: 'string', required: true }, cancel_url: { type: 'string' }, customer_email: { type: 'string' } },
    map: { 'line_items.0.price': '$.price', 'line_items.0.quantity': '$.quantity', mode: '$.mode', success_url: '$.success_url', cancel_url: '$.cancel_url', customer_email: '$.customer_email' },
    output: { checkout_session_id: '$.id', url: '$.url', expires_at: '$.expires_at' },
  },
];

const TYPE_OF: Record<string, string[]> = { s: ['string'], i: ['integer'], n: ['integer', 'number'], b: ['boolean'] };

/** The schema of a dotted Stripe parameter path (`items.0.price`), or why there is none. */
function paramAt(schema: ParamSchema, path: string): ParamSchema | string {
  let current: ParamSchema = schema;
  for (const segment of path.split('.')) {
    if (/^\d+$/.test(segment)) {
      if (current.t !== 'a') return `'${segment}' indexes a parameter that is not a list`;
      current = current.i ?? { t: 'x' };
      continue;
    }
    if (current.t === 'u') current = current.o?.find((o) => o.t === 'o') ?? current;
    if (current.t !== 'o') return `'${segment}' is inside a parameter that is not an object`;
    const next = current.p?.[segment] ?? current.ap;
    if (!next) return `unknown Stripe parameter '${segment}'`;
    current = next;
  }
  return current;
}

const accepts = (param: ParamSchema, type: string): boolean => {
  if (param.t === 'x') return true;
  if (param.t === 'u') return (param.o ?? []).some((o) => accepts(o, type));
  if (param.e && type !== 'string') return false;
  return TYPE_OF[param.t]?.includes(type) ?? false;
};

/** Checks a definition against Stripe's parameter schema; every problem names the field. */
export function validateDefinition(raw: unknown): ActionDefinition {
  const parsed = Definition.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidRequest(`Invalid action definition: ${issue.path.join('.') || 'definition'}: ${issue.message}`, { param: issue.path.join('.') || undefined, code: 'action_invalid' });
  }
  const d = parsed.data;
  const [method, pathTemplate] = d.operation.split(' ');
  const route = routeSchema(method, pathTemplate);
  if (!route) throw invalidRequest(`Invalid action definition: operation '${d.operation}' is not a Stripe operation PayBridge knows.`, { param: 'operation', code: 'action_invalid' });
  const pathParams = [...pathTemplate.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  for (const [target, source] of Object.entries(d.map)) {
    const field = typeof source === 'string' ? source.slice(2) : undefined;
    if (field && !d.input[field]) throw invalidRequest(`Invalid action definition: map.${target} refers to input field '${field}', which is not declared in input.`, { param: `map.${target}`, code: 'action_invalid' });
    if (target.startsWith('path.')) {
      if (!pathParams.includes(target.slice(5))) throw invalidRequest(`Invalid action definition: map.${target}: ${d.operation} has no path parameter '${target.slice(5)}'.`, { param: `map.${target}`, code: 'action_invalid' });
      continue;
    }
    const param = paramAt(route.schema, target);
    if (typeof param === 'string') throw invalidRequest(`Invalid action definition: map.${target}: ${param} for ${d.operation}.`, { param: `map.${target}`, code: 'action_invalid' });
    const type = field ? d.input[field].type : typeof (source as { const: unknown }).const === 'number' ? (Number.isInteger((source as { const: number }).const) ? 'integer' : 'number') : typeof (source as { const: unknown }).const;
    if (!accepts(param, type)) {
      throw invalidRequest(`Invalid action definition: map.${target}: Stripe expects ${describe(param)} there, but ${field ? `input field '${field}' is a ${type}` : `the constant is a ${type}`}.`, { param: `map.${target}`, code: 'action_invalid' });
    }
  }
  for (const required of route.schema.r ?? []) {
    if (!Object.keys(d.map).some((t) => t === required || t.startsWith(`${required}.`))) {
      throw invalidRequest(`Invalid action definition: Stripe requires '${required}' for ${d.operation}: map it from an input field or a constant.`, { param: `map.${required}`, code: 'action_invalid' });
    }
  }
  for (const p of pathParams) {
    if (!d.map[`path.${p}`]) throw invalidRequest(`Invalid action definition: ${d.operation} needs its path parameter '${p}': add "path.${p}" to map.`, { param: `map.path.${p}`, code: 'action_invalid' });
  }
  return d;
}

const describe = (p: ParamSchema): string => (p.t === 'u' ? (p.o ?? []).map(describe).join(' or ') : p.e ? `one of ${p.e.join(', ')}` : ({ s: 'a string', i: 'an integer', n: 'a number', b: 'a boolean', o: 'an object', a: 'a list' } as Record<string, string>)[p.t] ?? 'a value');

function coerceInput(d: ActionDefinition, input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!d.input[key]) throw invalidRequest(`Unknown input field '${key}' for action ${d.name}. Its fields: ${Object.keys(d.input).join(', ')}.`, { param: key, code: 'parameter_unknown' });
  }
  for (const [name, field] of Object.entries(d.input)) {
    let value = input[name] ?? field.default;
    if (value === undefined || value === '') {
      if (field.required) throw invalidRequest(`Missing required input: ${name}.`, { param: name, code: 'parameter_missing' });
      continue;
    }
    if (field.type === 'integer' || field.type === 'number') {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n) || (field.type === 'integer' && !Number.isInteger(n))) throw invalidRequest(`Invalid input ${name}: must be ${field.type === 'integer' ? 'an integer' : 'a number'}.`, { param: name, code: `parameter_invalid_${field.type}` });
      value = n;
    } else if (field.type === 'boolean') {
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') throw invalidRequest(`Invalid input ${name}: must be true or false.`, { param: name, code: 'parameter_invalid_boolean' });
      value = value === true || value === 'true';
    } else if (typeof value !== 'string') {
      throw invalidRequest(`Invalid input ${name}: must be a string.`, { param: name, code: 'parameter_invalid_string' });
    }
    out[name] = value;
  }
  return out;
}

/** Builds Stripe's parameters (and path) from the mapping. */
function stripeRequest(d: ActionDefinition, input: Record<string, unknown>): { path: string; params: Record<string, unknown> } {
  const params: Record<string, any> = {};
  let path = d.operation.split(' ')[1];
  for (const [target, source] of Object.entries(d.map)) {
    const value = typeof source === 'string' ? input[source.slice(2)] : source.const;
    if (value === undefined) continue;
    if (target.startsWith('path.')) {
      path = path.replace(`{${target.slice(5)}}`, encodeURIComponent(String(value)));
      continue;
    }
    const segments = target.split('.');
    let node = params;
    segments.forEach((segment, i) => {
      if (i === segments.length - 1) node[segment] = value;
      else node = node[segment] ??= /^\d+$/.test(segments[i + 1]) ? [] : {};
    });
  }
  return { path, params };
}

const pick = (obj: unknown, path: string): unknown => path.split('.').slice(1).reduce<any>((o, k) => (o == null ? undefined : o[k]), obj);

export class Actions {
  constructor(private readonly rt: Runtime, private readonly conns: Connections, private readonly proxy: Proxy) {}

  async save(app: AppKey, raw: unknown) {
    const d = validateDefinition(raw);
    if (BUILT_IN.some((b) => b.name === d.name)) throw invalidRequest(`'${d.name}' is a built-in action; choose another name.`, { param: 'name', code: 'action_invalid' });
    const [latest] = await this.rt.db.select().from(connectorActions).where(and(eq(connectorActions.appId, app.appId), eq(connectorActions.name, d.name))).orderBy(desc(connectorActions.version)).limit(1);
    const version = (latest?.version ?? 0) + 1;
    const [row] = await this.rt.db.insert(connectorActions).values({ id: newGatewayId('act'), appId: app.appId, name: d.name, version, definition: d }).returning();
    return this.view(row.definition as ActionDefinition, version, false, row.createdAt);
  }

  private view(d: ActionDefinition, version: number, builtIn: boolean, created?: Date) {
    return { object: 'action', ...d, version, built_in: builtIn, created: created ? Math.floor(created.getTime() / 1000) : null };
  }

  async list(app: AppKey) {
    const rows = await this.rt.db.select().from(connectorActions).where(eq(connectorActions.appId, app.appId)).orderBy(desc(connectorActions.version));
    const latest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) if (!latest.has(r.name)) latest.set(r.name, r);
    return {
      object: 'list', url: '/v1/actions', has_more: false,
      data: [...BUILT_IN.map((b) => this.view(b, 1, true)), ...[...latest.values()].map((r) => this.view(r.definition as ActionDefinition, r.version, false, r.createdAt))],
    };
  }

  async definition(app: AppKey, name: string, version?: number): Promise<{ d: ActionDefinition; version: number; builtIn: boolean }> {
    const builtIn = BUILT_IN.find((b) => b.name === name);
    if (builtIn) return { d: builtIn, version: 1, builtIn: true };
    const where = [eq(connectorActions.appId, app.appId), eq(connectorActions.name, name)];
    if (version) where.push(eq(connectorActions.version, version));
    const [row] = await this.rt.db.select().from(connectorActions).where(and(...where)).orderBy(desc(connectorActions.version)).limit(1);
    if (!row) throw resourceMissing('action', name, 'action');
    return { d: row.definition as ActionDefinition, version: row.version, builtIn: false };
  }

  async get(app: AppKey, name: string) {
    const { d, version, builtIn } = await this.definition(app, name);
    return this.view(d, version, builtIn);
  }

  /**
   * `POST /v1/actions/:connection/:action`: inputs checked, Stripe called through the proxy (logged as `action:<name>`).
   * With `trace`, the answer also shows the request made to Stripe and Stripe's whole answer (the dashboard's "Try").
   */
  async run(app: AppKey, connectionId: string, name: string, input: Record<string, unknown>, o: { idempotencyKey?: string; trace?: boolean } = {}) {
    const conn = await this.conns.require(app, connectionId);
    const { d, version } = await this.definition(app, name);
    const values = coerceInput(d, input);
    const { path, params } = stripeRequest(d, values);
    const method = d.operation.split(' ')[0];
    const sent = { method, path, params };
    let answer: Record<string, any>;
    try {
      answer = await this.proxy.request(app, conn, method, path, params, o.idempotencyKey, `action:${name}`);
    } catch (e) {
      if (!o.trace || !(e instanceof StripeError)) throw e;
      throw new StripeError(e.status, e.type, e.message, { ...e.fields, extra: { ...e.fields.extra, stripe_request: sent } });
    }
    const output = d.output ? Object.fromEntries(Object.entries(d.output).map(([k, p]) => [k, pick(answer, p) ?? null])) : answer;
    const result = { object: 'action_result', action: name, version, connection: conn.id, output, stripe: { object: answer.object ?? null, id: answer.id ?? null } };
    return o.trace ? { ...result, stripe_request: sent, stripe_response: answer } : result;
  }

  /** Every saved version of a custom action, newest first. */
  async versions(app: AppKey, name: string) {
    const rows = await this.rt.db.select().from(connectorActions).where(and(eq(connectorActions.appId, app.appId), eq(connectorActions.name, name))).orderBy(desc(connectorActions.version));
    const builtIn = BUILT_IN.find((b) => b.name === name);
    if (!rows.length && !builtIn) throw resourceMissing('action', name, 'action');
    const data = rows.length ? rows.map((r) => this.view(r.definition as ActionDefinition, r.version, false, r.createdAt)) : [this.view(builtIn!, 1, true)];
    return { object: 'list', url: `/v1/actions/${name}/versions`, has_more: false, data };
  }
}
