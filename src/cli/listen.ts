/**
 * `paybridge listen --forward-to URL`: receives events on a local port and
 * forwards each, with its original body and signature, to the given URL, as
 * `stripe listen` does. The sender sees the forward target's answer, so a
 * failing handler gets the same retries. Events come from the sandbox, or —
 * with an app key — from a PayBridge gateway: the app's own webhooks
 * (session.*, connection.*, its connections' Stripe events), signed with
 * `PayBridge-Signature`, through an endpoint registered for the run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admin } from './client.js';

export interface ListenOptions {
  forwardTo: string;
  sandbox: string;
  /** With `apiKey`: forward the app's webhooks from this gateway instead of the sandbox's events. */
  gateway?: string;
  /** An app key (pb_test_…): whose webhooks are forwarded. */
  apiKey?: string;
  events?: string;
  /** Called with each line the command prints (tests capture it). */
  print?: (line: string) => void;
}

export interface Listener {
  secret: string;
  close(): Promise<void>;
}

const time = () => new Date().toISOString().replace('T', ' ').slice(0, 19);

export async function listen(o: ListenOptions): Promise<Listener> {
  const print = o.print ?? ((line: string) => console.log(line));
  const target = new URL(o.forwardTo);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let summary = 'unknown event';
      try {
        const event = JSON.parse(body.toString('utf8'));
        summary = `${event.type} [${event.id}]`;
      } catch {
        // Forward whatever arrived; the handler decides what a bad body means.
      }
      print(`${time()}   --> ${summary}`);
      let status = 502;
      try {
        const answer = await fetch(target, {
          method: 'POST',
          headers: {
            'content-type': String(req.headers['content-type'] ?? 'application/json'), 'user-agent': String(req.headers['user-agent'] ?? ''),
            ...(req.headers['stripe-signature'] ? { 'stripe-signature': String(req.headers['stripe-signature']) } : {}),
            ...(req.headers['paybridge-signature'] ? { 'paybridge-signature': String(req.headers['paybridge-signature']) } : {}),
          },
          body,
        });
        status = answer.status;
        await answer.arrayBuffer();
        print(`${time()}  <--  [${status}] POST ${target.href} [${summary.split(' ').pop()?.slice(1, -1)}]`);
      } catch (e) {
        print(`${time()}            [ERROR] Failed to POST: ${target.href}: ${(e as Error).message}`);
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const closeServer = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  let registered: { secret: string; remove: () => Promise<unknown> };
  try {
    registered = o.apiKey ? await gatewayEndpoint(o.gateway ?? 'http://127.0.0.1:4000', o.apiKey, local, o.events) : await sandboxSession(o.sandbox, local, o.events);
  } catch (e) {
    await closeServer();
    throw e;
  }
  print(`Ready! ${o.apiKey ? "Forwarding your app's PayBridge webhooks (PayBridge-Signature). " : ''}Your webhook signing secret is ${registered.secret} (^C to quit)`);
  return {
    secret: registered.secret,
    close: async () => {
      await registered.remove().catch(() => undefined);
      await closeServer();
    },
  };
}

async function sandboxSession(sandbox: string, url: string, events?: string) {
  const session = await admin(sandbox, 'POST', '/_sandbox/webhook_sessions', { url, events: events ?? '*' });
  return { secret: session.secret as string, remove: () => admin(sandbox, 'DELETE', `/_sandbox/webhook_sessions/${session.id}`) };
}

/** An app webhook endpoint on the gateway for this run, removed when it ends. */
async function gatewayEndpoint(gateway: string, apiKey: string, url: string, events?: string) {
  if (!/^pb_(test|live)_/.test(apiKey)) throw new Error('--api-key (or PAYBRIDGE_API_KEY) must be an app key, pb_test_… or pb_live_…, to forward PayBridge webhooks.');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, gateway), { method, headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json?.error?.message ?? `${method} ${path} answered ${res.status}`);
    return json;
  };
  const endpoint = await call('POST', '/v1/webhook_endpoints', { url, enabled_events: events ? events.split(',') : ['*'], description: 'paybridge listen' });
  return { secret: endpoint.secret as string, remove: () => call('DELETE', `/v1/webhook_endpoints/${endpoint.id}`) };
}
