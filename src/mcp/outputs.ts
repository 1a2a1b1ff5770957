/**
 * MCP output schemas for the tools whose answers have a stable shape: a
 * Stripe list, a search result, one Stripe object, a report, the catalogue's
 * answers. Objects are loose (Stripe adds fields with each version, and an
 * agent's client validates the structured answer against the schema), so a
 * schema says what is always there, never what is not.
 */
import { z } from 'zod';
import type { Tool } from './tools.js';

const stripeObject = z.looseObject({ id: z.string(), object: z.string() });
const list = { object: z.literal('list'), data: z.array(stripeObject), has_more: z.boolean(), url: z.string().optional() };
const search = { object: z.literal('search_result'), data: z.array(stripeObject), has_more: z.boolean(), next_page: z.string().nullable().optional() };
const one = { id: z.string(), object: z.string() };
const report = { object: z.literal('report'), report: z.string(), source: z.enum(['synced records', 'stripe api']) };
const operation = { operation_id: z.string(), method: z.enum(['GET', 'POST', 'DELETE']), path: z.string(), summary: z.string() };

const BY_NAME: Record<string, z.ZodRawShape> = {
  search: search, search_stripe_resources: search,
  retrieve_balance: { object: z.literal('balance'), available: z.array(z.looseObject({ amount: z.number(), currency: z.string() })), pending: z.array(z.looseObject({ amount: z.number(), currency: z.string() })) },
  stripe_report: report,
  stripe_api_search: { operations: z.array(z.looseObject(operation)) },
  stripe_api_details: { ...operation, parameters: z.array(z.looseObject({ name: z.string(), in: z.string(), type: z.string(), required: z.boolean() })) },
  fetch_stripe_resources: { objects: z.array(stripeObject) },
  list_available_accounts_or_orgs: {
    accounts: z.array(z.looseObject({ connection: z.string().nullable(), account: z.string().nullable(), name: z.string().nullable(), livemode: z.boolean().nullable(), tools: z.array(z.string()) })),
  },
};

/** The tool's output schema, or undefined where its answer has no fixed shape (generic calls, the older reports). */
export function outputOf(tool: Tool): z.ZodObject | undefined {
  const shape = BY_NAME[tool.name]
    ?? (tool.name.startsWith('list_') && tool.name !== 'list_available_accounts_or_orgs' ? list : undefined)
    ?? (tool.permission !== 'any' && !tool.local && (tool.level === 'write' || tool.name.startsWith('retrieve_')) ? one : undefined);
  return shape && z.looseObject(shape);
}
