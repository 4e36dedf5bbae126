/**
 * The Express example (examples/express-app, CommonJS) run as a process against a real
 * Hindsight: sign-ins, a change with before → after by the signed-in user, and the request
 * log with its secrets redacted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, type Hindsight, startHindsight } from './hindsight.js';

let hindsight: Hindsight;
let app: ChildProcess | undefined;
beforeAll(async () => {
  hindsight = await startHindsight();
});
afterAll(async () => {
  app?.kill('SIGKILL');
  await hindsight.close();
});

it('examples/express-app records its logins, changes and requests', async () => {
  const key = await hindsight.createKey(['events:write']);
  const server = fileURLToPath(new URL('../../../examples/express-app/server.js', import.meta.url));
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, HINDSIGHT_URL: hindsight.url, HINDSIGHT_KEY: key, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  app = child;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await eventually(() => /listening on (http:\S+)/.test(output), 10_000, 'the example to listen');
  const url = /listening on (http:\S+)/.exec(output)?.[1] ?? '';
  const json = { 'content-type': 'application/json' };

  const wrong = await fetch(`${url}/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email: 'alice@acme.test', password: 'nope' }),
  });
  expect(wrong.status).toBe(401);
  const signedIn = await fetch(`${url}/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email: 'alice@acme.test', password: 'wonderland' }),
  });
  const { token } = (await signedIn.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const put = await fetch(`${url}/customers/CUS-104233`, {
    method: 'PUT',
    headers: { ...json, ...auth },
    body: JSON.stringify({ plan: 'Premium', address: { city: 'York' } }),
  });
  expect(put.status).toBe(200);
  expect(
    (await fetch(`${url}/customers/CUS-104233?token=${token}`, { headers: auth })).status,
  ).toBe(200);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);

  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);

  const stored = await hindsight.events('acme');
  expect(JSON.stringify(stored)).not.toContain(token);
  const logins = stored.filter((e) => e.category === 'logins');
  expect(logins.map((e) => [e.action, e.actor.email, e.metadata?.['reason']])).toEqual([
    ['login.failed', 'alice@acme.test', 'invalid_password'],
    ['login.succeeded', 'alice@acme.test', undefined],
  ]);
  const change = stored.find((e) => e.action === 'customer.updated');
  expect(change).toMatchObject({
    actor: { id: 'u-1001', name: 'Alice Hughes' },
    changes: [
      { field: 'plan', before: 'Basic', after: 'Premium' },
      { field: 'address.city', before: 'Leeds', after: 'York' },
    ],
  });
  const requests = stored.filter((e) => e.category === 'requests');
  expect(
    requests.map((e) => [
      e.context?.http?.method,
      e.context?.http?.url,
      e.context?.http?.status,
      e.actor.id,
    ]),
  ).toEqual([
    ['POST', '/login', 401, undefined],
    ['POST', '/login', 200, undefined],
    ['PUT', '/customers/CUS-104233', 200, 'u-1001'],
    ['GET', '/customers/CUS-104233?token=REDACTED', 200, 'u-1001'],
  ]);
  await eventually(() => child.exitCode !== null, 1000, 'the example to exit');
});
