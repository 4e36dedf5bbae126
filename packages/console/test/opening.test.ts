/**
 * Opening a linked tab in a real browser against a real server: what the console needs before
 * it can ask for the tab's page (who the key is, its tenants, the tenant's views and settings)
 * is asked for at once, each request once, so the page waits for one round of requests rather
 * than three in turn; the same for the embedded console once it knows its tenant. A request
 * held back by the browser shows which requests were sent before its answer came.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeInChromium } from './chromium.js';
import { consoleInChromium } from './served-console.js';

/** How long the held-back answer is delayed: far longer than the other requests take. */
const HELD_MS = 1_500;

/** The API requests of `page`: each path and query, when sent and when answered, in ms. */
function apiRequests(page: Page) {
  const started = performance.now();
  const requests: Array<{ path: string; sent: number; answered?: number }> = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/')) {
      requests.push({ path: url.pathname + url.search, sent: performance.now() - started });
    }
  });
  page.on('requestfinished', (request) => {
    const url = new URL(request.url());
    const entry = requests.find((r) => r.path === url.pathname + url.search && !r.answered);
    if (entry) entry.answered = performance.now() - started;
  });
  const one = (path: string) => {
    const found = requests.filter((r) => r.path === path);
    expect(found.map((r) => r.path)).toEqual([path]);
    return found[0] as { sent: number; answered: number };
  };
  return { requests, one };
}

/** Delays the answers to `path` by {@link HELD_MS}. */
async function holdBack(page: Page, path: string): Promise<void> {
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      await new Promise((resolve) => setTimeout(resolve, HELD_MS));
      await route.continue();
    },
  );
}

describeInChromium('Opening the console in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  /** A new tab whose console is signed in with the admin key, as after a sign-in. */
  async function signedInPage(): Promise<Page> {
    const page = await ctx.browser.context.newPage();
    await page.addInitScript(
      (key) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem('hindsight.console.apiKey', key),
      ctx.served.adminKey,
    );
    return page;
  }

  it('asks for the session, the tenants, and the linked tenant’s views and settings at once', async () => {
    const page = await signedInPage();
    try {
      await holdBack(page, '/v1/session');
      const { requests, one } = apiRequests(page);
      await page.goto(`${ctx.served.url}/?tenant=acme&view=logins`);
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });

      const session = one('/v1/session');
      // Sent while the session's answer was held back: not waiting for it.
      for (const path of ['/v1/tenants', '/v1/tenants/acme/views', '/v1/tenants/acme/settings']) {
        expect(one(path).sent, path).toBeLessThan(session.answered);
      }
      // The tab's page once, after all four were answered.
      const pages = requests.filter((r) => r.path.startsWith('/v1/tenants/acme/events?'));
      expect(pages).toHaveLength(1);
      expect(pages[0]?.path).toContain('category=logins');
      expect(pages[0]?.sent).toBeGreaterThan(session.answered);
    } finally {
      await page.close();
    }
  });

  it('asks again, not for the early answer, when a view list that failed is tried again', async () => {
    const page = await signedInPage();
    try {
      let failed = 0;
      await page.route(
        (url) => url.pathname === '/v1/tenants/acme/views',
        async (route) => {
          if (failed++ === 0) await route.abort('failed');
          else await route.continue();
        },
      );
      await page.goto(`${ctx.served.url}/?tenant=acme&view=logins`);
      const alert = page.locator('main [role="alert"]');
      await alert.waitFor({ timeout: 15_000 });
      expect(await alert.getAttribute('data-code')).toBe('network_error');
      await alert.getByRole('button', { name: 'Try again' }).click();
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
      expect(failed).toBe(2);
    } finally {
      await page.close();
    }
  });

  it('embedded: asks for the views with the settings once the token’s tenant is known, the settings once', async () => {
    const { token } = await ctx.served.post<{ token: string }>('/v1/viewer-tokens', {
      tenant: 'acme',
      viewer: { id: 'u-sup', name: 'Sam Supervisor', role: 'supervisor' },
      permissions: ['view'],
    });
    const page = await ctx.browser.context.newPage();
    try {
      await holdBack(page, '/v1/tenants/acme/settings');
      const { requests, one } = apiRequests(page);
      await page.goto(`${ctx.served.url}/embed?token=${encodeURIComponent(token)}&view=logins`);
      await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });

      const settings = one('/v1/tenants/acme/settings');
      expect(one('/v1/tenants/acme/views').sent).toBeLessThan(settings.answered);
      expect(one('/v1/session').answered).toBeLessThan(settings.sent);
      const pages = requests.filter((r) => r.path.startsWith('/v1/tenants/acme/events?'));
      expect(pages).toHaveLength(1);
    } finally {
      await page.close();
    }
  });
});
