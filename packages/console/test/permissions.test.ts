/**
 * What the console offers a key or a viewer token, in a real browser: Export and Acknowledge
 * only to keys whose scopes allow them (as `GET /v1/session` tells), and the tick boxes that
 * choose rows for export only to readers who may export, so that no reader is offered a button
 * that can only fail or a control that does nothing.
 */
import { expect, it } from 'vitest';
import { createApiKey } from '../../server/src/auth.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

describeInChromium('Buttons by scope in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  /** The scopes of a key, and what the console should offer it. */
  const cases = [
    { scopes: ['events:read'], exports: false, acknowledges: false },
    { scopes: ['events:read', 'events:export'], exports: true, acknowledges: false },
    { scopes: ['events:read', 'events:write'], exports: false, acknowledges: true },
    { scopes: ['admin'], exports: true, acknowledges: true },
  ] as const;

  // regression: an events:read key was offered Export and Acknowledge and got
  // the error only after the click
  for (const { scopes, exports, acknowledges } of cases) {
    it(`offers a key with ${scopes.join(' and ')} only what it may do`, async () => {
      const { served, browser } = ctx;
      const { token } = await createApiKey(served.server.store, { scopes: [...scopes] });
      // A tab of its own: the key is kept in the tab's sessionStorage.
      const page = await browser.context.newPage();
      try {
        await signIn(page, served, token, '/?tenant=acme&view=all');
        await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
        expect(await page.getByRole('button', { name: 'CSV', exact: true }).count()).toBe(
          exports ? 1 : 0,
        );
        expect((await page.getByRole('checkbox').count()) > 0).toBe(exports);

        await page.goto(`${served.url}/?tenant=acme&view=integrations&show=summary`);
        await page.locator('table.integrations-table tbody tr').first().waitFor();
        const acknowledge = page.getByRole('button', { name: /^Acknowledge / });
        if (acknowledges) {
          expect(await acknowledge.count()).toBeGreaterThan(0);
        } else {
          expect(await acknowledge.count()).toBe(0);
          expect(await page.locator('.results').textContent()).toContain(
            'Acknowledging needs an API key with the events:write scope.',
          );
        }
      } finally {
        await page.close();
      }
    });
  }

  // regression: a view-only viewer token got a tick box on each row, whose only use
  // is choosing rows for export, which it may not do
  // (A supervisor may only view; an admin may export too.)
  for (const { role, permissions, exports } of [
    { role: 'supervisor', permissions: ['view'], exports: false },
    { role: 'admin', permissions: ['view', 'export'], exports: true },
  ]) {
    it(`gives a viewer token with ${permissions.join(' and ')} tick boxes only if it may export`, async () => {
      const { served, browser } = ctx;
      const { token } = await served.post<{ token: string }>('/v1/viewer-tokens', {
        tenant: 'acme',
        viewer: { id: `u-${role}`, name: 'Sam Reader', role },
        permissions,
      });
      const page = await browser.context.newPage();
      try {
        // The embedded console, opened on its own: the token is read from the address.
        await page.goto(`${served.url}/embed?token=${encodeURIComponent(token)}&view=all`);
        const rows = page.locator('table.events-table tbody tr');
        await rows.first().waitFor({ timeout: 15_000 });
        const boxes = page.getByRole('checkbox');
        if (exports) {
          expect(await page.getByLabel('Select every event on this page').count()).toBe(1);
          expect(await boxes.count()).toBe((await rows.count()) + 1);
          // Space on a row ticks it, and the ticked rows can be exported.
          await rows.first().focus();
          await page.keyboard.press(' ');
          await page.getByRole('button', { name: 'Export selected as CSV' }).waitFor();
        } else {
          expect(await boxes.count()).toBe(0);
          expect(await page.locator('.select-col').count()).toBe(0);
          expect(await page.getByRole('button', { name: /^Export selected/ }).count()).toBe(0);
          expect(await page.getByRole('button', { name: 'CSV', exact: true }).count()).toBe(0);
          // Space on a row ticks nothing; the table's caption does not offer it.
          await rows.first().focus();
          await page.keyboard.press(' ');
          expect(await page.locator('tr.row-selected').count()).toBe(0);
          expect(await page.locator('table.events-table caption').textContent()).not.toMatch(
            /Space/,
          );
        }
      } finally {
        await page.close();
      }
    });
  }
});
