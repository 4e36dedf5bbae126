/**
 * The messages summary's delivery filter, in a real browser against a real server and the demo
 * tenant: "Not delivered" lists only the messages that did not reach a receiver (the seed: a
 * red error means the receiver did not get it, and it must be sent again), and the filter lives
 * in the address like the others.
 */
import { expect, it } from 'vitest';
import type { MessagePage } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, signIn } from './served-console.js';

describeInChromium('Messages by delivery status in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  const ROWS = "[...document.querySelectorAll('table.messages-table tbody tr')]";
  const rowIds = async () =>
    (await ctx.page.evaluate(`${ROWS}.map((row) => row.getAttribute('data-id'))`)) as string[];
  const rowTexts = async () =>
    (await ctx.page.evaluate(`${ROWS}.map((row) => row.textContent)`)) as string[];
  const messages = async (query: string) =>
    (await ctx.served.get<MessagePage>(`/v1/tenants/acme/messages?limit=50${query}`)).messages;

  it('picks "Not delivered" and shows only the messages that did not reach a receiver', async () => {
    const { page, served } = ctx;
    // A message whose subject is markup and which bounced: shown as the text it is.
    const subject = '<img src=x onerror="window.__injected = 1">Invoice reminder';
    await served.post('/v1/events', {
      events: [
        {
          tenant: 'acme',
          category: 'communications',
          action: 'message.sent',
          actor: { id: 'u-ops', name: 'Ops Bot' },
          targets: [{ type: 'message', id: 'MSG-MARKUP' }],
          metadata: {
            type: 'email',
            mode: 'automatic',
            subject,
            receivers: [{ address: 'lee@example.test', name: 'Lee' }],
          },
        },
        {
          tenant: 'acme',
          category: 'communications',
          action: 'message.bounced',
          outcome: 'failure',
          status: 'hard_bounce',
          actor: { type: 'system' },
          targets: [{ type: 'message', id: 'MSG-MARKUP' }],
          metadata: { receiver: { address: 'lee@example.test' }, reason: 'no such user' },
        },
      ],
    });
    const all = await messages('');
    const failing = await messages('&delivery=failed');
    // The demo has both, so the filter has something to leave out.
    expect(failing.length).toBeGreaterThan(1);
    expect(failing.map((m) => m.id)).toContain('MSG-MARKUP');
    expect(all.some((m) => m.failed === 0)).toBe(true);
    expect(failing.every((m) => m.failed > 0)).toBe(true);

    await signIn(page, served, served.readKey, '/?tenant=acme&view=communications&show=summary');
    await expect.poll(rowIds, { timeout: 15_000 }).toEqual(all.map((m) => m.id));

    const filter = page.getByLabel('Delivery status');
    expect(await filter.inputValue()).toBe('');
    await filter.selectOption({ label: 'Not delivered' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('delivery')).toBe('failed');
    await expect.poll(rowIds).toEqual(failing.map((m) => m.id));
    for (const text of await rowTexts()) expect(text).toMatch(/\d+ not reached/);
    expect(await rowTexts()).toContainEqual(expect.stringContaining(subject));
    expect(await page.locator('table.messages-table img').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();

    // The address holds it: a reload shows the same list, the filter still picked.
    await page.reload();
    await expect.poll(rowIds, { timeout: 15_000 }).toEqual(failing.map((m) => m.id));
    expect(await page.getByLabel('Delivery status').inputValue()).toBe('failed');

    // One status of the seed's table; Back returns to the messages someone did not get.
    const bounced = await messages('&delivery=hard_bounce');
    expect(bounced.length).toBeGreaterThan(0);
    await page.getByLabel('Delivery status').selectOption({ label: 'Hard bounce' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(rowIds).toEqual(bounced.map((m) => m.id));
    await page.goBack();
    await expect.poll(rowIds).toEqual(failing.map((m) => m.id));

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(rowIds).toEqual(all.map((m) => m.id));
    expect(new URL(page.url()).searchParams.has('delivery')).toBe(false);
  });
});
