/** `paybridge mcp`: the Stripe tools over stdio. Everything it prints goes to stderr; stdout belongs to the protocol. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { redact } from '../gateway/logs.js';
import { directCredentials, gatewayAppCredentials, gatewayCredentials, type Credentials } from '../mcp/callers.js';
import { buildMcpServer, offered, parseAllowlist } from '../mcp/server.js';

export async function runMcp(o: { connection?: string; apiKey?: string; stripeBase: string; stripeAccount?: string; tools?: string }): Promise<void> {
  const envKey = process.env.PAYBRIDGE_API_KEY;
  const gatewayUrl = process.env.PAYBRIDGE_URL ?? 'http://127.0.0.1:4000';
  let credentials: Credentials;
  if (!o.apiKey && envKey?.startsWith('pbk_')) {
    // A connection key names its connection and carries its permissions: the least an agent can be given.
    credentials = await directCredentials({ apiKey: envKey, stripeBase: gatewayUrl });
    credentials.describe = `a connection key (${envKey.slice(0, 13)}…) via ${gatewayUrl}`;
  } else if (o.connection && o.apiKey) {
    throw new Error('Give either --connection (through the gateway, with an app key in PAYBRIDGE_API_KEY) or --api-key (directly), not both.');
  } else if (o.apiKey) {
    credentials = await directCredentials({ apiKey: o.apiKey, stripeBase: o.stripeBase, stripeAccount: o.stripeAccount });
  } else if (!envKey || !/^pb_(test|live)_/.test(envKey)) {
    throw new Error('Give PAYBRIDGE_API_KEY=pbk_… (a connection key, through PAYBRIDGE_URL), PAYBRIDGE_API_KEY=pb_test_… (an app key: all its connections, or one with --connection conn_…), or --api-key sk_…|rk_… (directly).');
  } else if (o.connection) {
    credentials = await gatewayCredentials({ gatewayUrl, appKey: envKey, connection: o.connection });
  } else {
    // An app key alone: every connection of the app, each tool taking `connection`.
    credentials = await gatewayAppCredentials({ gatewayUrl, appKey: envKey });
  }
  const allowlist = parseAllowlist(o.tools);
  // Direct mode has no gateway log, so each tool call is written to stderr, redacted, for a person to audit.
  const audit = o.apiKey ? (r: { tool: string; args: Record<string, unknown>; ok: boolean; error?: string }) =>
    process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), tool: r.tool, args: redact(r.args), ok: r.ok, error: r.error })}\n`) : undefined;
  const server = buildMcpServer(credentials.targets, { appBound: credentials.appBound, allowlist, onCall: audit });
  await server.connect(new StdioServerTransport());
  const tools = new Set(credentials.targets.flatMap((t) => offered({ permissions: t.permissions, allowlist }).map((x) => x.name)));
  process.stderr.write(`paybridge mcp: ${tools.size} tools for ${credentials.describe}\n`);
}
