/**
 * GDPR erasure reaches the retention archives (issue #9): an archive written by retention holds
 * the removed events with their personal values; erasing the person rewrites it without them,
 * and the archive still verifies on its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { note } from '@hindsight/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runRetention } from '../../src/retention.js';
import { cliVerify, type TestApp, tempDir, testApp } from '../helpers.js';

const DAY_MS = 86_400_000;
const signer = note.signerFromSeed('archive.example', Buffer.alloc(32, 9));
const tenant = 'archived';
const ann = { id: 'u-2001', name: 'Annika Zephyrine', email: 'annika.z@acme.test' };
const bob = { id: 'u-2002', name: 'Bob Quillfeather', email: 'bob.q@acme.test' };
const tmp = tempDir();
const archiveDir = join(tmp.dir, 'archive');
let t: TestApp;

const archiveText = () => {
  const files = readdirSync(join(archiveDir, tenant));
  expect(files).toHaveLength(1);
  return gunzipSync(readFileSync(join(archiveDir, tenant, files[0] as string))).toString('utf8');
};

beforeAll(async () => {
  t = await testApp({ signer, origin: 'archive.example' }, undefined, undefined, {
    defaultDays: null,
    archiveDir,
  });
  const old = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
  const res = await t.post({
    events: [
      {
        tenant,
        id: 'old-signin',
        time: old(60),
        category: 'logins',
        action: 'login.succeeded',
        actor: ann,
        context: { ip: '198.51.100.23', userAgent: 'Mozilla/5.0 Firefox/127.0' },
      },
      {
        tenant,
        id: 'old-invite',
        time: old(50),
        category: 'users',
        action: 'user.invited',
        actor: bob,
        targets: [{ type: 'user', id: ann.id, name: ann.name }],
        changes: [{ field: 'email', after: ann.email }],
      },
      { tenant, id: 'old-bob', time: old(40), action: 'invoice.exported', actor: bob },
      { tenant, id: 'recent', action: 'invoice.exported', actor: ann },
    ],
  });
  expect(res.statusCode, res.body).toBe(202);
  // Retention of 30 days, run once: the three old events go to the archive.
  expect(
    (await t.send('PUT', `/v1/tenants/${tenant}/settings`, { retention: { days: 30 } })).statusCode,
  ).toBe(200);
  expect((await t.get(`/v1/tenants/${tenant}/checkpoint`)).statusCode).toBe(200);
  const [pruned] = await runRetention(t.store, { defaultDays: null, archiveDir });
  expect(pruned).toMatchObject({ tenant, removed: 3 });
});
afterAll(async () => {
  await t.close();
  tmp.remove();
});

it('erases the person in the archives too, which still verify', async () => {
  const before = archiveText();
  expect(before).toContain('Annika Zephyrine');
  expect(before).toContain('198.51.100.23');

  const res = await t.send('POST', `/v1/tenants/${tenant}/erasures`, {
    subject: { actorId: ann.id },
  });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json()).toMatchObject({
    events: 1,
    // The sign-in: name, e-mail, IP, user agent; the invitation: target name, the change.
    archives: { files: 1, events: 2, values: 6 },
  });

  const after = archiveText();
  for (const gone of ['Annika', 'Zephyrine', 'annika.z', '198.51.100.23', 'Firefox']) {
    expect(after).not.toContain(gone);
  }
  // Bob, who is not erased, stays as he was.
  expect(after).toContain('Bob Quillfeather');
  expect(after).toContain('Deleted User');

  const key = note.verifierKeyText(signer);
  const { code, stdout } = await cliVerify(tmp.dir, after, key);
  expect(stdout).toMatch(/^OK: tenant archived, /);
  expect(code).toBe(0);

  const again = await t.send('POST', `/v1/tenants/${tenant}/erasures`, {
    subject: { actorId: ann.id },
  });
  expect(again.json()).toMatchObject({ events: 0, archives: { files: 0, events: 0, values: 0 } });
});

it('leaves the archives alone when they do not hold the person', async () => {
  const before = readFileSync(
    join(archiveDir, tenant, readdirSync(join(archiveDir, tenant))[0] as string),
  );
  const res = await t.send('POST', `/v1/tenants/${tenant}/erasures`, {
    subject: { email: 'nobody@acme.test' },
  });
  expect(res.json()).toMatchObject({ archives: { files: 0, events: 0 } });
  const after = readFileSync(
    join(archiveDir, tenant, readdirSync(join(archiveDir, tenant))[0] as string),
  );
  expect(after.equals(before)).toBe(true);
});
