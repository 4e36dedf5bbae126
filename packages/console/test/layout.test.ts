/**
 * The console's layout at a desktop's, a tablet's and a phone's width, in a real browser: the
 * log integrity note never covers the tabs of the logs, whatever the scroll.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
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
  const ctx = consoleInChromium({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });

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
});
