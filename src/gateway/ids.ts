/** Ids and secrets the gateway issues. */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

let pool = randomBytes(4096);
let offset = 0;

/** Random base62 text from a pooled CSPRNG buffer (one syscall per 4 KB, not per id). */
export function randomToken(length: number): string {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[pool[offset++] % 62];
  return out;
}

export const newGatewayId = (prefix: string, length = 20) => `${prefix}_${randomToken(length)}`;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `pb_test_…abcd`: enough to recognise a key, never enough to use it. */
export const hintOf = (key: string) => `${key.slice(0, key.indexOf('_', 3) + 1)}…${key.slice(-4)}`;
