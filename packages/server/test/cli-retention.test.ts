/**
 * The retention commands of the `hindsight` binary (issue #9): `retention set|show`,
 * `legal-hold place|lift` and `prune`, as an operator runs them on a data directory.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { note } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpointer } from '../src/checkpoints.js';
import { nextPolicy } from '../src/cli-retention.js';
import { prepareEvents } from '../src/ingest.js';
import { openStore, sqlitePath } from '../src/store/index.js';
import { tempDir, testEnricher } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const exec = promisify(execFile);
const tmp = tempDir();
const hindsight = (...args: string[]) =>
  exec(process.execPath, [CLI, ...args, '--data', tmp.dir], {
    env: { ...process.env, HINDSIGHT_RETENTION_DAYS: '' },
  });

beforeAll(async () => {
  const store = await openStore({ data: tmp.dir });
  const old = new Date(Date.now() - 120 * 86_400_000).toISOString();
  const events = [
    ...Array.from({ length: 4 }, () => ({ time: old, category: 'changes' })),
    ...Array.from({ length: 3 }, () => ({ time: old, category: 'users' })),
    ...Array.from({ length: 2 }, () => ({ category: 'changes' })),
  ].map((e) => ({ tenant: 'acme', action: 'user.updated', actor: { id: 'u1' }, ...e }));
  const [outcome] = await store.append([prepareEvents({ events }, testEnricher())]);
  expect(outcome?.ok).toBe(true);
  const signer = note.signerFromSeed('hindsight', Buffer.alloc(32, 3));
  await new Checkpointer(store, { signer, origin: 'hindsight' }).latest('acme');
  await store.close();
});
afterAll(() => tmp.remove());

describe('hindsight retention, legal-hold and prune', () => {
  it('sets and shows a policy, holds, and prunes only once the hold is lifted', async () => {
    const set = await hindsight('retention', 'set', '--tenant', 'acme', '--category', 'changes=90');
    expect(set.stdout).toContain('{"categories":{"changes":90}}');
    const shown = await hindsight(
      'retention',
      'show',
      '--tenant',
      'acme',
      '--retention-days',
      '365',
    );
    expect(shown.stdout).toMatch(/server default: 365 days/);
    expect(shown.stdout).toMatch(/changes: 90 days/);
    expect(shown.stdout).toMatch(/users: 365 days/);

    await hindsight('legal-hold', 'place', '--tenant', 'acme', '--reason', 'Case 7');
    const held = await hindsight('prune');
    expect(held.stdout).toMatch(/acme: under legal hold since .*; nothing removed/);

    await hindsight('legal-hold', 'lift', '--tenant', 'acme');
    const dry = await hindsight('prune', '--dry-run');
    expect(dry.stdout).toContain('acme: would remove 4 expired events (changes 4).');

    const archive = join(tmp.dir, 'archive');
    const pruned = await hindsight('prune', '--archive-dir', archive);
    expect(pruned.stdout).toMatch(/acme: removed 4 expired events \(changes 4\); archived to /);
    const [file] = readdirSync(join(archive, 'acme'));
    const lines = gunzipSync(readFileSync(join(archive, 'acme', file as string))).toString();
    expect(lines.split('\n').filter((l) => l.includes('"type":"event"'))).toHaveLength(4);
    // Archives and the store hold events: readable by the server's user alone, whatever the
    // umask.
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect(
      [archive, join(archive, 'acme'), join(archive, 'acme', file as string)].map(mode),
    ).toEqual(['700', '700', '600']);
    // (SQLite gives its -wal and -shm files, while they exist, the mode of the database.)
    expect(mode(sqlitePath(tmp.dir))).toBe('600');
    const fresh = join(tmp.dir, 'new-data', 'store');
    await (await openStore({ data: fresh })).close();
    expect([join(tmp.dir, 'new-data'), fresh, sqlitePath(fresh)].map(mode)).toEqual([
      '700',
      '700',
      '600',
    ]);

    // What was done is in the tenant's audit log.
    const store = await openStore({ data: tmp.dir });
    try {
      const page = await store.queryEvents('acme', {
        clauses: [{ kind: 'category', value: 'audit', negate: false, position: 0 }],
        limit: 50,
        order: 'asc',
      });
      expect(page.events.map((e) => e.action)).toEqual([
        'retention.changed',
        'legal_hold.placed',
        'legal_hold.lifted',
        'retention.pruned',
      ]);
      // The tenant reads its archive's name; where the server keeps it is not theirs to know.
      expect(page.events.at(-1)?.metadata?.['archive']).toBe(file);
      // Each change's entry, kept with it, was forgotten once appended.
      expect(await store.pendingAudits(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuses a malformed policy with the usage', async () => {
    await expect(
      hindsight('retention', 'set', '--tenant', 'acme', '--category', 'changes=soon'),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Invalid --category/) });
  });

  it('refuses a hold reason its audit entry could not quote, and places no hold', async () => {
    await expect(
      hindsight('legal-hold', 'place', '--tenant', 'acme', '--reason', 'Case\u00017'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'The reason must not contain control characters other than tab and line breaks.',
      ),
    });
    const shown = await hindsight('retention', 'show', '--tenant', 'acme');
    expect(shown.stdout).not.toContain('under legal hold');
    // A reason on two lines is a reason.
    await hindsight('legal-hold', 'place', '--tenant', 'acme', '--reason', 'Case 7\nfiled');
    expect((await hindsight('retention', 'show', '--tenant', 'acme')).stdout).toContain(
      'under legal hold',
    );
    await hindsight('legal-hold', 'lift', '--tenant', 'acme');
  });
});

describe('hindsight retention set --category', () => {
  it('names at most 64 categories, as the API takes them', () => {
    const flags = (n: number) => Array.from({ length: n }, (_, i) => `c${i}=30`);
    expect(Object.keys(nextPolicy({}, undefined, flags(64)).categories ?? {})).toHaveLength(64);
    expect(() => nextPolicy({}, undefined, flags(65))).toThrow(/at most 64 categories/);
    // Setting one back to the default makes room.
    const full = nextPolicy({}, undefined, flags(64));
    expect(
      Object.keys(nextPolicy(full, undefined, ['c0=default', 'd=7']).categories ?? {}),
    ).toHaveLength(64);
    expect(() => nextPolicy({}, undefined, ['Changes=30'])).toThrow(/Invalid --category/);
  });
});
