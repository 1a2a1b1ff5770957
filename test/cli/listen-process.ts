/** What the `paybridge listen` tests share: a local handler that verifies each delivery, and `listen` as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { BIN } from './paybridge-process.js';

/** A handler at `url` answering 200 to what `verify` accepts (and keeping it), 400 to the rest. */
export async function verifyingHandler(verify: (body: string, headers: Record<string, string | string[] | undefined>) => Stripe.Event) {
  const received: Stripe.Event[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        received.push(verify(body, req.headers));
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** `paybridge listen …args`, resolved once it printed its signing secret; `output` grows as it prints. */
export async function startListen(args: string[], env?: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; secret: string; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'listen', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const secret = await new Promise<string>((resolve, reject) => {
    const take = (c: Buffer) => {
      output += c;
      const m = /signing secret is (whsec_\w+)/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', (c) => (output += c));
    child.once('exit', (code) => reject(new Error(`listen exited ${code}: ${output}`)));
  });
  return {
    child, secret, output: () => output,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
