/** Ids and secrets the gateway issues. */
import { createHash } from 'node:crypto';
import { randomText } from '../stripe/ids.js';

/** Random base62 text from a pooled CSPRNG buffer: the sandbox's generator, shared. */
export const randomToken = randomText;

export const newGatewayId = (prefix: string, length = 20) => `${prefix}_${randomToken(length)}`;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `pb_test_…abcd`: enough to recognise a key, never enough to use it. */
export const hintOf = (key: string) => `${key.slice(0, key.indexOf('_', 3) + 1)}…${key.slice(-4)}`;
