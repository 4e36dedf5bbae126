/**
 * What the console ships: at most 250 KB of gzipped JavaScript (issue #6), content-hashed
 * files under `assets/`, and an `index.html` that a strict Content Security Policy allows —
 * no inline script, no inline style.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const LIMIT_BYTES = 250 * 1024;

describe('The built console', () => {
  beforeAll(() => {
    if (!existsSync(join(DIST, 'index.html'))) {
      throw new Error(`No built console in ${DIST}: run "npm run build" at the repository root.`);
    }
  });

  const assets = () => readdirSync(join(DIST, 'assets'));

  it('ships at most 250 KB of gzipped JavaScript', () => {
    const scripts = assets().filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce(
      (sum, f) => sum + gzipSync(readFileSync(join(DIST, 'assets', f)), { level: 9 }).length,
      0,
    );
    console.info(`Console JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(LIMIT_BYTES);
  });

  it('names its assets by content hash', () => {
    for (const file of assets()) expect(file).toMatch(/^[\w-]+-[\w-]{8,}\.(js|css)$/);
  });

  it('has no inline script or style for CSP to block', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="/);
    expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/); // no script body
    expect(html).not.toMatch(/<style\b|\sstyle="/);
    expect(html).toMatch(/<link rel="stylesheet"[^>]*href="\/assets\//);
  });
});
