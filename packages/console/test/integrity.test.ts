/**
 * The reader's browser as a witness of the log, in Chromium: the console checks the newest
 * signed checkpoint, remembers it, and on the next visit proves with a consistency proof that
 * the log it saw is still the start of the log signed now. A tree rewritten in the database
 * behind the server's back (and signed again by the server's own key) is caught.
 */
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { sqlitePath } from '../../server/src/store/index.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium } from './served-console.js';

describeInChromium('Log integrity in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  /** The size of acme's newest signed checkpoint. */
  async function signedSize(): Promise<number> {
    const response = await fetch(`${ctx.served.url}/v1/tenants/acme/checkpoint`, {
      headers: { authorization: `Bearer ${ctx.served.adminKey}` },
    });
    return Number((await response.text()).split('\n')[1]);
  }

  /** Records events in acme, waits for a checkpoint that covers them, and gives its size. */
  async function grow(count: number): Promise<number> {
    const { events } = await ctx.served.post<{ events: Array<{ seq: number }> }>('/v1/events', {
      events: Array.from({ length: count }, (_, i) => ({
        tenant: 'acme',
        action: 'report.exported',
        actor: { id: 'u-1001' },
        metadata: { n: i },
      })),
    });
    const last = Math.max(...events.map((e) => e.seq));
    await expect.poll(signedSize, { timeout: 10_000 }).toBeGreaterThanOrEqual(last);
    return last;
  }

  /** Opens acme's console (signing in when asked) and gives the integrity note. */
  async function visit() {
    await ctx.page.goto(`${ctx.served.url}/?tenant=acme&view=all`);
    const keyField = ctx.page.getByLabel('API key');
    const note = ctx.page.locator('.integrity:not([data-integrity="checking"])');
    await Promise.race([keyField.waitFor({ timeout: 15_000 }), note.waitFor({ timeout: 15_000 })]);
    if (await keyField.isVisible()) {
      await keyField.fill(ctx.served.adminKey);
      await ctx.page.getByRole('button', { name: 'Sign in' }).click();
    }
    await note.waitFor({ timeout: 15_000 });
    return note;
  }

  it('checks the signed log, then on the next visit that it only grew', async () => {
    /** The size the note says is signed. */
    const shownSize = (text: string | null) =>
      Number(/Signed log of ([\d,]+) events/.exec(text ?? '')?.[1]?.replaceAll(',', ''));
    const first = await visit();
    expect(await first.getAttribute('data-integrity')).toBe('ok');
    const firstText = await first.textContent();
    // The size at the moment of the check (the check itself is recorded in the audit log,
    // and may be signed a moment later).
    const seen = shownSize(firstText);
    expect(seen).toBeGreaterThan(800);
    expect(firstText).toContain('This browser will check on each visit that it only grows.');

    const now = await grow(3);
    const second = await visit();
    expect(await second.getAttribute('data-integrity')).toBe('ok');
    const text = await second.textContent();
    expect(shownSize(text)).toBeGreaterThanOrEqual(now);
    expect(now).toBeGreaterThanOrEqual(seen + 3);
    expect(text).toContain(`The ${seen.toLocaleString('en')} this browser saw on`);
    expect(text).toContain('are unchanged.');
  });

  it('raises an alert when the log it saw was rewritten, even when signed again', async () => {
    await visit();
    const db = new Database(sqlitePath(ctx.served.data));
    try {
      db.pragma('busy_timeout = 10000');
      const rewritten = db
        .prepare(
          "UPDATE tree_nodes SET hash = randomblob(32) WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'acme')",
        )
        .run();
      expect(rewritten.changes).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    await grow(1);
    const note = await visit();
    expect(await note.getAttribute('data-integrity')).toBe('broken');
    expect(await note.getAttribute('role')).toBe('alert');
    const text = await note.textContent();
    expect(text).toContain('The log does not verify.');
    expect(text).toContain('The log was rewritten since this browser checked it on');
    // It keeps saying so: what it saw is not replaced by the rewritten log.
    const again = await visit();
    expect(await again.getAttribute('data-integrity')).toBe('broken');
  });
});
