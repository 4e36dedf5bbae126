/**
 * The ways out that error states offer, and deep links with values the console cannot show, in
 * a real browser against a real server: a failed later page can be loaded again, a revoked key
 * signs out, a link to a view that does not exist or to an impossible day says so.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { createApiKey } from '../../server/src/auth.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

describeInChromium('Problem notices and bad deep links in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  /** A tab of its own, signed in with a new events:read key, at `path`. */
  async function signedIn(path: string): Promise<{ page: Page; keyId: string }> {
    const { token, record } = await createApiKey(ctx.served.server.store, {
      scopes: ['events:read'],
    });
    const page = await ctx.browser.context.newPage();
    await signIn(page, ctx.served, token, path);
    return { page, keyId: record.id };
  }

  const alert = (page: Page) => page.locator('.results [role="alert"]');
  const buttonsOf = (page: Page) =>
    alert(page)
      .getByRole('button')
      .evaluateAll((buttons) => buttons.map((b) => b.textContent ?? ''));

  // regression: QA — a network failure on page 2 offered only "Go to the first page"
  it('offers "Try again" as well when a later page cannot be reached, and retries that page', async () => {
    const { page } = await signedIn('/?tenant=acme&view=all');
    try {
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      await page.route('**/v1/tenants/acme/events?**', (route) => route.abort('failed'));
      await page.getByRole('button', { name: 'Next page →' }).click();
      await alert(page).waitFor({ timeout: 10_000 });
      expect(await alert(page).getAttribute('data-code')).toBe('network_error');
      expect(await buttonsOf(page)).toEqual(['Try again', 'Go to the first page']);

      await page.unroute('**/v1/tenants/acme/events?**');
      await alert(page).getByRole('button', { name: 'Try again' }).click();
      await page
        .locator('.result-count')
        .filter({ hasText: 'Page 2:' })
        .waitFor({ timeout: 10_000 });
      expect(new URL(page.url()).searchParams.get('pages')).not.toBeNull();
    } finally {
      await page.close();
    }
  });

  // regression: QA — a revoked key was told to sign out but offered "Try again"
  it('offers "Sign out" when the key is revoked, which returns to the sign-in screen', async () => {
    const { page, keyId } = await signedIn('/?tenant=acme&view=all');
    try {
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      await ctx.served.server.store.revokeKey(keyId, new Date().toISOString());
      await page.getByRole('button', { name: 'Next page →' }).click();
      await alert(page).waitFor({ timeout: 10_000 });
      expect(await alert(page).getAttribute('data-code')).toBe('unauthorized');
      expect(await buttonsOf(page)).toEqual(['Sign out']);

      await alert(page).getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor({ timeout: 10_000 });
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
    } finally {
      await page.close();
    }
  });

  // regression: QA — view=<unknown id> silently showed "All events" under the bad address
  it('says a linked tenant has no events, rather than show an empty log, and offers the tenants', async () => {
    const { page } = await signedIn('/?tenant=acme');
    try {
      await page.goto(`${ctx.served.url}/?tenant=no-such-tenant`);
      const notice = page.locator('main [role="alert"]');
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent()).toContain('There is no tenant “no-such-tenant”.');
      expect(await page.locator('table.events-table').count()).toBe(0);

      await notice.getByRole('button', { name: 'Choose a tenant' }).click();
      await notice.waitFor({ state: 'detached', timeout: 10_000 });
      expect(new URL(page.url()).searchParams.get('tenant')).not.toBe('no-such-tenant');
    } finally {
      await page.close();
    }
  });

  it('says a linked view does not exist, and goes to All events from there', async () => {
    const { page } = await signedIn('/?tenant=acme&view=no-such-view');
    try {
      const notice = page.locator('main [role="alert"]');
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent()).toContain('have no view “no-such-view”');
      expect(await page.locator('table.events-table').count()).toBe(0);
      expect(await page.locator('[role="tab"][aria-selected="true"]').count()).toBe(0);

      await notice.getByRole('button', { name: 'Go to All events' }).click();
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      expect(new URL(page.url()).searchParams.get('view')).toBe('all');
      expect(
        await page
          .getByRole('tab', { name: 'All events', exact: true })
          .getAttribute('aria-selected'),
      ).toBe('true');
    } finally {
      await page.close();
    }
  });

  // regression: QA — since=2026-02-30 silently became 2 March, with the From field blank
  for (const since of ['2026-02-30', 'notadate']) {
    it(`reports since=${since} as a filter that is not valid, shown in its field`, async () => {
      const { page } = await signedIn(`/?tenant=acme&view=all&since=${since}`);
      try {
        await alert(page).waitFor({ timeout: 10_000 });
        expect(await alert(page).getAttribute('data-code')).toBe('invalid_request');
        expect(await alert(page).textContent()).toContain('since');
        const from = page.getByLabel('From', { exact: true });
        expect(await from.inputValue()).toBe(since);
        expect(await from.getAttribute('aria-invalid')).toBe('true');
        expect(await page.locator('table.events-table').count()).toBe(0);
      } finally {
        await page.close();
      }
    });
  }
});
