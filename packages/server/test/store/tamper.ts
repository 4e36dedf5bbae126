/**
 * The tamper suite every store runs: a tenant of 10,000 events is exported and verifies; then
 * its database is tampered with directly, the way someone with write access to it would, and
 * each tampering must be caught by the offline verifier with the right report.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type EventInput,
  type ExportLine,
  ExportVerifier,
  leafHash,
  merkle,
  note,
  type ProblemKind,
  type StoredEvent,
} from '@hindsight/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth.js';
import { Checkpointer, storedCheckpoints } from '../../src/checkpoints.js';
import { createApp } from '../../src/http/app.js';
import { prepareEvents } from '../../src/ingest.js';
import { PAUSE_FACTOR, Pacer, SLICE_MS } from '../../src/pacing.js';
import { runRetention } from '../../src/retention.js';
import { ScrubJob, scrubTenant, type TenantScrub } from '../../src/scrub.js';
import type { Store } from '../../src/store/types.js';
import { cliVerify, tempDir, testEnricher } from '../helpers.js';

/** A store and raw SQL on the database under it (`?` placeholders), as an intruder has. */
export interface TamperHarness {
  readonly store: Store;
  readonly dialect: 'sqlite' | 'postgres';
  sql(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

const TENANT = 'audited';
const SIZE = 10_000;

export function tamperSuite(name: string, open: (() => Promise<TamperHarness>) | string): void {
  if (typeof open === 'string') {
    describe.skip(`Tamper evidence: ${name} (skipped: ${open})`, () => {
      it('runs when the backend can start', () => {});
    });
    return;
  }
  describe(`Tamper evidence: ${name}`, () => {
    let h: TamperHarness;
    let app: FastifyInstance;
    let key: string;
    let tenantId: number;
    const signer = note.signerFromSeed('audit.example', Buffer.alloc(32, 7));
    const verifierKey = note.verifierKeyText(signer);
    const tmp = tempDir();

    async function exportText(): Promise<string> {
      const res = await app.inject({
        url: `/v1/tenants/${TENANT}/export?format=ndjson`,
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.statusCode).toBe(200);
      return res.body;
    }

    async function verify(options: { trusted?: string } = {}) {
      const verifier = new ExportVerifier({
        verifierKey,
        ...(options.trusted ? { trustedCheckpoints: [options.trusted] } : {}),
      });
      for (const line of (await exportText()).split('\n')) verifier.line(line);
      return verifier.finish();
    }

    /** Runs a tampering, checks the report, and puts the database back. */
    async function tampered(
      change: () => Promise<unknown>,
      expected: Array<{ kind: ProblemKind; seq?: number }>,
      options: { trusted?: string } = {},
    ) {
      await h.sql(`CREATE TABLE bak_events AS SELECT * FROM events WHERE tenant_id = ${tenantId}`);
      await h.sql(
        `CREATE TABLE bak_checkpoints AS SELECT * FROM checkpoints WHERE tenant_id = ${tenantId}`,
      );
      try {
        await change();
        const report = await verify(options);
        expect(report.ok).toBe(false);
        for (const e of expected) {
          expect(report.problems).toContainEqual(expect.objectContaining(e));
        }
        return report;
      } finally {
        await h.sql(`DELETE FROM events WHERE tenant_id = ${tenantId}`);
        await h.sql('INSERT INTO events SELECT * FROM bak_events');
        await h.sql(`DELETE FROM checkpoints WHERE tenant_id = ${tenantId}`);
        await h.sql('INSERT INTO checkpoints SELECT * FROM bak_checkpoints');
        await h.sql('DROP TABLE bak_events');
        await h.sql('DROP TABLE bak_checkpoints');
      }
    }

    beforeAll(async () => {
      h = await open();
      app = await createApp({
        store: h.store,
        enricher: testEnricher(),
        checkpoints: { signer, origin: 'audit.example', intervalMs: 0 },
      });
      key = (await createApiKey(h.store, { scopes: ['admin'] })).token;
      // 10,000 events in batches, with checkpoints signed along the way.
      for (let i = 0; i < SIZE; i += 1000) {
        const events = Array.from({ length: 1000 }, (_, j) => ({
          tenant: TENANT,
          action: 'user.updated',
          actor: { id: `u${(i + j) % 37}`, name: `User ${(i + j) % 37}`, email: 'x@acme.test' },
          context: { ip: '81.2.69.142' },
          description: `change ${i + j}`,
        }));
        const [outcome] = await h.store.append([prepareEvents({ events }, testEnricher())]);
        expect(outcome?.ok).toBe(true);
        const signed = await app.inject({
          url: `/v1/tenants/${TENANT}/checkpoint`,
          headers: { authorization: `Bearer ${key}` },
        });
        expect(signed.statusCode).toBe(200);
      }
      expect((await h.store.latestCheckpoint(TENANT))?.size).toBe(SIZE);
      tenantId = await tenantIdOf(h, TENANT);
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      await h?.cleanup();
      tmp.remove();
    });

    it('verifies an untouched export of 10,000 events, also with the command line', async () => {
      const report = await verify();
      expect(report).toMatchObject({ ok: true, events: SIZE, verifiedSize: SIZE, problems: [] });
      expect(report.checkpoints).toBe(10);
      const { code, stdout } = await cliVerify(tmp.dir, await exportText(), verifierKey);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^OK: tenant audited, 10000 events; 10 signed checkpoints/);
    });

    it('catches one field of one event changed', async () => {
      await tampered(
        () =>
          h.sql(
            "UPDATE events SET body = replace(body, 'change 4999', 'change 0') WHERE tenant_id = ? AND seq = ?",
            [tenantId, 5000],
          ),
        [{ kind: 'altered', seq: 5000 }],
      );
    });

    it('catches the newest event deleted', async () => {
      await tampered(
        () => h.sql('DELETE FROM events WHERE tenant_id = ? AND seq = ?', [tenantId, SIZE]),
        [{ kind: 'truncated', seq: SIZE }],
      );
    });

    it('catches an event deleted in the middle', async () => {
      await tampered(
        () => h.sql('DELETE FROM events WHERE tenant_id = ? AND seq = ?', [tenantId, 4321]),
        [{ kind: 'missing', seq: 4321 }],
      );
    });

    it('catches two events swapped', async () => {
      await tampered(async () => {
        const move = (from: number, to: number) =>
          h.sql('UPDATE events SET seq = ? WHERE tenant_id = ? AND seq = ?', [to, tenantId, from]);
        await move(100, -1);
        await move(200, 100);
        await move(-1, 200);
      }, [
        { kind: 'reordered', seq: 100 },
        { kind: 'reordered', seq: 200 },
      ]);
    });

    it('catches an event inserted', async () => {
      await tampered(async () => {
        if (h.dialect === 'sqlite') {
          await h.sql('DROP INDEX events_seq');
          await h.sql(
            "INSERT INTO events SELECT (SELECT max(pos) FROM events) + 1, tenant_id, seq, 'forged', category, action, actor_id, actor_email, outcome, channel, status, ip, digest, hash, replace(body, 'change 776', 'forged'), salts FROM events WHERE tenant_id = ? AND seq = ?",
            [tenantId, 777],
          );
        } else {
          await h.sql(
            "INSERT INTO events SELECT tenant_id, time + interval '1 microsecond', seq, 'forged', category, action, actor_id, actor_email, outcome, channel, status, ip, digest, hash, replace(body, 'change 776', 'forged'), salts FROM events WHERE tenant_id = ? AND seq = ?",
            [tenantId, 777],
          );
        }
      }, [{ kind: 'inserted', seq: 777 }]);
      if (h.dialect === 'sqlite')
        await h.sql('CREATE UNIQUE INDEX events_seq ON events (tenant_id, seq)');
    });

    it('catches a log rewritten and re-signed with another key', async () => {
      const attacker = note.signerFromSeed('audit.example', Buffer.alloc(32, 9));
      await tampered(async () => {
        // Change an event, recompute every hash, and sign new checkpoints over the result.
        await h.sql(
          "UPDATE events SET body = replace(body, 'change 2', 'change X') WHERE tenant_id = ? AND seq = ?",
          [tenantId, 3],
        );
        const lines = (await exportText())
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ExportLine);
        const leaves: Uint8Array[] = [];
        for (const line of lines) {
          if (line.type !== 'event') continue;
          const fresh = Buffer.from(leafHash(line.event as StoredEvent, line.salts), 'hex');
          leaves[line.event.seq - 1] = fresh;
          if (fresh.toString('hex') !== line.event.hash) {
            await h.sql('UPDATE events SET hash = ? WHERE tenant_id = ? AND seq = ?', [
              fresh,
              tenantId,
              line.event.seq,
            ]);
          }
        }
        await h.sql('DELETE FROM checkpoints WHERE tenant_id = ?', [tenantId]);
        const text = note.checkpointText({
          origin: `audit.example/${TENANT}`,
          size: SIZE,
          rootHash: merkle.rootHash(leaves),
        });
        await h.sql(
          'INSERT INTO checkpoints (tenant_id, size, note, created_at) VALUES (?, ?, ?, ?)',
          [tenantId, SIZE, note.signNote(text, attacker), new Date().toISOString()],
        );
      }, [{ kind: 'bad_signature' }, { kind: 'truncated' }]);
    }, 60_000);

    it('serves proofs that fail against the signed checkpoint once the tree is rewritten', async () => {
      const signed = note.parseCheckpoint(
        note.openNote(
          (await h.store.latestCheckpoint(TENANT))?.note ?? '',
          note.parseVerifierKey(verifierKey),
        ).text,
      );
      const proveSeq5000 = async () => {
        const res = await app.inject({
          url: `/v1/tenants/${TENANT}/proofs/inclusion?seq=5000&size=${SIZE}`,
          headers: { authorization: `Bearer ${key}` },
        });
        const body = res.json() as { leafHash: string; proof: string[] };
        const bytes = (x: string) => new Uint8Array(Buffer.from(x, 'hex'));
        return merkle.verifyInclusion(
          4999,
          SIZE,
          bytes(body.leafHash),
          body.proof.map(bytes),
          signed.rootHash,
        );
      };
      expect(await proveSeq5000()).toBe(true);
      const [original] = await h.sql(
        'SELECT hash FROM tree_nodes WHERE tenant_id = ? AND level = 0 AND idx = 4999',
        [tenantId],
      );
      const forged = merkle.leafHash(Buffer.from('forged'));
      await h.sql(
        'UPDATE tree_nodes SET hash = ? WHERE tenant_id = ? AND level = 0 AND idx = 4999',
        [Buffer.from(forged), tenantId],
      );
      try {
        expect(await proveSeq5000()).toBe(false);
      } finally {
        await h.sql(
          'UPDATE tree_nodes SET hash = ? WHERE tenant_id = ? AND level = 0 AND idx = 4999',
          [original?.['hash'], tenantId],
        );
      }
    });

    it('catches a log truncated together with its newest checkpoints, given a checkpoint kept elsewhere', async () => {
      const anchored = (await h.store.latestCheckpoint(TENANT))?.note ?? '';
      await tampered(
        async () => {
          await h.sql('DELETE FROM events WHERE tenant_id = ? AND seq > ?', [tenantId, 9000]);
          await h.sql('DELETE FROM checkpoints WHERE tenant_id = ? AND size > ?', [tenantId, 9000]);
          await h.sql('UPDATE tenants SET size = ? WHERE id = ?', [9000, tenantId]);
        },
        [{ kind: 'truncated', seq: 9001 }],
        { trusted: anchored },
      );
      await h.sql('UPDATE tenants SET size = ? WHERE id = ?', [SIZE, tenantId]);
    });

    it('yields to the server while the scrub checks a log: a pause after every slice of its work, three times as long', async () => {
      const pacer = new Pacer();
      const report = await scrubTenant(h.store, TENANT, {
        checkpoints: storedCheckpoints(h.store, 'audit.example'),
        verifierKey,
        size: SIZE,
        workerFrom: SIZE,
        pacer,
      });
      expect(report).toMatchObject({ ok: true, events: SIZE });
      const { slices, workedMs, pausedMs } = pacer.stats;
      expect(slices).toBeGreaterThanOrEqual(1);
      expect(workedMs).toBeGreaterThanOrEqual(slices * SLICE_MS);
      expect(pausedMs).toBeCloseTo(PAUSE_FACTOR * workedMs, 6);
    });

    it('is caught by the integrity scrub, which remembers the newest checkpoint it verified', async () => {
      const recorded: EventInput[] = [];
      const failed: TenantScrub[] = [];
      const job = new ScrubJob(
        h.store,
        new Checkpointer(h.store, { signer, origin: 'audit.example', intervalMs: 0 }),
        // The log checked in a worker thread, as a large one is.
        { intervalMs: 3_600_000, pauseMs: 0, workerFrom: SIZE },
        {
          quiet: async () => {},
          record: async (event) => {
            recorded.push(event);
          },
          failed: (scrub) => failed.push(scrub),
          onError: (error) => {
            throw error;
          },
        },
      );
      await job.runOnce();
      expect(job.stats()).toMatchObject({ runs: 1, failedTenants: 0 });
      expect(job.stats().events).toBeGreaterThanOrEqual(SIZE);
      expect(failed).toEqual([]);

      // One field of one event, then the log cut short with its newest checkpoints: the
      // second needs no checkpoint kept elsewhere, the scrub kept the one it verified.
      await tampered(async () => {
        await h.sql(
          "UPDATE events SET body = replace(body, 'change 4999', 'change 0') WHERE tenant_id = ? AND seq = ?",
          [tenantId, 5000],
        );
        await job.runOnce();
      }, [{ kind: 'altered', seq: 5000 }]);
      expect(failed.at(-1)?.report.problems).toContainEqual(
        expect.objectContaining({ kind: 'altered', seq: 5000 }),
      );
      // The newest checkpoint, also as the anchor file holds it.
      const newest = (await h.store.latestCheckpoint(TENANT))?.note ?? '';
      const anchorFile = join(tmp.dir, 'anchors.ndjson');
      writeFileSync(
        anchorFile,
        `${JSON.stringify({ tenant: TENANT, size: SIZE, note: newest })}\n`,
      );
      /** A scrub of a server just started: nothing in memory; what it found. */
      const restarted = async (options: { anchorFile?: string; maxEvents?: number }) => {
        const found: TenantScrub[] = [];
        const skipped: string[] = [];
        await new ScrubJob(
          h.store,
          new Checkpointer(h.store, { signer, origin: 'audit.example', intervalMs: 0 }),
          { intervalMs: 3_600_000, pauseMs: 0, ...options },
          {
            quiet: async () => {},
            record: async () => {},
            failed: (scrub) => found.push(scrub),
            skipped: (tenants) => skipped.push(...tenants),
            onError: (error) => {
              throw error;
            },
          },
        ).runOnce();
        return { found, skipped };
      };
      await tampered(
        async () => {
          await h.sql('DELETE FROM events WHERE tenant_id = ? AND seq > ?', [tenantId, 9000]);
          await h.sql('DELETE FROM checkpoints WHERE tenant_id = ? AND size > ?', [tenantId, 9000]);
          await h.sql('UPDATE tenants SET size = ? WHERE id = ?', [9000, tenantId]);
          await job.runOnce();
          await job.runOnce();
          // After a restart the scrub has forgotten what it verified: only an anchor tells.
          expect(await restarted({})).toEqual({ found: [], skipped: [] });
          // A log past the most events the server checks in itself is left alone, and said so.
          const tooLarge = await restarted({ anchorFile, maxEvents: 8999 });
          expect(tooLarge).toEqual({ found: [], skipped: [TENANT] });
          const anchored = (await restarted({ anchorFile })).found;
          expect(anchored.map((f) => f.tenant)).toEqual([TENANT]);
          expect(anchored[0]?.report.problems).toContainEqual(
            expect.objectContaining({ kind: 'truncated', seq: 9001 }),
          );
        },
        [{ kind: 'truncated', seq: 9001 }],
        { trusted: newest },
      );
      await h.sql('UPDATE tenants SET size = ? WHERE id = ?', [SIZE, tenantId]);
      expect(failed.at(-1)).toMatchObject({ tenant: TENANT });
      expect(failed.at(-1)?.report.problems).toContainEqual(
        expect.objectContaining({ kind: 'truncated', seq: 9001 }),
      );
      expect(job.stats().failedTenants).toBe(1);
      // Each check that failed is reported; the tenant's audit log gets one entry per distinct
      // set of problems, not one per run.
      expect(failed).toHaveLength(3);
      expect(recorded.map((e) => [e.tenant, e.action, e.outcome, e.category])).toEqual([
        [TENANT, 'audit_log.verification_failed', 'failure', 'audit'],
        [TENANT, 'audit_log.verification_failed', 'failure', 'audit'],
      ]);
      expect(recorded[0]?.description).toMatch(
        /^The server's integrity check found \d+ problems in this log\. The event "[^"]+" at seq 5000 does not match its hash: its content was changed\.$/,
      );
      expect(recorded[1]?.metadata).toMatchObject({
        problems: expect.arrayContaining([
          expect.objectContaining({ kind: 'truncated', seq: 9001 }),
        ]),
      });

      // The database put back: the log verifies again.
      await job.runOnce();
      expect(job.stats()).toMatchObject({ runs: 5, failedTenants: 0 });
      expect(failed).toHaveLength(3);
      expect(await restarted({ anchorFile })).toEqual({ found: [], skipped: [] });
    }, 120_000);

    it('lets one of several servers on the database scrub: the one holding the lease', async () => {
      const server = () =>
        new ScrubJob(
          h.store,
          new Checkpointer(h.store, { signer, origin: 'audit.example', intervalMs: 0 }),
          { intervalMs: 60_000, firstRunMs: 0, pauseMs: 0 },
          {
            quiet: async () => {},
            record: async () => {},
            failed: () => {},
            onError: (error) => {
              throw error;
            },
          },
        );
      const first = server();
      const second = server();
      const third = server();
      const fourth = server();
      try {
        first.start();
        await expect.poll(() => first.stats().runs, { timeout: 30_000 }).toBe(1);
        second.start();
        await expect.poll(() => second.stats().runsElsewhere, { timeout: 10_000 }).toBe(1);
        expect(second.stats().runs).toBe(0);
        expect(first.stats().runsElsewhere).toBe(0);
        // A server that never held the lease gives nothing back when it stops.
        await second.stop();
        third.start();
        await expect.poll(() => third.stats().runsElsewhere, { timeout: 10_000 }).toBe(1);
        await third.stop();
        // The holder stopping gives the lease back: the next server scrubs at once, not 90
        // seconds (one and a half intervals) later.
        await first.stop();
        fourth.start();
        await expect.poll(() => fourth.stats().runs, { timeout: 30_000 }).toBe(1);
        expect(fourth.stats().runsElsewhere).toBe(0);
      } finally {
        for (const job of [first, second, third, fourth]) await job.stop();
      }
    }, 60_000);

    // Issue #9: an export of a pruned log verifies; rows deleted by hand do not.
    it('verifies a log pruned by retention, and catches rows deleted by hand beside the pruning', async () => {
      const tenant = 'pruned';
      const old = new Date(Date.now() - 200 * 86_400_000).toISOString();
      const events = Array.from({ length: 20 }, (_, i) => ({
        tenant,
        action: 'user.updated',
        actor: { id: `u${i}`, name: `User ${i}` },
        description: `change ${i}`,
        // Every other one of the first ten is old.
        ...(i < 10 && i % 2 === 0 ? { time: old } : {}),
      }));
      const [outcome] = await h.store.append([prepareEvents({ events }, testEnricher())]);
      expect(outcome?.ok).toBe(true);
      const get = (url: string) => app.inject({ url, headers: { authorization: `Bearer ${key}` } });
      expect((await get(`/v1/tenants/${tenant}/checkpoint`)).statusCode).toBe(200);
      await h.store.putTenantSettings(tenant, { retention: { days: 90 } });
      const [result] = await runRetention(h.store, { defaultDays: null }, { tenants: [tenant] });
      expect(result).toMatchObject({ tenant, removed: 5 });
      const check = async () => {
        const verifier = new ExportVerifier({ verifierKey });
        const res = await get(`/v1/tenants/${tenant}/export?format=ndjson`);
        for (const line of res.body.split('\n')) verifier.line(line);
        return verifier.finish();
      };
      expect(await check()).toMatchObject({ ok: true, events: 15, pruned: 5, verifiedSize: 20 });
      const id = await tenantIdOf(h, tenant);
      await h.sql('DELETE FROM events WHERE tenant_id = ? AND seq = ?', [id, 14]);
      const deleted = await check();
      expect(deleted.ok).toBe(false);
      expect(deleted.problems).toContainEqual(
        expect.objectContaining({ kind: 'missing', seq: 14 }),
      );
      // Rows deleted by hand and passed off as pruned without the tree's hashes fail as well.
      await h.sql('INSERT INTO pruned_ranges (tenant_id, from_seq, to_seq) VALUES (?, ?, ?)', [
        id,
        14,
        14,
      ]);
      await h.sql('UPDATE tree_nodes SET hash = ? WHERE tenant_id = ? AND level = 0 AND idx = 13', [
        Buffer.alloc(32),
        id,
      ]);
      const forged = await check();
      expect(forged.ok).toBe(false);
      expect(forged.problems).toContainEqual(
        expect.objectContaining({ kind: 'checkpoint_mismatch' }),
      );
    });
  });
}

async function tenantIdOf(h: TamperHarness, tenant: string): Promise<number> {
  const [row] = await h.sql('SELECT id FROM tenants WHERE name = ?', [tenant]);
  return Number(row?.['id']);
}
