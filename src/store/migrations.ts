/**
 * Schema migrations, applied in order at start. Each runs once, recorded in
 * `paybridge_migrations`; a session-level advisory lock makes several
 * instances starting together on one PostgreSQL apply them exactly once.
 * The SQL matches schema.ts (Drizzle builds queries from that file).
 */
export const MIGRATIONS: { id: string; sql: string }[] = [
  {
    id: '0001_initial',
    sql: `
      CREATE TABLE apps (id text PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE api_keys (
        id text PRIMARY KEY, app_id text NOT NULL REFERENCES apps(id), mode text NOT NULL,
        key_hash text NOT NULL UNIQUE, hint text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz);
      CREATE TABLE secrets (id text PRIMARY KEY, key_id text NOT NULL, ciphertext text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE connections (
        id text PRIMARY KEY, app_id text NOT NULL REFERENCES apps(id), mode text NOT NULL, kind text NOT NULL,
        account_id text, key_type text, key_hint text, permissions jsonb, scope text, publishable_key text,
        secret_id text, refresh_secret_id text, access_expires_at timestamptz,
        status text NOT NULL DEFAULT 'active', refresh_failures integer NOT NULL DEFAULT 0, refresh_count integer NOT NULL DEFAULT 0,
        last_success_at timestamptz, last_error_at timestamptz, last_error text, metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz);
      CREATE INDEX connections_app ON connections (app_id, mode);
      CREATE TABLE connection_keys (
        id text PRIMARY KEY, connection_id text NOT NULL REFERENCES connections(id), app_id text NOT NULL, mode text NOT NULL,
        key_hash text NOT NULL UNIQUE, hint text NOT NULL, permissions jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(), revoked_at timestamptz);
      CREATE TABLE connect_sessions (
        id text PRIMARY KEY, app_id text NOT NULL, mode text NOT NULL, flow text NOT NULL, state_hash text NOT NULL UNIQUE,
        return_url text NOT NULL, expires_at timestamptz NOT NULL, used_at timestamptz, connection_id text,
        created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE request_logs (
        id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, app_id text NOT NULL, connection_id text, mode text NOT NULL,
        method text NOT NULL, path text NOT NULL, status integer, duration_ms integer NOT NULL, attempts integer NOT NULL,
        stripe_request_id text, idempotency_key text, error_type text, error_code text, source text NOT NULL, request jsonb,
        created_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX request_logs_app ON request_logs (app_id, mode, seq);
      CREATE TABLE gateway_events (
        id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, app_id text NOT NULL, mode text NOT NULL, type text NOT NULL,
        data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE settings (key text PRIMARY KEY, value jsonb NOT NULL, live boolean NOT NULL DEFAULT false);
    `,
  },
  {
    id: '0002_payment_sessions',
    sql: `
      CREATE TABLE payment_sessions (
        id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, app_id text NOT NULL, mode text NOT NULL, kind text NOT NULL,
        connection_id text NOT NULL, status text NOT NULL, amount integer, currency text, customer_email text, description text,
        metadata jsonb NOT NULL DEFAULT '{}', success_url text, cancel_url text, checkout_session_id text, checkout_url text,
        stripe_customer_id text, processor jsonb, failure jsonb, idempotency_key text, fingerprint text,
        expires_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
      CREATE UNIQUE INDEX payment_sessions_idempotency ON payment_sessions (app_id, mode, idempotency_key);
      CREATE INDEX payment_sessions_app ON payment_sessions (app_id, mode, seq);
      ALTER TABLE connections ADD COLUMN webhook_endpoint_id text;
      ALTER TABLE connections ADD COLUMN webhook_secret_id text
    `,
  },
  {
    id: '0003_connector_actions',
    sql: `
      CREATE TABLE connector_actions (
        id text PRIMARY KEY, app_id text NOT NULL, name text NOT NULL, version integer NOT NULL, definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now());
      CREATE UNIQUE INDEX connector_actions_version ON connector_actions (app_id, name, version)
    `,
  },
  {
    id: '0004_app_webhooks',
    sql: `
      CREATE TABLE app_webhook_endpoints (
        id text PRIMARY KEY, app_id text NOT NULL, mode text NOT NULL, url text NOT NULL, enabled_events jsonb NOT NULL,
        secret_id text NOT NULL, status text NOT NULL DEFAULT 'enabled', description text, disabled_reason text,
        created_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz);
      CREATE TABLE app_webhook_deliveries (
        id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, endpoint_id text NOT NULL, app_id text NOT NULL,
        event_id text NOT NULL, event_type text NOT NULL, payload text NOT NULL, status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL DEFAULT now(), locked_until timestamptz,
        last_status integer, last_error text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
      CREATE UNIQUE INDEX app_webhook_deliveries_once ON app_webhook_deliveries (endpoint_id, event_id);
      CREATE INDEX app_webhook_deliveries_due ON app_webhook_deliveries (status, next_attempt_at)
    `,
  },
  {
    id: '0005_syncs',
    sql: `
      CREATE TABLE records (
        connection_id text NOT NULL, model text NOT NULL, id text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY,
        data jsonb NOT NULL, stripe_created bigint, version_at bigint NOT NULL, deleted boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (connection_id, model, id));
      CREATE INDEX records_changes ON records (connection_id, model, updated_at);
      CREATE TABLE sync_state (
        connection_id text NOT NULL, model text NOT NULL, status text NOT NULL, cursor text, synced integer NOT NULL DEFAULT 0,
        error text, started_at timestamptz, finished_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, model))
    `,
  },
  {
    id: '0006_delivery_order',
    sql: `
      ALTER TABLE app_webhook_deliveries ADD COLUMN object_id text;
      CREATE INDEX app_webhook_deliveries_object ON app_webhook_deliveries (endpoint_id, object_id, seq)
    `,
  },
  {
    id: '0007_admin_sessions',
    sql: `
      CREATE TABLE admin_sessions (
        id_hash text PRIMARY KEY, csrf_token text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL);
      CREATE INDEX gateway_events_app ON gateway_events (app_id, mode, seq)
    `,
  },
  {
    id: '0008_inbound_events',
    sql: `
      CREATE TABLE stripe_events_in (
        id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, connection_id text, event_id text NOT NULL, event_type text NOT NULL,
        payload text NOT NULL, status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(), locked_until timestamptz, error text,
        received_at timestamptz NOT NULL DEFAULT now(), processed_at timestamptz);
      CREATE INDEX stripe_events_in_pending ON stripe_events_in (seq) WHERE status = 'pending';
      CREATE INDEX app_webhook_deliveries_pending ON app_webhook_deliveries (seq) WHERE status = 'pending';
      ALTER TABLE sync_state ADD COLUMN locked_until timestamptz;
      ALTER TABLE connections ADD COLUMN sync_alert_url text
    `,
  },
  {
    id: '0009_action_definition_order',
    sql: `ALTER TABLE connector_actions ALTER COLUMN definition TYPE json USING definition::json`,
  },
  {
    // A record up to a page long (a charge is about 2.5 kB of JSON) stays in its row, uncompressed: a backfill
    // then skips compressing every object and TOAST's second table (measured: a fifth less time per record written).
    id: '0010_records_inline',
    sql: `ALTER TABLE records SET (toast_tuple_target = 8160)`,
  },
  {
    // Records are read in the order they last changed (a change takes a new seq), from a cursor: an index in that
    // order serves each page directly instead of sorting all of a model's records, and costs a write no more than the one it replaces.
    id: '0011_records_change_order',
    sql: `
      DROP INDEX records_changes;
      CREATE INDEX records_change_order ON records (connection_id, model, seq)
    `,
  },
  {
    // Issue 16: vault ciphertexts bound to their row (rows sealed before are re-sealed at start), the start of a
    // delivery's answer kept for the app, truncated log bodies marked, sign-in attempts and creation counts kept in
    // the database (so every instance counts them), and indexes that let retention delete by age in small batches.
    id: '0012_security',
    sql: `
      ALTER TABLE secrets ADD COLUMN bound boolean NOT NULL DEFAULT false;
      ALTER TABLE secrets ADD COLUMN purpose text NOT NULL DEFAULT 'secret';
      ALTER TABLE app_webhook_deliveries ADD COLUMN last_response text;
      ALTER TABLE request_logs ADD COLUMN request_truncated boolean NOT NULL DEFAULT false;
      CREATE TABLE sign_in_attempts (key text PRIMARY KEY, failures integer NOT NULL DEFAULT 0, next_allowed_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE create_counts (key text NOT NULL, window_start bigint NOT NULL, count integer NOT NULL DEFAULT 0, PRIMARY KEY (key, window_start));
      CREATE INDEX request_logs_created ON request_logs (created_at);
      CREATE INDEX gateway_events_created ON gateway_events (created_at);
      CREATE INDEX app_webhook_deliveries_updated ON app_webhook_deliveries (updated_at);
      CREATE INDEX stripe_events_in_received ON stripe_events_in (received_at)
    `,
  },
  {
    // Issue 18: a Stripe event reaches the app under Stripe's own id, with its connection beside it; the row id stays
    // one per connection (the same account's event through two connections is two rows).
    id: '0013_gateway_event_ids',
    sql: `
      ALTER TABLE gateway_events ADD COLUMN stripe_event_id text;
      ALTER TABLE gateway_events ADD COLUMN connection_id text;
      CREATE INDEX gateway_events_stripe_id ON gateway_events (app_id, mode, stripe_event_id)
    `,
  },
  {
    // Issue 18: a failed call's log keeps Stripe's message and answer (redacted, capped); a connection key's last use;
    // the Stripe account's name, for people who do not know accounts by id.
    id: '0014_logs_keep_errors',
    sql: `
      ALTER TABLE request_logs ADD COLUMN error_message text;
      ALTER TABLE request_logs ADD COLUMN response jsonb;
      ALTER TABLE connection_keys ADD COLUMN last_used_at timestamptz;
      ALTER TABLE connections ADD COLUMN account_name text;
      ALTER TABLE connections ADD COLUMN default_for_sessions boolean NOT NULL DEFAULT false
    `,
  },
  {
    // Issue 22: one rate limit per Stripe account shared by every instance (a token bucket per key); a large model's
    // backfill in several created ranges, each with its own cursor; where polling Stripe's events has got to.
    id: '0015_stripe_pace',
    sql: `
      CREATE TABLE rate_buckets (key text PRIMARY KEY, tokens double precision NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE TABLE sync_ranges (
        connection_id text NOT NULL, model text NOT NULL, lo bigint NOT NULL, hi bigint NOT NULL,
        cursor text, done boolean NOT NULL DEFAULT false, PRIMARY KEY (connection_id, model, hi)
      );
      ALTER TABLE connections ADD COLUMN events_cursor jsonb;
      ALTER TABLE connections ADD COLUMN events_polled_until timestamptz
    `,
  },
  {
    // Issue 21: PayBridge as the OAuth authorization server of /mcp (registered clients, consents and codes; a grant
    // is a connection key whose hash is its current access token's).
    id: '0016_mcp_oauth',
    sql: `
      CREATE TABLE oauth_clients (id text PRIMARY KEY, secret_id text, metadata jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE oauth_requests (
        id text PRIMARY KEY, client_id text NOT NULL REFERENCES oauth_clients(id), params jsonb NOT NULL, code_hash text UNIQUE,
        key_id text, expires_at timestamptz NOT NULL, used_at timestamptz, created_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE connection_keys ADD COLUMN oauth_client_id text;
      ALTER TABLE connection_keys ADD COLUMN refresh_hash text UNIQUE;
      ALTER TABLE connection_keys ADD COLUMN expires_at timestamptz
    `,
  },
  {
    // Issues 20 and 19: payment sessions that take a platform fee, as direct or destination charges; embedded sessions.
    id: '0017_session_fees',
    sql: `
      ALTER TABLE payment_sessions ADD COLUMN charge_type text;
      ALTER TABLE payment_sessions ADD COLUMN application_fee_amount integer;
      ALTER TABLE payment_sessions ADD COLUMN on_behalf_of boolean;
      ALTER TABLE payment_sessions ADD COLUMN ui_mode text;
      ALTER TABLE payment_sessions ADD COLUMN checkout_client_secret_id text
    `,
  },
];
