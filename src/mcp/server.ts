/**
 * The MCP server: the tools the credentials allow, nothing else. Calls are
 * validated before Stripe sees them, creating calls get an idempotency key
 * (the caller's, or one derived from the call, shared by identical calls
 * within ten minutes, so an agent's retry never charges twice), and Stripe's
 * errors come back as tool errors with Stripe's message and code.
 */
import { createHash } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { TOOLS, ToolFailure, type Caller, type Tool } from './tools.js';
import { API_TOOLS, apiNeeds } from './api-tools.js';

export type Permissions = Record<string, 'read' | 'write' | 'none'>;

const SEARCHABLE = ['customers', 'payment_intents', 'charges', 'products', 'prices', 'subscriptions', 'invoices'];
const IDEMPOTENCY_WINDOW_MS = 10 * 60 * 1000;

export interface Policy {
  /** A restricted key's or connection key's permissions; absent means the key may do everything. */
  permissions?: Permissions;
  /** `--tools customers.read,payment_intents.write`: an explicit allowlist, intersected with the permissions. */
  allowlist?: Permissions;
}

const grants = (p: Permissions | undefined, resource: string, level: 'read' | 'write') => {
  if (!p) return true;
  const granted = p[resource] ?? 'none';
  return granted === 'write' || granted === level;
};

export function allows(policy: Policy, resource: string, level: 'read' | 'write'): boolean {
  return grants(policy.permissions, resource, level) && grants(policy.allowlist, resource, level);
}

/**
 * The resources and levels a call needs (search depends on what it searches, a generic call on its operation), or
 * the route a generic call names when the restricted-key table does not know it.
 */
function needs(tool: Tool, args: Record<string, any>): [string, 'read' | 'write'][] | { unknown: string } {
  if (tool.permission === 'search') return [[args.resource, 'read']];
  if (tool.name === 'revenue_report') return [['charges', 'read'], ['checkout_sessions', 'read']];
  if (tool.permission === 'none' || tool.permission === 'any') return apiNeeds(tool, args) ?? [];
  return [[tool.permission, tool.level]];
}

/** Whether the credentials allow any call at `level` (a generic tool is offered when some operation is allowed). */
const allowsAny = (policy: Policy, level: 'read' | 'write') =>
  (!policy.permissions || Object.values(policy.permissions).some((g) => g === 'write' || g === level)) &&
  (!policy.allowlist || Object.values(policy.allowlist).some((g) => g === 'write' || g === level));

export const ALL_TOOLS: Tool[] = [...TOOLS, ...API_TOOLS];

/** Why the credentials may not make this call, or undefined when they may. */
function refusalOf(tool: Tool, needed: ReturnType<typeof needs>, policy: Policy): string | undefined {
  if ('unknown' in needed) {
    // Unrestricted keys may call anything Stripe has; restricted ones only what the permission table can check.
    if (!policy.permissions && !policy.allowlist) return undefined;
    return `Refused: PayBridge does not know which permission ${needed.unknown} needs, so these restricted credentials may not call it. Nothing was sent to Stripe.`;
  }
  const missing = needed.find(([resource, level]) => !allows(policy, resource, level));
  return missing && `Refused: ${tool.name} needs ${missing[0]}: ${missing[1]}, which these credentials do not allow. Nothing was sent to Stripe.`;
}

export function offered(policy: Policy): Tool[] {
  return ALL_TOOLS.filter((t) => {
    if (t.permission === 'none') return true;
    if (t.permission === 'any') return allowsAny(policy, t.level);
    if (t.permission === 'search') return SEARCHABLE.some((r) => allows(policy, r, 'read'));
    if (t.name === 'revenue_report') return allows(policy, 'charges', 'read');
    return allows(policy, t.permission, t.level);
  });
}

/** `customers.read,payment_intents.write` → permissions. */
export function parseAllowlist(text: string | undefined): Permissions | undefined {
  if (!text) return undefined;
  const out: Permissions = {};
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)\.(read|write)$/.exec(entry);
    if (!m) throw new Error(`Invalid --tools entry '${entry}': use resource.read or resource.write, e.g. customers.read`);
    if (out[m[1]] !== 'write') out[m[1]] = m[2] as 'read' | 'write';
  }
  return out;
}

function derivedKey(tool: string, args: Record<string, unknown>): string {
  const window = Math.floor(Date.now() / IDEMPOTENCY_WINDOW_MS);
  return `mcp-${tool}-${createHash('sha256').update(JSON.stringify(args) + window).digest('hex').slice(0, 32)}`;
}

export interface ToolCallRecord {
  tool: string;
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export function buildMcpServer(caller: (tool: string) => Caller, policy: Policy, onCall?: (r: ToolCallRecord) => void): McpServer {
  const server = new McpServer({ name: 'paybridge-stripe', version: '0.1.0' });
  for (const tool of offered(policy)) {
    const input = tool.creates ? { ...tool.input, idempotency_key: z.string().max(255).optional().describe('Repeat this key to make a retried call safe; derived from the call when absent') } : tool.input;
    const annotations = {
      readOnlyHint: tool.level === 'read',
      destructiveHint: tool.level === 'write' && !!tool.destructive,
      // Reads, and creations under an idempotency key, can be repeated without doing anything twice.
      idempotentHint: tool.level === 'read' || !!tool.creates,
      openWorldHint: !tool.local,
    };
    server.registerTool(tool.name, { description: tool.description, inputSchema: input, annotations }, async (raw: Record<string, any>) => {
      const { idempotency_key: given, ...args } = raw;
      let needed: ReturnType<typeof needs>;
      try {
        needed = needs(tool, args);
      } catch (e) {
        const text = e instanceof ToolFailure ? e.message : (e as Error).message;
        onCall?.({ tool: tool.name, args, ok: false, error: text });
        return { isError: true, content: [{ type: 'text' as const, text }] };
      }
      const refusal = refusalOf(tool, needed, policy);
      if (refusal) {
        onCall?.({ tool: tool.name, args, ok: false, error: refusal });
        return { isError: true, content: [{ type: 'text' as const, text: refusal }] };
      }
      try {
        const key = tool.creates ? given ?? derivedKey(tool.name, args) : undefined;
        const result = await tool.run(caller(tool.name), args, key);
        onCall?.({ tool: tool.name, args, ok: true });
        return { content: [{ type: 'text' as const, text: JSON.stringify(result, null, 2) }] };
      } catch (e) {
        const f = e instanceof ToolFailure ? e : new ToolFailure((e as Error).message);
        onCall?.({ tool: tool.name, args, ok: false, error: f.message });
        const detail = [f.code && `code: ${f.code}`, f.declineCode && `decline_code: ${f.declineCode}`].filter(Boolean).join(', ');
        return { isError: true, content: [{ type: 'text' as const, text: `Stripe error: ${f.message}${detail ? ` (${detail})` : ''}` }] };
      }
    });
  }
  return server;
}
