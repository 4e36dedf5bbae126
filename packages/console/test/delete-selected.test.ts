/**
 * Deleting ticked events from the console, in a real browser against a real server: offered
 * only where the tenant allows deletion and the key may delete, asked first on the page, and
 * then gone from the log's reads while the audit log records it.
 */
import type { StoredEvent } from '@hindsight/core';
import { expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, recordDialogs, signIn } from './served-console.js';

describeInChromium('Delete selected in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  const changes = async () =>
    (await ctx.served.get<EventPage>('/v1/tenants/acme/events?category=changes&limit=50')).events;
  const rowIds = () =>
    ctx.page
      .locator('table.events-table tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));

  it('is offered only where the tenant allows it, asks first, and deletes exactly the ticked events', async () => {
    const { page, served } = ctx;
    const dialogs = recordDialogs(page);
    const before = await changes();
    const [first, , third] = before as [StoredEvent, StoredEvent, StoredEvent];
    await signIn(page, served, served.adminKey, '/?tenant=acme&view=changes');
    await expect.poll(rowIds, { timeout: 15_000 }).toEqual(before.map((e) => e.id));
    await page.getByLabel(`Select event ${first.seq}`).check();
    await page.getByText('1 selected').waitFor();
    // The tenant does not allow deletion (the default): export only.
    expect(await page.getByRole('button', { name: 'Delete selected' }).count()).toBe(0);

    await served.put('/v1/tenants/acme/settings', { deletion: { allowed: true } });
    await page.reload();
    await expect.poll(rowIds, { timeout: 15_000 }).toEqual(before.map((e) => e.id));
    for (const e of [first, third]) await page.getByLabel(`Select event ${e.seq}`).check();
    await page.getByText('2 selected').waitFor();

    // Asked on the page; Escape deletes nothing and gives focus back to the button.
    const remove = page.getByRole('button', { name: 'Delete selected' });
    await remove.click();
    const yes = page.getByRole('button', { name: 'Yes, delete' });
    await expect.poll(() => yes.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    expect(await page.locator('.export-bar .confirm').textContent()).toContain(
      'Delete the 2 selected events?',
    );
    await page.keyboard.press('Escape');
    await yes.waitFor({ state: 'detached' });
    expect(await remove.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    expect((await changes()).map((e) => e.id)).toEqual(before.map((e) => e.id));

    await remove.click();
    await yes.click();
    await page.getByText('Deleted 2 events.').waitFor();
    // The page is read again: the others in their order, and older ones moved up.
    const left = before.filter((e) => e.id !== first.id && e.id !== third.id).map((e) => e.id);
    const after = (await changes()).map((e) => e.id);
    expect(after.slice(0, left.length)).toEqual(left);
    await expect.poll(rowIds).toEqual(after);
    for (const e of [first, third]) {
      const response = await fetch(`${served.url}/v1/tenants/acme/events/${e.id}`, {
        headers: { authorization: `Bearer ${served.adminKey}` },
      });
      expect(response.status).toBe(404);
    }
    expect(await page.getByText(/\d+ selected/).count()).toBe(0);
    const audit = await served.get<EventPage>(
      '/v1/tenants/acme/events?category=audit&action=audit_log.deleted&limit=5',
    );
    const recorded = audit.events[0]?.metadata as { events: number; seqs: number[] };
    expect(recorded.events).toBe(2);
    expect([...recorded.seqs].sort((a, b) => a - b)).toEqual(
      [first.seq, third.seq].sort((a, b) => a - b),
    );
    expect(dialogs).toEqual([]);
  });

  it('offers a key that may only read neither tick boxes nor deletion', async () => {
    const { page, served } = ctx;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out').waitFor();
    await signIn(page, served, served.readKey, '/?tenant=acme&view=changes');
    await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('table.events-table input[type="checkbox"]').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete selected' }).count()).toBe(0);
  });
});
