/**
 * GDPR erasure (issue #9) in a real browser: after a person of the demo tenant is erased, the
 * console shows them as "Deleted User" where their name was — in a log's rows and in the "Who"
 * of the event's detail panel — and the values of changes about them as "erased", in the rows
 * as in the panel. (A description that names them keeps the name: it is not a personal field,
 * see docs/erasure.md.)
 */
import type { StoredEvent } from '@hindsight/core';
import { expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium } from './served-console.js';

describeInChromium('Erasure in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  it('shows an erased actor as Deleted User in the rows and the detail panel', async () => {
    const { served, page } = ctx;
    const newest = async () =>
      (await served.get<EventPage>('/v1/tenants/acme/events?category=logins&limit=1'))
        .events[0] as StoredEvent;
    const before = await newest();
    const { id: actorId, name } = before.actor;
    if (actorId === undefined || name === undefined) {
      throw new Error('The newest sign-in of the demo tenant has no named actor.');
    }
    const erased = await served.post<{ events: number }>('/v1/tenants/acme/erasures', {
      subject: { actorId },
    });
    expect(erased.events).toBeGreaterThan(0);
    expect((await newest()).actor.name).toBe('Deleted User');

    await page.goto(`${served.url}/?tenant=acme&view=logins`);
    await page.getByLabel('API key').fill(served.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`table.events-table tbody tr[data-id="${before.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('Deleted User');
    expect(await row.textContent()).not.toContain(name);
    const table = await page.locator('table.events-table').textContent();
    expect(table).not.toContain(name);

    await row.click();
    const who = page
      .getByRole('dialog')
      .locator('section.detail-section')
      .filter({ has: page.getByRole('heading', { name: 'Who', exact: true }) });
    await expect.poll(() => who.textContent(), { timeout: 10_000 }).toContain('Deleted User');
    const shown = await who.textContent();
    expect(shown).not.toContain(name);
    expect(shown).toContain(actorId);
    // The description is hashed as sent and is not erased (docs/erasure.md): the demo's
    // "<name> signed in" keeps the name there.
  });

  // regression: the list showed an erased change as "license:" and nothing more
  it('shows the erased values of a change as erased in the list, as the detail panel does', async () => {
    const { served, page } = ctx;
    const { events } = await served.get<EventPage>(
      '/v1/tenants/acme/events?category=users&action=user.license.updated&limit=1',
    );
    const before = events[0] as StoredEvent;
    const change = before.changes?.[0];
    const subject = before.targets?.[0]?.id;
    if (change?.before === undefined || change.after === undefined || subject === undefined) {
      throw new Error('The newest licence update of the demo tenant changes no named user.');
    }
    await served.post('/v1/tenants/acme/erasures', { subject: { actorId: subject } });

    await page.goto(`${served.url}/?tenant=acme&view=users`);
    const cell = page.locator(
      `table.events-table tbody tr[data-id="${before.id}"] td[data-format="changes"]`,
    );
    await cell.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => cell.locator('.erased').allTextContents(), { timeout: 10_000 })
      .toEqual(['erased', 'erased']);
    expect(await cell.textContent()).toMatch(new RegExp(`^${change.field}: erased\\W+changed to`));
  });
});
