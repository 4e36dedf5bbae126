/**
 * Verifier keys pinned by the embedding application, in a real browser: the host page gives
 * `<hindsight-audit-log verifier-key="…">` (or `verifierKey=` in a frame's address), and the
 * embedded console checks the log's signatures with those keys rather than with the key the
 * server serves. A log signed by the server's key verifies when the host pinned that key (alone,
 * or beside an older one); when the host pinned another key — as after the server's key was
 * replaced and the log re-signed — the sidebar and Verify both raise the alarm on the first
 * visit, with no earlier visit to compare with.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { note } from '@hindsight/core';
import type { Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EventPage } from '../src/api-types.js';
import { type Browser, describeInChromium, launchChromium } from './chromium.js';
import { type ServedConsole, serveConsole } from './served-console.js';

/** A key the server does not sign with, of the same name as its own. */
const OTHER_KEY = note.verifierKeyText(note.signerFromSeed('hindsight', Buffer.alloc(32, 42)));

describeInChromium('Verifier keys pinned by the embedding application', () => {
  let served: ServedConsole;
  let host: { url: string; server: Server };
  let browser: Browser;
  let page: Page;
  let serverKey = '';
  let token = '';
  /** The host page's body for each path. */
  const pages = new Map<string, () => string>();

  beforeAll(async () => {
    served = await serveConsole();
    host = await new Promise((resolve) => {
      const server = createServer((req, res) => {
        const body = pages.get(req.url ?? '');
        res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        res.end(body ? `<!doctype html><title>Acme</title>${body()}` : 'not found');
      });
      server.listen(0, '127.0.0.1', () =>
        resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
      );
    });
    const settings = await fetch(`${served.url}/v1/tenants/acme/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${served.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ embed: { frameAncestors: [host.url] } }),
    });
    expect(settings.status).toBe(200);
    serverKey = (await served.get<{ verifierKey: string }>('/v1/keys/public')).verifierKey;
    token = (
      await served.post<{ token: string }>('/v1/viewer-tokens', {
        tenant: 'acme',
        viewer: { id: 'u-admin', name: 'Alice Admin', role: 'admin' },
        permissions: ['view', 'verify'],
        categories: ['logins'],
      })
    ).token;
    const element = (keys: string) => () =>
      `<script src="${served.url}/embed.js"></script>` +
      `<hindsight-audit-log token="${token}" src="${served.url}" verifier-key="${keys}"></hindsight-audit-log>`;
    pages.set('/pinned', element(serverKey));
    pages.set('/rotated', element(`${OTHER_KEY}  ${serverKey}`));
    pages.set('/other', element(OTHER_KEY));
    // Written by hand into a frame's address, with every `+` of the key left unescaped.
    pages.set(
      '/frame',
      () =>
        `<iframe src="${served.url}/embed?token=${token}&verifierKey=${serverKey}" style="width:100%;height:640px"></iframe>`,
    );
    browser = await launchChromium({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    host?.server.close();
    await served?.close();
  });

  /** Opens a host page, and gives the console's frame once its logs are shown. */
  async function open(path: string): Promise<Frame> {
    await page.goto(`${host.url}${path}`);
    await expect
      .poll(() => page.frames().find((f) => f.url().startsWith(`${served.url}/embed`)), {
        timeout: 10_000,
      })
      .toBeTruthy();
    const frame = page.frames().find((f) => f.url().startsWith(`${served.url}/embed`)) as Frame;
    await frame.getByRole('tablist', { name: 'Logs' }).waitFor({ timeout: 15_000 });
    return frame;
  }

  /** The sidebar's verdict on the log's signature, once it has one. */
  async function integrity(frame: Frame) {
    const note = frame.locator('[data-integrity]:not([data-integrity="checking"])');
    await note.waitFor({ timeout: 15_000 });
    return note;
  }

  /** Verify on the newest login, and its outcome. */
  async function verifyNewest(frame: Frame) {
    const { events } = await served.get<EventPage>('/v1/tenants/acme/events?category=logins');
    const row = frame.locator(`table.events-table tbody tr[data-id="${events[0]?.id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    const panel = frame.getByRole('dialog');
    await panel.getByRole('button', { name: 'Verify this event' }).click();
    const outcome = panel.locator('.verify [data-verified]');
    await outcome.waitFor({ timeout: 15_000 });
    return outcome;
  }

  it('verifies with the key the application pinned, and says where the key came from', async () => {
    const frame = await open('/pinned');
    expect(await (await integrity(frame)).getAttribute('data-integrity')).toBe('ok');
    const outcome = await verifyNewest(frame);
    expect(await outcome.getAttribute('data-verified')).toBe('true');
    const text = await outcome.textContent();
    expect(text).toContain('Verified: unchanged since it was recorded.');
    expect(text).toContain(
      'The key was given by the application that shows this log, not read from this server.',
    );
    // The keys left the frame's address with the token.
    expect(frame.url()).not.toContain('verifierKey');
  });

  it('verifies when the application trusts an older key beside the server’s', async () => {
    const frame = await open('/rotated');
    expect(await (await integrity(frame)).getAttribute('data-integrity')).toBe('ok');
    const outcome = await verifyNewest(frame);
    expect(await outcome.getAttribute('data-verified')).toBe('true');
    expect(await outcome.textContent()).toContain(serverKey.split('+').slice(0, 2).join('+'));
  });

  it('reads a key written unescaped into a frame’s address', async () => {
    const frame = await open('/frame');
    expect(await (await integrity(frame)).getAttribute('data-integrity')).toBe('ok');
    expect(await (await verifyNewest(frame)).getAttribute('data-verified')).toBe('true');
  });

  it('raises the alarm when the log is not signed by a key the application pinned', async () => {
    const frame = await open('/other');
    const sidebar = await integrity(frame);
    expect(await sidebar.getAttribute('data-integrity')).toBe('untrusted');
    expect(await sidebar.getAttribute('role')).toBe('alert');
    const said = await sidebar.textContent();
    expect(said).toContain('Not signed by a key this application trusts.');
    expect(said).toContain(`not by the key ${OTHER_KEY.split('+').slice(0, 2).join('+')}`);

    const outcome = await verifyNewest(frame);
    expect(await outcome.getAttribute('data-verified')).toBe('false');
    expect(await outcome.getAttribute('role')).toBe('alert');
    const text = await outcome.textContent();
    expect(text).toContain('Not signed by a key this application trusts.');
    expect(text).toContain('the application must trust the new key too');
  });
});
