/**
 * `client.integrity()` against a real Hindsight whose integrity scrub runs every 150 ms: `null`
 * for a log never found changed; the server's verdict, with what it found, once an event is
 * changed in its database behind its back; `ok` again once it is put back.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HindsightClient } from '../src/index.js';
import { type Hindsight, startHindsight, uniqueTenant } from './hindsight.js';

describe('client.integrity()', () => {
  let hindsight: Hindsight;
  let client: HindsightClient;

  beforeAll(async () => {
    hindsight = await startHindsight({ scrub: { intervalMs: 150, firstRunMs: 10, pauseMs: 0 } });
    client = createClient({ url: hindsight.url, key: hindsight.key });
  });
  afterAll(async () => {
    await client.close();
    await hindsight.close();
  });

  /** Replaces text in one stored event, as someone with write access to the file could. */
  function rewrite(id: string, from: string, to: string): void {
    const db = new Database(join(hindsight.data, 'hindsight.db'));
    try {
      db.pragma('busy_timeout = 10000');
      expect(
        db.prepare('UPDATE events SET body = replace(body, ?, ?) WHERE id = ?').run(from, to, id)
          .changes,
      ).toBe(1);
    } finally {
      db.close();
    }
  }

  it('gives the server’s verdict on a tenant’s stored log', async () => {
    const tenant = uniqueTenant();
    for (let i = 0; i < 5; i++) {
      await client.record({
        tenant,
        id: `evt-${i}`,
        action: 'invoice.sent',
        description: `invoice ${i}`,
      });
    }
    await client.flush();
    expect(await client.integrity(tenant)).toBeNull();

    rewrite('evt-2', 'invoice 2', 'invoice 9');
    await expect
      .poll(() => client.integrity(tenant), { timeout: 15_000 })
      .toMatchObject({
        ok: false,
        problems: expect.arrayContaining([expect.objectContaining({ kind: 'altered', seq: 3 })]),
      });
    const failed = await client.integrity(tenant);
    expect(failed?.description).toContain('The event "evt-2" at seq 3 does not match its hash');

    rewrite('evt-2', 'invoice 9', 'invoice 2');
    await expect
      .poll(() => client.integrity(tenant), { timeout: 15_000 })
      .toMatchObject({ ok: true });
  });
});
