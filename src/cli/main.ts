/**
 * `paybridge` command line. Each command is a thin wrapper over a library
 * entry point; nothing here holds business logic.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_KEY, DEFAULT_SANDBOX } from './defaults.js';

// Commands load their modules when they run: `paybridge sandbox` should not
// pay (in start-up time and memory) for the gateway's database engines.
const gateway = () => import('./gateway.js');

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number between 0 and 65535');
  return n;
};

async function runSandbox(options: { port: number; host: string; dataDir?: string; fsync?: boolean; log?: boolean; oauthTokenTtl?: number; rateLimit?: number; latencyMs?: number; latencyJitterMs?: number; errorRate?: number }): Promise<void> {
  const { log, ...rest } = options;
  const { startSandbox } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({ ...rest, logger: log });
  console.log(`PayBridge sandbox listening on ${sandbox.url} (Stripe API at ${sandbox.url}/v1, state: ${options.dataDir ?? 'in memory'})`);
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number, at least 1');
  return n;
};

const nonNegative = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number, at least 0');
  return n;
};

const share = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
};

const program = new Command()
  .name('paybridge')
  .description('Self-hosted Stripe integration gateway and offline Stripe-compatible sandbox')
  .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version, '-v, --version', 'print the version')
  .showHelpAfterError();

program
  .command('sandbox')
  .description('Serve a stateful, Stripe-compatible test-mode API')
  .option('--port <port>', 'port to listen on (0 picks a free one)', port, 12111)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'keep state in this folder (survives restarts and kill -9)')
  .option('--fsync', 'flush every write to disk (survives power loss; slower)')
  .option('--log', 'log requests')
  .option('--oauth-token-ttl <seconds>', 'lifetime of Stripe Apps OAuth access tokens', positiveInt, 3600)
  .option('--rate-limit <n>', "answer 429 above n requests per second per account, like Stripe (25 is test mode's)", positiveInt)
  .option('--latency-ms <ms>', 'hold every API answer this long, as Stripe takes a few hundred milliseconds', nonNegative)
  .option('--latency-jitter-ms <ms>', 'vary the latency by up to this much either way', nonNegative)
  .option('--error-rate <share>', 'answer this share of API requests (0 to 1) with a 500', share)
  .action(runSandbox);

program
  .command('start')
  .description('Run PayBridge: the gateway with embedded storage and an embedded Stripe sandbox')
  .option('--port <port>', 'port of the gateway', port, 4000)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'data folder (embedded database, key file, sandbox state)', '.paybridge')
  .option('--sandbox-port <port>', 'port of the embedded sandbox', port, 12111)
  .action(async (o) => (await gateway()).runGateway(o));

program
  .command('rotate-master-key')
  .description('Re-encrypt every stored secret under a new master key, while gateways keep running')
  .option('--data-dir <dir>', 'data folder', '.paybridge')
  .option('--new-key <base64>', 'the new key (with PAYBRIDGE_MASTER_KEY; by default one is generated into the key file)')
  .action(async (o) => (await gateway()).rotateMasterKey(o));

program
  .command('reset-admin-password')
  .description("Set a new password for the dashboard's admin (stop an embedded-storage gateway first)")
  .option('--data-dir <dir>', 'data folder', '.paybridge')
  .option('--password <password>', 'the new password (at least 12 characters; by default one is generated and printed)')
  .action(async (o) => (await gateway()).resetAdminPassword(o));

program
  .command('stripe-app-manifest')
  .description('Print a stripe-app.json for installing PayBridge as a Stripe App with OAuth')
  .requiredOption('--permissions <list>', 'comma-separated Stripe App permissions, e.g. customer_read,payment_intent_write')
  .option('--id <id>', 'app id', 'com.example.paybridge')
  .option('--name <name>', 'app name', 'PayBridge')
  .option('--public-url <url>', 'public URL of this gateway (for the OAuth callback)', process.env.PAYBRIDGE_PUBLIC_URL ?? 'http://127.0.0.1:4000')
  .action(async (o: { permissions: string; id: string; name: string; publicUrl: string }) => {
    console.log(JSON.stringify((await gateway()).stripeAppManifest(o), null, 2));
  });

program
  .command('mcp')
  .description('Serve Stripe tools to an AI agent over MCP (stdio), limited to what the credentials allow')
  .option('--connection <id>', 'act through a running gateway on this connection (PAYBRIDGE_URL, PAYBRIDGE_API_KEY)')
  .option('--api-key <key>', 'act directly with this Stripe key (sk_… or restricted rk_…)')
  .option('--stripe-base <url>', 'Stripe API host for --api-key', 'https://api.stripe.com')
  .option('--stripe-account <acct>', 'act on this connected account (Stripe-Account)')
  .option('--tools <list>', 'allow only these, e.g. customers.read,payment_intents.write')
  .action(async (o: { connection?: string; apiKey?: string; stripeBase: string; stripeAccount?: string; tools?: string }) => {
    const { runMcp } = await import('./mcp.js');
    await runMcp(o);
  });

program
  .command('listen')
  .description('Forward the sandbox\'s webhook events to a local URL, signed, as `stripe listen` does')
  .requiredOption('--forward-to <url>', 'where to POST each event')
  .option('--sandbox <url>', 'the sandbox to listen to', DEFAULT_SANDBOX)
  .option('--events <types>', 'comma-separated event types to receive (default: all)')
  .option('--api-key <key>', "an app key (pb_test_…; default PAYBRIDGE_API_KEY): forward the app's PayBridge webhooks from the gateway instead")
  .option('--gateway <url>', 'the gateway whose app webhooks are forwarded (with an app key)', process.env.PAYBRIDGE_URL ?? 'http://127.0.0.1:4000')
  .action(async (o: { forwardTo: string; sandbox: string; events?: string; apiKey?: string; gateway: string }) => {
    const { listen } = await import('./listen.js');
    const envKey = process.env.PAYBRIDGE_API_KEY;
    const apiKey = o.apiKey ?? (envKey?.startsWith('pb_') ? envKey : undefined);
    const listener = await listen({ forwardTo: o.forwardTo, sandbox: o.sandbox, events: o.events, apiKey, gateway: o.gateway });
    const stop = async () => {
      await listener.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('trigger')
  .description('Make the API calls that produce an event (e.g. payment_intent.succeeded)')
  .argument('<event>', 'event type to produce')
  .option('--sandbox <url>', 'the sandbox to call', DEFAULT_SANDBOX)
  .option('--api-key <key>', 'secret key to call it with', DEFAULT_KEY)
  .action(async (event: string, o: { sandbox: string; apiKey: string }) => {
    const [{ trigger }, { stripeFor }] = await Promise.all([import('./trigger.js'), import('./client.js')]);
    await trigger(stripeFor(o.sandbox, o.apiKey), event);
    console.log(`Trigger succeeded! Check the sandbox's events for ${event}.`);
  });

try {
  await program.parseAsync();
} catch (e) {
  // One prefix, however the message began.
  console.error(`paybridge: ${(e as Error).message.replace(/^(paybridge:\s*)+/i, '')}`);
  process.exit(1);
}
