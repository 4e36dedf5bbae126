import { describe, expect, it } from 'vitest';
import { clientIp, trustedBy } from './client-ip.js';

describe('clientIp', () => {
  const xff = '203.0.113.7, 198.51.100.2, 10.0.0.5';

  it('believes no header by default', () => {
    expect(clientIp('127.0.0.1', xff, trustedBy(false))).toBe('127.0.0.1');
  });

  it('walks back while the hop is a trusted proxy', () => {
    expect(clientIp('127.0.0.1', xff, trustedBy(['loopback']))).toBe('10.0.0.5');
    expect(clientIp('127.0.0.1', xff, trustedBy(['loopback', 'private']))).toBe('198.51.100.2');
    expect(
      clientIp('127.0.0.1', xff, trustedBy(['loopback', '10.0.0.0/8', '198.51.100.0/24'])),
    ).toBe('203.0.113.7');
    expect(clientIp('192.0.2.1', xff, trustedBy(['loopback']))).toBe('192.0.2.1');
  });

  it('trusts a number of hops, everything, or a function', () => {
    expect(clientIp('127.0.0.1', xff, trustedBy(1))).toBe('10.0.0.5');
    expect(clientIp('127.0.0.1', xff, trustedBy(2))).toBe('198.51.100.2');
    expect(clientIp('127.0.0.1', xff, trustedBy(9))).toBe('203.0.113.7');
    expect(clientIp('127.0.0.1', xff, trustedBy(true))).toBe('203.0.113.7');
    expect(
      clientIp(
        '127.0.0.1',
        xff,
        trustedBy((_a, hop) => hop === 0),
      ),
    ).toBe('10.0.0.5');
  });

  it('normalises IPv4-mapped, bracketed and ported addresses and drops what is not an address', () => {
    expect(clientIp('::ffff:127.0.0.1', undefined, trustedBy(false))).toBe('127.0.0.1');
    expect(clientIp('::1', '[2001:db8::1]:443', trustedBy(['loopback']))).toBe('2001:db8::1');
    expect(clientIp('::1', '203.0.113.9:5555', trustedBy(['loopback']))).toBe('203.0.113.9');
    expect(clientIp('127.0.0.1', 'unknown', trustedBy(true))).toBeUndefined();
    expect(clientIp(undefined, xff, trustedBy(true))).toBeUndefined();
  });

  // regression: QA of the request middleware — a zoned link-local peer gave no address.
  it('drops the zone of an IPv6 address', () => {
    expect(clientIp('fe80::1%eth0', undefined, trustedBy(false))).toBe('fe80::1');
    expect(clientIp('fe80::a%2', undefined, trustedBy(false))).toBe('fe80::a');
    expect(clientIp('fe80::1%eth0', '203.0.113.7', trustedBy(['linklocal']))).toBe('203.0.113.7');
    expect(clientIp('::1', '[fe80::2%25eth0]:443', trustedBy(['loopback']))).toBe('fe80::2');
  });

  it('refuses a range it cannot read', () => {
    expect(() => trustedBy(['10.0.0.0/99'])).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
  });
});
