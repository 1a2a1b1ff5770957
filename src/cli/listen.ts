/**
 * `paybridge listen --forward-to URL`: receives the sandbox's events on a
 * local port and forwards each, with its original body and signature, to
 * the given URL, as `stripe listen` does. The sandbox sees the forward
 * target's answer, so a failing handler gets the same retries as in Stripe.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { admin } from './client.js';

export interface ListenOptions {
  forwardTo: string;
  sandbox: string;
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
          headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json'), 'stripe-signature': String(req.headers['stripe-signature'] ?? ''), 'user-agent': String(req.headers['user-agent'] ?? '') },
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
  const session = await admin(o.sandbox, 'POST', '/_sandbox/webhook_sessions', { url: local, events: o.events ?? '*' });
  print(`Ready! Your webhook signing secret is ${session.secret} (^C to quit)`);
  return {
    secret: session.secret,
    close: async () => {
      await admin(o.sandbox, 'DELETE', `/_sandbox/webhook_sessions/${session.id}`).catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
