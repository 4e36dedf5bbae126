/**
 * The display window (issue #9) in a real browser: with the tenant setting
 * `displayWindowDays`, a view shows only its last days until the reader chooses dates, says
 * so, and a date filter reaches the older events again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredEvent, ViewDefinition } from '@hindsight/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { eventListParams, windowStart } from '../src/query-params.js';
import { EMPTY_STATE } from '../src/url-state.js';
import { type Browser, chromiumSkipReason, launchChromium } from './chromium.js';
import { type ServedConsole, serveConsole } from './served-console.js';

const WINDOW_DAYS = 7;
const SHOTS = fileURLToPath(new URL('../../../test-output/console/', import.meta.url));
const skipReason = chromiumSkipReason();

if (skipReason !== null) {
  describe.skip(`Display window in Chromium (skipped: ${skipReason})`, () => {
    it('runs when Chromium is installed', () => {});
  });
} else {
  describe('Display window in Chromium', () => {
    let served: ServedConsole;
    let browser: Browser;
    let page: Page;
    let views: ViewDefinition[];

    beforeAll(async () => {
      served = await serveConsole();
      const put = await fetch(`${served.url}/v1/tenants/acme/settings`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${served.adminKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ displayWindowDays: WINDOW_DAYS }),
      });
      expect(put.status).toBe(200);
      views = (await served.get<{ views: ViewDefinition[] }>('/v1/tenants/acme/views')).views;
      // The browser's zone is UTC, so the console's days are UTC days.
      browser = await launchChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
    });

    afterAll(async () => {
      await browser?.close();
      await served?.close();
    });

    const ids = async (params: Record<string, string>) =>
      (
        await served.get<EventPage>(`/v1/tenants/acme/events?${new URLSearchParams(params)}`)
      ).events.map((e: StoredEvent) => e.id);

    const rowIds = () =>
      page
        .locator('table.events-table tbody tr')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));

    it('shows the last days by default, says so, and reaches everything with dates', async () => {
      // In UTC, as the browser (in UTC) computes the window's first day.
      const state = { ...EMPTY_STATE, utc: true };
      // A view where the window hides something: fewer events in the window than before it.
      let chosen: { view: ViewDefinition; windowed: string[]; all: string[] } | undefined;
      for (const view of views) {
        if (!(view.filters as string[]).includes('since')) continue;
        const params = eventListParams(view, state);
        const since = windowStart(view, state, WINDOW_DAYS, Date.now()) as string;
        const windowed = await ids({ ...params, since });
        const all = await ids(params);
        if (windowed.length > 0 && windowed.length < 50 && all.length > windowed.length) {
          chosen = { view, windowed, all };
          break;
        }
      }
      if (!chosen) throw new Error('The demo tenant has no view with events before the window.');
      const { view, windowed, all } = chosen;

      await page.goto(`${served.url}/?tenant=acme&view=${encodeURIComponent(view.id)}`);
      await page.getByLabel('API key').fill(served.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('tablist', { name: 'Logs' }).waitFor();

      const note = page.getByRole('note').filter({ hasText: 'Showing the last' });
      await expect
        .poll(() => note.textContent(), { timeout: 10_000 })
        .toMatch(new RegExp(`Showing the last ${WINDOW_DAYS} days .*Older events are kept`));
      await expect.poll(rowIds, { timeout: 10_000 }).toEqual(windowed);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'display-window.png') });

      // An explicit date filter reaches the whole log; the note goes.
      await page.getByRole('button', { name: 'Show all events' }).click();
      await expect.poll(rowIds, { timeout: 10_000 }).toEqual(all);
      expect(await note.count()).toBe(0);
      expect(new URL(page.url()).searchParams.get('since')).toBe('1970-01-01');
    });
  });
}
