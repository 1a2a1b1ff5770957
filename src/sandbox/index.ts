/**
 * The sandbox's public surface: `startSandbox` runs a Stripe-compatible
 * test-mode API on loopback.
 *
 * @example
 *   const sandbox = await startSandbox({ port: 0 });
 *   const stripe = new Stripe('sk_test_123', { host: '127.0.0.1', port: sandbox.port, protocol: 'http' });
 *   await stripe.customers.create({ email: 'jenny@example.com' });
 *   await sandbox.close();
 */
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { buildSandboxServer } from './server.js';
import { Store } from './store/store.js';

export { DEFAULT_ACCOUNT } from './pipeline.js';
export { TEST_CARDS } from './cards.js';

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Keep state in this folder (journaled, survives kill -9); in memory when absent. */
  dataDir?: string;
  /** Flush every write to disk (survives power loss, slower). */
  fsync?: boolean;
  logger?: boolean;
}

export interface Sandbox {
  app: FastifyInstance;
  store: Store;
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = Store.open(options.dataDir, { fsync: options.fsync });
  const env = { baseUrl: '', apiVersion: Stripe.API_VERSION };
  const app = buildSandboxServer({ store, env, logger: options.logger });
  await app.listen({ port: options.port ?? 12111, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 12111;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  env.baseUrl = `http://${urlHost}:${port}`;
  return {
    app, store, port, host, url: env.baseUrl,
    close: async () => {
      await app.close();
      store.close();
    },
  };
}
