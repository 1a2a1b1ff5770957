/**
 * The MCP server: the tools the credentials allow, nothing else. Calls are
 * validated before Stripe sees them, creating calls get an idempotency key
 * (the caller's, or one derived from the call, shared by identical calls
 * within ten minutes, so an agent's retry never charges twice), and Stripe's
 * errors come back as tool errors with Stripe's message and code.
 *
 * A server acts on one target (a key, or one connection), or — bound to an
 * app — on any of the app's connections: then every tool that reaches Stripe
 * takes a `connection` argument limited to those, and each call is checked
 * against that connection's permissions.
 */
import { createHash } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TOOLS, ToolFailure, REPLAYED, type Caller, type Tool } from './tools.js';
import { API_TOOLS, apiNeeds } from './api-tools.js';
import { outputOf } from './outputs.js';

export type Permissions = Record<string, 'read' | 'write' | 'none'>;

const SEARCHABLE = ['customers', 'payment_intents', 'charges', 'products', 'prices', 'subscriptions', 'invoices'];
const IDEMPOTENCY_WINDOW_MS = 10 * 60 * 1000;

export interface Policy {
  /** A restricted key's or connection key's permissions; absent means the key may do everything. */
  permissions?: Permissions;
  /** `--tools customers.read,payment_intents.write`: an explicit allowlist, intersected with the permissions. */
  allowlist?: Permissions;
}

/** One Stripe account the tools may act on: a key, or a gateway connection. */
export interface Target {
  caller: (tool: string) => Caller;
  permissions?: Permissions;
  /** The gateway connection (absent for a key used directly). */
  connection?: string;
  /** The Stripe account and its name, when known. */
  account?: string | null;
  name?: string | null;
  livemode?: boolean;
}

const grants = (p: Permissions | undefined, resource: string, level: 'read' | 'write') => {
  if (!p) return true;
  const granted = p[resource] ?? 'none';
  return granted === 'write' || granted === level;
};

export function allows(policy: Policy, resource: string, level: 'read' | 'write'): boolean {
  return grants(policy.permissions, resource, level) && grants(policy.allowlist, resource, level);
}

const REPORT_NEEDS: Record<string, [string, 'read' | 'write'][]> = {
  revenue: [['charges', 'read']], failed_payments: [['charges', 'read']], mrr_and_churn: [['subscriptions', 'read']],
};

/**
 * The resources and levels a call needs (search depends on what it searches, a generic call on its operation), or
 * the route a generic call names when the restricted-key table does not know it.
 */
function needs(tool: Tool, args: Record<string, any>): [string, 'read' | 'write'][] | { unknown: string } {
  if (tool.permission === 'search') return [[args.resource, 'read']];
  if (tool.name === 'revenue_report') return [['charges', 'read'], ['checkout_sessions', 'read']];
  if (tool.name === 'stripe_report') return REPORT_NEEDS[args.report] ?? [];
  if (tool.permission === 'none' || tool.permission === 'any') return apiNeeds(tool, args) ?? [];
  return [[tool.permission, tool.level]];
}

/** Whether the credentials allow any call at `level` (a generic tool is offered when some operation is allowed). */
const allowsAny = (policy: Policy, level: 'read' | 'write') =>
  (!policy.permissions || Object.values(policy.permissions).some((g) => g === 'write' || g === level)) &&
  (!policy.allowlist || Object.values(policy.allowlist).some((g) => g === 'write' || g === level));

/** Lists the Stripe accounts this server may act on; its answer is built by the server from its targets. */
const ACCOUNTS_TOOL: Tool = {
  name: 'list_available_accounts_or_orgs', description: 'List the Stripe accounts (PayBridge connections) these tools may act on, with each one\'s mode and permissions; pass a connection id as `connection` to the other tools when there are several.',
  permission: 'none', level: 'read', local: true, input: {}, run: async () => ({}),
};

export const ALL_TOOLS: Tool[] = [...TOOLS, ...API_TOOLS, ACCOUNTS_TOOL];

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

function offers(policy: Policy, t: Tool): boolean {
  if (t.permission === 'none') return true;
  if (t.permission === 'any') return allowsAny(policy, t.level);
  if (t.permission === 'search') return SEARCHABLE.some((r) => allows(policy, r, 'read'));
  if (t.name === 'revenue_report') return allows(policy, 'charges', 'read');
  if (t.name === 'stripe_report') return allows(policy, 'charges', 'read') || allows(policy, 'subscriptions', 'read');
  return allows(policy, t.permission, t.level);
}

export function offered(policy: Policy): Tool[] {
  return ALL_TOOLS.filter((t) => offers(policy, t));
}

/** What a hidden tool needs, said to an agent that calls it anyway. */
function hiddenMessage(t: Tool): string {
  const need = t.permission === 'any' ? `${t.level} access to some Stripe resource`
    : t.permission === 'search' ? 'read access to a searchable resource'
    : t.name === 'stripe_report' ? 'charges: read or subscriptions: read'
    : `${t.permission}: ${t.level}`;
  return `Refused: ${t.name} is not offered to these credentials: it needs ${need}, which they do not allow (the key's permissions, or the --tools list). Nothing was sent to Stripe. list_available_accounts_or_orgs shows what each account allows.`;
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

export interface ServeOptions {
  /** Bound to an app: each Stripe-reaching tool takes `connection`, one of the targets'. */
  appBound?: boolean;
  allowlist?: Permissions;
  onCall?: (r: ToolCallRecord) => void;
}

type TextResult = { isError?: boolean; content: { type: 'text'; text: string }[]; structuredContent?: Record<string, unknown> };
const failure = (text: string): TextResult => ({ isError: true, content: [{ type: 'text', text }] });

/** The account a direct key acts on, asked of Stripe once (a restricted key may not be allowed to read it). */
async function accountOf(t: Target): Promise<{ account: string | null; name: string | null }> {
  if (t.account !== undefined) return { account: t.account, name: t.name ?? null };
  const found = await t.caller('list_available_accounts_or_orgs').call('GET', '/v1/account').catch(() => undefined);
  t.account = found?.id ?? null;
  t.name = found?.settings?.dashboard?.display_name ?? found?.business_profile?.name ?? null;
  return { account: t.account ?? null, name: t.name ?? null };
}

export function buildMcpServer(targets: Target[], options: ServeOptions = {}): McpServer {
  const { appBound = false, allowlist, onCall } = options;
  if (!appBound && targets.length !== 1) throw new Error('An MCP server not bound to an app acts on exactly one target.');
  const policyOf = (t: Target): Policy => ({ permissions: t.permissions, allowlist });
  const byConnection = new Map(targets.map((t) => [t.connection ?? '', t]));
  const ids = targets.map((t) => t.connection).filter((c): c is string => !!c);
  const connectionArg = (ids.length ? z.enum(ids as [string, ...string[]]) : z.string())
    .describe('The connection (Stripe account) to act on; list_available_accounts_or_orgs lists them');

  const server = new McpServer({ name: 'paybridge-stripe', version: '0.1.0' });
  const hidden = new Map<string, Tool>();
  for (const tool of ALL_TOOLS) {
    // Catalogue tools answer whoever asks, even an app with no connection yet.
    if (tool.permission !== 'none' && !targets.some((t) => offers(policyOf(t), tool))) {
      hidden.set(tool.name, tool);
      continue;
    }
    const reachesStripe = !tool.local;
    // `account` only where a key is used directly: through the gateway the connection is the account.
    const direct = targets.every((t) => !t.connection);
    const input: z.ZodRawShape = {
      ...(appBound && reachesStripe ? { connection: connectionArg } : {}),
      ...tool.input,
      ...(tool.onAccount && direct ? { account: z.string().regex(/^acct_/, 'a connected account id (acct_…)').optional().describe('Act on this connected account of the platform (Stripe-Account)') } : {}),
      ...(tool.creates ? { idempotency_key: z.string().max(255).optional().describe('Repeat this key to make a retried call safe; derived from the call when absent') } : {}),
    };
    const annotations = {
      readOnlyHint: tool.level === 'read',
      destructiveHint: tool.level === 'write' && !!tool.destructive,
      // Reads, and creations under an idempotency key, can be repeated without doing anything twice.
      idempotentHint: tool.level === 'read' || !!tool.creates,
      openWorldHint: !tool.local,
    };
    const outputSchema = outputOf(tool);
    const run = async (raw: Record<string, any>): Promise<{ refused: string } | { answer: Record<string, any> }> => {
      const { idempotency_key: given, connection, ...args } = raw;
      if (tool === ACCOUNTS_TOOL) {
        const accounts = await Promise.all(targets.map(async (t) => ({
          connection: t.connection ?? null, ...(await accountOf(t)), livemode: t.livemode ?? null,
          permissions: t.permissions ? Object.fromEntries(Object.entries(t.permissions).filter(([, l]) => l !== 'none')) : 'all', tools: ALL_TOOLS.filter((x) => offers(policyOf(t), x)).map((x) => x.name),
        })));
        return { answer: { accounts } };
      }
      const target = appBound && reachesStripe ? byConnection.get(connection) : targets[0];
      if (!target) return { refused: `No connection '${String(connection)}' here: use one of ${ids.join(', ') || '(none: this app has no connections)'}.` };
      const policy = policyOf(target);
      let needed: ReturnType<typeof needs>;
      try {
        needed = needs(tool, args);
      } catch (e) {
        return { refused: (e as Error).message };
      }
      const refusal = refusalOf(tool, needed, policy) ?? (offers(policy, tool) ? undefined : hiddenMessage(tool));
      if (refusal) return { refused: refusal };
      const key = tool.creates ? given ?? derivedKey(tool.name, { connection, ...args }) : undefined;
      return { answer: await tool.run(target.caller(tool.name), args, key) as Record<string, any> };
    };
    server.registerTool(tool.name, { description: tool.description, inputSchema: input, outputSchema, annotations }, async (raw: Record<string, any>) => {
      const args = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'idempotency_key'));
      let outcome: Awaited<ReturnType<typeof run>>;
      try {
        outcome = await run(raw);
      } catch (e) {
        const f = e instanceof ToolFailure ? e : new ToolFailure((e as Error).message);
        const detail = [f.code && `code: ${f.code}`, f.declineCode && `decline_code: ${f.declineCode}`].filter(Boolean).join(', ');
        onCall?.({ tool: tool.name, args, ok: false, error: f.message });
        return failure(`Stripe error: ${f.message}${detail ? ` (${detail})` : ''}`);
      }
      if ('refused' in outcome) {
        onCall?.({ tool: tool.name, args, ok: false, error: outcome.refused });
        return failure(outcome.refused);
      }
      const { answer } = outcome;
      onCall?.({ tool: tool.name, args, ok: true });
      const content: TextResult['content'] = [];
      // Stripe answered a repeated idempotency key with the first call's result: the agent is told nothing was done again.
      if (answer[REPLAYED as unknown as string]) content.push({ type: 'text', text: 'Replayed: an identical call was made earlier with the same idempotency key, so Stripe answered with its result and did nothing again.' });
      content.push({ type: 'text', text: JSON.stringify(answer, null, 2) });
      return { content, ...(outputSchema ? { structuredContent: answer } : {}) };
    });
  }
  answerHiddenTools(server, hidden);
  return server;
}

/**
 * The SDK answers a call to an unregistered tool "not found"; a tool these credentials may not use answers
 * instead with what it needs. The SDK keeps its handlers in a map with no getter: the wrapper reads it there and
 * fails loudly at start if the SDK ever stops doing so (the MCP tests then fail too).
 */
function answerHiddenTools(server: McpServer, hidden: Map<string, Tool>): void {
  if (!hidden.size) return;
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, (request: unknown, extra: unknown) => Promise<unknown>> })._requestHandlers;
  const original = handlers?.get('tools/call');
  if (!original) throw new Error('The MCP SDK no longer keeps its tools/call handler where PayBridge looks for it.');
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = hidden.get(request.params.name);
    if (tool) return failure(hiddenMessage(tool));
    return original(request, extra) as ReturnType<typeof original> as never;
  });
}
