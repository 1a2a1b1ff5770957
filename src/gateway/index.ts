/**
 * The gateway's public surface: `startGateway(config)` runs PayBridge —
 * storage (PGlite under the data folder, or PostgreSQL), the vault, an
 * embedded sandbox as Stripe unless STRIPE_API_BASE points elsewhere, and
 * the HTTP API, proxy and OAuth callback. On first start it creates a
 * default app and writes its keys to `<data-dir>/bootstrap.json` (mode 0600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { startSandboxThread, type SandboxHandle } from './sandbox-thread.js';
import { openDatabase, type Database } from '../store/db.js';
import { settings } from '../store/schema.js';
import { AdminAuth } from './admin.js';
import { McpOAuth } from './mcp-oauth.js';
import { ConnectAccounts } from './connect-accounts.js';
import { Retention } from './retention.js';
import { Apps } from './apps.js';
import type { GatewayConfig, Mode, PlatformCredentials } from './config.js';
import { Connections } from './connections.js';
import { RequestLog } from './logs.js';
import { Tracer } from './tracing.js';
import { OAuthConnections } from './oauth.js';
import { Proxy } from './proxy.js';
import { PaymentSessions } from './sessions.js';
import { Actions } from './actions.js';
import { AppWebhooks } from './app_webhooks.js';
import { Syncs } from './syncs.js';
import { StripeEventsIn } from './inbound.js';
import { EventPoller } from './event-poll.js';
import type { AppKey } from './apps.js';
import type { Connection } from './connections.js';
import type { Runtime } from './runtime.js';
import { buildGatewayServer, type Services } from './server.js';
import { Upstream } from './upstream.js';
import { loadMasterKeys, Vault } from './vault.js';

export { loadConfig, ConfigError, type GatewayConfig } from './config.js';

/** The embedded sandbox's platform: any well-formed ca_ id and sk_test_ key are its own. */
const EMBEDDED_PLATFORM: PlatformCredentials = { clientId: 'ca_PayBridgeEmbeddedPlatform', secretKey: 'sk_test_paybridge_embedded_platform' };

export interface Gateway {
  app: FastifyInstance;
  url: string;
  port: number;
  sandbox?: SandboxHandle;
  storage: string;
  /** Set on the first start only: the default app and its keys (also in bootstrap.json). */
  bootstrap?: { app_id: string; test_key: string; live_key: string };
  /** Set when this start generated the dashboard's admin password: printed once, stored only as a hash. */
  adminPassword?: string;
  services: Services;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<Gateway> {
  if (config.dataDir) keepPrivate(config.dataDir);
  const database: Database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir && join(config.dataDir, 'db') });
  let sandbox: SandboxHandle | undefined;
  try {
    const vault = new Vault(database.db, loadMasterKeys({ current: config.masterKey, previous: config.masterKeyPrevious }, config.dataDir));
    await vault.verify();
    if (!config.stripeApiBase) {
      // The gateway's own calls take a Unix socket (measured: less CPU per proxied request than loopback TCP); users keep the port.
      const socketPath = sandboxSocketPath();
      sandbox = await startSandboxThread({
        port: config.sandbox?.port ?? 12111, host: config.host, dataDir: config.dataDir && join(config.dataDir, 'sandbox'), oauthTokenTtl: config.sandbox?.oauthTokenTtl, socketPath,
        // Apps reach the embedded sandbox through the proxy, and may register webhook endpoints there: the same URL policy.
        allowPrivateUrls: config.allowPrivateUrls,
        // Its journal holds the keys and webhook secrets that the gateway's vault holds too: sealed under a key from the vault.
        journalKey: config.dataDir ? await sandboxJournalKey(database.db, vault) : undefined,
      });
    }
    const apiBase = config.stripeApiBase ?? sandbox!.url;
    const retry = { ...config.retry, maxDelayMs: 5000 };
    const logs = new RequestLog(database.db, 200, database.copyCsv);
    const tracer = new Tracer(config.otelEndpoint);
    const rt: Runtime = {
      config, db: database.db, dbKind: database.kind, vault, logs, tracer,
      api: new Upstream(apiBase, retry, sandbox?.socketPath),
      // Its own client, closed on its own.
      connect: new Upstream(config.stripeConnectBase ?? apiBase, retry, config.stripeConnectBase ? undefined : sandbox?.socketPath),
      platform: sandbox ? { test: EMBEDDED_PLATFORM, live: {} } : config.platform,
      publicUrl: '',
    };
    const apps = new Apps(database.db);
    const connections = new Connections(rt);
    const oauth = new OAuthConnections(rt, connections);
    const proxy = new Proxy(rt, connections, oauth);
    const appWebhooks = new AppWebhooks(rt, config.appWebhookRetryBaseMs, config.appWebhookMaxAgeMs, config.leaseSeconds);
    rt.appWebhooks = appWebhooks;
    const admin = new AdminAuth(database.db, () => rt.publicUrl, !config.publicUrl);
    const sessions = new PaymentSessions(rt, connections, proxy);
    const syncs = new Syncs(rt, connections, proxy);
    const inbound = new StripeEventsIn(rt, connections, sessions, syncs);
    const poller = new EventPoller(rt, connections, proxy, inbound);
    const retention = new Retention(database.db, config.retentionDays);
    const services: Services = { rt, apps, connections, oauth, proxy, admin, sessions, actions: new Actions(rt, connections, proxy), appWebhooks, syncs, inbound, retention, mcpOAuth: new McpOAuth(rt, proxy), connect: new ConnectAccounts(rt, connections, proxy) };
    connections.afterCreate = (app, conn) => registerConnectionWebhook(rt, proxy, connections, app, conn);
    const app = buildGatewayServer(services);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    rt.publicUrl = config.publicUrl ?? url;
    if (sandbox) {
      // The gateway's own endpoints in its embedded sandbox are the operator's, whatever the policy for apps' URLs.
      await sandbox.trustOrigin(url);
      if (rt.publicUrl !== url) await sandbox.trustOrigin(rt.publicUrl);
      await registerPlatformWebhook(rt, sandbox, url);
    }
    const bootstrap = await bootstrapApp(database, apps, config.dataDir);
    const adminPassword = (await admin.ensurePassword(config.adminPassword))?.generated;
    appWebhooks.start();
    inbound.start();
    poller.start();
    syncs.startResuming();
    retention.start();
    return {
      app, url, port, sandbox, services, bootstrap, adminPassword,
      storage: database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : config.dataDir ? `PGlite in ${join(config.dataDir, 'db')}` : 'PGlite in memory',
      close: async () => {
        retention.stop();
        await appWebhooks.stop();
        await poller.stop();
        await inbound.stop();
        await syncs.stop();
        await app.close();
        await logs.close();
        await tracer.close();
        await rt.api.close();
        await rt.connect.close();
        await sandbox?.close();
        await database.close();
        // PGlite writes a few files (its relation cache) with a mode of its own; the folder's 0700 covers them meanwhile.
        if (config.dataDir) keepPrivate(config.dataDir);
      },
    };
  } catch (e) {
    await sandbox?.close();
    await database.close();
    throw e;
  }
}

/** The embedded sandbox's journal key: made once, kept sealed in the vault (so master key rotation covers it). */
async function sandboxJournalKey(db: Database['db'], vault: Vault): Promise<string> {
  const read = async () => (await db.select().from(settings).where(eq(settings.key, 'sandbox_journal_key')))[0]?.value as { secret_id: string } | undefined;
  let row = await read();
  if (!row) {
    const secretId = await vault.seal(randomBytes(32).toString('base64'), 'sandbox_journal_key');
    await db.insert(settings).values({ key: 'sandbox_journal_key', value: { secret_id: secretId } }).onConflictDoNothing();
    row = await read();
  }
  return vault.open(row!.secret_id);
}

/** Creates the default app on the first start and hands its keys over once. */
async function bootstrapApp(database: Database, apps: Apps, dataDir: string | undefined): Promise<Gateway['bootstrap']> {
  // Claiming the bootstrap is one insert, so of several instances starting on one database exactly one creates the app.
  const claimed = await database.db.insert(settings).values({ key: 'bootstrap', value: { at: new Date().toISOString() } }).onConflictDoNothing().returning();
  if (claimed.length === 0) return undefined;
  const created = await apps.create('Default app');
  const bootstrap = { app_id: created.app.id, test_key: created.keys.test, live_key: created.keys.live };
  // The test key only: it moves test money in a sandbox or test mode. The live key is printed once at the first
  // start and never written to a file (roll it from the dashboard if it was not kept).
  if (dataDir) writeFileSync(join(dataDir, 'bootstrap.json'), JSON.stringify({ app_id: bootstrap.app_id, test_key: bootstrap.test_key, created: new Date().toISOString() }, null, 2) + '\n', { mode: 0o600 });
  return bootstrap;
}

/** Checkout events move payment sessions along; the deauthorization marks OAuth connections revoked. */
const CHECKOUT_EVENTS = ['checkout.session.completed', 'checkout.session.expired', 'checkout.session.async_payment_succeeded', 'checkout.session.async_payment_failed'];
const PLATFORM_EVENTS = ['account.application.deauthorized', ...CHECKOUT_EVENTS];

/**
 * An API-key connection gets a webhook endpoint on its own account, for all
 * its events: Checkout events move payment sessions, and apps receive them all. A restricted key without webhook
 * access simply goes without: sessions then learn their status on read.
 */
async function registerConnectionWebhook(rt: Runtime, proxy: Proxy, connections: Connections, app: AppKey, conn: Connection): Promise<void> {
  if (conn.kind !== 'api_key' || conn.webhookSecretId) return;
  // A restricted key known to lack the permission is not asked: the refusal would only show up as a health error.
  if (conn.permissions && (conn.permissions as Record<string, string>).webhook_endpoints !== 'write') return;
  try {
    const endpoint = await proxy.request(app, conn, 'POST', '/v1/webhook_endpoints', {
      url: `${rt.publicUrl}/webhooks/stripe/${conn.id}`, enabled_events: ['*'], description: `PayBridge connection ${conn.id}`,
    }, `${conn.id}-webhook`);
    await connections.update(conn.id, { webhookEndpointId: endpoint.id, webhookSecretId: await rt.vault.seal(endpoint.secret, 'stripe_webhook_secret') });
  } catch {
    // Not fatal: see above.
  }
}

/**
 * In embedded mode the gateway is also the sandbox platform's webhook receiver: a Connect endpoint for its
 * connected accounts' events (a deauthorization shows on connections; direct charges' Checkout events), and one
 * for the platform's own (the Checkout Sessions of destination charges, which are the platform's).
 */
async function registerPlatformWebhook(rt: Runtime, sandbox: SandboxHandle, url: string): Promise<void> {
  const target = `${url}/webhooks/stripe`;
  for (const [key, connect, events] of [['platform_webhook', true, PLATFORM_EVENTS], ['platform_own_webhook', false, CHECKOUT_EVENTS]] as const) {
    const [existing] = await rt.db.select().from(settings).where(eq(settings.key, key));
    if (existing && (existing.value as { url: string }).url === target) continue;
    const res = await fetch(`${sandbox.url}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMBEDDED_PLATFORM.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams({ url: target, ...(connect ? { connect: 'true' } : {}), description: connect ? 'PayBridge gateway' : 'PayBridge gateway (platform events)' })}&${events.map((e) => `enabled_events[]=${e}`).join('&')}`,
    });
    const endpoint = (await res.json()) as { id: string; secret: string };
    const secretId = await rt.vault.seal(endpoint.secret, 'stripe_webhook_secret');
    await rt.db.insert(settings).values({ key, value: { url: target, endpoint: endpoint.id, secret_id: secretId } })
      .onConflictDoUpdate({ target: settings.key, set: { value: { url: target, endpoint: endpoint.id, secret_id: secretId } } });
  }
}

export type { Mode };

/**
 * The data folder holds the database, the master key and the sandbox's journal: readable by this user only.
 * New files get 0600 and folders 0700 (the umask, PGlite's files included); what an older version left is mended.
 */
function keepPrivate(dataDir: string): void {
  if (isMainThread) process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(path, 0o700);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
  };
  walk(dataDir);
}

/** A fresh socket path in the temporary folder; the sockets of gateways that were killed are removed on the way. */
function sandboxSocketPath(): string {
  for (const name of readdirSync(tmpdir())) {
    const pid = /^paybridge-sandbox-(\d+)-[0-9a-f]+\.sock$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) rmSync(join(tmpdir(), name), { force: true });
  }
  return join(tmpdir(), `paybridge-sandbox-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
