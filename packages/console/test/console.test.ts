/**
 * The console in a real browser against a real server with the demo tenant (issue #6): sign-in,
 * every view's columns and events, each filter, search, paging and Back, the detail panel,
 * exports, the derived summaries, acknowledgement, and event data that is never markup. One
 * browser page and one server for the whole suite; a screenshot of every tab goes to
 * `test-output/console/`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredEvent, ViewDefinition } from '@hindsight/core';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EventPage,
  Integration,
  LoginAccountPage,
  MessageDetail,
  MessagePage,
  Stats,
} from '../src/api-types.js';
import {
  actorText,
  channelText,
  clientText,
  locationText,
  messageTypeText,
  plainText,
  valueAt,
  verbText,
} from '../src/formats.js';
import { type Browser, chromiumSkipReason, launchChromium } from './chromium.js';
import { exportedIds } from './export-file.js';
import { recordDialogs, type ServedConsole, serveConsole } from './served-console.js';

const SHOTS = fileURLToPath(new URL('../../../test-output/console/', import.meta.url));
/** The browser's time zone: +09:00 all year, so the days picked in date filters are exact. */
const ZONE = 'Asia/Tokyo';
const ZONE_OFFSET = '+09:00';
const DAY_MS = 86_400_000;
const skipReason = chromiumSkipReason();

if (skipReason !== null) {
  describe.skip(`Console in Chromium (skipped: ${skipReason})`, () => {
    it('runs when Chromium is installed', () => {});
  });
} else {
  describe('Console in Chromium', () => {
    let served: ServedConsole;
    let browser: Browser;
    let page: Page;
    let views: ViewDefinition[];
    const dialogs: string[] = [];
    const pageErrors: string[] = [];
    const cspViolations: string[] = [];

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      served = await serveConsole();
      browser = await launchChromium({
        viewport: { width: 1440, height: 900 },
        locale: 'en-GB',
        timezoneId: ZONE,
        acceptDownloads: true,
      });
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      recordDialogs(page, dialogs);
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      views = (await served.get<{ views: ViewDefinition[] }>('/v1/tenants/acme/views')).views;
    });

    afterAll(async () => {
      await browser?.close();
      await served?.close();
    });

    // --- helpers --------------------------------------------------------------------------

    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

    const viewOf = (id: string): ViewDefinition => {
      const view = views.find((v) => v.id === id);
      if (!view) throw new Error(`no view ${id}`);
      return view;
    };

    /** A page of events as the API answers it. */
    const events = (params: Record<string, string>) =>
      served.get<EventPage>(
        `/v1/tenants/acme/events?${new URLSearchParams({ limit: '50', ...params })}`,
      );

    /** Every event matching the filters. */
    async function allEvents(params: Record<string, string>): Promise<StoredEvent[]> {
      const out: StoredEvent[] = [];
      let cursor: string | null = null;
      do {
        const page: EventPage = await events({
          ...params,
          limit: '500',
          ...(cursor ? { cursor } : {}),
        });
        out.push(...page.events);
        cursor = page.nextCursor;
      } while (cursor !== null);
      return out;
    }

    const rowIds = (table = 'table.events-table') =>
      page
        .locator(`${table} tbody tr`)
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));

    const expectRows = (ids: string[], table?: string) =>
      expect.poll(() => rowIds(table), { timeout: 10_000 }).toEqual(ids);

    async function signIn(key: string) {
      await page.getByLabel('API key').fill(key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('tablist', { name: 'Logs' }).waitFor();
      // The check of the log's signature records itself in the audit log while the first page
      // loads; once it is done, the page is loaded again, so that what it shows and what the
      // tests read from the API afterwards are the same log.
      const integrity = page.locator('.integrity:not([data-integrity="checking"])');
      if ((await page.locator('.integrity').count()) > 0) {
        await integrity.waitFor({ timeout: 15_000 });
        await page.reload();
        await page.getByRole('tablist', { name: 'Logs' }).waitFor();
        await integrity.waitFor({ timeout: 15_000 });
      }
    }

    async function openTab(label: string) {
      const tab = page.getByRole('tab', { name: label, exact: true });
      await tab.click();
      await expect.poll(() => tab.getAttribute('aria-selected')).toBe('true');
    }

    const apply = () => page.getByRole('button', { name: 'Apply filters' }).click();
    const clear = () => page.getByRole('button', { name: 'Clear filters' }).click();
    const timeOf = async (cell: Locator) =>
      (await cell.locator('time').count()) === 0
        ? null
        : cell.locator('time').first().getAttribute('datetime');

    /** A file the console offers for download after `click`; its error message otherwise. */
    async function download(click: () => Promise<void>): Promise<{ name: string; text: string }> {
      const refused = page
        .locator('.export-bar [role="alert"]')
        .waitFor({ timeout: 10_000 })
        .then(async () => {
          throw new Error(`Export refused: ${await page.locator('.export-bar').textContent()}`);
        });
      refused.catch(() => {}); // only the race below reports it
      const [file] = await Promise.all([
        Promise.race([page.waitForEvent('download', { timeout: 10_000 }), refused]),
        click(),
      ]);
      return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
    }

    // --- sign-in ---------------------------------------------------------------------------

    it('refuses a key it cannot use with a clear message, then signs in', async () => {
      await page.goto(served.url);
      await shot('sign-in');
      await page.getByLabel('API key').fill('hsk_0000000000000000_not-a-real-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect
        .poll(() => page.getByRole('alert').textContent())
        .toMatch(/not accepted.*unknown or has been revoked/);
      await shot('sign-in-refused');
      await signIn(served.adminKey);
      // The key lives in this tab's sessionStorage only: not in localStorage (which holds at
      // most the log's last checked checkpoint, its witness), no cookie.
      const [sessionItems, localItems, cookie] = (await page.evaluate(
        '[sessionStorage.length, Object.entries(localStorage), document.cookie]',
      )) as [number, Array<[string, string]>, string];
      expect([sessionItems, cookie]).toEqual([1, '']);
      for (const [name, value] of localItems) {
        expect(name).toMatch(/^hindsight:seen-checkpoint:/);
        expect(value).not.toContain(served.adminKey);
        expect(JSON.parse(value)).toEqual({
          size: expect.any(Number),
          root: expect.stringMatching(/^[0-9a-f]{64}$/),
          at: expect.any(String),
        });
      }
    });

    // --- views -----------------------------------------------------------------------------

    it('shows every view as a tab with its columns and the events the API returns', async () => {
      expect(await page.getByRole('tab').allTextContents()).toEqual(views.map((v) => v.label));
      for (const view of views) {
        await openTab(view.label);
        const expected = await events(view.category === null ? {} : { category: view.category });
        await expectRows(expected.events.map((e) => e.id));
        const headers = await page.locator('table.events-table thead th').allTextContents();
        expect(headers.slice(1), view.id).toEqual(view.columns.map((c) => c.label));
        // The first row renders each column's field with its format.
        const first = expected.events[0] as StoredEvent;
        const cells = page.locator('table.events-table tbody tr').first().locator('td');
        for (const [i, column] of view.columns.entries()) {
          const cell = cells.nth(i + 1);
          const value = valueAt(first, column.field);
          const text = (await cell.textContent()) ?? '';
          const expectText: Partial<Record<string, string>> = {
            text: plainText(value),
            seq: plainText(value),
            ip: plainText(value),
            verb: verbText(value),
            location: locationText(value),
            client: clientText(value),
            'message-type': messageTypeText(value),
            channel: channelText(value),
            actor: actorText(value).name,
          };
          const want = expectText[column.format];
          if (column.format === 'time') expect(await timeOf(cell)).toBe(value);
          else if (want !== undefined) expect(text, `${view.id} ${column.field}`).toContain(want);
        }
        await shot(`tab-${view.id}`);
      }
    });

    // regression: the first column was headed "ID" but showed the event's seq (811),
    // which the details call "Number (seq)", beside a separate "Event ID demo-000811"
    it('heads the seq column as the number the details show, not as an id', async () => {
      await openTab('All events');
      const { events: page1 } = await events({});
      await expectRows(page1.map((e) => e.id));
      const heading = page.locator('table.events-table thead th[data-format="seq"]');
      expect(await heading.textContent()).toBe('No.');
      expect(await heading.getAttribute('title')).toBe('Number in the log (seq)');
      const name = 'No.: Number in the log (seq)';
      expect(await page.getByRole('columnheader', { name, exact: true }).count()).toBe(1);
      const first = page1[0] as StoredEvent;
      const row = page.locator('table.events-table tbody tr').first();
      expect(await row.locator('td[data-format="seq"]').textContent()).toBe(String(first.seq));
      await row.click();
      const record = page.getByRole('dialog').locator('.facts > div', { hasText: 'Number (seq)' });
      await expect.poll(() => record.locator('dd').textContent()).toBe(String(first.seq));
      // The actor's type in words: "API key", not "Api key" from `api_key`.
      const types = { user: 'User', api_key: 'API key', system: 'System' } as const;
      const type = page.getByRole('dialog').locator('.facts > div', { hasText: /^Type/ });
      expect(await type.locator('dd').textContent()).toBe(
        types[first.actor.type as keyof typeof types],
      );
      await page.keyboard.press('Escape');
      // Every built-in view with the number heads it the same way.
      for (const view of views.filter((v) => v.builtin)) {
        for (const column of view.columns.filter((c) => c.format === 'seq')) {
          expect(column.label, view.id).toBe('No.');
        }
      }
    });

    // --- filters ---------------------------------------------------------------------------

    it('narrows the results with each filter exactly as the API does', async () => {
      await openTab('All events');
      const everything = await allEvents({});
      const tokyoDay = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10);
      const from = tokyoDay(Date.now() - 30 * DAY_MS);
      const to = tokyoDay(Date.now() - 10 * DAY_MS);
      const cases: ReadonlyArray<{
        readonly label: string;
        readonly value: string;
        readonly select?: boolean;
        readonly params: Record<string, string>;
      }> = [
        { label: 'User', value: 'alice@acme.test', params: { actor: 'alice@acme.test' } },
        { label: 'Action type', value: 'user.*', params: { action: 'user.*' } },
        { label: 'Target', value: 'KR-015', params: { target: 'KR-015' } },
        { label: 'Outcome', value: 'failure', select: true, params: { outcome: 'failure' } },
        { label: 'Status', value: 'hard_bounce', params: { status: 'hard_bounce' } },
        { label: 'Channel', value: 'import', select: true, params: { channel: 'import' } },
        { label: 'IP address', value: '81.2.0.0/16', params: { ip: '81.2.0.0/16' } },
        {
          label: 'From',
          value: from,
          params: { since: new Date(`${from}T00:00:00${ZONE_OFFSET}`).toISOString() },
        },
        {
          label: 'To (inclusive)',
          value: to,
          params: {
            until: new Date(Date.parse(`${to}T00:00:00${ZONE_OFFSET}`) + DAY_MS).toISOString(),
          },
        },
        { label: 'Search', value: 'invoice', params: { q: 'invoice' } },
        {
          label: 'Search',
          value: 'action:login.* -outcome:success',
          params: { q: 'action:login.* -outcome:success' },
        },
      ];
      for (const c of cases) {
        const field = page.getByLabel(c.label, { exact: true });
        if (c.select) await field.selectOption(c.value);
        else await field.fill(c.value);
        await apply();
        const expected = await events(c.params);
        const total = (await allEvents(c.params)).length;
        expect(total, c.label).toBeGreaterThan(0);
        expect(total, c.label).toBeLessThan(everything.length);
        await expectRows(expected.events.map((e) => e.id));
        await shot(`filter-${Object.keys(c.params)[0]}`);
        await clear();
        await expectRows(everything.slice(0, 50).map((e) => e.id));
      }

      // Two filters together, kept in the URL: a reload shows the same.
      await page.getByLabel('User', { exact: true }).fill('alice@acme.test');
      await page.getByLabel('Outcome', { exact: true }).selectOption('failure');
      await apply();
      const both = await events({ actor: 'alice@acme.test', outcome: 'failure' });
      await expectRows(both.events.map((e) => e.id));
      expect(new URL(page.url()).searchParams.get('actor')).toBe('alice@acme.test');
      await page.reload();
      await expectRows(both.events.map((e) => e.id));
      await clear();

      // Nothing found says so and how to widen the search.
      await page.getByLabel('Search', { exact: true }).fill('zzqqxxnothingmatches');
      await apply();
      await page.getByText('No events match these filters.').waitFor();
      await clear();
      await expectRows(everything.slice(0, 50).map((e) => e.id));
    });

    it('shows the server’s invalid_query message and marks where the search went wrong', async () => {
      const q = 'actor:alice@acme.test "unterminated';
      await page.getByLabel('Search', { exact: true }).fill(q);
      await apply();
      const problem = page.locator('.query-error');
      await problem.waitFor();
      expect(await problem.textContent()).toContain('Unterminated quote at position 22');
      expect(await problem.locator('mark').textContent()).toBe('"');
      expect(await page.getByLabel('Search', { exact: true }).getAttribute('aria-invalid')).toBe(
        'true',
      );
      await shot('search-invalid');
      await clear();
    });

    // --- paging ----------------------------------------------------------------------------

    it('pages to older events and back, with its buttons and with the browser', async () => {
      await openTab('All events');
      const first = await events({});
      const second = await events({ cursor: first.nextCursor ?? '' });
      await expectRows(first.events.map((e) => e.id));
      await page.getByRole('button', { name: 'Next page →' }).click();
      await expectRows(second.events.map((e) => e.id));
      expect(new URL(page.url()).searchParams.get('pages')).toBe(first.nextCursor);
      await page.goBack();
      await expectRows(first.events.map((e) => e.id));
      await page.goForward();
      await expectRows(second.events.map((e) => e.id));
      await page.getByRole('button', { name: '← Previous page' }).click();
      await expectRows(first.events.map((e) => e.id));
    });

    // --- details ---------------------------------------------------------------------------

    it('opens an event’s details with before → after and deep links, by mouse and keyboard', async () => {
      await openTab('Changes');
      const { events: changes } = await events({ category: 'changes' });
      const event = changes.find(
        (e) =>
          e.targets?.[0]?.url?.startsWith('https://') &&
          e.changes?.some((c) => c.before !== undefined && c.after !== undefined),
      ) as StoredEvent;
      await expectRows(changes.map((e) => e.id));
      await page.locator(`table.events-table tr[data-id="${event.id}"]`).click();
      const panel = page.getByRole('dialog');
      await expect
        .poll(() => panel.getByRole('heading', { level: 2 }).textContent())
        .toBe(event.description);
      const change = event.changes?.find((c) => c.before !== undefined) as NonNullable<
        StoredEvent['changes']
      >[number];
      const row = panel.locator('table.change-table tbody tr', { hasText: change.field });
      expect(await row.locator('td').allTextContents()).toEqual([
        plainText(change.before),
        plainText(change.after),
      ]);
      const target = event.targets?.[0] as NonNullable<StoredEvent['targets']>[number];
      const link = panel.locator('.target-list a.deep-link').first();
      expect(await link.getAttribute('href')).toBe(target.url);
      expect(await link.getAttribute('rel')).toContain('noopener');
      expect(await panel.textContent()).toContain(event.hash);
      expect(new URL(page.url()).searchParams.get('event')).toBe(event.id);
      await shot('detail-changes');

      // Escape closes the panel and puts focus back on the row.
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached' });
      expect(await page.evaluate('document.activeElement?.dataset?.id')).toBe(event.id);

      // Space ticks the focused row for export, and unticks it.
      const box = page.getByLabel(`Select event ${event.seq}`);
      await page.keyboard.press('Space');
      await expect.poll(() => box.isChecked()).toBe(true);
      await page.keyboard.press('Space');
      await expect.poll(() => box.isChecked()).toBe(false);

      // The arrow keys move between rows; Enter opens the details.
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const second = changes[1] as StoredEvent;
      await expect
        .poll(() => panel.getByRole('heading', { level: 2 }).textContent())
        .toBe(second.description);
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'detached' });

      // A sensitive change shows only that the field changed.
      const secret = (await allEvents({ category: 'changes' })).find((e) =>
        e.changes?.some((c) => c.sensitive),
      ) as StoredEvent;
      await page.goto(`${served.url}/?tenant=acme&view=changes&event=${secret.id}`);
      const sensitive = page.getByRole('dialog').locator('table.change-table tbody tr').first();
      await expect.poll(() => sensitive.textContent()).toContain('changed');
      await shot('detail-sensitive');
      await page.keyboard.press('Escape');
    });

    it('follows the user, a target and the address of an event to every event sharing them', async () => {
      await openTab('Changes');
      const { events: changes } = await events({ category: 'changes' });
      const event = changes.find(
        (e) => e.actor.type === 'user' && e.actor.id && e.context?.ip && e.targets?.length,
      ) as StoredEvent;
      await expectRows(changes.map((e) => e.id));
      const follow = async (link: string, params: Record<string, string>) => {
        await page.locator(`table.events-table tr[data-id="${event.id}"]`).click();
        const panel = page.getByRole('dialog');
        await panel.getByRole('link', { name: link }).first().click();
        await panel.waitFor({ state: 'detached' });
        const tab = page.getByRole('tab', { name: 'All events', exact: true });
        await expect.poll(() => tab.getAttribute('aria-selected')).toBe('true');
        const expected = (await events(params)).events.map((e) => e.id);
        expect(expected).toContain(event.id);
        await expectRows(expected);
        // The filter is in its field and in the address, as if the reader had typed it.
        const [name, value] = Object.entries(params)[0] as [string, string];
        expect(new URL(page.url()).searchParams.get(name)).toBe(value);
        await page.goBack();
        await expect
          .poll(() =>
            page.getByRole('tab', { name: 'Changes', exact: true }).getAttribute('aria-selected'),
          )
          .toBe('true');
      };
      await follow('Events by this user', { actor: event.actor.id as string });
      await shot('events-by-user');
      const target = event.targets?.[0] as NonNullable<StoredEvent['targets']>[number];
      await follow(`Events on this ${target.type.replaceAll('_', ' ')}`, { target: target.id });
      await follow('Events from this address', { ip: event.context?.ip as string });
    });

    it('switches times between the reader’s zone and UTC', async () => {
      await openTab('All events');
      const { events: page1 } = await events({});
      await expectRows(page1.map((e) => e.id));
      const firstTime = page.locator('table.events-table tbody tr').first().locator('time');
      const local = await firstTime.textContent();
      await page.getByRole('button', { name: /Times in Asia\/Tokyo/ }).click();
      await page.getByRole('button', { name: /Times in UTC/ }).waitFor();
      await expect.poll(() => firstTime.textContent()).not.toBe(local);
      expect(new URL(page.url()).searchParams.get('tz')).toBe('utc');
      await page.getByRole('button', { name: /Times in UTC/ }).click();
      await expect.poll(() => firstTime.textContent()).toBe(local);
    });

    // --- export ----------------------------------------------------------------------------

    it('exports the filtered view and the selected events as CSV and NDJSON', async () => {
      await openTab('User logins');
      await page.getByLabel('Outcome', { exact: true }).selectOption('failure');
      await apply();
      const params = { category: 'logins', outcome: 'failure' };
      const expected = await allEvents(params);
      await expectRows(expected.slice(0, 50).map((e) => e.id));
      for (const format of ['csv', 'ndjson'] as const) {
        const file = await download(() =>
          page.getByRole('button', { name: format.toUpperCase(), exact: true }).click(),
        );
        // Named for what it holds, so that the exports of two logs do not take one name.
        expect(file.name).toMatch(new RegExp(`^acme-logins-\\d{4}-\\d{2}-\\d{2}\\.${format}$`));
        // The same events as the view, in the same order (newest first).
        expect(exportedIds(file.text, format)).toEqual(expected.map((e) => e.id));
      }

      // Bulk: tick two rows, export only those.
      const chosen = [expected[0], expected[2]] as StoredEvent[];
      for (const e of chosen) await page.getByLabel(`Select event ${e.seq}`).check();
      await page.getByText('2 selected').waitFor();
      await shot('export-selection');
      for (const format of ['csv', 'ndjson'] as const) {
        const file = await download(() =>
          page.getByRole('button', { name: `Export selected as ${format.toUpperCase()}` }).click(),
        );
        expect(file.name).toMatch(new RegExp(`^acme-selected-\\d{4}-\\d{2}-\\d{2}\\.${format}$`));
        expect(exportedIds(file.text, format).sort()).toEqual(chosen.map((e) => e.id).sort());
      }
      await clear();
    });

    // --- summaries -------------------------------------------------------------------------

    it('lists each account with its last successful and last failed login', async () => {
      await openTab('User logins');
      await page.getByRole('button', { name: 'Users', exact: true }).click();
      const { users } = await served.get<LoginAccountPage>('/v1/tenants/acme/logins/users');
      await expectRows(
        users.map((u) => u.key),
        'table.accounts-table',
      );
      for (const user of users) {
        const row = page.locator(`table.accounts-table tr[data-id="${user.key}"]`);
        expect(await timeOf(row.locator('[data-cell="last-success"]'))).toBe(
          user.lastSuccess?.time ?? null,
        );
        expect(await timeOf(row.locator('[data-cell="last-failure"]'))).toBe(
          user.lastFailure?.time ?? null,
        );
        if (user.lastSuccess?.location) {
          expect(await row.locator('[data-cell="last-success"]').textContent()).toContain(
            locationText(user.lastSuccess.location),
          );
        }
        // A last successful login from a country new to the account is marked, in words.
        expect(
          await row.locator('[data-cell="last-success"] .badge[data-status="new_country"]').count(),
        ).toBe(user.newCountry ? 1 : 0);
      }
      await shot('tab-logins-users');

      // The demo's traveller, and only those the server marks, when asked for new countries.
      const away = (
        await served.get<LoginAccountPage>('/v1/tenants/acme/logins/users?newCountry=true')
      ).users;
      expect(away.map((u) => u.key)).toEqual(['u-1011']);
      await page.getByLabel('Last successful login', { exact: true }).selectOption('true');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expectRows(
        away.map((u) => u.key),
        'table.accounts-table',
      );
      expect(new URL(page.url()).searchParams.get('new_country')).toBe('true');
      expect(
        await page.locator('table.accounts-table .badge[data-status="new_country"]').textContent(),
      ).toContain('New country');
      await shot('tab-logins-users-new-country');
      await page.getByRole('button', { name: 'Clear filters' }).click();
    });

    it('shows a log’s activity as the server counts it, and leads from a top action to its events', async () => {
      await openTab('All events');
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/stats'));
      await page.getByRole('button', { name: 'Activity', exact: true }).click();
      const response = await answered;
      const asked = new URL(response.url()).searchParams;
      const stats = (await response.json()) as Stats;
      // By the hour over the reader's last 30 days: from a midnight in Tokyo.
      expect(asked.get('interval')).toBe('hour');
      expect(new Date(Date.parse(asked.get('since') ?? '') + 9 * 3_600_000).toISOString()).toMatch(
        /T00:00:00\.000Z$/,
      );
      expect(Date.now() - Date.parse(asked.get('since') ?? '')).toBeGreaterThan(29 * DAY_MS);
      // What the page shows is what the server counts, asked again here.
      const again = await served.get<Stats>(`/v1/tenants/acme/stats?${asked}`);
      expect(again.total).toBe(stats.total);
      expect(stats.total).toBeGreaterThan(100);
      const status = page.locator('.activity [role="status"]');
      await expect
        .poll(() => status.textContent())
        .toContain(`${stats.total.toLocaleString('en')} events`);
      expect(await status.textContent()).toContain(`${stats.outcomes.failure} failures`);
      const sum = (cells: string[]) =>
        cells.reduce((n, c) => n + Number(c.replace(/\D/g, '') || 0), 0);
      expect(sum(await page.locator('.activity-days .bar-count').allTextContents())).toBe(
        stats.total,
      );
      const counts = await page
        .locator('.activity-hours tbody td')
        .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-count') ?? '0'));
      expect(counts).toHaveLength(7 * 24);
      expect(sum(counts)).toBe(stats.total);
      const actions = page.locator('.activity-top').first().locator('tbody tr');
      expect(
        await actions.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key'))),
      ).toEqual(stats.byAction.map((a) => a.action));
      await shot('activity-all');

      // A top action leads to its events, in the same range of the log.
      const top = stats.byAction[0] as Stats['byAction'][number];
      await actions.first().getByRole('button').click();
      await expect.poll(() => new URL(page.url()).searchParams.get('action')).toBe(top.action);
      expect(new URL(page.url()).searchParams.get('show')).toBeNull();
      const { events: expected } = await events({ action: top.action });
      await expectRows(expected.map((e) => e.id));
      await clear();
    });

    it('shows a message with mixed status and each receiver’s status with its explanation', async () => {
      await openTab('Communications');
      await page.getByRole('button', { name: 'Messages', exact: true }).click();
      const { messages } = await served.get<MessagePage>('/v1/tenants/acme/messages');
      await expectRows(
        messages.map((m) => m.id),
        'table.messages-table',
      );
      await shot('tab-communications-messages');
      const mixed = messages.find((m) => m.status === 'mixed');
      expect(mixed).toBeDefined();
      const row = page.locator(`table.messages-table tr[data-id="${mixed?.id}"]`);
      expect(await row.locator('.badge').textContent()).toContain('Mixed status');
      await row.click();
      const detail = await served.get<MessageDetail>(`/v1/tenants/acme/messages/${mixed?.id}`);
      const statuses = viewOf('communications').statuses ?? [];
      const panel = page.getByRole('dialog');
      await panel.locator('table.receivers-table').waitFor();
      expect(await panel.locator('.overall').textContent()).toContain('Mixed status');
      expect(new Set(detail.receiverList.map((r) => r.status)).size).toBeGreaterThan(1);
      for (const receiver of detail.receiverList) {
        const line = panel.locator(`tr[data-address="${receiver.address}"]`);
        expect(await line.locator('.badge').getAttribute('data-status')).toBe(receiver.status);
        const meaning = statuses.find((s) => s.value === receiver.status);
        expect(await line.textContent()).toContain(meaning?.explanation ?? '');
      }
      await shot('message-mixed');
      await page.keyboard.press('Escape');
    });

    it('shows connected systems; acknowledging needs events:write, and says so', async () => {
      const before = (
        await served.get<{ integrations: Integration[] }>('/v1/tenants/acme/integrations')
      ).integrations;
      const pending = before.find(
        (i) => i.unacknowledged.errors + i.unacknowledged.notifications > 0,
      ) as Integration;
      expect(pending).toBeDefined();

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('You have signed out').waitFor();
      await signIn(served.readKey);
      await openTab('Integrations');
      await page.getByRole('button', { name: 'Systems', exact: true }).click();
      await expectRows(
        before.map((i) => i.system),
        'table.integrations-table',
      );
      await shot('tab-integrations-systems');
      // The key cannot acknowledge, so it is not offered to: the screen says what it needs.
      expect(await page.getByRole('button', { name: /^Acknowledge / }).count()).toBe(0);
      await page.getByText('Acknowledging needs an API key with the events:write scope.').waitFor();
      await shot('acknowledge-not-offered');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(served.adminKey);
      await page.getByRole('button', { name: `Acknowledge ${pending.name}` }).click();
      await page.getByRole('button', { name: 'Yes, acknowledge' }).click();
      await page
        .getByText(`Acknowledged the errors and notifications of ${pending.name}.`)
        .waitFor();
      const row = page.locator(`table.integrations-table tr[data-id="${pending.system}"]`);
      await expect.poll(() => row.textContent()).toContain('Nothing');
      const after = (
        await served.get<{ integrations: Integration[] }>('/v1/tenants/acme/integrations')
      ).integrations.find((i) => i.system === pending.system);
      expect(after?.unacknowledged).toEqual({ errors: 0, notifications: 0 });
    });

    // --- safety ----------------------------------------------------------------------------

    it('renders markup in event data as text, never as HTML', async () => {
      const description = '<img src=x onerror=alert(1)>';
      await served.post('/v1/events', {
        tenant: 'acme',
        category: 'changes',
        action: 'note.created',
        actor: { id: 'u-mallory', name: '<script>alert(2)</script>' },
        description,
        metadata: { module: '<b>Notes</b>', html: '<svg onload=alert(3)>' },
      });
      await openTab('Changes');
      const first = page.locator('table.events-table tbody tr').first();
      await expect.poll(() => first.textContent()).toContain(description);
      expect(await first.textContent()).toContain('<script>alert(2)</script>');
      await first.click();
      const panel = page.getByRole('dialog');
      await expect
        .poll(() => panel.getByRole('heading', { level: 2 }).textContent())
        .toBe(description);
      expect(await panel.textContent()).toContain('<svg onload=alert(3)>');
      expect(await page.locator('img[src="x"], svg[onload], b:text("Notes")').count()).toBe(0);
      await page.waitForTimeout(300);
      expect(dialogs).toEqual([]);
      await shot('markup-as-text');
      await page.keyboard.press('Escape');
    });

    it('fits a phone: nothing runs off the side, Sign out included', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        // regression: the hidden "(opens in the product, in a new tab)" of the
        // links in Codes and User management escaped the table's scrolling and widened the page
        const tooWide: string[] = [];
        for (const view of views) {
          await page.goto(`${served.url}/?tenant=acme&view=${view.id}`);
          await page.locator('table.events-table tbody tr').first().waitFor({ timeout: 15_000 });
          const [scrollWidth, innerWidth] = (await page.evaluate(
            '[document.documentElement.scrollWidth, window.innerWidth]',
          )) as [number, number];
          if (scrollWidth > innerWidth) tooWide.push(`${view.id}: ${scrollWidth}px`);
        }
        expect(tooWide).toEqual([]);
        await page.goto(`${served.url}/?tenant=acme&view=all`);
        await page.getByRole('tablist', { name: 'Logs' }).waitFor();
        const innerWidth = (await page.evaluate('window.innerWidth')) as number;
        const signOut = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
        expect(signOut && signOut.x + signOut.width).toBeLessThanOrEqual(innerWidth);
      } finally {
        await page.setViewportSize({ width: 1440, height: 900 });
      }
    });

    it('raised no script errors and no Content Security Policy violations', () => {
      expect(pageErrors).toEqual([]);
      expect(cspViolations).toEqual([]);
      expect(dialogs).toEqual([]);
    });
  });
}
