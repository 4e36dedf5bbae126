/**
 * The search syntax help in a real browser: every example it gives is a search that finds
 * events of the demo tenant, the same in the list as through the API.
 */
import { expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

describeInChromium('Search syntax help in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  // regression: the help's example actor:"Ann Lee" found nothing (actor: takes an
  // id or e-mail, docs/query-language.md)
  it('gives only examples that find events', async () => {
    const { page, served } = ctx;
    await signIn(page, served, served.adminKey, '/?tenant=acme&view=all');
    await page.getByText('Search syntax').click();
    const examples = await page.locator('.query-help code').allTextContents();
    expect(examples.length).toBeGreaterThan(10);
    for (const q of examples) {
      // The demo's events are of its last 90 days; the example's dates are fixed ones.
      if (/\bafter:/.test(q)) continue;
      const { events } = await served.get<EventPage>(
        `/v1/tenants/acme/events?${new URLSearchParams({ q, limit: '50' })}`,
      );
      expect(events.length, q).toBeGreaterThan(0);
      await page.getByLabel('Search', { exact: true }).fill(q);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect
        .poll(
          () =>
            page
              .locator('table.events-table tbody tr')
              .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id'))),
          { timeout: 10_000 },
        )
        .toEqual(events.map((e) => e.id));
    }
  });
});
