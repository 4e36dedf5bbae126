/**
 * SQLite-specific failure handling, with faults injected through the real database (a trigger
 * that refuses one event), not through mocks.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareEvents } from '../../src/ingest.js';
import { openStore, sqlitePath } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir, testEnricher } from '../helpers.js';

describe('SQLite writer faults', () => {
  const tmp = tempDir();
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ data: tmp.dir });
    const db = new Database(sqlitePath(tmp.dir));
    db.exec(
      "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'poison' " +
        "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END",
    );
    db.close();
  });
  afterAll(async () => {
    await store.close();
    tmp.remove();
  });

  const batch = (...ids: string[]) =>
    prepareEvents(
      { events: ids.map((id) => ({ tenant: 'faults', id, action: 'a.b', actor: { id: 'u' } })) },
      testEnricher(),
    );

  it('fails only the batch the database refuses, not those committed with it', async () => {
    const outcomes = await store.append([batch('a1', 'a2'), batch('b1', 'poison'), batch('c1')]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const failed = outcomes[1];
    if (failed && !failed.ok) expect(failed.error.code).toBe('store_unavailable');
    const page = await store.queryEvents('faults', { clauses: [], limit: 10, order: 'asc' });
    expect(page.events.map((e) => [e.id, e.seq])).toEqual([
      ['a1', 1],
      ['a2', 2],
      ['c1', 3],
    ]);
    expect(await store.getEvent('faults', 'b1')).toBeNull();
  });
});
