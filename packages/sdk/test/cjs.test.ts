/**
 * The CommonJS build, for real: a `.cjs` program in a child process `require`s the package
 * with Node's require(esm) turned off — so the SDK and `@hindsight/core` must both be
 * CommonJS — and records into a real Hindsight. It also imports the ESM build, whose events
 * see the actor set through the CommonJS one.
 */
import { execFile } from 'node:child_process';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Hindsight, startHindsight, uniqueTenant } from './hindsight.js';

let hindsight: Hindsight;
beforeAll(async () => {
  hindsight = await startHindsight();
});
afterAll(async () => {
  await hindsight.close();
});

it('require("@hindsight/sdk") works from CommonJS, without require(esm)', async () => {
  const tenant = uniqueTenant();
  const fixture = fileURLToPath(new URL('./fixtures/use-cjs.cjs', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--no-experimental-require-module', fixture, hindsight.url, hindsight.key, tenant],
    { timeout: 20_000 },
  );
  const report = JSON.parse(stdout) as {
    resolved: string;
    core: string;
    exports: string[];
    esmExports: string[];
    verified: boolean;
  };
  expect(report.resolved.endsWith(['packages', 'sdk', 'cjs', 'dist', 'index.js'].join(sep))).toBe(
    true,
  );
  expect(report.core.endsWith(['packages', 'core', 'cjs', 'dist', 'index.js'].join(sep))).toBe(
    true,
  );
  expect(report.exports).toEqual(report.esmExports.filter((name) => name !== 'default'));
  expect(report.exports).toContain('expressRequestLogger');
  expect(report.verified).toBe(true);

  const stored = await hindsight.events(tenant);
  expect(stored.map((e) => [e.action, e.actor.id])).toEqual([
    ['module.required', 'u-cjs'],
    ['module.imported', 'u-cjs'],
    ['login.succeeded', 'u-9'],
  ]);
});
