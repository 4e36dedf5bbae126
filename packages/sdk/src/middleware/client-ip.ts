/**
 * The client's address behind proxies: `X-Forwarded-For` is believed only as far as the
 * proxies that added to it are trusted, as Express's `trust proxy` does.
 */
import { type IpRange, parseIp, parseIpRange } from '@hindsight/core';
import { HindsightError } from '../errors.js';

/**
 * Which proxies to trust: `false` (default: the socket's peer is the client), `true` (every
 * proxy: the leftmost `X-Forwarded-For` address), a number of proxy hops in front of the app,
 * addresses and CIDR ranges of your proxies (and the names `loopback`, `private`, `linklocal`),
 * or a function of an address and its hop (0 = the socket's peer).
 */
export type TrustProxy =
  | boolean
  | number
  | readonly string[]
  | ((address: string, hop: number) => boolean);

const NAMED: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};

/** A predicate of "this hop is a trusted proxy", made once per middleware. */
export type Trusted = (address: string, hop: number) => boolean;

/**
 * Compiles a {@link TrustProxy} setting; throws `invalid_options` for an unreadable range.
 * @example trustedBy(['loopback'])('127.0.0.1', 0) // true
 */
export function trustedBy(trust: TrustProxy): Trusted {
  if (typeof trust === 'function') return trust;
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0) {
      throw new HindsightError('invalid_options', 'trustProxy: a number of hops is 0 or more.');
    }
    return (_address, hop) => hop < trust;
  }
  if (!Array.isArray(trust) || !trust.every((entry) => typeof entry === 'string')) {
    throw new HindsightError(
      'invalid_options',
      'trustProxy: true, false, a number of hops, a list of addresses and CIDR ranges, or a function.',
    );
  }
  const ranges: IpRange[] = trust.flatMap((entry) =>
    ((Object.hasOwn(NAMED, entry) ? NAMED[entry] : undefined) ?? [entry]).map((text) => {
      const range = parseIpRange(text);
      if (range === null) {
        throw new HindsightError(
          'invalid_options',
          `trustProxy: "${entry}" is not an address, a CIDR range or loopback/private/linklocal.`,
        );
      }
      return range;
    }),
  );
  return (address) => {
    const ip = parseIp(address);
    return (
      ip !== null &&
      ranges.some((r) => compare(ip.bytes, r.start) >= 0 && compare(ip.bytes, r.end) <= 0)
    );
  };
}

/**
 * The client's address: walks from the socket's peer back through `X-Forwarded-For` while
 * each hop is a trusted proxy. `undefined` when the result is not an IP address.
 * @example clientIp('127.0.0.1', '203.0.113.7, 10.0.0.2', trustedBy(['loopback', 'private'])) // '203.0.113.7'
 */
export function clientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: Trusted,
): string | undefined {
  if (remoteAddress === undefined) return undefined;
  const chain = [remoteAddress];
  if (forwardedFor !== undefined) {
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = (hops[i] as string).trim();
      if (hop !== '') chain.push(hop);
    }
  }
  let at = 0;
  while (at < chain.length - 1 && trusted(normalize(chain[at] as string), at)) at++;
  const address = normalize(chain[at] as string);
  return parseIp(address) === null ? undefined : address;
}

/**
 * An address without brackets, port, IPv6 zone or the IPv4-mapped prefix: `[::1]:80` → `::1`,
 * `fe80::1%eth0` → `fe80::1` (an event's `context.ip` has no zone: it names the interface of
 * the machine that saw the address, not the client).
 */
function normalize(address: string): string {
  let text = address;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1] as string;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) text = text.slice(0, zone);
  return text.toLowerCase().startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
