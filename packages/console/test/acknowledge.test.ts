/**
 * Acknowledge on the integrations summary, in a real browser: it asks first, on the page (no
 * browser dialog), and acknowledges only what the screen showed — an error recorded after the
 * screen was loaded still needs attention.
 */
import { expect, it } from 'vitest';
import type { Integration } from '../src/api-types.js';
import { describeInChromium } from './chromium.js';
import { consoleInChromium, recordDialogs, signIn } from './served-console.js';

describeInChromium('Acknowledge in Chromium', () => {
  const ctx = consoleInChromium({ viewport: { width: 1440, height: 900 }, timezoneId: 'UTC' });

  const integrations = async () =>
    (await ctx.served.get<{ integrations: Integration[] }>('/v1/tenants/acme/integrations'))
      .integrations;

  // regression: Acknowledge also acknowledged errors recorded after the page was
  // loaded, which the administrator never saw
  it('asks first, and leaves an error recorded after the screen loaded unacknowledged', async () => {
    const { page, served } = ctx;
    const dialogs = recordDialogs(page);
    const pending = (await integrations()).find((i) => i.unacknowledged.errors > 0);
    if (!pending) throw new Error('The demo tenant has no system with errors to acknowledge.');
    await signIn(page, served, served.adminKey, '/?tenant=acme&view=integrations&show=summary');
    const row = page.locator(`table.integrations-table tr[data-id="${pending.system}"]`);
    await row.waitFor({ timeout: 15_000 });

    const later = await served.post<{ events: Array<{ seq: number }> }>('/v1/events', {
      tenant: 'acme',
      category: 'integrations',
      action: 'integration.invoice_export_failed',
      outcome: 'failure',
      status: 'error',
      actor: { type: 'integration', id: pending.system, name: pending.name },
      description: `${pending.name} rejected an invoice after the page was loaded`,
      targets: [{ type: 'integration', id: pending.system, name: pending.name }],
      metadata: { system: pending.name },
    });
    const laterSeq = later.events[0]?.seq ?? 0;

    // The question takes focus; Escape puts it back on the button and acknowledges nothing.
    const button = page.getByRole('button', { name: `Acknowledge ${pending.name}` });
    await button.click();
    const yes = page.getByRole('button', { name: 'Yes, acknowledge' });
    await expect.poll(() => yes.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    expect(await row.locator('.confirm').textContent()).toContain(
      `Acknowledge the ${pending.unacknowledged.errors} error`,
    );
    await page.keyboard.press('Escape');
    await yes.waitFor({ state: 'detached' });
    expect(await button.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    expect((await integrations()).find((i) => i.system === pending.system)?.acknowledged).toEqual(
      pending.acknowledged,
    );

    await button.click();
    await yes.click();
    await page.getByText(`Acknowledged the errors and notifications of ${pending.name}.`).waitFor();
    const after = (await integrations()).find((i) => i.system === pending.system);
    expect(after?.unacknowledged.errors).toBe(1);
    expect(after?.acknowledged?.upToSeq).toBeLessThan(laterSeq);
    await expect.poll(() => row.textContent()).toContain('1 error');
    expect(dialogs).toEqual([]);
  });
});
