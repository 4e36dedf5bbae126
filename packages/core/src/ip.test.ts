import { describe, expect, it } from 'vitest';
import { isIpAddress, parseIp, parseIpRange } from './ip.js';

/** The 16-byte key of an address as hex, for readable expectations. */
function hex(bytes: Uint8Array | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('hex');
}

function key(text: string): Uint8Array {
  const ip = parseIp(text);
  if (!ip) throw new Error(`test setup: ${text} should parse`);
  return ip.bytes;
}

const V4_MAPPED = '00000000000000000000ffff';

describe('parseIp: IPv4', () => {
  it.each([
    ['0.0.0.0', '00000000'],
    ['1.2.3.4', '01020304'],
    ['10.0.0.1', '0a000001'],
    ['192.168.1.255', 'c0a801ff'],
    ['255.255.255.255', 'ffffffff'],
  ])('maps %s to ::ffff:a.b.c.d', (text, tail) => {
    const ip = parseIp(text);
    expect(ip?.version).toBe(4);
    expect(ip?.text).toBe(text);
    expect(hex(ip?.bytes)).toBe(V4_MAPPED + tail);
    expect(ip?.bytes).toHaveLength(16);
    expect(isIpAddress(text)).toBe(true);
  });

  it.each([
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.00',
    '256.1.1.1',
    '1.2.3.256',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.-4',
    '1000.2.3.4',
    '1.2.3.2555',
    '1.2.3.4.',
    '\u0661.\u0662.\u0663.\u0664',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.4/32',
    'a.b.c.d',
    '0x1.2.3.4',
    '',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
    expect(isIpAddress(text)).toBe(false);
  });
});

describe('parseIp: IPv6', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8::A:b', '20010db80000000000000000000a000b'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:1.2.3.4', `${V4_MAPPED}01020304`],
    ['::1.2.3.4', '00000000000000000000000001020304'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ])('parses %s', (text, bytes) => {
    const ip = parseIp(text);
    expect(ip?.version).toBe(6);
    expect(hex(ip?.bytes)).toBe(bytes);
    expect(isIpAddress(text)).toBe(true);
  });

  it('gives the same key to an IPv4 address and its ::ffff: mapped form', () => {
    expect(Buffer.compare(key('1.2.3.4'), key('::ffff:1.2.3.4'))).toBe(0);
  });

  it.each([
    '1:::2',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2:3:4:5:6:7:8',
    '12345::',
    '::12345',
    'g::1',
    ':1::',
    '1:',
    ':1',
    ':',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '::ffff:256.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'fe80::1%eth0',
    '[::1]',
    ' ::1',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
    expect(isIpAddress(text)).toBe(false);
  });
});

describe('parseIp: canonical text (RFC 5952)', () => {
  it.each([
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    // The longest run of zero groups is compressed ...
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    // ... the first one on a tie ...
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    // ... and a single zero group is never compressed.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['1::2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['0001:0002:0003:0004:0005:0006:0007:0008', '1:2:3:4:5:6:7:8'],
  ])('%s → %s', (input, text) => {
    expect(parseIp(input)?.text).toBe(text);
  });

  it('round-trips: the canonical text parses to the same key and is a fixed point', () => {
    for (const input of [
      '2001:db8::1',
      '1:0:0:2:0:0:3:4',
      '::',
      'fe80::a:b:c:d',
      '::ffff:1.2.3.4',
    ]) {
      const ip = parseIp(input);
      const again = parseIp(ip?.text ?? '');
      expect(again?.text).toBe(ip?.text);
      expect(hex(again?.bytes)).toBe(hex(ip?.bytes));
    }
  });
});

describe('parseIp: key order', () => {
  it('sorts addresses numerically with a byte-wise comparison, IPv4 and IPv6 together', () => {
    const ordered = [
      '::',
      '::1',
      '::2',
      '::ff',
      '::100',
      '0.0.0.0',
      '1.2.3.4',
      '9.255.255.255',
      '10.0.0.0',
      '10.0.0.2',
      '10.0.0.10',
      '10.0.0.100',
      '192.168.1.2',
      '255.255.255.255',
      '::1:0:0:0',
      '1::',
      '2001:db8::1',
      '2001:db8::2',
      '2001:db8::10',
      '2001:db8:0:0:1::',
      'fe80::1',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ];
    const shuffled = [...ordered].reverse();
    shuffled.push(...shuffled.splice(0, 7));
    const sorted = shuffled.sort((a, b) => Buffer.compare(key(a), key(b)));
    expect(sorted).toEqual(ordered);
  });

  it('orders 10.0.0.9 before 10.0.0.10 (numerically, not as text)', () => {
    expect(Buffer.compare(key('10.0.0.9'), key('10.0.0.10'))).toBe(-1);
    expect(Buffer.compare(key('2001:db8::9'), key('2001:db8::10'))).toBe(-1);
  });
});

describe('parseIpRange', () => {
  const range = (text: string) => {
    const r = parseIpRange(text);
    return r && { start: hex(r.start), end: hex(r.end) };
  };

  it('gives a single address as a range of one key', () => {
    expect(range('10.1.2.3')).toEqual({
      start: `${V4_MAPPED}0a010203`,
      end: `${V4_MAPPED}0a010203`,
    });
    expect(range('2001:db8::1')).toEqual({
      start: '20010db8000000000000000000000001',
      end: '20010db8000000000000000000000001',
    });
  });

  it.each([
    ['0.0.0.0/0', '00000000', 'ffffffff'],
    ['10.0.0.0/8', '0a000000', '0affffff'],
    ['10.1.2.3/8', '0a000000', '0affffff'],
    ['172.16.0.0/12', 'ac100000', 'ac1fffff'],
    ['192.168.1.0/24', 'c0a80100', 'c0a801ff'],
    ['192.168.1.77/24', 'c0a80100', 'c0a801ff'],
    ['192.168.1.77/31', 'c0a8014c', 'c0a8014d'],
    ['192.168.1.77/32', 'c0a8014d', 'c0a8014d'],
  ])('%s covers only IPv4-mapped keys from %s to %s', (cidr, start, end) => {
    expect(range(cidr)).toEqual({ start: V4_MAPPED + start, end: V4_MAPPED + end });
  });

  it.each([
    ['::/0', '00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff'],
    ['2001:db8::/32', '20010db8000000000000000000000000', '20010db8ffffffffffffffffffffffff'],
    ['2001:db8:abcd::/36', '20010db8a00000000000000000000000', '20010db8afffffffffffffffffffffff'],
    ['2001:db8::5/127', '20010db8000000000000000000000004', '20010db8000000000000000000000005'],
    ['2001:db8::5/128', '20010db8000000000000000000000005', '20010db8000000000000000000000005'],
  ])('%s covers %s to %s', (cidr, start, end) => {
    expect(range(cidr)).toEqual({ start, end });
  });

  it('contains exactly the addresses of the CIDR when compared byte-wise', () => {
    const r = parseIpRange('10.0.0.0/8');
    if (!r) throw new Error('10.0.0.0/8 should parse');
    const inside = (ip: string) =>
      Buffer.compare(key(ip), r.start) >= 0 && Buffer.compare(key(ip), r.end) <= 0;
    expect(inside('10.0.0.0')).toBe(true);
    expect(inside('10.200.3.4')).toBe(true);
    expect(inside('10.255.255.255')).toBe(true);
    expect(inside('9.255.255.255')).toBe(false);
    expect(inside('11.0.0.0')).toBe(false);
    expect(inside('::a00:1')).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/99',
    '::/129',
    '2001:db8::/200',
    '10.0.0.0/',
    '10.0.0.0/abc',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8.0',
    '10.0.0.0/ 8',
    '10.0.0.0/1000',
    '10.0.0.0/8/8',
    '/8',
    '10.0.0/8',
    '2001:db8:::/32',
    'not-an-ip',
  ])('rejects %j', (text) => {
    expect(parseIpRange(text)).toBeNull();
  });
});

describe('regressions found in review', () => {
  it('writes IPv4-mapped addresses with the dotted quad (RFC 5952 §5)', () => {
    expect(parseIp('::ffff:1.2.3.4')?.text).toBe('::ffff:1.2.3.4');
    expect(parseIp('::FFFF:102:304')?.text).toBe('::ffff:1.2.3.4');
  });
});
