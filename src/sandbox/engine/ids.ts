import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let pool = randomBytes(4096);
let offset = 0;

/**
 * Random base62 text; bytes come from a pooled CSPRNG buffer to keep ids
 * cheap. Bytes of 248 and above are skipped so every character is equally
 * likely (248 = 4 × 62): the same text makes the gateway's secret keys.
 */
export function randomText(length: number): string {
  let out = '';
  while (out.length < length) {
    if (offset >= pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const byte = pool[offset++];
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

/** A Stripe-style id: `cus_` + 14 characters, `pi_` + 24 and so on. */
export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomText(length)}`;
}
