/**
 * Gateway configuration from flags and the environment, validated at start
 * with messages that name the variable and say what is wrong.
 */
import { z } from 'zod';
import { URL_POLICIES, type UrlPolicy } from '../net/outbound.js';

export type Mode = 'test' | 'live';

export interface PlatformCredentials {
  clientId?: string;
  secretKey?: string;
}

export interface GatewayConfig {
  port: number;
  host: string;
  /** Embedded storage, key file and bootstrap file; absent means in memory (tests). */
  dataDir?: string;
  databaseUrl?: string;
  /** Stripe API host; absent means the embedded sandbox. */
  stripeApiBase?: string;
  stripeConnectBase?: string;
  platform: Record<Mode, PlatformCredentials>;
  masterKey?: string;
  masterKeyPrevious?: string;
  /** Public URL of this gateway, for OAuth callbacks (default http://host:port). */
  publicUrl?: string;
  /** The dashboard's admin password on first start (otherwise one is generated and printed once). */
  adminPassword?: string;
  /** Requests per second per connection; 0 = no limit. */
  rateLimit: Record<Mode, number>;
  retry: { maxRetries: number; baseDelayMs: number };
  /** Sandbox options for the embedded Stripe (tests shorten token lifetimes). */
  sandbox?: { port?: number; oauthTokenTtl?: number };
  /** Refresh Stripe Apps tokens this long before they expire. */
  refreshMarginSeconds: number;
  /** How long a Stripe Apps access token lives (Stripe: one hour). */
  stripeAppTokenTtlSeconds: number;
  /** First retry delay of webhooks to apps (doubling per attempt, up to three days). */
  appWebhookRetryBaseMs: number;
  /** How long webhooks to apps are retried before they fail and the endpoint is disabled (three days). */
  appWebhookMaxAgeMs: number;
  /** Signing secrets of the platform's Connect webhook endpoint, for `/webhooks/stripe` (several while rolling; the embedded sandbox's is registered at start). */
  webhookSecrets: string[];
  /** How long a claimed job (a webhook delivery, a Stripe event, a backfill) stays with the instance that claimed it before another may take it over. */
  leaseSeconds: number;
  /** How often connections without a webhook endpoint read Stripe's events (ms; 0 turns polling off). */
  eventsPollMs: number;
  /** Where sync errors are posted when a connection names no alert URL (Slack-compatible incoming webhook). */
  alertWebhookUrl?: string;
  otelEndpoint?: string;
  /** Which inward addresses app-supplied URLs may reach (webhook endpoints, alert URLs): `none`, `loopback` or `private`. */
  allowPrivateUrls: UrlPolicy;
  /** Logs, events, deliveries and finished sessions older than this are deleted in the background; 0 keeps them for ever. */
  retentionDays: number;
  /** A request whose headers and body have not arrived by then is answered 408 and its socket closed (slow clients). */
  requestTimeoutMs: number;
  /** Calls to Stripe one app may have in flight at once, so one app cannot hold every socket. */
  appConcurrency: number;
  /** Apps whose proxied calls on API-key connections may carry Stripe-Context (none by default). */
  stripeContextApps: string[];
  /** Webhook endpoints one app may register per mode. */
  maxEndpointsPerApp: number;
  /** Creations per app and minute of connect sessions, connection keys and webhook endpoints, each. */
  createsPerMinute: number;
}

export class ConfigError extends Error {}

const url = (name: string) => z.string().refine((v) => /^https?:\/\/[^\s]+$/.test(v), `${name} must be an http(s) URL, e.g. https://api.stripe.com`);
const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\//.test(v), 'DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/paybridge');
const clientId = (name: string) => z.string().regex(/^ca_[A-Za-z0-9]+$/, `${name} must be a Connect client id (ca_…)`);
const secretKey = (name: string, mode: Mode) =>
  z.string().regex(new RegExp(`^(sk|rk)_${mode}_[A-Za-z0-9_]+$`), `${name} must be a ${mode}-mode secret key (sk_${mode}_…)`);
const count = (name: string) => z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).min(0, `${name} must be 0 or more`);

const Env = z.object({
  DATABASE_URL: postgresUrl.optional(),
  STRIPE_API_BASE: url('STRIPE_API_BASE').optional(),
  STRIPE_CONNECT_BASE: url('STRIPE_CONNECT_BASE').optional(),
  STRIPE_CLIENT_ID_TEST: clientId('STRIPE_CLIENT_ID_TEST').optional(),
  STRIPE_SECRET_KEY_TEST: secretKey('STRIPE_SECRET_KEY_TEST', 'test').optional(),
  STRIPE_CLIENT_ID_LIVE: clientId('STRIPE_CLIENT_ID_LIVE').optional(),
  STRIPE_SECRET_KEY_LIVE: secretKey('STRIPE_SECRET_KEY_LIVE', 'live').optional(),
  PAYBRIDGE_MASTER_KEY: z.string().optional(),
  PAYBRIDGE_MASTER_KEY_PREVIOUS: z.string().optional(),
  PAYBRIDGE_PUBLIC_URL: url('PAYBRIDGE_PUBLIC_URL').optional(),
  PAYBRIDGE_ADMIN_PASSWORD: z.string().min(12, 'PAYBRIDGE_ADMIN_PASSWORD must be at least 12 characters').optional(),
  PAYBRIDGE_RATE_LIMIT_TEST: count('PAYBRIDGE_RATE_LIMIT_TEST').optional(),
  PAYBRIDGE_RATE_LIMIT_LIVE: count('PAYBRIDGE_RATE_LIMIT_LIVE').optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url('OTEL_EXPORTER_OTLP_ENDPOINT').optional(),
  PAYBRIDGE_LEASE_SECONDS: count('PAYBRIDGE_LEASE_SECONDS').min(1, 'PAYBRIDGE_LEASE_SECONDS must be at least 1').optional(),
  PAYBRIDGE_EVENTS_POLL_MS: count('PAYBRIDGE_EVENTS_POLL_MS').optional(),
  PAYBRIDGE_ALERT_WEBHOOK_URL: url('PAYBRIDGE_ALERT_WEBHOOK_URL').optional(),
  PAYBRIDGE_ALLOW_PRIVATE_URLS: z.enum(URL_POLICIES as [UrlPolicy, ...UrlPolicy[]], { error: 'PAYBRIDGE_ALLOW_PRIVATE_URLS must be none, loopback or private' }).optional(),
  PAYBRIDGE_RETENTION_DAYS: count('PAYBRIDGE_RETENTION_DAYS').optional(),
  PAYBRIDGE_REQUEST_TIMEOUT_MS: count('PAYBRIDGE_REQUEST_TIMEOUT_MS').min(100, 'PAYBRIDGE_REQUEST_TIMEOUT_MS must be at least 100').optional(),
  PAYBRIDGE_APP_CONCURRENCY: count('PAYBRIDGE_APP_CONCURRENCY').min(1, 'PAYBRIDGE_APP_CONCURRENCY must be at least 1').optional(),
  PAYBRIDGE_STRIPE_CONTEXT_APPS: z.string().regex(/^app_\w+(,\s*app_\w+)*$/, 'PAYBRIDGE_STRIPE_CONTEXT_APPS must be app ids (app_…) separated by commas').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\w+(,\s*whsec_\w+)*$/, 'STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_…), or several separated by commas while rolling it').optional(),
});

/** Stripe's documented limits are 25 requests/s in test mode and 100 in live mode; stay under them. */
/** A little under Stripe's limits per account (25 a second in test mode, 100 live), so calls are not refused. */
const STRIPE_LIMITS: Record<Mode, number> = { test: 23, live: 95 };

export function loadConfig(flags: { port?: number; host?: string; dataDir?: string }, env: Record<string, string | undefined> = process.env): GatewayConfig {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([k, v]) => k in Env.shape && v !== ''))); 
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  - ${i.message}`).join('\n')}`);
  }
  const e = parsed.data;
  if (e.STRIPE_CONNECT_BASE && !e.STRIPE_API_BASE) throw new ConfigError('Invalid configuration:\n  - STRIPE_CONNECT_BASE needs STRIPE_API_BASE (without it the embedded sandbox serves both)');
  const embedded = !e.STRIPE_API_BASE;
  return {
    port: flags.port ?? 4000,
    host: flags.host ?? '127.0.0.1',
    dataDir: flags.dataDir,
    databaseUrl: e.DATABASE_URL,
    stripeApiBase: e.STRIPE_API_BASE?.replace(/\/$/, ''),
    stripeConnectBase: (e.STRIPE_CONNECT_BASE ?? e.STRIPE_API_BASE)?.replace(/\/$/, ''),
    platform: {
      test: { clientId: e.STRIPE_CLIENT_ID_TEST, secretKey: e.STRIPE_SECRET_KEY_TEST },
      live: { clientId: e.STRIPE_CLIENT_ID_LIVE, secretKey: e.STRIPE_SECRET_KEY_LIVE },
    },
    masterKey: e.PAYBRIDGE_MASTER_KEY,
    masterKeyPrevious: e.PAYBRIDGE_MASTER_KEY_PREVIOUS,
    publicUrl: e.PAYBRIDGE_PUBLIC_URL?.replace(/\/$/, ''),
    adminPassword: e.PAYBRIDGE_ADMIN_PASSWORD,
    // The embedded sandbox has no rate limit of its own, so neither does the gateway in front of it unless asked.
    rateLimit: {
      test: e.PAYBRIDGE_RATE_LIMIT_TEST ?? (embedded ? 0 : STRIPE_LIMITS.test),
      live: e.PAYBRIDGE_RATE_LIMIT_LIVE ?? (embedded ? 0 : STRIPE_LIMITS.live),
    },
    retry: { maxRetries: 3, baseDelayMs: 250 },
    refreshMarginSeconds: 300,
    stripeAppTokenTtlSeconds: 3600,
    appWebhookRetryBaseMs: 30_000,
    appWebhookMaxAgeMs: 3 * 24 * 3600 * 1000,
    webhookSecrets: e.STRIPE_WEBHOOK_SECRET?.split(',').map((x) => x.trim()) ?? [],
    leaseSeconds: e.PAYBRIDGE_LEASE_SECONDS ?? 60,
    eventsPollMs: e.PAYBRIDGE_EVENTS_POLL_MS ?? 1000,
    alertWebhookUrl: e.PAYBRIDGE_ALERT_WEBHOOK_URL,
    otelEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    // On a laptop the embedded default delivers to local servers; a deployment reaches only public addresses unless told.
    allowPrivateUrls: e.PAYBRIDGE_ALLOW_PRIVATE_URLS ?? (embedded ? 'loopback' : 'none'),
    retentionDays: e.PAYBRIDGE_RETENTION_DAYS ?? 30,
    requestTimeoutMs: e.PAYBRIDGE_REQUEST_TIMEOUT_MS ?? 30_000,
    appConcurrency: e.PAYBRIDGE_APP_CONCURRENCY ?? 32,
    stripeContextApps: e.PAYBRIDGE_STRIPE_CONTEXT_APPS?.split(',').map((x) => x.trim()) ?? [],
    maxEndpointsPerApp: 16,
    createsPerMinute: 60,
  };
}
