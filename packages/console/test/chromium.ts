/**
 * Debian's Chromium for the browser tests, driven by playwright-core (which cannot download a
 * browser here). Headless, with the flags this machine needs (no sandbox as root, no GPU, no
 * QUIC, no background connections to Google's hosts) and a fresh, empty profile each run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type BrowserContextOptions, chromium } from 'playwright-core';
import { describe, it } from 'vitest';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env['HINDSIGHT_CHROMIUM'] ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why the browser suite cannot run here, or `null` when it can. Under `CI=true` the suite
 * always runs, so a missing browser fails the run instead of silently skipping it.
 */
export function chromiumSkipReason(): string | null {
  if (process.env['CI'] === 'true' || existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium) or set HINDSIGHT_CHROMIUM`;
}

/**
 * `describe` when the browser suite can run here; otherwise a skipped suite that says why.
 * @example describeInChromium('Erasure in Chromium', () => { it(…) })
 */
export function describeInChromium(name: string, body: () => void): void {
  const reason = chromiumSkipReason();
  if (reason === null) {
    describe(name, body);
    return;
  }
  describe.skip(`${name} (skipped: ${reason})`, () => {
    it('runs when Chromium is installed', () => {});
  });
}

/** A running browser with one fresh profile; `close` also removes the profile. */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh `--user-data-dir`. */
export async function launchChromium(options: BrowserContextOptions): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'hindsight-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    ...options,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
