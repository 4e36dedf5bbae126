import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CATEGORY, parseQuery, searchTokens } from '@hindsight/core';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { pageIds, tempDir, testEnricher } from '../helpers.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async () => {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  return {
    store,
    another: () => openStore({ data: tmp.dir }),
    refuse: async (id) => {
      const db = new Database(sqlitePath(tmp.dir));
      db.prepare(
        `CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = '${id.replaceAll("'", "''")}' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`,
      ).run();
      db.close();
    },
    count: async (from) => {
      const db = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        return db.prepare(`SELECT count(*) FROM ${from}`).pluck().get() as number;
      } finally {
        db.close();
      }
    },
    cleanup: async () => {
      await store.close();
      tmp.remove();
    },
  };
});

describe('SQLite checkpoints', () => {
  it('copies committed events into the database file on a thread of its own, within seconds', async () => {
    const tmp = tempDir();
    const copy = tempDir();
    try {
      const store = await openStore({ data: tmp.dir });
      const events = Array.from({ length: 40 }, (_, i) => ({
        tenant: 'acme',
        action: 'a.b',
        actor: { id: `u-${i}` },
      }));
      const [outcome] = await store.append([prepareEvents({ events }, testEnricher())]);
      expect(outcome?.ok).toBe(true);
      // The database file alone, without its WAL: what has been checkpointed, and nothing else.
      // A copy taken while the checkpointer is writing pages may be torn: that is "not yet".
      const inFile = (): number | undefined => {
        copyFileSync(sqlitePath(tmp.dir), join(copy.dir, 'alone.db'));
        const db = new Database(join(copy.dir, 'alone.db'), { readonly: true });
        try {
          const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'events'");
          if (tables.pluck().get() === 0) return 0;
          return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return undefined;
          throw error;
        } finally {
          db.close();
        }
      };
      const deadline = Date.now() + 10_000;
      let checkpointed = inFile();
      while (checkpointed !== 40 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        checkpointed = inFile();
      }
      // Far below the writer's own automatic checkpoint: only the checkpointer copied them.
      expect(checkpointed).toBe(40);
      await store.close();
    } finally {
      tmp.remove();
      copy.remove();
    }
  });
});

describe('SQLite erasure and deletion', () => {
  const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';
  /** 3,000 events of which every fiftieth is by Zebulonia, in batches as appends come. */
  async function storeWithPerson(dir: string, options: { busyTimeoutMs?: number } = {}) {
    const store = await openSqliteStore({ path: sqlitePath(dir), ...options });
    const person = { id: 'u-zq', name: 'Zebulonia Quartermaine', email: 'zebulonia.q@example.org' };
    const events = Array.from({ length: 3000 }, (_, i) => ({
      tenant: 'acme',
      id: `e-${i}`,
      action: 'doc.viewed',
      time: new Date(Date.now() - (3000 - i) * 1000).toISOString(),
      actor:
        i % 50 === 0
          ? person
          : { id: `u-${i % 50}`, name: `Someone Else${i % 50}`, email: `p${i % 50}@example.org` },
      targets: [{ type: 'doc', id: `d-${i}`, name: `Report ${i}` }],
      context: { ip: i % 50 === 0 ? '203.0.113.77' : '81.2.69.142', userAgent: UA },
    }));
    for (let i = 0; i < events.length; i += 500) {
      const batch = prepareEvents({ events: events.slice(i, i + 500) }, testEnricher());
      const [outcome] = await store.append([batch]);
      expect(outcome?.ok).toBe(true);
    }
    // As in a large index, whose big segments are merged again only now and then: no
    // automatic merges, however many of a segment's rows are deleted.
    const db = new Database(sqlitePath(dir));
    db.exec(
      "INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 0);" +
        "INSERT INTO events_fts (events_fts, rank) VALUES ('deletemerge', 100);",
    );
    db.close();
    return store;
  }

  /** How often each text occurs in the data directory's files (database, WAL, shared memory). */
  function occurrences(dir: string, texts: readonly string[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const text of texts) counts[text] = 0;
    for (const name of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, name));
      for (const text of texts) {
        for (let at = bytes.indexOf(text); at >= 0; at = bytes.indexOf(text, at + 1)) {
          counts[text] = (counts[text] ?? 0) + 1;
        }
      }
    }
    return counts;
  }

  // The search index keeps its words lower-case and may store a word as the part that differs
  // from the word before it ("t1_q" + "uartermaine"): 'artermaine' finds it there too.
  const ERASED = ['zebulonia.q@example.org', 'Zebulonia', 'artermaine', '203.0.113.77'];

  it('leaves no copy of an erased person in the database files, its WAL or its search index', async () => {
    const tmp = tempDir();
    try {
      const store = await storeWithPerson(tmp.dir);
      const before = occurrences(tmp.dir, [...ERASED, 'p7@example.org']);
      for (const text of ERASED) expect(before[text]).toBeGreaterThan(0);

      const result = await store.erase('acme', { email: 'zebulonia.q@example.org' });
      expect(result.events).toBe(60);

      // Found nowhere, not even in freed space, stale index pages or old WAL frames; the
      // others are still there, so the search itself finds what is stored.
      const after = occurrences(tmp.dir, [...ERASED, 'p7@example.org']);
      for (const text of ERASED) expect(after[text]).toBe(0);
      expect(after['p7@example.org']).toBeGreaterThan(0);
      const page = await store.queryEvents('acme', {
        clauses: parseQuery('quartermaine').clauses,
        limit: 5,
        order: 'desc',
      });
      expect(page.events).toEqual([]);
      expect((await store.getEvent('acme', 'e-50'))?.actor.name).toBe('Deleted User');
      await store.close();
    } finally {
      tmp.remove();
    }
  });

  it('keeps taking appends while it purges: they wait for each step, and none fails', async () => {
    const tmp = tempDir();
    try {
      // An append waits 1 ms for a lock another connection holds (10 s by default): a purge
      // step taking the lock on a connection of its own would fail the appends beside it.
      const store = await storeWithPerson(tmp.dir, { busyTimeoutMs: 1 });
      let erased = false;
      const outcomes: Array<{ ok: boolean }> = [];
      const appender = async (n: number) => {
        for (let i = 0; !erased || outcomes.length < 40; i++) {
          const events = [
            { tenant: 'acme', id: `during-${n}-${i}`, action: 'a.b', actor: { id: 'u-1' } },
          ];
          const [outcome] = await store
            .append([prepareEvents({ events }, testEnricher())])
            .catch(() => [{ ok: false }]);
          outcomes.push(outcome ?? { ok: false });
        }
      };
      const appenders = [1, 2, 3, 4].map(appender);
      const result = await store.erase('acme', { email: 'zebulonia.q@example.org' });
      erased = true;
      await Promise.all(appenders);
      expect(result.events).toBe(60);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
      // And the purge still did its work.
      const after = occurrences(tmp.dir, ERASED);
      for (const text of ERASED) expect(after[text]).toBe(0);
      await store.close();
    } finally {
      tmp.remove();
    }
  });

  it('takes the words of pruned, erased and deleted events out of the search index itself', async () => {
    const tmp = tempDir();
    try {
      const store = await storeWithPerson(tmp.dir);
      await store.putTenantSettings('acme', { deletion: { allowed: true } });
      // Erased first, so that erased events are then pruned and deleted too.
      await store.erase('acme', { email: 'zebulonia.q@example.org' });
      // The oldest 1,000 events, in steps of 150.
      const cutoff = Date.parse((await store.getEvent('acme', 'e-1000'))?.time ?? '');
      for (;;) {
        const step = await store.prune({
          tenant: 'acme',
          rules: [{ category: DEFAULT_CATEGORY, beforeMs: cutoff }],
          maxSeq: 3000,
          limit: 150,
        });
        if (!step.more) break;
      }
      await store.redact({
        tenant: 'acme',
        ids: ['e-2001', 'e-2050'],
        by: 'user:dpo',
        at: new Date().toISOString(),
      });
      await store.close();
      // Straight from the index, without the join with the events that a search makes: the
      // words of each removed event are gone, those of each kept one are there.
      const db = new Database(sqlitePath(tmp.dir), { readonly: true });
      try {
        const tenantId = db.prepare("SELECT id FROM tenants WHERE name = 'acme'").pluck().get();
        const rowids = (word: string) =>
          db
            .prepare('SELECT rowid FROM events_fts WHERE events_fts MATCH ?')
            .pluck()
            .all(
              `"${searchTokens(word)
                .map((t) => `t${tenantId}_${t}`)
                .join(' ')}"`,
            ) as number[];
        const positions = db.prepare('SELECT pos FROM events ORDER BY pos').pluck().all();
        expect(positions).toHaveLength(3000 - 1000 - 2);
        expect(rowids('doc.viewed').sort((a, b) => a - b)).toEqual(positions);
        expect(rowids('d-999')).toEqual([]);
        expect(rowids('d-1000')).toHaveLength(1);
        expect(rowids('d-2001')).toEqual([]);
        expect(rowids('d-2050')).toEqual([]);
        expect(rowids('zebulonia')).toEqual([]);
        // Zebulonia's 60 events, erased: 20 pruned, 1 deleted, 39 kept as "Deleted User".
        expect(rowids('deleted user')).toHaveLength(39);
      } finally {
        db.close();
      }
      // And the index is whole.
      const check = new Database(sqlitePath(tmp.dir));
      check.exec("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 0)");
      check.close();
    } finally {
      tmp.remove();
    }
  });

  it('leaves no copy of deleted events in the database files', async () => {
    const tmp = tempDir();
    try {
      const store = await storeWithPerson(tmp.dir);
      await store.putTenantSettings('acme', { deletion: { allowed: true } });
      const ids = Array.from({ length: 60 }, (_, i) => `e-${i * 50}`);
      const result = await store.redact({
        tenant: 'acme',
        ids,
        by: 'user:dpo',
        at: new Date().toISOString(),
      });
      expect(result.deleted).toHaveLength(60);
      expect(occurrences(tmp.dir, ERASED)).toEqual(Object.fromEntries(ERASED.map((t) => [t, 0])));
      expect(await store.getEvent('acme', 'e-11')).not.toBeNull();
      await store.close();
    } finally {
      tmp.remove();
    }
  });
});

describe('SQLite pages whose filters are checked row by row', () => {
  // 20,000 events of about 2 KB over the last 4.6 days, newest first by i: a failure every
  // 7th, and three bounces — the newest, one in the middle, the oldest.
  const SIZE = 20_000;
  const now = Date.now() - 60_000;
  const bounced = new Set([0, SIZE / 2, SIZE - 1]);
  const events = Array.from({ length: SIZE }, (_, i) => ({
    tenant: 'wide',
    id: `e-${i}`,
    time: new Date(now - i * 20_000).toISOString(),
    action: 'message.sent',
    actor: { id: `u-${i % 50}` },
    outcome: i % 7 === 0 ? ('failure' as const) : ('success' as const),
    ...(bounced.has(i) ? { status: 'hard_bounce' } : {}),
    metadata: { note: 'x'.repeat(1_500) },
  }));

  async function withWideTenant(run: (store: Store) => Promise<void>): Promise<void> {
    const tmp = tempDir();
    const store = await openStore({ data: tmp.dir });
    try {
      for (let at = 0; at < SIZE; at += 1_000) {
        const batch = prepareEvents({ events: events.slice(at, at + 1_000) }, testEnricher());
        const [outcome] = await store.append([batch]);
        expect(outcome?.ok).toBe(true);
      }
      await run(store);
    } finally {
      await store.close();
      tmp.remove();
    }
  }

  const ids = (store: Store, q: string, order: 'asc' | 'desc', limit: number) =>
    pageIds(store, 'wide', q, limit, order);

  it('finds every match across the range, in both orders, page after page, and gives other work turns meanwhile', async () => {
    await withWideTenant(async (store) => {
      const newestFirst = (keep: (i: number) => boolean) =>
        events.flatMap((e, i) => (keep(i) ? [e.id] : []));
      const bounces = newestFirst((i) => bounced.has(i));
      expect(await ids(store, 'status:hard_bounce', 'desc', 2)).toEqual({ ids: bounces, pages: 2 });
      expect(await ids(store, 'status:hard_bounce', 'asc', 2)).toEqual({
        ids: [...bounces].reverse(),
        pages: 2,
      });
      const failures = newestFirst((i) => i % 7 === 0);
      const pagedFailures = await ids(store, 'outcome:failure', 'desc', 500);
      expect(pagedFailures.ids).toEqual(failures);
      expect(pagedFailures.pages).toBe(Math.ceil(failures.length / 500));
      expect((await ids(store, 'outcome:failure actor:u-0', 'asc', 100)).ids).toEqual(
        newestFirst((i) => i % 7 === 0 && i % 50 === 0).reverse(),
      );
      expect((await ids(store, '-outcome:success -outcome:failure', 'desc', 50)).ids).toEqual([]);

      // A filter that matches nothing reads all 20,000 events; what was waiting runs meanwhile.
      let ticked = false;
      setImmediate(() => {
        ticked = true;
      });
      const none = await store.queryEvents('wide', {
        clauses: parseQuery('status:none_such').clauses,
        limit: 50,
        order: 'desc',
      });
      expect(none).toEqual({ events: [], next: null });
      expect(ticked).toBe(true);

      // The counts of filters the kept summaries cannot answer come from the same reads.
      const DAY = 86_400_000;
      const statsOf = (q: string) =>
        store.stats('wide', {
          clauses: parseQuery(q).clauses,
          fromMs: Math.floor((now - 5 * DAY) / DAY) * DAY,
          toMs: Math.ceil(now / DAY) * DAY + DAY,
          bucketMs: DAY,
          top: 5,
        });
      const bounceStats = await statsOf('status:hard_bounce');
      expect([bounceStats.total, bounceStats.exact]).toEqual([3, true]);
      ticked = false;
      setImmediate(() => {
        ticked = true;
      });
      const noStats = await statsOf('status:none_such');
      expect([noStats.total, noStats.exact, ticked]).toEqual([0, true, true]);
    });
  });
});
