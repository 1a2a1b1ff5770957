/** `paybridge mcp`: the Stripe tools over stdio. Everything it prints goes to stderr; stdout belongs to the protocol. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { redact } from '../gateway/logs.js';
import { directCredentials, gatewayCredentials, type Credentials } from '../mcp/callers.js';
import { buildMcpServer, offered, parseAllowlist } from '../mcp/server.js';

export async function runMcp(o: { connection?: string; apiKey?: string; stripeBase: string; stripeAccount?: string; tools?: string }): Promise<void> {
  const envKey = process.env.PAYBRIDGE_API_KEY;
  const gatewayUrl = process.env.PAYBRIDGE_URL ?? 'http://127.0.0.1:4000';
  let credentials: Credentials;
  if (!o.apiKey && envKey?.startsWith('pbk_')) {
    // A connection key names its connection and carries its permissions: the least an agent can be given.
    credentials = await directCredentials({ apiKey: envKey, stripeBase: gatewayUrl });
    credentials.describe = `a connection key (${envKey.slice(0, 13)}…) via ${gatewayUrl}`;
  } else if (!!o.connection === !!o.apiKey) {
    throw new Error('Give PAYBRIDGE_API_KEY=pbk_… (a connection key, through PAYBRIDGE_URL), --connection conn_… with an app key in PAYBRIDGE_API_KEY, or --api-key sk_…|rk_… (directly).');
  } else if (o.connection) {
    if (!envKey) throw new Error('PAYBRIDGE_API_KEY (a connection key pbk_…, or an app key pb_test_…/pb_live_…) is needed with --connection.');
    credentials = await gatewayCredentials({ gatewayUrl, appKey: envKey, connection: o.connection });
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
