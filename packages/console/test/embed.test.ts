/**
 * The embedded console (issue #8) in a real browser: a host page on another origin (another
 * port) uses `<hindsight-audit-log>` with a viewer token; the console shows only what the token
 * allows, in the host's look, never runs event data as markup, and the reads land in the
 * tenant's audit log. A host the tenant does not allow cannot frame it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StoredEvent } from '@hindsight/core';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { type Browser, chromiumSkipReason, launchChromium } from './chromium.js';
import { recordDialogs, type ServedConsole, serveConsole } from './served-console.js';

const skipReason = chromiumSkipReason();

/** A host page server: one page that embeds the console with the given token. */
async function hostPage(
  hindsight: string,
  token: () => string,
): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Acme settings</title>
<h1>Acme settings</h1>
<script src="${hindsight}/embed.js"></script>
<hindsight-audit-log token="${token()}" src="${hindsight}" accent="#aa3300" title="Acme audit log"></hindsight-audit-log>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

if (skipReason !== null) {
  describe.skip(`Embedded console in Chromium (skipped: ${skipReason})`, () => {
    it('runs when Chromium is installed', () => {});
  });
} else {
  describe('Embedded console in Chromium', () => {
    let served: ServedConsole;
    let browser: Browser;
    let page: Page;
    let allowed: { url: string; server: Server };
    let other: { url: string; server: Server };
    let token = '';
    const dialogs: string[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      served = await serveConsole();
      allowed = await hostPage(served.url, () => token);
      other = await hostPage(served.url, () => token);
      await served.post('/v1/events', {
        tenant: 'acme',
        category: 'logins',
        action: 'login.failed',
        outcome: 'failure',
        actor: { id: 'u-mallory', name: '<img src=x onerror="window.pwned=1">' },
        description: '<script>window.pwned=2</script>',
      });
      const response = await fetch(`${served.url}/v1/tenants/acme/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${served.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ embed: { frameAncestors: [allowed.url] } }),
      });
      expect(response.status).toBe(200);
      token = (
        await served.post<{ token: string }>('/v1/viewer-tokens', {
          tenant: 'acme',
          viewer: { id: 'u-sup', name: 'Sam Supervisor', role: 'supervisor' },
          permissions: ['view'],
          categories: ['logins'],
        })
      ).token;
      browser = await launchChromium({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      recordDialogs(page, dialogs);
      page.on('pageerror', (error) => pageErrors.push(error.message));
    });

    afterAll(async () => {
      await browser?.close();
      allowed?.server.close();
      other?.server.close();
      await served?.close();
    });

    /** The console's frame in the host page, once it has loaded from Hindsight. */
    async function consoleFrame(): Promise<Frame> {
      await expect
        .poll(() => page.frames().find((f) => f.url().startsWith(`${served.url}/embed`)), {
          timeout: 10_000,
        })
        .toBeTruthy();
      return page.frames().find((f) => f.url().startsWith(`${served.url}/embed`)) as Frame;
    }

    it('shows only the logins the token allows, in the host’s look, without picker or sign-out', async () => {
      await page.goto(allowed.url);
      const frame = await consoleFrame();
      await frame.getByRole('tablist', { name: 'Logs' }).waitFor({ timeout: 10_000 });
      expect(await frame.getByRole('tab').allTextContents()).toEqual(['User logins']);
      const logins = await served.get<EventPage>(
        '/v1/tenants/acme/events?category=logins&limit=50',
      );
      const rowIds = () =>
        frame
          .locator('table.events-table tbody tr')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
      await expect
        .poll(rowIds, { timeout: 10_000 })
        .toEqual(logins.events.map((e: StoredEvent) => e.id));
      expect(await frame.locator('.brand').textContent()).toBe('Acme audit log · Sam Supervisor');
      expect(await frame.getByLabel('Tenant').count()).toBe(0);
      expect(await frame.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
      expect(await frame.locator('.export-bar').count()).toBe(0);
      // Nor, without the `verify` permission, a Verify on an event.
      await frame.locator('table.events-table tbody tr').first().click();
      const panel = frame.getByRole('dialog');
      await panel.getByRole('heading', { name: 'Record' }).waitFor({ timeout: 10_000 });
      expect(await panel.getByRole('button', { name: 'Verify this event' }).count()).toBe(0);
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached', timeout: 10_000 });
      const accent = await frame.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()",
      );
      expect(accent).toBe('#aa3300');
      // The token left the frame's address as soon as the console read it.
      expect(frame.url()).not.toContain('token=');
    });

    it('renders event data as text, never as markup', async () => {
      const frame = await consoleFrame();
      const first = frame.locator('table.events-table tbody tr').first();
      await expect
        .poll(() => first.textContent())
        .toContain('<img src=x onerror="window.pwned=1">');
      expect(await frame.locator('img[src="x"]').count()).toBe(0);
      expect(await frame.evaluate('typeof window.pwned')).toBe('undefined');
      expect(dialogs).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it('recorded the viewer’s reads in the tenant’s audit log', async () => {
      const audit = await served.get<EventPage>(
        '/v1/tenants/acme/events?category=audit&action=audit_log.viewed&limit=50',
      );
      const mine = audit.events.filter((e) => e.actor.id === 'u-sup');
      expect(mine.length).toBeGreaterThan(0);
      // The log's rows were read, and one event opened.
      expect(mine.some((e) => e.targets?.some((target) => target.type === 'event'))).toBe(true);
      expect(mine.find((e) => e.targets?.length === 1)).toMatchObject({
        actor: { type: 'user', id: 'u-sup', name: 'Sam Supervisor', role: 'supervisor' },
        targets: [{ type: 'audit_log', id: 'logins' }],
        channel: 'ui',
      });
    });

    it('tells the reader when their access ends (the token is revoked)', async () => {
      await page.goto(allowed.url);
      const frame = await consoleFrame();
      await frame.getByRole('tablist', { name: 'Logs' }).waitFor({ timeout: 10_000 });
      await served.post('/v1/viewer-tokens/revocations', { tenant: 'acme', viewerId: 'u-sup' });
      await frame.getByLabel('Search', { exact: true }).fill('mallory');
      await frame.getByRole('button', { name: 'Apply filters' }).click();
      await expect
        .poll(() => frame.locator('body').textContent(), { timeout: 10_000 })
        .toContain('Your access to this audit log has ended.');
      expect(await frame.locator('body').textContent()).toContain('revoked');
      // A new load of the frame with that token gets the plain refusal.
      await page.goto(allowed.url);
      await expect
        .poll(
          async () =>
            page
              .frames()
              .find((f) => f.url().startsWith(`${served.url}/embed`))
              ?.locator('body')
              .textContent() ?? '',
          { timeout: 10_000 },
        )
        .toContain('not valid any more');
    });

    it('cannot be framed by a host the tenant does not allow', async () => {
      await page.goto(other.url);
      await page.waitForTimeout(1500);
      const framed = page.frames().find((f) => f.url().startsWith(`${served.url}/embed`));
      if (framed) expect(await framed.locator('.top-bar').count()).toBe(0);
    });
  });
}
