/**
 * Gateway tests run against both storages: embedded PGlite, and the local
 * PostgreSQL (`DATABASE_URL`, or postgres://postgres@127.0.0.1:5432/test),
 * where each test file gets a database of its own.
 */
import pg from 'pg';
import Stripe from 'stripe';
import { loadConfig, startGateway, type Gateway, type GatewayConfig } from '../../src/gateway/index.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh database URL (postgres) or undefined (PGlite in memory). */
  database(): Promise<string | undefined>;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const created: string[] = [];

export async function freshPostgresDatabase(): Promise<string> {
  const name = `pb_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  created.push(name);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const name of created.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/** PGlite always; PostgreSQL when reachable (in CI it must be: a missing database fails there). */
export async function backends(): Promise<Backend[]> {
  const list: Backend[] = [{ name: 'pglite', database: async () => undefined }];
  if (await postgresReachable()) list.push({ name: 'postgres', database: freshPostgresDatabase });
  else if (process.env.CI) throw new Error(`PostgreSQL is not reachable at ${ADMIN_URL}; .ci/run starts it`);
  return list;
}

export interface GatewayHarness {
  gw: Gateway;
  key: string;
  /** PayBridge's JSON API with the app's test key (or another key). */
  api(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; json: any; headers: Headers }>;
  /** The embedded sandbox through the SDK, as the platform. */
  sandbox: Stripe;
  /** An SDK pointed at the gateway with a connection key. */
  sdk(connectionKey: string): Stripe;
  close(): Promise<void>;
}

export async function startGatewayHarness(o: { databaseUrl?: string; config?: Partial<GatewayConfig>; sandbox?: GatewayConfig['sandbox']; env?: Record<string, string> } = {}): Promise<GatewayHarness> {
  const config = { ...loadConfig({ port: 0 }, { ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}), ...o.env }), ...o.config };
  config.sandbox = { port: 0, ...o.sandbox };
  config.retry = { maxRetries: 3, baseDelayMs: 20 };
  const gw = await startGateway(config);
  return harnessFor(gw, gw.bootstrap?.test_key ?? '');
}

export function harnessFor(gw: Gateway, key: string): GatewayHarness {
  const port = gw.port;
  return {
    gw,
    key,
    async api(method, path, body, k = key) {
      const headers: Record<string, string> = {};
      if (k) headers.authorization = `Bearer ${k}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(gw.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    },
    sandbox: new Stripe('sk_test_paybridge_embedded_platform', { host: '127.0.0.1', port: gw.sandbox?.port ?? 0, protocol: 'http', maxNetworkRetries: 0 }),
    sdk: (connectionKey) => new Stripe(connectionKey, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 }),
    close: () => gw.close(),
  };
}

/** Runs `check` until it stops throwing (Stripe's events are processed after the 200, so their effects arrive a moment later). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Connects a new account by Connect OAuth through the sandbox's real authorize page, as a person would:
 * answers the connection id (and the account id) that the gateway's callback sent the person back with.
 */
/** Connects a new test account by Connect OAuth (or `account`, an existing one of the sandbox's platform). */
export async function connectByOAuth(h: GatewayHarness, key = h.key, account = 'new'): Promise<{ connection: string; account: string }> {
  const session = await h.api('POST', '/v1/connect_sessions', { mode: 'test', return_url: 'https://merchant-app.example.com/connected' }, key);
  if (session.status !== 200) throw new Error(JSON.stringify(session.json));
  const html = await (await fetch(session.json.url)).text();
  const form = new URLSearchParams({ decision: 'approve', account });
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) form.set(m[1], m[2].replace(/&amp;/g, '&'));
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
  const toGateway = await fetch(new URL(action, session.json.url), { method: 'POST', body: form, redirect: 'manual' });
  const back = await fetch(toGateway.headers.get('location')!, { redirect: 'manual' });
  const connection = new URL(back.headers.get('location')!).searchParams.get('connection')!;
  const conn = await h.api('GET', `/v1/connections/${connection}`, undefined, key);
  return { connection, account: conn.json.account };
}

/** A second app on the same gateway, as another tenant: its test key. */
export async function anotherApp(h: GatewayHarness, name = 'Another app'): Promise<string> {
  return (await h.gw.services.apps.create(name)).keys.test;
}
