/**
 * IPv4/IPv6 addresses and CIDR ranges as 16-byte keys (IPv4 is mapped to `::ffff:a.b.c.d`), so
 * one byte-wise comparison orders both families and a CIDR is a closed range of keys.
 * Pure functions with no platform dependency: used by the validator, the query parser and stores.
 */

/** A parsed address: its 16-byte key and its canonical text form. */
export interface IpAddress {
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly version: 4 | 6;
}

/** A CIDR (or a single address) as an inclusive range of 16-byte keys. */
export interface IpRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * A dotted-quad IPv4 address as its 32-bit value, or -1: four decimal octets of 0–255 without
 * leading zeros. Read by position, without a regular expression or an array: every event's IP
 * passes here several times (validation, normalisation, enrichment, its index key).
 */
function ipv4Value(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let octets = 0;
  // The end of the text closes the last octet as a dot would.
  for (let i = 0; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || octets === 4) return -1;
      value = value * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
    } else if (c >= DIGIT_0 && c <= DIGIT_9) {
      // A zero followed by another digit is a leading zero.
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - DIGIT_0);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return octets === 4 ? value : -1;
}

/** Writes a 32-bit IPv4 value into `bytes` from `at` on, most significant octet first. */
function putIpv4(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = Math.floor(value / 0x1000000);
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  let head = text;
  let tail4 = -1;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = ipv4Value(text.slice(lastColon + 1));
    if (tail4 < 0) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const left = parts(halves[0] ?? '');
  const right = halves.length === 2 ? parts(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = Number.parseInt(g, 16);
    bytes[i * 2] = v >> 8;
    bytes[i * 2 + 1] = v & 0xff;
  }
  if (tail4 >= 0) putIpv4(bytes, 12, tail4);
  return bytes;
}

function formatIpv6(bytes: Uint8Array): string {
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (V4_PREFIX.every((b, i) => bytes[i] === b)) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const V4_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Parses an IPv4 or IPv6 address (no zone index, no brackets).
 * @example parseIp('2001:DB8::1')?.text // '2001:db8::1'
 */
export function parseIp(text: string): IpAddress | null {
  const v4 = ipv4Value(text);
  if (v4 >= 0) {
    const bytes = new Uint8Array(16);
    bytes.set(V4_PREFIX);
    putIpv4(bytes, 12, v4);
    // No leading zeros are admitted: the text is already canonical.
    return { bytes, text, version: 4 };
  }
  const v6 = parseIpv6(text);
  if (!v6) return null;
  return { bytes: v6, text: formatIpv6(v6), version: 6 };
}

/**
 * Whether a text is an IPv4 or IPv6 address, as {@link parseIp} reads them, without building
 * its key (the validator's question, on every event).
 * @example isIpAddress('2001:db8::1') // true
 */
export function isIpAddress(text: string): boolean {
  return ipv4Value(text) >= 0 || parseIpv6(text) !== null;
}

/**
 * Parses an address or a CIDR (`10.0.0.0/8`, `2001:db8::/32`) into an inclusive key range.
 * @example parseIpRange('192.168.1.0/24') // { start: …c0a80100, end: …c0a801ff }
 */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  if (slash < 0) return { start: ip.bytes, end: ip.bytes };
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > (ip.version === 4 ? 32 : 128)) return null;
  const prefix = ip.version === 4 ? bits + 96 : bits;
  const start = new Uint8Array(16);
  const end = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    const b = ip.bytes[i] ?? 0;
    start[i] = b & mask;
    end[i] = (b & mask) | (~mask & 0xff);
  }
  return { start, end };
}
