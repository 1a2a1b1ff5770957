/**
 * The embedded sandbox runs in a worker thread: Stripe's stand-in and the
 * gateway in front of it then use separate cores instead of one event loop
 * (measured: see bench/gateway.bench.ts and docs/ARCHITECTURE.md).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { SandboxOptions } from '../sandbox/index.js';

export interface SandboxHandle {
  url: string;
  port: number;
  /** The Unix socket the gateway calls the sandbox through, when one was asked for. */
  socketPath?: string;
  /** Lets the sandbox deliver webhooks to `origin` (the gateway's own) whatever its URL policy. */
  trustOrigin(origin: string): Promise<void>;
  close(): Promise<void>;
}

export async function startSandboxThread(options: SandboxOptions): Promise<SandboxHandle> {
  const worker = new Worker(new URL('./sandbox-worker.mjs', import.meta.url), { workerData: options });
  const [ready] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))])) as [{ url?: string; port?: number; error?: string }];
  if (ready.error) {
    await worker.terminate();
    throw new Error(`The embedded sandbox did not start: ${ready.error}`);
  }
  return {
    url: ready.url!,
    port: ready.port!,
    socketPath: options.socketPath,
    trustOrigin: async (origin) => {
      const acknowledged = new Promise<void>((resolve) => {
        const onMessage = (m: { trusted?: string }) => {
          if (m?.trusted !== origin) return;
          worker.off('message', onMessage);
          resolve();
        };
        worker.on('message', onMessage);
      });
      worker.postMessage({ trust: origin });
      await acknowledged;
    },
    close: async () => {
      const exited = once(worker, 'exit');
      worker.postMessage('close');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      await worker.terminate();
    },
  };
}
