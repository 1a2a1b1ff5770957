/** Shared bench plumbing: start servers as child processes and load them with autocannon. */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';

/** The middle value (the upper of the two middle ones for an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a server process and waits until `probe` answers. */
export async function startServer(name: string, command: string, args: string[], port: number, env: Record<string, string> = {}, probe = '/'): Promise<Server> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url + probe);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    name, url, child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      // A clean stop first, so a server run with --cpu-prof writes its profile; then no more waiting.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function load(url: string, path: string, body: string, opts: { connections?: number; duration?: number; amount?: number; auth?: string } = {}): Promise<LoadResult> {
  const result = await autocannon({
    url: url + path,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: opts.auth ?? 'Bearer sk_test_bench' },
    connections: opts.connections ?? 32,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? 8 }),
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  return Math.round(kb / 1024);
}

/**
 * A database of its own for one bench run on the PostgreSQL that `DATABASE_URL` names (or undefined without it),
 * dropped by `drop()`: a run that shared the named database would leave its tables, and its vault, to the next.
 */
export async function scratchDatabase(suffix = ''): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = process.env.DATABASE_URL;
  if (!admin) return undefined;
  const name = `pb_bench_${process.pid}${suffix}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const drop = async () => {
    // A closed pool may still be closing its connections; FORCE, which cuts them, only when they linger.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return await run(`DROP DATABASE IF EXISTS ${name}`);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  return { url: url.toString(), drop };
}

/** The machine's CPU counters (/proc/stat): `busyShare(before, after)` is the share of all cores kept busy between two readings. */
export function cpuTimes(): number[] {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
}

export function busyShare(before: number[], after: number[]): number {
  const spent = after.map((x, i) => x - before[i]);
  const total = spent.reduce((a, b) => a + b, 0);
  return total ? (total - spent[3] - spent[4]) / total : 0; // idle and iowait
}
