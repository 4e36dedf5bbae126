/**
 * Signed checkpoints over the real app: the note verifies with the published key, its root is
 * the root of the events, proofs check against it, and newer checkpoints are consistent with
 * older ones.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ExportVerifier, merkle, note } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnchorChange } from '../../src/checkpoints.js';
import { startServer } from '../../src/server.js';
import { event, type TestApp, tempDir, testApp } from '../helpers.js';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('checkpoints', () => {
  let t: TestApp;
  let verifier: note.NoteVerifier;

  beforeAll(async () => {
    t = await testApp();
    const key = await t.app.inject({ url: '/v1/keys/public' });
    expect(key.statusCode).toBe(200);
    const body = key.json() as { verifierKey: string; origin: string };
    expect(body.origin).toBe('hindsight');
    verifier = note.parseVerifierKey(body.verifierKey);
  });
  afterAll(async () => {
    await t.close();
  });

  async function leaves(tenant: string): Promise<Uint8Array[]> {
    const res = await t.get(`/v1/tenants/${tenant}/events?limit=500&order=asc`);
    const events = (res.json() as { events: Array<{ seq: number; hash: string }> }).events;
    return events.sort((a, b) => a.seq - b.seq).map((e) => bytes(e.hash));
  }

  async function checkpoint(tenant: string) {
    const res = await t.get(`/v1/tenants/${tenant}/checkpoint`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const { text } = note.openNote(res.body, verifier);
    return note.parseCheckpoint(text);
  }

  it('serves a signed checkpoint of the whole log whose root is the root of the events', async () => {
    await t.post({ events: Array.from({ length: 11 }, () => event({ tenant: 'cp' })) });
    const cp = await checkpoint('cp');
    expect(cp.origin).toBe('hindsight/cp');
    expect(cp.size).toBe(11);
    expect(Buffer.from(cp.rootHash).equals(merkle.rootHash(await leaves('cp')))).toBe(true);
    // An inclusion proof checks against it.
    const proof = (await t.get('/v1/tenants/cp/proofs/inclusion?seq=4&size=11')).json() as {
      leafHash: string;
      proof: string[];
    };
    expect(
      merkle.verifyInclusion(3, 11, bytes(proof.leafHash), proof.proof.map(bytes), cp.rootHash),
    ).toBe(true);
  });

  it('signs a newer checkpoint as the log grows, consistent with the older one', async () => {
    const old = await checkpoint('cp');
    await t.post({ events: Array.from({ length: 6 }, () => event({ tenant: 'cp' })) });
    const next = await checkpoint('cp');
    expect(next.size).toBe(old.size + 6);
    const { proof } = (
      await t.get(`/v1/tenants/cp/proofs/consistency?from=${old.size}&to=${next.size}`)
    ).json() as { proof: string[] };
    expect(
      merkle.verifyConsistency(old.size, next.size, proof.map(bytes), old.rootHash, next.rootHash),
    ).toBe(true);
    // Both are kept; the store holds the newest.
    expect((await t.store.latestCheckpoint('cp'))?.size).toBe(next.size);
  });

  it('signs in the background after commits, at most once a second', async () => {
    await t.post({ events: [event({ tenant: 'background' })] });
    await new Promise((r) => setTimeout(r, 1300));
    expect((await t.store.latestCheckpoint('background'))?.size).toBe(1);
  });

  it('exports the log as NDJSON that the offline verifier accepts', async () => {
    const res = await t.get('/v1/tenants/cp/export?format=ndjson');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="cp-log-\d{4}-\d{2}-\d{2}\.ndjson"$/,
    );
    const exported = new ExportVerifier({ verifierKey: note.verifierKeyText(verifier) });
    for (const line of res.body.split('\n')) exported.line(line);
    expect(exported.finish()).toMatchObject({ ok: true, tenant: 'cp', events: 17 });
  });

  it('refuses an export without the export scope or in an unknown format', async () => {
    const reader = await t.key(['events:read']);
    expect((await t.get('/v1/tenants/cp/export?format=ndjson', reader)).statusCode).toBe(403);
    const csv = await t.get('/v1/tenants/cp/export?format=xml');
    expect(csv.statusCode).toBe(400);
    expect(csv.json()).toMatchObject({ error: { code: 'invalid_request' } });
    expect((await t.get('/v1/tenants/cp/export')).statusCode).toBe(400);
  });

  it('answers 404 for a tenant without events, and needs a read key', async () => {
    const none = await t.get('/v1/tenants/nobody/checkpoint');
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ error: { code: 'not_found' } });
    const anonymous = await t.app.inject({ url: '/v1/tenants/cp/checkpoint' });
    expect(anonymous.statusCode).toBe(401);
    const other = await t.key(['events:read'], 'elsewhere');
    expect((await t.get('/v1/tenants/cp/checkpoint', other)).statusCode).toBe(403);
  });
});

describe('a server starting on logs that grew while none signed them', () => {
  it('signs them: the demo, loaded straight into the store, is checkpointed untouched', async () => {
    const tmp = tempDir();
    const server = await startServer(
      {
        port: 0,
        host: '127.0.0.1',
        demo: true,
        data: tmp.dir,
        logLevel: 'silent',
        consoleDir: null,
      },
      () => {},
    );
    try {
      const size = await server.store.logSize('acme');
      expect(size).toBeGreaterThan(500);
      for (let i = 0; i < 250 && (await server.store.latestCheckpoint('acme')) === null; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await server.store.latestCheckpoint('acme'))?.size).toBe(size);
    } finally {
      await server.close();
      tmp.remove();
    }
  });
});

describe('anchors', () => {
  it('answers a checkpoint while the anchor URL has not answered (a hung anchor holds no reader)', async () => {
    // The hook takes each POST and never answers: the server's POST waits for its 5 s timeout.
    let posts = 0;
    const hook = createServer((req) => {
      posts++;
      req.resume();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    const t = await testApp({
      signer: note.signerFromSeed('anchor.example', Buffer.alloc(32, 8)),
      origin: 'anchor.example',
      intervalMs: 60_000,
      anchors: { url: `http://127.0.0.1:${port}/checkpoints` },
    });
    try {
      await t.post({ events: [event({ tenant: 'hung-anchor' })] });
      const asked = Date.now();
      const res = await t.get('/v1/tenants/hung-anchor/checkpoint');
      expect(res.statusCode, res.body).toBe(200);
      // Long before the anchor's POST gave up (5 s): the answer did not wait for it.
      expect(Date.now() - asked).toBeLessThan(3000);
      for (let i = 0; i < 200 && posts === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(posts).toBe(1);
    } finally {
      hook.closeAllConnections();
      hook.close();
      await t.close();
    }
  });

  it('never logs the anchor URL whole: its user name, password and query are left out', async () => {
    const changes: AnchorChange[] = [];
    const t = await testApp({
      signer: note.signerFromSeed('anchor.example', Buffer.alloc(32, 7)),
      origin: 'anchor.example',
      intervalMs: 20,
      // fetch refuses it, naming the URL in its error.
      anchors: { url: 'http://user:pa55word@127.0.0.1:9/checkpoints?token=S3CRET' },
      onAnchorChange: (change) => changes.push(change),
    });
    try {
      await t.post({ events: [event({ tenant: 'secret-anchor' })] });
      for (let i = 0; i < 250 && changes.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const message = String((changes[0]?.error as Error | undefined)?.message);
      expect(message).toContain('POST to http://127.0.0.1:9/checkpoints failed');
      expect(message).not.toMatch(/pa55word|S3CRET/);
    } finally {
      await t.close();
    }
  });

  it('appends every new checkpoint to a file and POSTs it to a webhook', async () => {
    const received: Array<{ tenant: string; size: number; note: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        received.push(JSON.parse(body) as { tenant: string; size: number; note: string });
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    const tmp = tempDir();
    const file = join(tmp.dir, 'anchors.ndjson');
    const signer = note.signerFromSeed('anchor.example', Buffer.alloc(32, 5));
    const t = await testApp({
      signer,
      origin: 'anchor.example',
      intervalMs: 0,
      anchors: { file, url: `http://127.0.0.1:${port}/checkpoints` },
    });
    try {
      await t.post({ events: [event({ tenant: 'anchored' }), event({ tenant: 'anchored' })] });
      for (let i = 0; i < 50 && received.length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([expect.objectContaining({ tenant: 'anchored', size: 2 })]);
      expect(received).toEqual(lines);
      const verifier = note.parseVerifierKey(note.verifierKeyText(signer));
      expect(note.parseCheckpoint(note.openNote(lines[0].note, verifier).text)).toMatchObject({
        origin: 'anchor.example/anchored',
        size: 2,
      });
    } finally {
      await t.close();
      hook.close();
      tmp.remove();
    }
  });

  it('tells once when the webhook fails, keeps its checkpoints, and delivers them when it is back', async () => {
    let down = true;
    const received: Array<{ tenant: string; size: number }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        if (down) res.statusCode = 503;
        else received.push(JSON.parse(body) as { tenant: string; size: number });
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    const changes: AnchorChange[] = [];
    const t = await testApp({
      signer: note.signerFromSeed('anchor.example', Buffer.alloc(32, 6)),
      origin: 'anchor.example',
      intervalMs: 20,
      anchors: { url: `http://127.0.0.1:${port}/checkpoints` },
      onAnchorChange: (change) => changes.push(change),
    });
    const until = async (done: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 250 && !(await done()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await done()).toBe(true);
    };
    const backlog = async (key: string) => {
      const text = (await t.get('/metrics', key)).body;
      const line = text
        .split('\n')
        .find((l) => l.startsWith('hindsight_anchor_backlog_checkpoints{anchor="url"}'));
      return Number(line?.split(' ')[1]);
    };
    try {
      const scraper = await t.key(['metrics:read']);
      await t.post({ events: [event({ tenant: 'held' })] });
      await until(() => changes.length > 0);
      await t.post({ events: [event({ tenant: 'held' })] });
      // Retried every round while it fails (the second checkpoint joins the first), yet told
      // only once.
      await until(async () => (await backlog(scraper)) === 2);
      await new Promise((r) => setTimeout(r, 100));
      expect(changes).toEqual([
        expect.objectContaining({ anchor: 'url', ok: false, backlog: expect.any(Number) }),
      ]);
      expect(String((changes[0]?.error as Error | undefined)?.message)).toMatch(/503/);
      expect(received).toEqual([]);

      down = false;
      await until(() => received.length === 2);
      expect(received.map((c) => [c.tenant, c.size])).toEqual([
        ['held', 1],
        ['held', 2],
      ]);
      await until(() => changes.length === 2);
      expect(changes[1]).toEqual({ anchor: 'url', ok: true, backlog: 0 });
      expect(await backlog(scraper)).toBe(0);
    } finally {
      await t.close();
      hook.close();
    }
  });
});
