/**
 * Events with very long values in a real browser, on a phone and on a desktop: a description of
 * 1,800 characters leaves the detail panel usable (its header stays small, the close button
 * and Verify stay reachable, the whole description is still there to read), and an actor name,
 * e-mail and changed value that are each one long word keep the page within the window.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

const SHOTS = fileURLToPath(new URL('../../../test-output/console/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

const DESCRIPTION = 'The nightly import replaced the price list of every contract in the region. '
  .repeat(24)
  .slice(0, 1_800)
  .trim();

/** Whether the document scrolls sideways: its width against the window's. */
const pageWidths = (page: Page) =>
  page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]') as Promise<
    [number, number]
  >;

describeInChromium('Long values in Chromium', () => {
  const ctx = consoleInChromium({ viewport: DESKTOP, timezoneId: 'UTC' });
  let described = '';
  let unbroken = '';

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const post = async (event: Record<string, unknown>) =>
      (
        await ctx.served.post<{ events: Array<{ id: string }> }>('/v1/events', {
          tenant: 'acme',
          ...event,
        })
      ).events[0]?.id ?? '';
    described = await post({
      category: 'changes',
      action: 'price_list.imported',
      actor: { id: 'u-1002', name: 'Tomasz Kowalski' },
      description: DESCRIPTION,
    });
    unbroken = await post({
      category: 'changes',
      action: 'contract.updated',
      actor: {
        id: 'u-long',
        name: 'N'.repeat(250),
        email: `${'e'.repeat(187)}@example.test`,
      },
      description: 'A contract note was replaced',
      changes: [{ field: 'note', before: 'short', after: 'x'.repeat(3_000) }],
    });
    await signIn(ctx.page, ctx.served, ctx.served.adminKey);
  });

  for (const [device, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    // regression: the pinned header of a long description was taller than the
    // window (1,075 px in 844), so nothing below it, the close button included, was reachable
    it(`keeps the detail panel of a long description usable on a ${device}`, async () => {
      const { page, served } = ctx;
      await page.setViewportSize(viewport);
      await page.goto(`${served.url}/?tenant=acme&view=changes&event=${described}`);
      const panel = page.getByRole('dialog');
      const title = panel.getByRole('heading', { level: 2 });
      await expect.poll(() => title.textContent(), { timeout: 15_000 }).toBe(DESCRIPTION);

      const header = await panel.locator('.panel-header').boundingBox();
      expect(header?.height).toBeLessThan(viewport.height / 4);
      // The whole description can still be read, in the body of the panel.
      await expect
        .poll(() => panel.locator('.panel-body').getByText(DESCRIPTION).isVisible())
        .toBe(true);
      await page.screenshot({ path: join(SHOTS, `long-description-${device}.png`) });

      await panel.getByRole('button', { name: 'Verify this event' }).click({ timeout: 5_000 });
      await panel.locator('.verify[data-state="checked"]').waitFor({ timeout: 15_000 });

      // Scrolled to the end, the close button is still on the screen and closes the panel.
      await panel.evaluate((element) => element.scrollTo(0, element.scrollHeight));
      const close = panel.getByRole('button', { name: 'Close event details' });
      const box = await close.boundingBox();
      expect(box?.y).toBeGreaterThanOrEqual(0);
      expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(viewport.height);
      await close.click({ timeout: 5_000 });
      await panel.waitFor({ state: 'detached' });
    });

    // regression: a 3,000-character value without spaces made the table
    // 28,000 px wide and the page scroll sideways
    it(`keeps a row of long unbroken values within the window on a ${device}`, async () => {
      const { page, served } = ctx;
      await page.setViewportSize(viewport);
      for (const view of ['changes', 'all']) {
        await page.goto(`${served.url}/?tenant=acme&view=${view}`);
        const row = (id: string) => page.locator(`table.events-table tbody tr[data-id="${id}"]`);
        await row(unbroken).waitFor({ timeout: 15_000 });
        await page.screenshot({ path: join(SHOTS, `long-values-${view}-${device}.png`) });
        const [scrollWidth, innerWidth] = await pageWidths(page);
        expect(scrollWidth, view).toBeLessThanOrEqual(innerWidth);
        // Cut short: the whole values are in the detail panel, not in a row as tall as a screen.
        for (const id of [unbroken, described]) {
          expect((await row(id).boundingBox())?.height, view).toBeLessThan(viewport.height / 3);
        }
        if (viewport === DESKTOP) {
          // On a desktop the columns fit: none is pushed out of sight inside the table.
          const wrap = await page
            .locator('.table-wrap')
            .evaluate((element) => element.scrollWidth - element.clientWidth);
          expect(wrap, view).toBeLessThanOrEqual(0);
        }
      }
    });
  }
});
