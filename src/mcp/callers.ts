/**
 * How tools reach Stripe: directly with a key (the sandbox or real Stripe),
 * or through a running gateway's proxy for one connection (or for each of an
 * app's connections), which then keeps the credentials, retries and logs
 * each call under the tool's name.
 */
import qs from 'qs';
import { probePermissions } from '../gateway/probe.js';
import type { Permissions, Target } from './server.js';
import { ToolFailure, markReplayed, type Caller } from './tools.js';

type Send = (method: string, path: string, params: Record<string, unknown> | undefined, headers: Record<string, string>) => Promise<{ status: number; json: any; replayed: boolean }>;

/** Form-encodes POST bodies and GET queries, as Stripe's API takes them. */
function httpSender(base: string, authorization: string, extraHeaders: Record<string, string> = {}): Send {
  return async (method, path, params, headers) => {
    const encoded = params && Object.keys(params).length ? qs.stringify(params, { arrayFormat: 'indices' }) : '';
    const url = `${base}${path}${method !== 'POST' && encoded ? `${path.includes('?') ? '&' : '?'}${encoded}` : ''}`;
    const res = await fetch(url, {
      method,
      headers: { authorization, ...extraHeaders, ...headers, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: method === 'POST' ? encoded : undefined,
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = { error: { message: text.slice(0, 200) || `HTTP ${res.status}` } };
    }
    return { status: res.status, json, replayed: res.headers.get('idempotent-replayed') === 'true' };
  };
}

function caller(send: Send, toolHeader?: string, report?: Caller['report']): Caller {
  return {
    report,
    async call(method, path, params, idempotencyKey, account) {
      const headers: Record<string, string> = {};
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (account) headers['stripe-account'] = account;
      if (toolHeader) headers['paybridge-mcp-tool'] = toolHeader;
      const { status, json, replayed } = await send(method, path, params, headers);
      if (status >= 400) throw new ToolFailure(json?.error?.message ?? `Stripe answered HTTP ${status}`, json?.error?.code, json?.error?.decline_code);
      return markReplayed(json, replayed);
    },
  };
}

export interface Credentials {
  /** One target, or — bound to an app — each of the app's connections. */
  targets: Target[];
  appBound?: boolean;
  describe: string;
}

/**
 * `--api-key sk_…|rk_…|pbk_…`: straight to Stripe (or the sandbox, or a gateway taking a connection key);
 * a restricted or connection key's permissions are found by probing.
 */
export async function directCredentials(o: { apiKey: string; stripeBase: string; stripeAccount?: string }): Promise<Credentials> {
  const headers: Record<string, string> = o.stripeAccount ? { 'stripe-account': o.stripeAccount } : {};
  const send = httpSender(o.stripeBase.replace(/\/$/, ''), `Bearer ${o.apiKey}`, headers);
  const permissions = /^(rk|pbk)_/.test(o.apiKey) ? await probePermissions(async (method, path) => (await send(method, path, undefined, {})).status) : undefined;
  const livemode = /_live_/.test(o.apiKey);
  return { targets: [{ caller: () => caller(send), permissions, account: o.stripeAccount, livemode }], describe: `${o.apiKey.slice(0, 8)}… at ${o.stripeBase}` };
}

type ConnectionView = { id: string; account: string | null; account_name: string | null; livemode: boolean; permissions: Permissions | null; status: string };

/** A gateway connection as a target: calls through the gateway's proxy, reports from its synced records once synced. */
function gatewayTarget(base: string, appKey: string, conn: ConnectionView): Target {
  const send = httpSender(`${base}/proxy/${encodeURIComponent(conn.id)}`, `Bearer ${appKey}`);
  const gateway = httpSender(base, `Bearer ${appKey}`);
  const report: Caller['report'] = async (name, params) => {
    const sync = await gateway('GET', `/v1/connections/${encodeURIComponent(conn.id)}/sync`, undefined, {});
    const model = name === 'subscriptions' ? 'subscriptions' : 'charges';
    if (sync.json?.models?.find((m: { model: string }) => m.model === model)?.status !== 'synced') return undefined;
    const answer = await gateway('GET', `/v1/reports/${name}`, { connection: conn.id, ...params }, {});
    return answer.status === 200 ? { source: 'synced records', ...answer.json } : undefined;
  };
  return { caller: (tool) => caller(send, tool, report), permissions: conn.permissions ?? undefined, connection: conn.id, account: conn.account, name: conn.account_name, livemode: conn.livemode };
}

/** `--connection conn_…`: through a running gateway, with the app key; the connection's known permissions apply. */
export async function gatewayCredentials(o: { gatewayUrl: string; appKey: string; connection: string }): Promise<Credentials> {
  const base = o.gatewayUrl.replace(/\/$/, '');
  const res = await fetch(`${base}/v1/connections/${encodeURIComponent(o.connection)}`, { headers: { authorization: `Bearer ${o.appKey}` } });
  const conn = await res.json();
  if (!res.ok) throw new Error(`PayBridge did not give connection ${o.connection}: ${conn?.error?.message ?? res.status}`);
  return { targets: [gatewayTarget(base, o.appKey, conn)], describe: `connection ${o.connection} via ${base}` };
}

/** An app key without `--connection`: every usable connection of the app, each tool taking `connection`. */
export async function gatewayAppCredentials(o: { gatewayUrl: string; appKey: string }): Promise<Credentials> {
  const base = o.gatewayUrl.replace(/\/$/, '');
  const res = await fetch(`${base}/v1/connections`, { headers: { authorization: `Bearer ${o.appKey}` } });
  const list = await res.json();
  if (!res.ok) throw new Error(`PayBridge did not list the app's connections: ${list?.error?.message ?? res.status}`);
  const usable = (list.data as ConnectionView[]).filter((c) => c.status !== 'revoked');
  return { targets: usable.map((c) => gatewayTarget(base, o.appKey, c)), appBound: true, describe: `the app's ${usable.length} connections via ${base}` };
}

/** For the gateway's own `/mcp`: calls go through the in-process proxy. */
export function inProcessTarget(
  call: (tool: string, method: string, path: string, params: Record<string, unknown> | undefined, idempotencyKey?: string) => Promise<any>,
  about: Omit<Target, 'caller'>, report?: Caller['report'],
): Target {
  return { caller: (tool) => ({ call: (method, path, params, key) => call(tool, method, path, params, key), report }), ...about };
}
