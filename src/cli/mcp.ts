/** `paybridge mcp`: the Stripe tools over stdio. Everything it prints goes to stderr; stdout belongs to the protocol. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { redact } from '../gateway/logs.js';
import { directCredentials, gatewayCredentials, type Credentials } from '../mcp/callers.js';
import { buildMcpServer, offered, parseAllowlist } from '../mcp/server.js';

export async function runMcp(o: { connection?: string; apiKey?: string; stripeBase: string; stripeAccount?: string; tools?: string }): Promise<void> {
  if (!!o.connection === !!o.apiKey) throw new Error('Give either --connection conn_… (through a gateway) or --api-key sk_…|rk_… (directly).');
  let credentials: Credentials;
  if (o.connection) {
    const appKey = process.env.PAYBRIDGE_API_KEY;
    if (!appKey) throw new Error('PAYBRIDGE_API_KEY (an app key, pb_test_… or pb_live_…) is needed with --connection.');
    credentials = await gatewayCredentials({ gatewayUrl: process.env.PAYBRIDGE_URL ?? 'http://127.0.0.1:4000', appKey, connection: o.connection });
  } else {
    credentials = await directCredentials({ apiKey: o.apiKey!, stripeBase: o.stripeBase, stripeAccount: o.stripeAccount });
  }
  const policy = { permissions: credentials.permissions, allowlist: parseAllowlist(o.tools) };
  // Direct mode has no gateway log, so each tool call is written to stderr, redacted, for a person to audit.
  const audit = o.apiKey ? (r: { tool: string; args: Record<string, unknown>; ok: boolean; error?: string }) =>
    process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), tool: r.tool, args: redact(r.args), ok: r.ok, error: r.error })}\n`) : undefined;
  const server = buildMcpServer(credentials.caller, policy, audit);
  await server.connect(new StdioServerTransport());
  process.stderr.write(`paybridge mcp: ${offered(policy).length} tools for ${credentials.describe}\n`);
}
