/**
 * How tools reach Stripe: directly with a key (the sandbox or real Stripe),
 * or through a running gateway's proxy for one connection, which then keeps
 * the credentials, retries and logs each call under the tool's name.
 */
import qs from 'qs';
import { probePermissions } from '../gateway/probe.js';
import type { Permissions } from './server.js';
import { ToolFailure, type Caller } from './tools.js';

type Send = (method: string, path: string, params: Record<string, unknown> | undefined, headers: Record<string, string>) => Promise<{ status: number; json: any }>;

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
    return { status: res.status, json };
  };
}

function caller(send: Send, toolHeader?: string, report?: Caller['report']): Caller {
  return {
    report,
    async call(method, path, params, idempotencyKey) {
      const headers: Record<string, string> = {};
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (toolHeader) headers['paybridge-mcp-tool'] = toolHeader;
      const { status, json } = await send(method, path, params, headers);
      if (status >= 400) throw new ToolFailure(json?.error?.message ?? `Stripe answered HTTP ${status}`, json?.error?.code, json?.error?.decline_code);
      return json;
    },
  };
}

export interface Credentials {
  caller: (tool: string) => Caller;
  permissions?: Permissions;
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
  return { caller: () => caller(send), permissions, describe: `${o.apiKey.slice(0, 8)}… at ${o.stripeBase}` };
}

/** `--connection conn_…`: through a running gateway, with the app key; the connection's known permissions apply. */
export async function gatewayCredentials(o: { gatewayUrl: string; appKey: string; connection: string }): Promise<Credentials> {
  const base = o.gatewayUrl.replace(/\/$/, '');
  const res = await fetch(`${base}/v1/connections/${encodeURIComponent(o.connection)}`, { headers: { authorization: `Bearer ${o.appKey}` } });
  const conn = await res.json();
  if (!res.ok) throw new Error(`PayBridge did not give connection ${o.connection}: ${conn?.error?.message ?? res.status}`);
  const send = httpSender(`${base}/proxy/${encodeURIComponent(o.connection)}`, `Bearer ${o.appKey}`);
  const gateway = httpSender(base, `Bearer ${o.appKey}`);
  // Reports come from the gateway's synced records once the charges are synced.
  const report: Caller['report'] = async (name, params) => {
    const sync = await gateway('GET', `/v1/connections/${encodeURIComponent(o.connection)}/sync`, undefined, {});
    if (sync.json?.models?.find((m: { model: string }) => m.model === 'charges')?.status !== 'synced') return undefined;
    const answer = await gateway('GET', `/v1/reports/${name}`, { connection: o.connection, ...params }, {});
    return answer.status === 200 ? { source: 'synced records', ...answer.json } : undefined;
  };
  return { caller: (tool) => caller(send, tool, report), permissions: conn.permissions ?? undefined, describe: `connection ${o.connection} via ${base}` };
}

/** For the gateway's own `/mcp`: calls go through the in-process proxy. */
export function inProcessCredentials(call: (tool: string, method: string, path: string, params: Record<string, unknown> | undefined, idempotencyKey?: string) => Promise<any>, permissions?: Permissions, report?: Caller['report']): Credentials {
  return {
    caller: (tool) => ({ call: (method, path, params, key) => call(tool, method, path, params, key), report }),
    permissions,
    describe: 'in-process',
  };
}
