import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let pool = randomBytes(4096);
let offset = 0;

const CODES = Buffer.from(ALPHABET, 'latin1');
let scratch = Buffer.allocUnsafe(128);

/** Appends `length` random base62 characters to `scratch` from position `at`; returns the end. */
function fillRandom(at: number, length: number): number {
  const end = at + length;
  while (at < end) {
    if (offset >= pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const byte = pool[offset++];
    if (byte < 248) scratch[at++] = CODES[byte % 62];
  }
  return end;
}

function room(length: number): void {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(length * 2);
}

/**
 * Random base62 text; bytes come from a pooled CSPRNG buffer to keep ids
 * cheap. Bytes of 248 and above are skipped so every character is equally
 * likely (248 = 4 × 62): the same text makes the gateway's secret keys.
 * Built in a buffer and decoded once: appending a character at a time made
 * V8 keep each id as a chain of a dozen string pieces, about 700 bytes of
 * heap per payment that every garbage collection had to copy.
 */
export function randomText(length: number): string {
  room(length);
  return scratch.toString('latin1', 0, fillRandom(0, length));
}

/** A Stripe-style id: `cus_` + 14 characters, `pi_` + 24 and so on (one flat string). */
export function newId(prefix: string, length = 24): string {
  room(prefix.length + 1 + length);
  const at = scratch.write(prefix, 0, 'latin1');
  scratch[at] = 0x5f; // _
  return scratch.toString('latin1', 0, fillRandom(at + 1, length));
}
