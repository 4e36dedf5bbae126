/**
 * Phase (f) of `npm run bench`: the web console on a 1,000,000-event tenant — "first meaningful
 * paint of a tab ≤ 1 s (served from the local server); JavaScript shipped ≤ 250 KB gzipped".
 *
 * On the server of phase (e) (a real `hindsight serve` of the store it filled), it opens Debian's Chromium
 * (playwright-core) signed in with the admin key, and for every tab of the tenant loads the
 * tab's URL in a fresh page: the time from navigation to the first row of the tab's table being
 * visible (or the notice that the log is empty), which covers the HTML, the JavaScript, the API
 * calls and the render. Each tab is
 * loaded `runs` times with an empty cache; p50 and p95 over all loads are reported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { launchChromium } from '../packages/console/test/chromium.js';
import { type BenchServer, percentile, ROOT } from './harness.js';

/** The targets of issue #6. */
export const PAINT_TARGET_MS = 1000;
export const JS_TARGET_KB = 250;
/** The key under which the console keeps its API key (`packages/console/src/auth.ts`). */
const STORAGE_KEY = 'hindsight.console.apiKey';

/** What phase (f) measured. */
export interface ConsoleResult {
  readonly tenant: string;
  readonly events: number;
  readonly javascriptGzipKb: number;
  readonly tabs: Array<{ readonly view: string; readonly p50: number; readonly max: number }>;
  readonly p50: number;
  readonly p95: number;
  readonly met: boolean;
}

/** Gzipped size of the console's JavaScript, in KB. */
function javascriptGzipKb(): number {
  const assets = join(ROOT, 'packages', 'console', 'dist', 'assets');
  let bytes = 0;
  for (const file of readdirSync(assets)) {
    if (file.endsWith('.js'))
      bytes += gzipSync(readFileSync(join(assets, file)), { level: 9 }).length;
  }
  return bytes / 1024;
}

/**
 * Measures the console of a running server whose `tenant` holds `events` events.
 * @example await consoleBench({ server, tenant: 'views-bench', events: 1e6, runs: 5, log })
 */
export async function consoleBench(options: {
  readonly server: Pick<BenchServer, 'url' | 'key'>;
  readonly tenant: string;
  readonly events: number;
  readonly runs: number;
  readonly log: (line: string) => void;
}): Promise<ConsoleResult> {
  const { log, server } = options;
  const browser = await launchChromium({ viewport: { width: 1440, height: 900 } });
  try {
    await browser.context.addInitScript(
      ([name, key]) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem(name as string, key as string),
      [STORAGE_KEY, server.key],
    );
    const response = await fetch(`${server.url}/v1/tenants/${options.tenant}/views`, {
      headers: { authorization: `Bearer ${server.key}` },
    });
    const { views } = (await response.json()) as { views: Array<{ id: string }> };
    const tabs: ConsoleResult['tabs'] = [];
    const all: number[] = [];
    for (const { id } of views) {
      const times: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        const page = await browser.context.newPage();
        const started = performance.now();
        await page.goto(`${server.url}/?tenant=${options.tenant}&view=${id}`);
        // The first row, or the notice that says the log is empty.
        await page
          .locator('table.events-table tbody tr, .notice-empty')
          .first()
          .waitFor({ state: 'visible' })
          .catch(async (error: unknown) => {
            await page.screenshot({ path: join(ROOT, 'bench', 'scratch', `console-${id}.png`) });
            throw error;
          });
        times.push(performance.now() - started);
        await page.close();
      }
      times.sort((a, b) => a - b);
      all.push(...times);
      tabs.push({ view: id, p50: percentile(times, 50), max: times[times.length - 1] ?? 0 });
    }
    all.sort((a, b) => a - b);
    const result: ConsoleResult = {
      tenant: options.tenant,
      events: options.events,
      javascriptGzipKb: javascriptGzipKb(),
      tabs,
      p50: percentile(all, 50),
      p95: percentile(all, 95),
      met: percentile(all, 95) <= PAINT_TARGET_MS && javascriptGzipKb() <= JS_TARGET_KB,
    };
    log(`  ${'tab'.padEnd(16)} ${'p50 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
    for (const t of tabs) {
      log(`  ${t.view.padEnd(16)} ${t.p50.toFixed(0).padStart(8)} ${t.max.toFixed(0).padStart(8)}`);
    }
    log(
      `  first row of a tab, all loads: p50 ${result.p50.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms ` +
        `(target ≤ ${PAINT_TARGET_MS} ms); JavaScript ${result.javascriptGzipKb.toFixed(1)} KB gzipped ` +
        `(target ≤ ${JS_TARGET_KB} KB): ${result.met ? 'met' : 'NOT met'}`,
    );
    return result;
  } finally {
    await browser.close();
  }
}
