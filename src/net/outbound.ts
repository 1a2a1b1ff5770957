/**
 * The one way PayBridge sends HTTP to a URL that someone else supplied: apps'
 * webhook endpoints, sync alert URLs, and the sandbox's own webhook
 * deliveries. Such a URL must not reach the operator's network:
 *
 * - only `http:` and `https:`, with a host and without credentials;
 * - a literal address of a refused class is refused when the URL is
 *   registered (`refusedUrlReason`), in every spelling: the WHATWG parser
 *   turns decimal, hex, octal and short IPv4 forms into dotted quads, and
 *   IPv4-mapped or NAT64 IPv6 addresses are judged by their IPv4 part;
 * - a name is resolved when connecting and every address it resolves to is
 *   checked there (the `lookup` each socket uses), so a name that later
 *   resolves inward (DNS rebinding) fails at the moment it would connect;
 * - redirects are never followed, and what is read back is cut short.
 *
 * Refused: loopback, private (RFC 1918, IPv6 unique-local), CGNAT, link-local
 * (and with it the cloud metadata addresses), multicast, broadcast,
 * unspecified and reserved ranges. `loopback` and `private` policies let the
 * operator open the first two (and CGNAT with `private`); nothing opens the rest.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

export type UrlPolicy = 'none' | 'loopback' | 'private';
export const URL_POLICIES: readonly UrlPolicy[] = ['none', 'loopback', 'private'];

type AddressClass = 'public' | 'loopback' | 'private' | 'cgnat' | 'link-local' | 'multicast' | 'unspecified' | 'reserved';

const ranges = (list: [string, number, AddressClass][], family: 'ipv4' | 'ipv6') =>
  list.map(([net, prefix, cls]) => {
    const b = new BlockList();
    b.addSubnet(net, prefix, family);
    return { b, cls, family };
  });

/** Most specific first where ranges nest. */
const V4 = ranges([
  ['0.0.0.0', 8, 'unspecified'], ['10.0.0.0', 8, 'private'], ['100.64.0.0', 10, 'cgnat'], ['127.0.0.0', 8, 'loopback'], ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'], ['192.0.0.0', 24, 'reserved'], ['192.0.2.0', 24, 'reserved'], ['192.88.99.0', 24, 'reserved'], ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], ['198.51.100.0', 24, 'reserved'], ['203.0.113.0', 24, 'reserved'], ['224.0.0.0', 4, 'multicast'], ['240.0.0.0', 4, 'reserved'],
], 'ipv4');
const V6 = ranges([
  ['::', 128, 'unspecified'], ['::1', 128, 'loopback'], ['fc00::', 7, 'private'], ['fe80::', 10, 'link-local'], ['fec0::', 10, 'reserved'], ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'reserved'], ['100::', 64, 'reserved'], ['::', 96, 'reserved'],
], 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address, if any. */
function embeddedIPv4(v6: string): string | undefined {
  const lower = v6.toLowerCase();
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(lower);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2], 16);
  const lo = parseInt(m[3], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function addressClass(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) {
    if (ip === '255.255.255.255') return 'reserved';
    return V4.find((r) => r.b.check(ip, 'ipv4'))?.cls ?? 'public';
  }
  if (family === 6) {
    const v4 = embeddedIPv4(ip);
    if (v4) return addressClass(v4);
    return V6.find((r) => r.b.check(ip, 'ipv6'))?.cls ?? 'public';
  }
  return 'reserved';
}

function allowedBy(cls: AddressClass, policy: UrlPolicy): boolean {
  if (cls === 'public') return true;
  if (cls === 'loopback') return policy === 'loopback' || policy === 'private';
  if (cls === 'private' || cls === 'cgnat') return policy === 'private';
  return false;
}

const CLASS_WORDS: Record<AddressClass, string> = {
  public: 'public', loopback: 'a loopback', private: 'a private-network', cgnat: 'a carrier-grade NAT', 'link-local': 'a link-local (cloud metadata)',
  multicast: 'a multicast', unspecified: 'an unspecified', reserved: 'a reserved',
};

/** Why `ip` may not be reached under `policy`, or undefined when it may. */
export function refusedAddressReason(ip: string, policy: UrlPolicy): string | undefined {
  const cls = addressClass(ip);
  if (allowedBy(cls, policy)) return undefined;
  const hint = cls === 'loopback' || cls === 'private' || cls === 'cgnat' ? ' (the operator can allow it with PAYBRIDGE_ALLOW_PRIVATE_URLS)' : '';
  return `${ip} is ${CLASS_WORDS[cls]} address${hint}`;
}

/** Why `url` may not be registered under `policy`, or undefined when it may (names are checked again when connecting). */
export function refusedUrlReason(url: string, policy: UrlPolicy): string | undefined {
  if (typeof url !== 'string' || url.length > 2048) return 'it must be an http(s) URL of at most 2048 characters';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1].toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return scheme ? `the scheme ${scheme}: is not allowed: use http or https` : 'it must be an http(s) URL';
  // The WHATWG parser forgives http:///x as host x: a URL as written must name its host.
  if (!/^https?:\/\/[^/?#\s]/i.test(url) || /\s/.test(url)) return 'it must be an http(s) URL with a host and no spaces';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it is not a valid URL';
  }
  if (parsed.username || parsed.password) return 'credentials in a URL are not allowed (the host would see them in every request)';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!host) return 'it has no host';
  if (isIP(host)) return refusedAddressReason(host, policy);
  return undefined;
}

/**
 * A URL a person's browser may be sent to (`return_url`, `success_url`, `cancel_url`): http or https with a host,
 * no spaces, backslashes or credentials, at most 2048 characters — never javascript:, data: or //host.
 */
export function isBrowserUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048 || !/^https?:\/\/[^/?#\s@\\]+([/?#]\S*)?$/i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for sockets: resolves as Node does, then refuses when any address is of a refused class. */
export function guardedLookup(policy: UrlPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | number, callback: LookupCallback): void => {
    const opts = typeof options === 'number' ? { family: options } : options ?? {};
    dnsLookup(hostname, { ...opts, all: true } as { all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = addresses.map((a) => refusedAddressReason(a.address, policy)).find(Boolean);
      if (refused) return callback(Object.assign(new OutboundRefused(`Refused to connect: ${hostname} resolves to ${refused}`), { code: 'EREFUSEDADDRESS' }), '');
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export interface OutboundAnswer {
  status: number;
  /** The start of what came back, for the person debugging (at most `shownBytes`). */
  body: string;
}

export interface OutboundOptions {
  timeoutMs?: number;
  maxSockets?: number;
  userAgent: string;
  /** How much of an answer is kept to show (it is read up to 64 KB, then the socket is dropped). */
  shownBytes?: number;
  /** Origins the operator's own code sends to (the embedding gateway), reached whatever the policy. */
  trustedOrigins?: ReadonlySet<string>;
}

/** POSTs to URLs under one policy, over kept-alive sockets whose every connection passed the check. */
export class Outbound {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly timeoutMs: number;
  private readonly shownBytes: number;

  constructor(readonly policy: UrlPolicy, private readonly o: OutboundOptions) {
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.shownBytes = o.shownBytes ?? 500;
    this.http = new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets ?? 32 });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets ?? 32 });
  }

  private trusted(url: string): boolean {
    if (!this.o.trustedOrigins?.size) return false;
    try {
      return this.o.trustedOrigins.has(new URL(url).origin);
    } catch {
      return false;
    }
  }

  /** One POST; rejects with OutboundRefused for a URL the policy refuses, or with the network's error (name TimeoutError on time-out). */
  post(url: string, body: string, headers: Record<string, string>): Promise<OutboundAnswer> {
    const trusted = this.trusted(url);
    const refused = trusted ? undefined : refusedUrlReason(url, this.policy);
    if (refused) return Promise.reject(new OutboundRefused(`Refused to connect: ${refused}`));
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: secure ? this.https : this.http,
        // Each new socket resolves through the guard: the address checked is the address connected to.
        lookup: (trusted ? dnsLookup : guardedLookup(this.policy)) as never,
        timeout: this.timeoutMs,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'user-agent': this.o.userAgent, ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        res.on('data', (c: Buffer) => {
          read += c.length;
          if (read <= 64 * 1024) chunks.push(c);
          else res.destroy();
        });
        const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, this.shownBytes) });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
      req.on('error', (e) => reject((e as NodeJS.ErrnoException).code === 'EREFUSEDADDRESS' ? new OutboundRefused(e.message) : e));
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** What a failed send says to the app: whether it was refused, timed out or could not connect, without the network's detail. */
export function describeFailure(e: unknown): string {
  if (e instanceof OutboundRefused) return e.message;
  if ((e as Error).name === 'TimeoutError') return 'Timed out';
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'Failed to connect: the host name did not resolve' : 'Failed to connect';
}
