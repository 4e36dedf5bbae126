/**
 * Verify on an event, in a real browser: Chromium's Web Crypto recomputes the event's leaf
 * hash, folds its inclusion proof and checks the checkpoint's Ed25519 signature. An untouched
 * demo event verifies; one changed in the database behind the server's back does not, and the
 * panel says which check failed; after the signing key is rotated, an event of a log that has
 * not grown since verifies with the new key (the server cosigned the newest checkpoint).
 */

import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '@hindsight/core';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../../server/src/server.js';
import { sqlitePath } from '../../server/src/store/index.js';
import type { EventPage } from '../src/api-types.js';
import { type Browser, describeInChromium, launchChromium } from './chromium.js';
import { type ServedConsole, serveConsole } from './served-console.js';

describeInChromium('Verify in Chromium', () => {
  let served: ServedConsole;
  let browser: Browser;
  let page: Page;
  let events: StoredEvent[];
  let closed = false;

  beforeAll(async () => {
    served = await serveConsole();
    browser = await launchChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    events = (await served.get<EventPage>('/v1/tenants/acme/events?category=logins&limit=3'))
      .events;
    await page.goto(`${served.url}/?tenant=acme&view=logins`);
    await page.getByLabel('API key').fill(served.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    if (!closed) await served?.close();
  });

  /** Opens an event's panel, presses Verify, and gives the outcome's notice. */
  async function verify(event: StoredEvent) {
    const row = page.locator(`table.events-table tbody tr[data-id="${event.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.click({ timeout: 15_000 });
    const panel = page.getByRole('dialog');
    await panel.getByRole('button', { name: 'Verify this event' }).click({ timeout: 15_000 });
    const outcome = panel.locator('.verify [data-verified]');
    await outcome.waitFor({ timeout: 15_000 });
    return outcome;
  }

  it('verifies an untouched event in the browser', async () => {
    const outcome = await verify(events[0] as StoredEvent);
    expect(await outcome.getAttribute('data-verified')).toBe('true');
    const text = await outcome.textContent();
    expect(text).toContain('Verified: unchanged since it was recorded.');
    const key = await served.get<{ verifierKey: string }>('/v1/keys/public');
    expect(text).toContain(key.verifierKey.split('+').slice(0, 2).join('+'));
  });

  it('says an event changed in the database does not verify, and why', async () => {
    const target = events[1] as StoredEvent;
    const db = new Database(sqlitePath(served.data));
    try {
      db.pragma('busy_timeout = 10000');
      const changed = db
        .prepare('UPDATE events SET body = replace(body, ?, ?) WHERE id = ?')
        .run(`"action":"${target.action}"`, '"action":"user.login_succeeded_x"', target.id);
      expect(changed.changes).toBe(1);
    } finally {
      db.close();
    }
    await page.reload();
    const outcome = await verify(target);
    expect(await outcome.getAttribute('data-verified')).toBe('false');
    expect(await outcome.getAttribute('role')).toBe('alert');
    const text = await outcome.textContent();
    expect(text).toContain('This event does not verify.');
    expect(text).toContain(`Event seq ${target.seq} was altered`);
    expect(text).toContain('the log was changed after it was signed');
  });

  // A name with U+202E would read reversed ("Alice" + "live"): the panel shows the override as a
  // mark, while Verify hashes the event exactly as stored.
  it('shows direction overrides as marks, and verifies the event as it was recorded', async () => {
    await served.post('/v1/events', {
      tenant: 'acme',
      id: 'bidi-1',
      category: 'logins',
      action: 'login.succeeded',
      actor: { type: 'user', id: 'u-bidi', name: 'Alice\u202Eevil', email: 'alice.b@acme.test' },
      description: 'Signed in \u2066as admin\u2069',
    });
    const [stored] = (
      await served.get<EventPage>('/v1/tenants/acme/events?category=logins&limit=1')
    ).events;
    expect(stored?.id).toBe('bidi-1');
    await page.reload();
    const outcome = await verify(stored as StoredEvent);
    expect(await outcome.getAttribute('data-verified')).toBe('true');
    const panel = (await page.getByRole('dialog').textContent()) ?? '';
    expect(panel).toContain('Alice⟨U+202E⟩evil');
    expect(panel).toContain('Signed in ⟨U+2066⟩as admin⟨U+2069⟩');
    expect(panel).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    await page.keyboard.press('Escape');
  });

  // Once timed out in CI (30 s) and never here, in hundreds of runs: each step has a deadline
  // of its own, so that should it happen again the failure names the step that hung.
  it('verifies with the new key after a rotation: the server cosigned the newest checkpoint', async () => {
    const oldKey = await served.get<{ verifierKey: string }>('/v1/keys/public');
    // The rotation of docs/operations.md: stop, move the signing key away, start again.
    await step('stopping the first server', served.server.close());
    renameSync(join(served.data, 'signing.key'), join(served.data, 'signing.key.old'));
    const lines: string[] = [];
    const restarted = await step(
      'starting the server with a new key',
      startServer(
        { port: 0, host: '127.0.0.1', data: served.data, demo: false, logLevel: 'silent' },
        (line) => lines.push(line),
      ),
    );
    try {
      const output = lines.join('\n');
      expect(output).toContain('Warning: the newest checkpoints of 1 tenant(s) (acme)');
      expect(output).toContain('the server signed them with its own key as well');
      await step(
        'opening the console of the new server',
        page.goto(`${restarted.url}/?tenant=acme&view=logins`, { timeout: 15_000 }),
      );
      await page.getByLabel('API key').fill(served.adminKey, { timeout: 15_000 });
      await page.getByRole('button', { name: 'Sign in' }).click({ timeout: 15_000 });
      const outcome = await verify(events[2] as StoredEvent);
      expect(await outcome.getAttribute('data-verified')).toBe('true');
      const text = await outcome.textContent();
      const newKey = (await (await fetch(`${restarted.url}/v1/keys/public`)).json()) as {
        verifierKey: string;
      };
      expect(newKey.verifierKey).not.toBe(oldKey.verifierKey);
      expect(text).toContain(newKey.verifierKey.split('+').slice(0, 2).join('+'));
    } finally {
      await step('stopping the new server', restarted.close());
      // The first server is closed already; what remains is its data directory.
      rmSync(served.data, { recursive: true, force: true });
      closed = true;
    }
  }, 120_000);
});

/** Awaits `work`, or fails after `ms` naming what was being done. */
async function step<T>(what: string, work: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
