/**
 * `paybridge` command line. Each command is a thin wrapper over a library
 * entry point; nothing here holds business logic.
 */
import { Command, InvalidArgumentError } from 'commander';
import { startSandbox } from '../sandbox/index.js';

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number between 0 and 65535');
  return n;
};

async function runSandbox(options: { port: number; host: string; dataDir?: string; fsync?: boolean; log?: boolean }): Promise<void> {
  const sandbox = await startSandbox({ port: options.port, host: options.host, dataDir: options.dataDir, fsync: options.fsync, logger: options.log });
  console.log(`PayBridge sandbox listening on ${sandbox.url} (Stripe API at ${sandbox.url}/v1, state: ${options.dataDir ?? 'in memory'})`);
  const stop = async () => {
    await sandbox.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const program = new Command()
  .name('paybridge')
  .description('Self-hosted Stripe integration gateway and offline Stripe-compatible sandbox')
  .showHelpAfterError();

program
  .command('sandbox')
  .description('Serve a stateful, Stripe-compatible test-mode API')
  .option('--port <port>', 'port to listen on (0 picks a free one)', port, 12111)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'keep state in this folder (survives restarts and kill -9)')
  .option('--fsync', 'flush every write to disk (survives power loss; slower)')
  .option('--log', 'log requests')
  .action(runSandbox);

// Until the gateway lands, the main job is the sandbox with a persistent data folder.
program
  .command('start')
  .description('Run PayBridge with embedded defaults')
  .option('--port <port>', 'port to listen on', port, 12111)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--data-dir <dir>', 'data folder', '.paybridge')
  .action((o) => runSandbox({ ...o, dataDir: `${o.dataDir}/sandbox` }));

await program.parseAsync();
