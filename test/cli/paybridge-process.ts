/** `paybridge start` as a user runs it: a child process on free ports, ready once it has printed its URLs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../bench/harness.js';

export const BIN = new URL('../../bin/paybridge.mjs', import.meta.url).pathname;
/** The embedded defaults, whatever the test runner's environment says. */
export const ENV = { ...process.env, DATABASE_URL: '', STRIPE_API_BASE: '', PAYBRIDGE_MASTER_KEY: '' };

export interface PaybridgeProcess {
  child: ChildProcess;
  output: string;
  ports: { port: number; sandboxPort: number };
  url: string;
  sandboxUrl: string;
  stop(): Promise<void>;
}

/** `ports` reuses a previous start's ports (a restart, so Stripe's registered webhook URLs still reach it). */
export async function startPaybridge(dataDir: string, env: Record<string, string> = {}, ports?: { port: number; sandboxPort: number }): Promise<PaybridgeProcess> {
  const [port, sandboxPort] = ports ? [ports.port, ports.sandboxPort] : [await freePort(), await freePort()];
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--sandbox-port', String(sandboxPort), '--data-dir', dataDir], { env: { ...ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (c) => (output += c));
  await new Promise<void>((resolve, reject) => {
    // A start that never finishes fails the test with what it printed, instead of hanging the file.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`paybridge start did not finish starting within 90 s: ${output}`));
    }, 90_000);
    child.stdout!.on('data', (c) => {
      output += c;
      if (/Stripe: /.test(output) && (!/First start/.test(output) || /Its live API key/.test(output))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited ${code}: ${output}`), { code, output }));
    });
  });
  await new Promise((r) => setTimeout(r, 100));
  return {
    child, output, ports: { port, sandboxPort }, url: `http://127.0.0.1:${port}`, sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
    stop: () => new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    }),
  };
}
