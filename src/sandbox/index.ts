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
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { buildSandboxServer } from './server.js';
import { DEFAULT_ACCOUNT } from './pipeline.js';
import type { SandboxEnv } from './engine/context.js';
import { Store } from './store/store.js';
import { DEFAULT_ACCESS_TOKEN_TTL } from './connect/credentials.js';
import { WebhookDispatcher, type WebhookOptions } from './webhooks/dispatcher.js';
import type { UrlPolicy } from '../net/outbound.js';

export { DEFAULT_ACCOUNT };
export { signatureHeader } from '../stripe/signature.js';
export { TEST_CARDS } from './cards.js';

export interface SandboxOptions {
  port?: number;
  host?: string;
  /** Keep state in this folder (journaled, survives kill -9); in memory when absent. */
  dataDir?: string;
  /** Flush every write to disk (survives power loss, slower). */
  fsync?: boolean;
  logger?: boolean;
  /** Webhook retry schedule and limits (tests shorten them). */
  webhooks?: WebhookOptions;
  /** Lifetime of Stripe Apps OAuth access tokens in seconds (default 3600; tests shorten it). */
  oauthTokenTtl?: number;
  /** Answer 429 above this many requests per second per account, as Stripe's rate limiter does (off by default). */
  rateLimit?: number;
  /** Stripe's pace at start: latency (ms, ± jitter) and a share of requests answered 500; `POST /_sandbox/config` changes it later. */
  latencyMs?: number;
  latencyJitterMs?: number;
  errorRate?: number;
  /** Also answer on this Unix socket: the embedding gateway's way in, cheaper per request than loopback TCP. */
  socketPath?: string;
  /** Seal the journal's lines with this key (32 bytes, base64): the embedding gateway keeps it in its vault. */
  journalKey?: string;
  /** Which inward addresses webhook endpoints may name: `private` by default (local and container networks), `loopback` or `none`. */
  allowPrivateUrls?: UrlPolicy;
  /** Test instrumentation: which parameters each operation's handler read (test/sandbox/params-take-effect.test.ts). */
  onParamsRead?: (route: string, read: Set<string>, enumerated: boolean) => void;
}

export interface Sandbox {
  app: FastifyInstance;
  store: Store;
  webhooks: WebhookDispatcher;
  url: string;
  port: number;
  host: string;
  /** Lets webhook endpoints at `origin` be registered and reached whatever the URL policy (the embedding gateway's own). */
  trustOrigin(origin: string): void;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const store = Store.open(options.dataDir, { fsync: options.fsync, key: options.journalKey ? Buffer.from(options.journalKey, 'base64') : undefined });
  const urlPolicy = options.allowPrivateUrls ?? 'private';
  const trustedOrigins = new Set<string>();
  const webhooks = new WebhookDispatcher(store, DEFAULT_ACCOUNT, { ...options.webhooks, urlPolicy, trustedOrigins });
  const env: SandboxEnv = {
    baseUrl: '', apiVersion: Stripe.API_VERSION, platform: DEFAULT_ACCOUNT, oauthTokenTtl: options.oauthTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL,
    webhookTargets: (account, type) => webhooks.targets(account, type), urlPolicy, trustedOrigins,
  };
  const app = buildSandboxServer({ store, env, logger: options.logger, pace: { rate_limit: options.rateLimit, latency_ms: options.latencyMs, latency_jitter_ms: options.latencyJitterMs, error_rate: options.errorRate }, onParamsRead: options.onParamsRead, onCommit: (account, deliveries) => webhooks.onCommit(account, deliveries) });
  await app.listen({ port: options.port ?? 12111, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 12111;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  env.baseUrl = `http://${urlHost}:${port}`;
  const local = options.socketPath ? await listenOnSocket(app, options.socketPath) : undefined;
  webhooks.resume();
  return {
    app, store, webhooks, port, host, url: env.baseUrl,
    trustOrigin: (origin) => void trustedOrigins.add(new URL(origin).origin),
    close: async () => {
      webhooks.close();
      if (local) {
        local.closeAllConnections();
        await new Promise((resolve) => local.close(resolve));
      }
      await app.close();
      store.close();
    },
  };
}
export type { ParamSchema } from '../stripe/schema.js';

/** A second door to the same server: requests on the socket go through Fastify exactly as those on the port. */
async function listenOnSocket(app: FastifyInstance, path: string): Promise<Server> {
  rmSync(path, { force: true });
  const local = createServer((req, res) => app.server.emit('request', req, res));
  local.keepAliveTimeout = app.server.keepAliveTimeout;
  await new Promise<void>((resolve, reject) => local.once('error', reject).listen(path, resolve));
  return local;
}
