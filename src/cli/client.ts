/** Talking to a running sandbox (or any Stripe-compatible host) from the CLI. */
import Stripe from 'stripe';

export { DEFAULT_KEY, DEFAULT_SANDBOX } from './defaults.js';

export function stripeFor(base: string, apiKey: string): Stripe {
  const url = new URL(base);
  return new Stripe(apiKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

/** A JSON call to the sandbox's `/_sandbox` admin routes; a Stripe-shaped error becomes an Error with its message. */
export async function admin(base: string, method: string, path: string, body?: Record<string, unknown>): Promise<any> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json?.error?.message ?? `${method} ${path} answered ${res.status}`);
  return json;
}
