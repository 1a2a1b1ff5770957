/**
 * API keys as the sandbox accepts them. Any well-formed `sk_test_` key
 * reaches the default account; publishable keys only reach the routes
 * Stripe opens to them; live keys are refused (test mode only).
 */
import { authenticationError } from '../stripe/errors.js';

export interface ApiKey {
  key: string;
  kind: 'secret' | 'publishable' | 'restricted';
}

const KEY = /^(sk|pk|rk)_(test|live)_[A-Za-z0-9_]+$/;

/** `sk_test_********************abcd`: Stripe shows the prefix and the last four characters. */
export function maskKey(key: string): string {
  const m = /^([a-z]{2}_(?:test|live)_)(.*)$/.exec(key);
  if (!m) return key.length > 4 ? '*'.repeat(Math.min(key.length - 4, 24)) + key.slice(-4) : '****';
  const rest = m[2];
  return m[1] + '*'.repeat(Math.max(rest.length - 4, 0)) + rest.slice(-4);
}

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Reads the key from `Authorization: Bearer …` or Basic auth (key as user name). */
export function readApiKey(authorization: string | undefined): ApiKey {
  if (!authorization || !authorization.trim()) throw authenticationError(NO_KEY);
  const [scheme, ...rest] = authorization.trim().split(/\s+/);
  let key = rest.join(' ');
  if (/^basic$/i.test(scheme)) {
    key = Buffer.from(key, 'base64').toString('utf8').split(':')[0];
  } else if (!/^bearer$/i.test(scheme)) {
    throw authenticationError(`Invalid API Key provided: ${maskKey(authorization.trim())}`);
  }
  if (!key) throw authenticationError(NO_KEY);
  const m = KEY.exec(key);
  if (!m) throw authenticationError(`Invalid API Key provided: ${maskKey(key)}`, 'api_key_invalid');
  if (m[2] === 'live') {
    throw authenticationError(
      `The sandbox runs in test mode only and refuses live mode keys (${maskKey(key)}). Use a test mode key such as sk_test_123.`,
      'livemode_key_refused',
    );
  }
  return { key, kind: m[1] === 'sk' ? 'secret' : m[1] === 'pk' ? 'publishable' : 'restricted' };
}

export const PUBLISHABLE_NOT_ALLOWED =
  'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.';
