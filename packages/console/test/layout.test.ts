/**
 * The console's layout at a desktop's, a tablet's and a phone's width, in a real browser: the
 * log integrity note never covers the tabs of the logs, whatever the scroll; on a phone the
 * events' table keeps its user column readable, the time-zone switch still says what it
 * switches to, and the search syntax help uses the width of its card.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

const SHOTS = fileURLToPath(new URL('../../../test-output/console/', import.meta.url));

/**
 * The tabs that the integrity note overlaps, at the page's scroll now: each as "tab label".
 * In the page, as a string (the test's functions are not the page's).
 */
const coveredTabs = (page: Page) =>
  page.evaluate(`(() => {
    const notes = [...document.querySelectorAll('.integrity')].map((n) => n.getBoundingClientRect());
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    const meets = (a, b) =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return tabs
      .filter((tab) => notes.some((note) => meets(note, tab.getBoundingClientRect())))
      .map((tab) => tab.textContent);
  })()`) as Promise<string[]>;

describeInChromium('Layout in Chromium', () => {
  // A zone other than UTC, for the time-zone switch to have something to switch to.
  const ctx = consoleInChromium({
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Europe/Amsterdam',
  });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await signIn(ctx.page, ctx.served, ctx.served.adminKey, '/?tenant=acme&view=all');
  });

  for (const width of [1280, 768]) {
    // regression: at 1280 px only the tabs were sticky, so the "Signed log of…" note
    // scrolled up over "All events" and "Changes"
    it(`keeps the integrity note off the tabs at any scroll, ${width} px wide`, async () => {
      const { page } = ctx;
      await page.setViewportSize({ width, height: 900 });
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      await page.locator('[data-integrity="ok"]').waitFor({ timeout: 15_000 });
      const end = (await page.evaluate('document.documentElement.scrollHeight')) as number;
      for (const y of [0, 100, 200, 400, 800, 1600, end]) {
        await page.evaluate(`window.scrollTo(0, ${y})`);
        await page.evaluate('new Promise((done) => requestAnimationFrame(() => done()))');
        expect(await coveredTabs(page), `scrolled to ${y}`).toEqual([]);
        if (y === 400) await page.screenshot({ path: join(SHOTS, `sidebar-${width}.png`) });
      }
      // Still shown: the note is not hidden to keep it off the tabs.
      expect(await page.locator('[data-integrity="ok"]').isVisible()).toBe(true);
      await page.evaluate('window.scrollTo(0, 0)');
    });
  }

  describe('on a phone', () => {
    const PHONE = { width: 390, height: 844 };

    /** The width of the column headed `name` in the events' table. */
    const columnWidth = async (page: Page, name: string) =>
      (await page.locator('table.events-table thead th', { hasText: name }).boundingBox())?.width ??
      0;

    // regression: at 390 px the User column shrank to a few letters a line ("Alic e(U +…")
    // while the Date column kept 180 px on one line
    it('keeps the user column readable, the dates wrapping', async () => {
      const { page, served } = ctx;
      await page.setViewportSize(PHONE);
      await page.goto(`${served.url}/?tenant=acme&view=all`);
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      expect(await columnWidth(page, 'User')).toBeGreaterThanOrEqual(120);
      expect(await columnWidth(page, 'Date')).toBeLessThan(150);
      // Still a date and a time, on at most two lines.
      const time = page.locator('table.events-table tbody tr').first().locator('time');
      const lineHeight = Number.parseFloat(
        (await page.evaluate(
          `getComputedStyle(document.querySelector('table.events-table tbody tr time')).lineHeight`,
        )) as string,
      );
      expect((await time.boundingBox())?.height).toBeLessThanOrEqual(2 * lineHeight + 1);
      await page.locator('table.events-table').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'phone-all-events.png') });
    });

    // regression: at 390 px the switch lost its "· switch to UTC" and read as a label
    it('keeps the time-zone switch saying what it switches to', async () => {
      const { page, served } = ctx;
      await page.setViewportSize(PHONE);
      await page.goto(`${served.url}/?tenant=acme&view=all`);
      const toggle = page.getByRole('button', { name: /^Times in / });
      await toggle.waitFor({ timeout: 15_000 });
      expect(await toggle.getAttribute('aria-pressed')).toBe('false');
      expect(await toggle.innerText()).toMatch(/switch to UTC/);
      const box = await toggle.boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(PHONE.width);
      await toggle.click();
      await expect.poll(() => toggle.innerText()).toMatch(/Times in UTC\s*· switch to local/);
      await toggle.click();
    });

    // regression: at 390 px the help was squeezed into 200 px of a 348 px card, its
    // explanations one or two words a line
    it('gives the search syntax help the width of its card', async () => {
      const { page, served } = ctx;
      await page.setViewportSize(PHONE);
      await page.goto(`${served.url}/?tenant=acme&view=all`);
      await page.getByText('Search syntax').click();
      const card = await page.locator('form.filters').boundingBox();
      const widths = await page
        .locator('.query-help dd')
        .evaluateAll((all) => all.map((element) => element.getBoundingClientRect().width));
      expect(widths.length).toBeGreaterThan(10);
      for (const width of widths) expect(width).toBeGreaterThan(0.75 * (card?.width ?? 0));
      await page.locator('.query-help dl').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SHOTS, 'phone-search-syntax.png') });
    });
  });
});
