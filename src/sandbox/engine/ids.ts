import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let pool = randomBytes(4096);
let offset = 0;

/** Random base62 text; bytes come from a pooled CSPRNG buffer to keep ids cheap. */
export function randomText(length: number): string {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[pool[offset++] % 62];
  return out;
}

/** A Stripe-style id: `cus_` + 14 characters, `pi_` + 24 and so on. */
export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomText(length)}`;
}
