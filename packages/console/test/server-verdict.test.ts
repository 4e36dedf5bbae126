/**
 * The server's own integrity check in the console, in Chromium: an event changed in the
 * database behind the server's back leaves every checkpoint and the tree as they were, so the
 * browser's check of the signed log still passes — but the server's integrity scrub recomputes
 * the event's hash, and the sidebar shows its verdict as an alert until the log verifies again.
 */
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { sqlitePath } from '../../server/src/store/index.js';
import type { EventPage } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium } from './served-console.js';

describeInChromium('The server’s integrity verdict in Chromium', () => {
  const ctx = consoleInChromium(
    { viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' },
    { scrub: { intervalMs: 200, firstRunMs: 10, pauseMs: 0 } },
  );

  /** Changes text in one event's stored JSON, as someone with write access to the file would. */
  function rewrite(id: string, from: string, to: string): void {
    const db = new Database(sqlitePath(ctx.served.data));
    try {
      db.pragma('busy_timeout = 10000');
      const changed = db
        .prepare('UPDATE events SET body = replace(body, ?, ?) WHERE id = ?')
        .run(from, to, id);
      expect(changed.changes).toBe(1);
    } finally {
      db.close();
    }
  }

  const verdict = async () =>
    (await ctx.served.get<{ verdict: { ok: boolean } | null }>('/v1/tenants/acme/integrity'))
      .verdict;

  it('alerts while the server finds the log changed, and not once it verifies again', async () => {
    const { events } = await ctx.served.get<EventPage>(
      '/v1/tenants/acme/events?category=logins&limit=1',
    );
    const target = events[0];
    if (!target) throw new Error('The demo tenant has no logins.');
    const from = `"action":"${target.action}"`;
    const to = `"action":"${target.action}x"`;
    rewrite(target.id, from, to);
    await expect.poll(verdict, { timeout: 15_000 }).toMatchObject({ ok: false });

    await ctx.page.goto(`${ctx.served.url}/?tenant=acme&view=all`);
    await ctx.page.getByLabel('API key').fill(ctx.served.adminKey);
    await ctx.page.getByRole('button', { name: 'Sign in' }).click();
    const alert = ctx.page.locator('[data-server-integrity="failed"]');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.getAttribute('role')).toBe('alert');
    const text = await alert.textContent();
    expect(text).toContain('The server found this log changed.');
    expect(text).toContain(`"${target.id}" at seq ${target.seq} does not match its hash`);
    // The browser's own check of the signed log cannot see it: the tree was not touched.
    const browser = ctx.page.locator('[data-integrity]:not([data-integrity="checking"])');
    await browser.waitFor({ timeout: 15_000 });
    expect(await browser.getAttribute('data-integrity')).toBe('ok');

    rewrite(target.id, to, from);
    await expect.poll(verdict, { timeout: 15_000 }).toMatchObject({ ok: true });
    await ctx.page.reload();
    await browser.waitFor({ timeout: 15_000 });
    expect(await alert.count()).toBe(0);
  });
});
