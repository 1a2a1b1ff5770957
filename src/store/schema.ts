/**
 * The gateway's tables (Drizzle, PostgreSQL dialect: the same schema runs on
 * embedded PGlite and on PostgreSQL). Secrets never appear here in clear:
 * key columns hold SHA-256 hashes, credential columns hold vault ids.
 */
import { bigint, boolean, index, integer, json, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const apps = pgTable('apps', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: created(),
});

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id),
  mode: text('mode').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  /** What may be shown later: `pb_test_…abcd`. */
  hint: text('hint').notNull(),
  createdAt: created(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** Vault: AES-256-GCM ciphertexts, each with the id of the master key that sealed it. */
export const secrets = pgTable('secrets', {
  id: text('id').primaryKey(),
  keyId: text('key_id').notNull(),
  ciphertext: text('ciphertext').notNull(),
  /** Sealed with the row's id and purpose as AES-GCM associated data (rows sealed before that are re-sealed at start). */
  bound: boolean('bound').notNull().default(false),
  purpose: text('purpose').notNull().default('secret'),
  createdAt: created(),
});

export const connections = pgTable('connections', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull().references(() => apps.id),
  mode: text('mode').notNull(),
  /** api_key | oauth (Stripe Connect) | stripe_app (Stripe Apps OAuth) */
  kind: text('kind').notNull(),
  accountId: text('account_id'),
  /** The account's name as Stripe reports it (business profile or dashboard display name), when known. */
  accountName: text('account_name'),
  /** Payment sessions that name no connection use this one (at most one per app and mode). */
  defaultForSessions: boolean('default_for_sessions').notNull().default(false),
  keyType: text('key_type'),
  keyHint: text('key_hint'),
  permissions: jsonb('permissions'),
  scope: text('scope'),
  publishableKey: text('publishable_key'),
  /** Vault ids: the secret key or access token, and the refresh token. */
  secretId: text('secret_id'),
  /** The webhook endpoint PayBridge registered on the account (API-key connections) and its sealed secret. */
  webhookEndpointId: text('webhook_endpoint_id'),
  webhookSecretId: text('webhook_secret_id'),
  /** A Slack-compatible incoming-webhook URL told about sync errors. */
  syncAlertUrl: text('sync_alert_url'),
  /** Where polling Stripe's events has got to (connections Stripe cannot send events to): `{created, ids}`. */
  eventsCursor: jsonb('events_cursor'),
  /** The instance polling this connection's events holds it until then. */
  eventsPolledUntil: timestamp('events_polled_until', { withTimezone: true }),
  refreshSecretId: text('refresh_secret_id'),
  accessExpiresAt: timestamp('access_expires_at', { withTimezone: true }),
  /** active | revoked | expired | refresh_failed */
  status: text('status').notNull().default('active'),
  refreshFailures: integer('refresh_failures').notNull().default(0),
  refreshCount: integer('refresh_count').notNull().default(0),
  lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
  lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
  lastError: text('last_error'),
  metadata: jsonb('metadata').notNull().default({}),
  createdAt: created(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
}, (t) => [index('connections_app').on(t.appId, t.mode)]);

export const connectionKeys = pgTable('connection_keys', {
  id: text('id').primaryKey(),
  connectionId: text('connection_id').notNull().references(() => connections.id),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  hint: text('hint').notNull(),
  permissions: jsonb('permissions').notNull(),
  createdAt: created(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  /** Written at most once a minute per key, off the request's path. */
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  /**
   * An MCP OAuth grant: the key's hash is its current access token's, which expires and is replaced with the
   * refresh token's rotation; such a key is taken at /mcp only.
   */
  oauthClientId: text('oauth_client_id'),
  refreshHash: text('refresh_hash').unique(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
});

/** MCP clients registered by OAuth dynamic client registration; a confidential client's secret is in the vault. */
export const oauthClients = pgTable('oauth_clients', {
  id: text('id').primaryKey(),
  secretId: text('secret_id'),
  metadata: jsonb('metadata').notNull(),
  createdAt: created(),
});

/** An MCP authorization waiting for the admin's consent, then its single-use code (bound to the grant made). */
export const oauthRequests = pgTable('oauth_requests', {
  id: text('id').primaryKey(),
  clientId: text('client_id').notNull().references(() => oauthClients.id),
  params: jsonb('params').notNull(),
  codeHash: text('code_hash').unique(),
  keyId: text('key_id'),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  createdAt: created(),
});

/** OAuth round trips in flight: the state is single-use and expires. */
export const connectSessions = pgTable('connect_sessions', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  flow: text('flow').notNull(),
  stateHash: text('state_hash').notNull().unique(),
  returnUrl: text('return_url').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  connectionId: text('connection_id'),
  createdAt: created(),
});

export const requestLogs = pgTable('request_logs', {
  id: text('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  appId: text('app_id').notNull(),
  connectionId: text('connection_id'),
  mode: text('mode').notNull(),
  method: text('method').notNull(),
  path: text('path').notNull(),
  status: integer('status'),
  durationMs: integer('duration_ms').notNull(),
  attempts: integer('attempts').notNull(),
  stripeRequestId: text('stripe_request_id'),
  idempotencyKey: text('idempotency_key'),
  errorType: text('error_type'),
  errorCode: text('error_code'),
  /** Stripe's error message, and its answer (redacted and capped), for failed calls only. */
  errorMessage: text('error_message'),
  response: jsonb('response'),
  source: text('source').notNull(),
  request: jsonb('request'),
  /** The body was cut to the logged size. */
  requestTruncated: boolean('request_truncated').notNull().default(false),
  createdAt: created(),
}, (t) => [index('request_logs_app').on(t.appId, t.mode, t.seq)]);

/** PayBridge's own events (`connection.refresh_failed`, …), readable at /v1/gateway_events. */
export const gatewayEvents = pgTable('gateway_events', {
  id: text('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  type: text('type').notNull(),
  data: jsonb('data').notNull(),
  /** For a Stripe event: Stripe's id (what the app sees as `id`) and the connection it came through. */
  stripeEventId: text('stripe_event_id'),
  connectionId: text('connection_id'),
  createdAt: created(),
});

/** Small settings: the embedded platform's webhook secret id, the bootstrap marker. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  live: boolean('live').notNull().default(false),
});

/** Payment sessions: a charge or a saved card collected on a hosted page through one connection. */
export const paymentSessions = pgTable('payment_sessions', {
  id: text('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  /** charge | tokenize */
  kind: text('kind').notNull(),
  connectionId: text('connection_id').notNull(),
  /** open | succeeded | failed | expired | canceled */
  status: text('status').notNull(),
  amount: integer('amount'),
  currency: text('currency'),
  customerEmail: text('customer_email'),
  description: text('description'),
  metadata: jsonb('metadata').notNull().default({}),
  successUrl: text('success_url'),
  cancelUrl: text('cancel_url'),
  checkoutSessionId: text('checkout_session_id'),
  checkoutUrl: text('checkout_url'),
  stripeCustomerId: text('stripe_customer_id'),
  processor: jsonb('processor'),
  failure: jsonb('failure'),
  /** Connect: direct (on the connected account) or destination (the platform's charge, paid to the account); null otherwise. */
  chargeType: text('charge_type'),
  applicationFeeAmount: integer('application_fee_amount'),
  onBehalfOf: boolean('on_behalf_of'),
  /** hosted (PayBridge's link to Checkout's page) or embedded (the merchant's page mounts it with Stripe.js). */
  uiMode: text('ui_mode'),
  checkoutClientSecretId: text('checkout_client_secret_id'),
  idempotencyKey: text('idempotency_key'),
  fingerprint: text('fingerprint'),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  createdAt: created(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Custom connector actions: every save is a new version; calls use the latest. */
export const connectorActions = pgTable('connector_actions', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull(),
  name: text('name').notNull(),
  version: integer('version').notNull(),
  /** json, not jsonb: jsonb reorders keys, and the order of an action's inputs is the order of its form. */
  definition: json('definition').notNull(),
  createdAt: created(),
});

/** Apps' own webhook endpoints, for Stripe's events and PayBridge's. */
export const appWebhookEndpoints = pgTable('app_webhook_endpoints', {
  id: text('id').primaryKey(),
  appId: text('app_id').notNull(),
  mode: text('mode').notNull(),
  url: text('url').notNull(),
  enabledEvents: jsonb('enabled_events').notNull(),
  secretId: text('secret_id').notNull(),
  status: text('status').notNull().default('enabled'),
  description: text('description'),
  disabledReason: text('disabled_reason'),
  createdAt: created(),
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
});

/** The durable delivery queue: one row per (endpoint, event), claimed with FOR UPDATE SKIP LOCKED. */
export const appWebhookDeliveries = pgTable('app_webhook_deliveries', {
  id: text('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  endpointId: text('endpoint_id').notNull(),
  appId: text('app_id').notNull(),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  /** Deliveries about one object go out in the order their events happened. */
  objectId: text('object_id'),
  payload: text('payload').notNull(),
  status: text('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  lastStatus: integer('last_status'),
  lastError: text('last_error'),
  /** The start of the endpoint's last answer (at most 500 characters), for the app debugging it. */
  lastResponse: text('last_response'),
  createdAt: created(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Wrong passwords per address (and for the one admin account), counted atomically across instances. */
export const signInAttempts = pgTable('sign_in_attempts', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  nextAllowedAt: timestamp('next_allowed_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Dashboard sign-ins: the cookie's SHA-256 (never the cookie) and the session's CSRF token. */
export const adminSessions = pgTable('admin_sessions', {
  idHash: text('id_hash').primaryKey(),
  csrfToken: text('csrf_token').notNull(),
  createdAt: created(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** Stripe's events as received, processed by a worker after the 200 (one row per event and connection). */
export const stripeEventsIn = pgTable('stripe_events_in', {
  id: text('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
  connectionId: text('connection_id'),
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  payload: text('payload').notNull(),
  /** pending | processed | failed */
  status: text('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  error: text('error'),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp('processed_at', { withTimezone: true }),
});
