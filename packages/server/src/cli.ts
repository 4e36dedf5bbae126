#!/usr/bin/env node
/**
 * The `hindsight` command line (SPEC §7): `serve`, `keys create|list|revoke|rotate`, `verify`
 * (which needs nothing but `@hindsight/core`: no database, no server), `backup`, and the
 * retention commands (`prune`, `legal-hold`, `retention`).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasControlCharacters, parseIpRange, TENANT_PATTERN } from '@hindsight/core';
import { createApiKey, isScope, SCOPES, type Scope } from './auth.js';
import { backupCommand } from './cli-backup.js';
import {
  defaultDays,
  legalHoldCommand,
  parseInterval,
  pruneCommand,
  retentionCommand,
} from './cli-retention.js';
import { scrubCommand } from './cli-scrub.js';
import { storeLocation, storeOptions, UsageError, withStore } from './cli-usage.js';
import { verifyCommand } from './cli-verify.js';
import { fileErrorWords } from './file-errors.js';
import type { ApiKeyRecord } from './store/types.js';

const USAGE = `Usage:
  hindsight --help | --version
  hindsight serve [--port 3100] [--host 127.0.0.1] [--data DIR | --database-url URL] [--demo]
                  [--geoip-db FILE | --no-geoip] [--origin NAME] [--signing-key FILE]
                  [--anchor-file FILE] [--anchor-url URL] [--public-url URL]
                  [--sendgrid-public-key KEY] [--mailgun-signing-key KEY]
                  [--twilio-auth-token TOKEN]
                  [--rate-limit-read N] [--rate-limit-write N] [--max-pending-events N]
                  [--retention-days N|forever] [--retention-interval 1h|off]
                  [--archive-dir DIR] [--metrics-port N] [--metrics-host H]
                  [--trust-proxy ADDRESSES|N] [--scrub-interval 1d|off]
                  [--scrub-max-events N] [--pdf-font FILE ...]
  hindsight keys create --scope S [--scope S ...] [--tenant T] [--name N]
                        [--data DIR | --database-url URL]
  hindsight keys list [--json] [--data DIR | --database-url URL]
  hindsight keys revoke ID [ID ...] [--data DIR | --database-url URL]
  hindsight keys rotate ID [--data DIR | --database-url URL]
  hindsight verify EXPORT.ndjson[.gz]|- --public-key FILE [--public-key FILE ...]
                   [--checkpoint FILE] [--json]
  hindsight scrub --public-key FILE [--public-key FILE ...] [--tenant T ...] [--origin NAME]
                  [--anchor-file FILE] [--json] [--data DIR | --database-url URL]
  hindsight backup BACKUP_DIR [--data DIR | --database-url URL] [--signing-key FILE]
  hindsight prune [--dry-run] [--tenant T ...] [--retention-days N] [--archive-dir DIR]
                  [--batch-size N] [--data DIR | --database-url URL]
  hindsight legal-hold place --tenant T --reason R [--data DIR | --database-url URL]
  hindsight legal-hold lift --tenant T [--data DIR | --database-url URL]
  hindsight retention show --tenant T [--retention-days N] [--data DIR | --database-url URL]
  hindsight retention set --tenant T [--days N|forever|default]
                          [--category C=N|forever|default ...] [--data DIR | --database-url URL]

Scopes: ${SCOPES.join(', ')}
Environment: HINDSIGHT_DATA, HINDSIGHT_DATABASE_URL, HINDSIGHT_PORT, HINDSIGHT_HOST,
             HINDSIGHT_GEOIP_DB, HINDSIGHT_LOG_LEVEL, HINDSIGHT_ORIGIN, HINDSIGHT_SIGNING_KEY,
             HINDSIGHT_ANCHOR_FILE, HINDSIGHT_ANCHOR_URL, HINDSIGHT_PUBLIC_URL,
             HINDSIGHT_SENDGRID_PUBLIC_KEY, HINDSIGHT_MAILGUN_SIGNING_KEY,
             HINDSIGHT_TWILIO_AUTH_TOKEN (prefer these to flags for secrets),
             HINDSIGHT_RATE_LIMIT_READ, HINDSIGHT_RATE_LIMIT_WRITE, HINDSIGHT_MAX_PENDING_EVENTS,
             HINDSIGHT_RETENTION_DAYS, HINDSIGHT_RETENTION_INTERVAL, HINDSIGHT_ARCHIVE_DIR,
             HINDSIGHT_METRICS_PORT, HINDSIGHT_METRICS_HOST, HINDSIGHT_TRUST_PROXY,
             HINDSIGHT_SCRUB_INTERVAL, HINDSIGHT_SCRUB_MAX_EVENTS,
             HINDSIGHT_PDF_FONTS (files separated by "${delimiter}")`;

function portOf(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`Invalid port "${text}".`);
  return port;
}

/** Whether two listen addresses overlap: the same, or one of them every address. */
function sameHost(a: string, b: string): boolean {
  const any = (host: string) => host === '0.0.0.0' || host === '::' || host === '';
  return a === b || any(a) || any(b);
}

/** Words `--trust-proxy` takes for ranges of addresses, as `proxy-addr` names them. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];
/** The levels of the server's log (pino's), for `HINDSIGHT_LOG_LEVEL`. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * `--trust-proxy`: a number of proxy hops, or the proxies' addresses, CIDRs and
 * {@link PROXY_RANGES}, separated by commas.
 */
function proxiesOf(text: string | undefined): number | string[] | undefined {
  if (text === undefined || text === '') return undefined;
  if (/^\d{1,2}$/.test(text) && Number(text) > 0) return Number(text);
  const proxies = text.split(',').map((p) => p.trim());
  for (const proxy of proxies) {
    if (!PROXY_RANGES.includes(proxy) && parseIpRange(proxy) === null) {
      throw new UsageError(
        `Invalid --trust-proxy "${text}": give the proxies' addresses or CIDRs ` +
          `(10.0.0.0/8,127.0.0.1), ${PROXY_RANGES.join(', ')}, or how many proxies there are (1).`,
      );
    }
  }
  return proxies;
}

/** A `--rate-limit-*` value: requests per minute, 0 for unlimited. */
function perMinute(kind: string, text: string): number {
  if (!/^\d{1,9}$/.test(text)) {
    throw new UsageError(
      `Invalid --rate-limit-${kind} "${text}": give requests per minute, 0 for no limit.`,
    );
  }
  return Number(text);
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...storeOptions,
      port: { type: 'string' },
      host: { type: 'string' },
      demo: { type: 'boolean', default: false },
      'geoip-db': { type: 'string' },
      'no-geoip': { type: 'boolean', default: false },
      'signing-key': { type: 'string' },
      origin: { type: 'string' },
      'anchor-file': { type: 'string' },
      'anchor-url': { type: 'string' },
      'public-url': { type: 'string' },
      'sendgrid-public-key': { type: 'string' },
      'mailgun-signing-key': { type: 'string' },
      'twilio-auth-token': { type: 'string' },
      'rate-limit-read': { type: 'string' },
      'rate-limit-write': { type: 'string' },
      'retention-days': { type: 'string' },
      'retention-interval': { type: 'string' },
      'archive-dir': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'scrub-interval': { type: 'string' },
      'scrub-max-events': { type: 'string' },
      'max-pending-events': { type: 'string' },
      'pdf-font': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const origin = values.origin ?? process.env['HINDSIGHT_ORIGIN'];
  if (origin !== undefined && !/^[\x21-\x2a\x2c-\x7e]+$/.test(origin)) {
    throw new UsageError(
      `Invalid origin "${origin}": use a schema-less URL such as audit.example.com (no spaces or "+").`,
    );
  }
  const signingKey = values['signing-key'] ?? process.env['HINDSIGHT_SIGNING_KEY'];
  const anchorFile = values['anchor-file'] ?? process.env['HINDSIGHT_ANCHOR_FILE'];
  const anchorUrl = values['anchor-url'] ?? process.env['HINDSIGHT_ANCHOR_URL'];
  if (anchorUrl !== undefined && !/^https?:\/\//.test(anchorUrl)) {
    throw new UsageError('Invalid --anchor-url: give an http(s) URL.');
  }
  if (anchorUrl !== undefined && /^https?:\/\/[^/?#]*@/.test(anchorUrl)) {
    // fetch cannot send them, and every POST would fail.
    throw new UsageError(
      'Invalid --anchor-url: a URL with a user name or password cannot be used; put a token ' +
        'in its path or query string instead.',
    );
  }
  const logLevel = process.env['HINDSIGHT_LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(
      `Invalid HINDSIGHT_LOG_LEVEL "${logLevel}": give one of ${LOG_LEVELS.join(', ')}.`,
    );
  }
  if (anchorFile !== undefined) {
    // Found now, not at the first checkpoint, minutes later, as a warning.
    const dir = dirname(resolve(anchorFile));
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new UsageError(
        `Invalid --anchor-file "${anchorFile}": its directory ${dir} does not exist or cannot be written.`,
      );
    }
  }
  const publicUrl = values['public-url'] ?? process.env['HINDSIGHT_PUBLIC_URL'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(publicUrl)) {
    throw new UsageError(
      `Invalid --public-url "${publicUrl}": give the server's external base URL (with any path ` +
        'prefix a proxy adds), e.g. https://audit.example.com or https://example.com/audit.',
    );
  }
  const hooks = {
    sendgridPublicKey:
      values['sendgrid-public-key'] ?? process.env['HINDSIGHT_SENDGRID_PUBLIC_KEY'],
    mailgunSigningKey:
      values['mailgun-signing-key'] ?? process.env['HINDSIGHT_MAILGUN_SIGNING_KEY'],
    twilioAuthToken: values['twilio-auth-token'] ?? process.env['HINDSIGHT_TWILIO_AUTH_TOKEN'],
    publicUrl,
  };
  const metricsPort = values['metrics-port'] ?? process.env['HINDSIGHT_METRICS_PORT'];
  const metrics =
    metricsPort === undefined || metricsPort === ''
      ? undefined
      : {
          port: portOf(metricsPort),
          host: values['metrics-host'] ?? process.env['HINDSIGHT_METRICS_HOST'] ?? '127.0.0.1',
        };
  const port = portOf(values.port ?? process.env['HINDSIGHT_PORT'] ?? '3100');
  const host = values.host ?? process.env['HINDSIGHT_HOST'] ?? '127.0.0.1';
  if (
    metrics !== undefined &&
    metrics.port === port &&
    port !== 0 &&
    sameHost(metrics.host, host)
  ) {
    throw new UsageError(
      `Invalid --metrics-port ${port}: the API listens on that port; give the metrics another.`,
    );
  }
  const trustProxy = proxiesOf(values['trust-proxy'] ?? process.env['HINDSIGHT_TRUST_PROXY']);
  const scrubMs = parseInterval(
    '--scrub-interval',
    values['scrub-interval'] ?? process.env['HINDSIGHT_SCRUB_INTERVAL'] ?? '1d',
  );
  const maxPending =
    values['max-pending-events'] ?? process.env['HINDSIGHT_MAX_PENDING_EVENTS'] ?? '20000';
  if (!/^\d{1,9}$/.test(maxPending)) {
    throw new UsageError(
      `Invalid --max-pending-events "${maxPending}": give a number of events, 0 for no limit.`,
    );
  }
  const scrubMax = values['scrub-max-events'] ?? process.env['HINDSIGHT_SCRUB_MAX_EVENTS'];
  if (scrubMax !== undefined && !/^[1-9]\d{0,11}$/.test(scrubMax)) {
    throw new UsageError(`Invalid --scrub-max-events "${scrubMax}": give a number of events.`);
  }
  const geoDb = values['geoip-db'] ?? process.env['HINDSIGHT_GEOIP_DB'];
  const geo =
    values['no-geoip'] || geoDb === 'off' ? false : geoDb ? { ipv4Path: geoDb } : undefined;
  const pdfFonts = await loadPdfFonts(
    values['pdf-font'] ??
      (process.env['HINDSIGHT_PDF_FONTS'] ?? '').split(delimiter).filter((file) => file !== ''),
  );
  // Loaded here, not at the top: `verify` must not load the server or any database client.
  const { startServer } = await import('./server.js');
  // SIGINT and SIGTERM are taken before the server starts: one that arrives while it starts, or
  // just after it has printed that it listens, stops it once it is up rather than killing it.
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let stopping = false;
  const close = (running: NonNullable<typeof server>) => {
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Error while stopping: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (server !== null) close(server);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server = await startServer(
    {
      ...storeLocation(values),
      port,
      host,
      demo: values.demo,
      logLevel,
      ...(origin === undefined ? {} : { origin }),
      ...(signingKey === undefined ? {} : { signingKey }),
      ...(anchorFile === undefined ? {} : { anchorFile }),
      ...(anchorUrl === undefined ? {} : { anchorUrl }),
      hooks,
      retention: retentionOptions(values),
      rateLimit: {
        read: perMinute(
          'read',
          values['rate-limit-read'] ?? process.env['HINDSIGHT_RATE_LIMIT_READ'] ?? '1200',
        ),
        write: perMinute(
          'write',
          values['rate-limit-write'] ?? process.env['HINDSIGHT_RATE_LIMIT_WRITE'] ?? '60000',
        ),
      },
      maxPendingEvents: Number(maxPending),
      ...(geo === undefined ? {} : { geo }),
      ...(metrics === undefined ? {} : { metrics }),
      ...(trustProxy === undefined ? {} : { trustProxy }),
      ...(pdfFonts.length === 0 ? {} : { pdfFonts }),
      ...(scrubMs === null
        ? {}
        : {
            scrub: {
              intervalMs: scrubMs,
              ...(scrubMax === undefined ? {} : { maxEvents: Number(scrubMax) }),
            },
          }),
    },
    (line) => process.stdout.write(`${line}\n`),
  );
  if (stopping) close(server);
}

/** The fallback fonts of PDF exports (`--pdf-font`), each read now: a bad one is a usage error. */
async function loadPdfFonts(files: readonly string[]) {
  const { loadPdfFont } = await import('./pdf-fonts.js');
  return files.map((file) => {
    try {
      return loadPdfFont(file);
    } catch (error) {
      throw new UsageError(`Invalid --pdf-font: ${(error as Error).message}`);
    }
  });
}

/** The retention of `serve`: the default days, the job's interval and the archive directory. */
function retentionOptions(values: {
  'retention-days'?: string;
  'retention-interval'?: string;
  'archive-dir'?: string;
}) {
  const intervalMs = parseInterval(
    '--retention-interval',
    values['retention-interval'] ?? process.env['HINDSIGHT_RETENTION_INTERVAL'] ?? '1h',
  );
  const archiveDir = values['archive-dir'] ?? process.env['HINDSIGHT_ARCHIVE_DIR'];
  return {
    defaultDays: defaultDays(values['retention-days']),
    ...(intervalMs === null ? {} : { intervalMs }),
    ...(archiveDir === undefined || archiveDir === '' ? {} : { archiveDir }),
  };
}

async function keysCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...storeOptions,
      scope: { type: 'string', multiple: true },
      tenant: { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
  });
  const scopes = values.scope ?? [];
  if (scopes.length === 0) throw new UsageError('Give at least one --scope.');
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) {
    throw new UsageError(`Unknown scope "${unknown[0]}"; use one of ${SCOPES.join(', ')}.`);
  }
  if (values.tenant !== undefined && !new RegExp(TENANT_PATTERN).test(values.tenant)) {
    throw new UsageError(`Invalid tenant "${values.tenant}".`);
  }
  if (values.name !== undefined && hasControlCharacters(values.name)) {
    throw new UsageError('The key name must not contain control characters.');
  }
  await withStore(storeLocation(values), async (store) => {
    const { token, record } = await createApiKey(store, {
      scopes: scopes as Scope[],
      tenant: values.tenant ?? null,
      ...(values.name === undefined ? {} : { name: values.name }),
    });
    printNewKey(token, record);
  });
}

/** A new key's summary on standard error, and the key alone on the last line of standard out. */
function printNewKey(token: string, record: ApiKeyRecord, replaces?: string): void {
  process.stderr.write(
    `Created key ${record.id}${replaces ? ` to replace ${replaces}` : ''} with scopes ` +
      `${record.scopes.join(', ')}${record.tenant ? ` for tenant ${record.tenant}` : ''}. ` +
      'It is shown only once:\n',
  );
  process.stdout.write(`${token}\n`);
}

/** What `keys list` shows of a key: everything but its secret's hash. */
function keySummary(key: ApiKeyRecord) {
  const { id, name, scopes, tenant, createdAt, revokedAt } = key;
  return { id, name, scopes, tenant, createdAt, revokedAt };
}

/** A key's name for a terminal: control characters shown as `?`. */
function shownName(key: ApiKeyRecord): string {
  return key.name.replace(/\p{Cc}/gu, '?');
}

/** Keys as an aligned table. */
function keyTable(keys: readonly ApiKeyRecord[]): string {
  const rows = [
    ['ID', 'NAME', 'SCOPES', 'TENANT', 'CREATED', 'REVOKED'],
    ...keys.map((k) => [
      k.id,
      shownName(k) || '-',
      k.scopes.join(','),
      k.tenant ?? 'all',
      k.createdAt,
      k.revokedAt ?? 'active',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function keysList(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { ...storeOptions, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const keys = await withStore(storeLocation(values), (store) => store.listKeys());
  if (values.json) {
    for (const key of keys) process.stdout.write(`${JSON.stringify(keySummary(key))}\n`);
  } else if (keys.length === 0) {
    process.stderr.write('No keys.\n');
  } else {
    process.stdout.write(`${keyTable(keys)}\n`);
  }
}

/**
 * The key ids given to `revoke` or `rotate`. A whole key is refused: other users of the machine
 * can read a command's arguments.
 */
function keyIds(positionals: readonly string[]): string[] {
  for (const arg of positionals) {
    const token = /^hsk_([a-z0-9]{16})_/.exec(arg);
    if (token) {
      throw new UsageError(
        `Give the key's id (${token[1]}), not the whole key: other users of this machine can ` +
          "read a command's arguments.",
      );
    }
  }
  return [...positionals];
}

const unknownKey = (id: string) =>
  `No key with id "${id}"; \`hindsight keys list\` shows every key.`;

async function keysRevoke(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: storeOptions,
    allowPositionals: true,
    strict: true,
  });
  const ids = [...new Set(keyIds(positionals))];
  if (ids.length === 0) throw new UsageError('Give the id of each key to revoke.');
  await withStore(storeLocation(values), async (store) => {
    const at = new Date().toISOString();
    for (const id of ids) {
      const key = await store.revokeKey(id, at);
      if (key === null) {
        process.stderr.write(`hindsight: ${unknownKey(id)}\n`);
        process.exitCode = 1;
      } else if (key.revokedAt === at) {
        process.stdout.write(
          `Revoked key ${id}${key.name ? ` (${shownName(key)})` : ''} at ${at}; servers refuse it ` +
            'from their next request.\n',
        );
      } else {
        process.stdout.write(`Key ${id} was already revoked at ${key.revokedAt}.\n`);
      }
    }
  });
}

/**
 * Replaces a key with a new one of the same scopes, tenant and name, and revokes the old one at
 * once; for a cut-over without refused requests, see `keys create` then `keys revoke`.
 */
async function keysRotate(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: storeOptions,
    allowPositionals: true,
    strict: true,
  });
  const [id, ...extra] = keyIds(positionals);
  if (id === undefined || extra.length > 0)
    throw new UsageError('Give the id of one key to rotate.');
  await withStore(storeLocation(values), async (store) => {
    const old = await store.findKey(id);
    if (old === null) throw new Error(unknownKey(id));
    if (old.revokedAt !== null) {
      throw new Error(
        `Key ${id} was revoked at ${old.revokedAt} and cannot be rotated; make a new key with ` +
          '`hindsight keys create`.',
      );
    }
    const scopes = old.scopes.filter(isScope);
    if (scopes.length !== old.scopes.length) {
      throw new Error(
        `Key ${id} has a scope this version of hindsight does not know ` +
          `(${old.scopes.join(', ')}); make its replacement with \`hindsight keys create\`.`,
      );
    }
    const { token, record } = await createApiKey(store, {
      scopes,
      tenant: old.tenant,
      name: old.name,
    });
    printNewKey(token, record, id);
    try {
      await store.revokeKey(id, new Date().toISOString());
    } catch (error) {
      throw new Error(
        `The new key above is stored, but key ${id} could not be revoked; run ` +
          `\`hindsight keys revoke ${id}\`.`,
        { cause: error },
      );
    }
    process.stderr.write(`Revoked key ${id}; servers refuse it from their next request.\n`);
  });
}

/**
 * The usage of one command (`hindsight keys --help`): its lines of {@link USAGE}, then the
 * scopes and environment; all of it for no command, or one it does not know.
 */
function usageOf(command: string | undefined): string {
  const [commands = '', rest = ''] = USAGE.split('\n\n');
  // Each command's entry: a line `  hindsight <command> …` and the lines that continue it.
  const entries = commands.split(/\n(?= {2}hindsight )/).slice(1);
  const own = entries.filter((entry) => entry.startsWith(`  hindsight ${command} `));
  if (command === undefined || command.startsWith('-') || own.length === 0) return USAGE;
  return `Usage:\n${own.join('\n')}\n\n${rest}\n\nEvery command: hindsight --help`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // `--help` (or `-h`) and `--version` anywhere before a `--`, as in `hindsight verify --help`.
  const flags = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (
    command === undefined ||
    command === 'help' ||
    flags.includes('--help') ||
    flags.includes('-h')
  ) {
    process.stdout.write(`${usageOf(command)}\n`);
    return;
  }
  if (flags.includes('--version')) {
    const { VERSION } = await import('./version.js');
    process.stdout.write(`hindsight ${VERSION}\n`);
    return;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'keys') {
    const [action, ...args] = rest;
    if (action === 'create') return keysCreate(args);
    if (action === 'list') return keysList(args);
    if (action === 'revoke') return keysRevoke(args);
    if (action === 'rotate') return keysRotate(args);
  }
  if (command === 'verify') return verifyCommand(rest);
  if (command === 'backup') return backupCommand(rest);
  if (command === 'prune') return pruneCommand(rest);
  if (command === 'scrub') return scrubCommand(rest);
  if (command === 'legal-hold') return legalHoldCommand(rest);
  if (command === 'retention') return retentionCommand(rest);
  // `keys frob` names both words; a command's flags are not part of its name.
  const named = command === 'keys' && rest[0] !== undefined ? `keys ${rest[0]}` : command;
  throw new UsageError(`Unknown command "${named}".`);
}

/** An error's message, a file error as `Cannot read FILE: why.` rather than Node.js's code. */
function messageOf(error: unknown): string {
  const { path, syscall } = error as NodeJS.ErrnoException;
  const why = fileErrorWords(error);
  if (why !== undefined && path !== undefined) {
    const verb = syscall === 'open' || syscall === 'read' || syscall === 'stat' ? 'read' : 'use';
    return `Cannot ${verb} ${path}: ${why}.`;
  }
  // Node.js reads `--port -1` as a flag without its value followed by an unknown flag `-1`.
  const ambiguous = /^Option '(--[a-z-]+)' argument is ambiguous/.exec((error as Error).message);
  if (ambiguous) {
    const flag = ambiguous[1];
    return `${flag} takes a value, and the next argument starts with a dash; write ${flag}=VALUE to give a value that does.`;
  }
  return (error as Error).message ?? String(error);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const usage =
    error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`hindsight: ${messageOf(error)}\n`);
  if (usage) process.stderr.write(`\n${USAGE}\n`);
  process.exit(usage ? 2 : 1);
});
