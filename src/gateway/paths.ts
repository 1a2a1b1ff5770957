/**
 * The one check every proxied path passes before anything else reads it (the
 * connection key's permission check, the request log, undici): Stripe's path
 * grammar only. A path is `/v1/` and segments of letters, digits and `_-.~:@`
 * (ids, custom ids, `search`); percent-escapes are allowed only for those same
 * characters and are decoded here, so `%2e%2e` cannot become `..` further down.
 * Dot segments, empty segments, encoded slashes, backslashes, spaces and control
 * bytes are refused: Stripe never needs them, and each has been a way to make a
 * permission check and the upstream disagree, or to wedge the HTTP client.
 */
import { invalidRequest } from '../stripe/errors.js';
import { isBrowserUrl } from '../net/outbound.js';

const SEGMENT = /^[A-Za-z0-9_\-.~:@]+$/;
const UNRESERVED_ESCAPE = /%([0-9A-Fa-f]{2})/g;
/** What may stand in a query string as sent on the wire: printable ASCII without space or `#`. */
const QUERY = /^[\x21-\x22\x24-\x7e]*$/;

export interface CanonicalPath {
  /** `/v1/customers/cus_123`, decoded and checked. */
  path: string;
  /** The query string as sent, without `?` ('' when none). */
  query: string;
}

const refuse = (why: string) => invalidRequest(`Invalid request path: ${why}. PayBridge forwards Stripe API paths only (/v1/ and ids of letters, digits, _ and -).`, { code: 'invalid_path' });

/** Canonicalises `rawPath` (a request's path as sent, `/v1/...?query`), or throws Stripe's 400. */
export function canonicalStripePath(rawPath: string): CanonicalPath {
  const at = rawPath.indexOf('?');
  const pathPart = at === -1 ? rawPath : rawPath.slice(0, at);
  const query = at === -1 ? '' : rawPath.slice(at + 1);
  if (!QUERY.test(query)) throw refuse('the query string holds a space, a control character or a byte outside ASCII');
  if (!pathPart.startsWith('/v1/') && !pathPart.startsWith('/v2/')) throw refuse('it must start with /v1/');
  const segments = pathPart.slice(1).split('/');
  const decoded: string[] = [];
  for (const raw of segments) {
    let bad = false;
    const segment = raw.replace(UNRESERVED_ESCAPE, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      if (!/[A-Za-z0-9_\-.~]/.test(c)) bad = true;
      return c;
    });
    if (bad) throw refuse(`the segment '${raw.slice(0, 40)}' holds an escaped character Stripe paths never need`);
    if (segment === '') throw refuse('it has an empty segment (//) or ends in /');
    if (segment === '.' || segment === '..') throw refuse('it has a . or .. segment');
    if (!SEGMENT.test(segment)) throw refuse(`the segment '${segment.slice(0, 40).replace(/[^\x21-\x7e]/g, '?')}' holds characters Stripe paths never hold`);
    decoded.push(segment);
  }
  return { path: `/${decoded.join('/')}`, query };
}

/** A URL PayBridge sends a person's browser to (see `isBrowserUrl`), or Stripe's 400 naming `param`. */
export function checkRedirectUrl(value: unknown, param: string): string {
  if (!isBrowserUrl(value)) throw invalidRequest(`Invalid ${param}: an http(s) URL with a host, such as https://example.com/done.`, { param, code: 'url_invalid' });
  return value;
}
