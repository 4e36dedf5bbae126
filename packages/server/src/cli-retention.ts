/**
 * The retention commands of the `hindsight` CLI (issue #9): `prune`, `legal-hold place|lift`
 * and `retention show|set`, run against the store directly (also while a server runs on it),
 * and the parsing of the `serve` flags for retention. Every change is recorded in the
 * tenant's `audit` log, as the API records it.
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type EventInput,
  hasControlCharacters,
  MAX_RETENTION_CATEGORIES,
  type RetentionSettings,
  TENANT_PATTERN,
} from '@hindsight/core';
import { storeLocation, storeOptions, UsageError, withStore } from './cli-usage.js';
import { newUlid } from './ids.js';
import { appendPendingAudit, sentence } from './pending-audit.js';
import type { PendingAudit, Store } from './store/types.js';

/** Most days a policy may name (100 years), as the settings schema allows. */
const MAX_DAYS = 36_500;

/**
 * A number of days from a flag: `1`…`36500`, or `forever` (`null`).
 * @example parseDays('--retention-days', '90') // 90
 */
export function parseDays(flag: string, text: string): number | null {
  if (text === 'forever') return null;
  const days = Number(text);
  if (!/^\d{1,5}$/.test(text) || days < 1 || days > MAX_DAYS) {
    throw new UsageError(`Invalid ${flag} "${text}": give days (1–${MAX_DAYS}) or "forever".`);
  }
  return days;
}

/**
 * A duration from a flag: `90s`, `30m`, `1h`, `1d` (at most `24d`); `off` (or `0`) is `null`.
 * @example parseInterval('--retention-interval', '30m') // 1800000
 */
export function parseInterval(flag: string, text: string): number | null {
  if (text === 'off' || text === '0') return null;
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`Invalid ${flag} "${text}": give e.g. 30m, 1h or 1d, or "off".`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  if (ms < 1000) throw new UsageError(`Invalid ${flag} "${text}": at least 1s.`);
  // Node.js runs a timer of more than 2^31 - 1 ms after 1 ms instead.
  if (ms > MAX_INTERVAL_MS) throw new UsageError(`Invalid ${flag} "${text}": at most 24d.`);
  return ms;
}

/** The longest interval a Node.js timer keeps: 2^31 - 1 ms, 24.8 days. */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

/** The server's default retention from `--retention-days` or `HINDSIGHT_RETENTION_DAYS`. */
export function defaultDays(flag: string | undefined): number | null {
  const text = flag ?? process.env['HINDSIGHT_RETENTION_DAYS'];
  return text === undefined || text === '' ? null : parseDays('--retention-days', text);
}

function tenantOf(tenant: string | undefined): string {
  if (tenant === undefined) throw new UsageError('Give the tenant with --tenant T.');
  if (!new RegExp(TENANT_PATTERN).test(tenant)) throw new UsageError(`Invalid tenant "${tenant}".`);
  return tenant;
}

/** Who runs the CLI, as the actor of the `audit` entries it records. */
function cliActor(): EventInput['actor'] {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No user name (a container without passwd entry): recorded as unknown.
  }
  return { type: 'system', id: 'cli', name: `hindsight CLI (${user}@${hostname()})` };
}

/** Stores an event through the ingest path (validated, hashed), as the server would. */
async function record(store: Store, event: EventInput): Promise<void> {
  const { prepareEvents } = await import('./ingest.js');
  const { createEnricher } = await import('./enrich.js');
  const [outcome] = await store.append([prepareEvents(event, createEnricher({ geo: false }))]);
  if (outcome && !outcome.ok) throw outcome.error;
}

/**
 * Appends an admin change's `audit` entry, kept by the store with the change, and forgets it.
 * Should this not happen (the CLI stopped), the server appends it when it next starts.
 */
async function settle(store: Store, pending: PendingAudit | null): Promise<void> {
  if (pending !== null) await appendPendingAudit(store, (e) => record(store, e), pending);
}

/** The `audit` entry of a change made by the CLI, its id and time fixed now. */
function cliChange(
  tenant: string,
  action: string,
  description: string,
  metadata: Record<string, unknown>,
): PendingAudit {
  return {
    ...cliEntry(tenant, action, description, metadata),
    id: newUlid(Date.now()),
    time: new Date().toISOString(),
  };
}

/** An `audit` entry made by the CLI. */
function cliEntry(
  tenant: string,
  action: string,
  description: string,
  metadata: Record<string, unknown>,
): EventInput {
  const actor = cliActor();
  return {
    tenant,
    category: 'audit',
    action,
    actor,
    channel: 'system',
    description: sentence(description).slice(0, 2000),
    targets: [{ type: 'audit_log', id: 'all' }],
    metadata,
  };
}

/** `hindsight prune [--dry-run] [--tenant T] [--retention-days N] [--archive-dir DIR]`. */
export async function pruneCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...storeOptions,
      'dry-run': { type: 'boolean', default: false },
      tenant: { type: 'string', multiple: true },
      'retention-days': { type: 'string' },
      'archive-dir': { type: 'string' },
      'batch-size': { type: 'string' },
    },
    strict: true,
  });
  const tenants = values.tenant?.map(tenantOf);
  const archiveDir = values['archive-dir'] ?? process.env['HINDSIGHT_ARCHIVE_DIR'];
  const batch = values['batch-size'];
  if (batch !== undefined && !/^[1-9]\d{0,5}$/.test(batch)) {
    throw new UsageError(`Invalid --batch-size "${batch}": give 1–999999 events.`);
  }
  const { runRetention } = await import('./retention.js');
  const dryRun = values['dry-run'];
  const results = await withStore(storeLocation(values), (store) =>
    runRetention(
      store,
      {
        defaultDays: defaultDays(values['retention-days']),
        ...(archiveDir === undefined || archiveDir === '' ? {} : { archiveDir }),
        ...(batch === undefined ? {} : { batchSize: Number(batch) }),
      },
      {
        dryRun,
        ...(tenants ? { tenants } : {}),
        record: (event) => record(store, event),
      },
    ),
  );
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (results.length === 0) out('Nothing has expired.');
  for (const r of results) {
    if (r.heldSince !== undefined) {
      out(`${r.tenant}: under legal hold since ${r.heldSince}; nothing removed.`);
      continue;
    }
    if (r.unsigned) {
      out(
        `${r.tenant}: no checkpoint signs its log yet, so nothing is removed (a running ` +
          '`hindsight serve` signs it).',
      );
      continue;
    }
    const parts = Object.entries(r.byCategory).map(([c, n]) => `${c} ${n}`);
    out(
      `${r.tenant}: ${dryRun ? 'would remove' : 'removed'} ${r.removed} expired events ` +
        `(${parts.join(', ')})${r.archive ? `; archived to ${r.archive}` : ''}.`,
    );
  }
}

/** `hindsight legal-hold place|lift --tenant T [--reason R]`. */
export async function legalHoldCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { ...storeOptions, tenant: { type: 'string' }, reason: { type: 'string' } },
    strict: true,
  });
  const tenant = tenantOf(values.tenant);
  const { liftLegalHold, placeLegalHold } = await import('./legal-hold.js');
  if (action === 'place') {
    const reason = values.reason?.trim();
    if (!reason) throw new UsageError('Give the reason of the hold with --reason R.');
    if (reason.length > 500) throw new UsageError('The reason holds at most 500 characters.');
    // Checked before the hold is placed: its `audit` entry, which quotes it, would be refused.
    if (hasControlCharacters(reason, { lineBreaks: true })) {
      throw new UsageError(
        'The reason must not contain control characters other than tab and line breaks.',
      );
    }
    await withStore(storeLocation(values), async (store) => {
      const { hold, audit } = await placeLegalHold(store, tenant, reason, (held, placed) =>
        cliChange(
          tenant,
          placed ? 'legal_hold.placed' : 'legal_hold.updated',
          `${placed ? 'placed the log under legal hold' : 'changed the reason of the legal hold'}: ${reason}`,
          { reason, since: held.since },
        ),
      );
      await settle(store, audit);
      process.stdout.write(
        `Tenant ${tenant} is under legal hold since ${hold.since}: nothing of its log is pruned, erased or deleted.\n`,
      );
    });
    return;
  }
  if (action === 'lift') {
    await withStore(storeLocation(values), async (store) => {
      const { lifted, audit } = await liftLegalHold(store, tenant, (hold) =>
        cliChange(
          tenant,
          'legal_hold.lifted',
          `lifted the legal hold placed at ${hold.since} (${hold.reason})`,
          { reason: hold.reason, since: hold.since },
        ),
      );
      if (lifted === null) {
        process.stdout.write(`Tenant ${tenant} was not under legal hold.\n`);
        return;
      }
      await settle(store, audit);
      process.stdout.write(`Lifted the legal hold of tenant ${tenant}.\n`);
    });
    return;
  }
  throw new UsageError(
    'Use `hindsight legal-hold place --tenant T --reason R` or `lift --tenant T`.',
  );
}

/** A policy in words. */
const daysText = (days: number | null | undefined) =>
  days === undefined ? 'the default' : days === null ? 'forever' : `${days} days`;

/** `hindsight retention show|set --tenant T [--days N|forever|default] [--category C=N ...]`. */
export async function retentionCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      ...storeOptions,
      tenant: { type: 'string' },
      days: { type: 'string' },
      category: { type: 'string', multiple: true },
      'retention-days': { type: 'string' },
    },
    strict: true,
  });
  const tenant = tenantOf(values.tenant);
  if (action === 'show') {
    const { retentionDays } = await import('./retention.js');
    const server = defaultDays(values['retention-days']);
    await withStore(storeLocation(values), async (store) => {
      const { settings } = await store.tenantSettings(tenant);
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(`Tenant ${tenant}:`);
      out(`  server default: ${daysText(server)} (--retention-days / HINDSIGHT_RETENTION_DAYS)`);
      out(`  tenant default: ${daysText(settings.retention?.days)}`);
      const categories = new Set([
        ...(await store.categories(tenant)),
        ...Object.keys(settings.retention?.categories ?? {}),
      ]);
      for (const c of [...categories].sort()) {
        out(`  ${c}: ${daysText(retentionDays(settings, c, server))}`);
      }
      if (settings.legalHold) {
        out(`  under legal hold since ${settings.legalHold.since}: ${settings.legalHold.reason}`);
      }
    });
    return;
  }
  if (action !== 'set') {
    throw new UsageError(
      'Use `hindsight retention show --tenant T` or `hindsight retention set --tenant T ' +
        '[--days N|forever|default] [--category C=N|forever|default ...]`.',
    );
  }
  if (values.days === undefined && values.category === undefined) {
    throw new UsageError('Give --days or --category C=N to set.');
  }
  await withStore(storeLocation(values), async (store) => {
    const { after, audit } = await store.updateTenantSettings(
      tenant,
      (settings) => {
        const { retention, ...rest } = settings;
        const policy = nextPolicy(retention ?? {}, values.days, values.category ?? []);
        return Object.keys(policy).length === 0 ? rest : { ...rest, retention: policy };
      },
      (update) => [
        cliChange(tenant, 'retention.changed', 'changed the retention policy', {
          before: update.before.retention ?? {},
          after: update.after.settings.retention ?? {},
        }),
      ],
    );
    for (const entry of audit) await settle(store, entry);
    const next: RetentionSettings = after.settings.retention ?? {};
    process.stdout.write(`Retention of tenant ${tenant}: ${JSON.stringify(next)}\n`);
  });
}

/** The policy after `--days` and `--category C=N` flags (`default` removes an entry). */
export function nextPolicy(
  before: RetentionSettings,
  days: string | undefined,
  categories: readonly string[],
): RetentionSettings {
  const next: { days?: number | null; categories?: Record<string, number | null> } = {
    ...before,
    ...(before.categories ? { categories: { ...before.categories } } : {}),
  };
  if (days === 'default') delete next.days;
  else if (days !== undefined) next.days = parseDays('--days', days);
  for (const entry of categories) {
    const m = /^([a-z0-9_-]{1,64})=(.+)$/.exec(entry);
    if (!m) throw new UsageError(`Invalid --category "${entry}": give e.g. changes=90.`);
    const [, category, value] = m as unknown as [string, string, string];
    const map = { ...(next.categories ?? {}) };
    if (value === 'default') delete map[category];
    else map[category] = parseDays('--category', value);
    next.categories = map;
  }
  if (next.categories && Object.keys(next.categories).length === 0) delete next.categories;
  if (Object.keys(next.categories ?? {}).length > MAX_RETENTION_CATEGORIES) {
    throw new UsageError(
      `A retention policy names at most ${MAX_RETENTION_CATEGORIES} categories; remove some with --category C=default.`,
    );
  }
  return next;
}
