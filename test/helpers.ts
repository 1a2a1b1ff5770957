import { after, before } from 'node:test';
import Stripe from 'stripe';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/sandbox/index.js';

export interface Harness {
  sandbox: Sandbox;
  stripe: Stripe;
  /** Raw HTTP against the sandbox, for what the SDK hides (headers, bad input). */
  http(method: string, path: string, init?: { body?: string; headers?: Record<string, string>; key?: string | null }): Promise<{ status: number; headers: Headers; json: any; text: string }>;
}

export async function startHarness(options: SandboxOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const stripe = new Stripe('sk_test_paybridge_tests', { host: '127.0.0.1', port: sandbox.port, protocol: 'http', maxNetworkRetries: 0 });
  return {
    sandbox,
    stripe,
    async http(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== null) headers.authorization ??= `Bearer ${init.key ?? 'sk_test_paybridge_tests'}`;
      if (init.body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
      const res = await fetch(sandbox.url + path, { method, headers, body: init.body, redirect: 'manual' });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    },
  };
}

/** Runs `fn` and returns the Stripe error it throws (fails if it does not throw). */
export async function stripeError(fn: () => Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof Stripe.errors.StripeError) return e;
    throw e;
  }
  throw new Error('expected a Stripe error, but the call succeeded');
}

/** Starts one sandbox for the calling test file (closed after it) and hands it to `ready`. */
export function harnessPerFile(ready: (h: Harness) => void, options: SandboxOptions = {}): void {
  let h: Harness | undefined;
  before(async () => {
    h = await startHarness(options);
    ready(h);
  });
  after(() => h?.sandbox.close());
}
