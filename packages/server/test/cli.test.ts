/**
 * The `hindsight` binary as an operator runs it: real processes, a real port, real files.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { note } from '@hindsight/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { providedPostgres, testDatabase } from './postgres.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** Runs `hindsight verify …` with `input` on its standard input: exit code and standard output. */
function verifyInput(input: Buffer, ...args: string[]): Promise<{ code: number; stdout: string }> {
  const child = spawn(process.execPath, [CLI, 'verify', ...args]);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stdin.end(input);
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code: code ?? -1, stdout })),
  );
}

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: () => string;
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * Starts `hindsight serve` on a free port and waits until it listens; `location` is a data
 * directory or a PostgreSQL URL.
 */
async function serve(location: string, ...args: string[]): Promise<Served> {
  const store = location.startsWith('postgres') ? '--database-url' : '--data';
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', store, location, '--no-geoip', ...args],
    { env: { ...process.env, HINDSIGHT_LOG_LEVEL: 'warn' } },
  );
  children.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function adminKeyOf(output: string): string {
  const m = /^\s+(hsk_\S+)$/m.exec(output);
  if (!m?.[1]) throw new Error(`no admin key in:\n${output}`);
  return m[1];
}

async function stop(served: Served): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => served.child.on('exit', resolve));
  served.child.kill('SIGTERM');
  return exited;
}

const auth = (key: string) => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
});

describe('hindsight serve', () => {
  // A SIGTERM that came before the handler was set killed the process mid-start (exit code
  // null): a test that stopped the server right after it printed its address failed so.
  it('stops cleanly on a SIGTERM that arrives while it starts', async () => {
    const tmp = tempDir();
    try {
      const child = spawn(
        process.execPath,
        [CLI, 'serve', '--port', '0', '--data', tmp.dir, '--demo'],
        {
          env: { ...process.env, HINDSIGHT_LOG_LEVEL: 'warn' },
        },
      );
      children.push(child);
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // Its first line (the new signing key) comes once the store is opened, before the demo
      // tenant is loaded: the signal arrives in the middle of the start.
      await new Promise<void>((resolve) =>
        child.stdout.once('data', (d: Buffer) => {
          output += d.toString();
          resolve();
        }),
      );
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      // It finished starting, then closed: the store is whole and opens again.
      const again = await serve(tmp.dir);
      expect(again.output()).toContain('listening on');
      expect(await stop(again)).toBe(0);
    } finally {
      tmp.remove();
    }
  });

  it('prints the first admin key once, and only on the first start', async () => {
    const tmp = tempDir();
    const first = await serve(tmp.dir);
    const key = adminKeyOf(first.output());
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    const list = await fetch(`${first.url}/v1/tenants/acme/events`, { headers: auth(key) });
    expect(list.status).toBe(200);
    expect(await stop(first)).toBe(0);

    const second = await serve(tmp.dir);
    expect(second.output()).not.toMatch(/hsk_/);
    await stop(second);
    tmp.remove();
  });

  it('serves the metrics without a key on --metrics-port, and only there', async () => {
    const tmp = tempDir();
    const served = await serve(tmp.dir, '--metrics-port', '0');
    const line = /Metrics, without a key: (http:\/\/127\.0\.0\.1:\d+\/metrics)/;
    // Printed just after the line `serve` waits for.
    for (let i = 0; i < 50 && !line.test(served.output()); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = line.exec(served.output())?.[1];
    expect(url, served.output()).toBeDefined();
    const scraped = await fetch(url as string);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('hindsight_http_requests_total');
    expect((await fetch(`${served.url}/metrics`)).status).toBe(401);
    // Another server on the address: the message names what could not be served, and where.
    const metricsPort = new URL(url as string).port;
    const taken = await cli(
      'serve',
      '--data',
      tmp.dir,
      '--port',
      '0',
      '--metrics-port',
      metricsPort,
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(
      `Cannot serve the metrics on 127.0.0.1:${metricsPort}: the address is in use`,
    );
    expect(taken.stderr).toContain('; give another port with --metrics-port.');
    const apiPort = new URL(served.url).port;
    const apiTaken = await cli('serve', '--data', tmp.dir, '--port', apiPort);
    expect(apiTaken.code).toBe(1);
    expect(apiTaken.stderr).toContain(`Cannot serve the API on 127.0.0.1:${apiPort}: the address`);
    expect(apiTaken.stderr).toContain('; give another port with --port.');
    expect(await stop(served)).toBe(0);
    // Found before anything starts, not as a clash of the server with itself.
    const same = await cli('serve', '--data', tmp.dir, '--port', '3107', '--metrics-port', '3107');
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('Invalid --metrics-port 3107: the API listens on that port');
    const refused = await cli('serve', '--data', tmp.dir, '--metrics-port', 'nine');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Invalid port "nine"/);
    const dashed = await cli('serve', '--data', tmp.dir, '--port', '-1');
    expect(dashed.code).toBe(2);
    expect(dashed.stderr).toContain(
      'hindsight: --port takes a value, and the next argument starts with a dash; write --port=VALUE',
    );
    const negative = await cli('serve', '--data', tmp.dir, '--port=-1');
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/Invalid port "-1"/);
    const shedding = await cli('serve', '--data', tmp.dir, '--max-pending-events', 'lots');
    expect(shedding.code).toBe(2);
    expect(shedding.stderr).toContain(
      'Invalid --max-pending-events "lots": give a number of events',
    );
    const proxy = await cli(
      'serve',
      '--data',
      tmp.dir,
      '--trust-proxy',
      '10.0.0.0/8,proxy.internal',
    );
    expect(proxy.code).toBe(2);
    expect(proxy.stderr).toMatch(/Invalid --trust-proxy "10\.0\.0\.0\/8,proxy\.internal"/);
    const scrub = await cli('serve', '--data', tmp.dir, '--scrub-interval', 'daily');
    expect(scrub.code).toBe(2);
    expect(scrub.stderr).toMatch(/Invalid --scrub-interval "daily": give e\.g\. 30m, 1h or 1d/);
    // Past what a Node.js timer holds, it would run every millisecond.
    for (const flag of ['--scrub-interval', '--retention-interval']) {
      const long = await cli('serve', '--data', tmp.dir, flag, '30d');
      expect(long.code).toBe(2);
      expect(long.stderr).toContain(`Invalid ${flag} "30d": at most 24d.`);
    }
    // fetch cannot send a user name and password: every checkpoint would fail, logging them.
    const anchor = await cli('serve', '--data', tmp.dir, '--anchor-url', 'https://u:pw9@a.test/h');
    expect(anchor.code).toBe(2);
    expect(anchor.stderr).toContain('a URL with a user name or password cannot be used');
    expect(anchor.stderr).not.toContain('pw9');
    // An anchor file nowhere to write is found at start, not at the first checkpoint.
    const nowhere = await cli('serve', '--data', tmp.dir, '--anchor-file', '/no-such-dir/a.jsonl');
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('Invalid --anchor-file "/no-such-dir/a.jsonl"');
    const level = await run(process.execPath, [CLI, 'serve', '--data', tmp.dir], {
      env: { ...process.env, HINDSIGHT_LOG_LEVEL: 'verbose' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('Invalid HINDSIGHT_LOG_LEVEL "verbose"');
    // A database URL that is none, or a database that cannot be reached: no signing key is
    // made in ./hindsight-data, and the URL's password is not shown.
    const inCwd = (...args: string[]) =>
      run(process.execPath, [CLI, 'serve', ...args], { cwd: tmp.dir }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    const malformed = await inCwd('--database-url', 'postgres://u:pw9@[db');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('Invalid --database-url: it is not a URL.');
    const scheme = await inCwd('--database-url', 'mysql://u:pw9@db/h');
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('Invalid --database-url: Unsupported database URL scheme');
    const unreachable = await inCwd('--database-url', 'postgres://u:pw9@127.0.0.1:1/h');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('could not be opened');
    for (const { stderr } of [malformed, scheme, unreachable]) expect(stderr).not.toContain('pw9');
    expect(existsSync(join(tmp.dir, 'hindsight-data'))).toBe(false);
    tmp.remove();
  });

  // Debian's fonts-droid-fallback and poppler-utils, as in export-pdf.test.ts.
  const droid = '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf';
  it.skipIf(
    (!existsSync(droid) || !existsSync('/usr/bin/pdffonts')) && process.env['CI'] !== 'true',
  )('sets PDF exports in the fonts of --pdf-font, and refuses a file that is no font', async () => {
    const tmp = tempDir();
    const served = await serve(tmp.dir, '--pdf-font', droid);
    const key = adminKeyOf(served.output());
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const posted = await fetch(`${served.url}/v1/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        tenant: 'jp',
        action: 'user.login',
        actor: { id: 'u', name: '山田' },
      }),
    });
    expect(posted.status).toBe(202);
    const pdf = await fetch(`${served.url}/v1/tenants/jp/export?format=pdf`, { headers });
    expect(pdf.status).toBe(200);
    const file = join(tmp.dir, 'jp.pdf');
    writeFileSync(file, Buffer.from(await pdf.arrayBuffer()));
    expect((await run('pdffonts', [file])).stdout).toContain('DroidSansFallback');
    expect(await stop(served)).toBe(0);
    const notFont = await cli('serve', '--data', tmp.dir, '--pdf-font', CLI);
    expect(notFont.code).toBe(2);
    expect(notFont.stderr).toContain(
      `Invalid --pdf-font: Cannot use the PDF font ${CLI}: Unknown font format.`,
    );
    const missing = await run(process.execPath, [CLI, 'serve', '--data', tmp.dir], {
      env: { ...process.env, HINDSIGHT_PDF_FONTS: `${droid}:/nonexistent.ttf` },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(missing).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'Cannot use the PDF font /nonexistent.ttf: no such file or directory.',
      ),
    });
    tmp.remove();
  });

  it('loads the demo tenant with --demo, once', async () => {
    const tmp = tempDir();
    const served = await serve(tmp.dir, '--demo');
    const key = adminKeyOf(served.output());
    expect(served.output()).toMatch(/Loaded the demo tenant "acme" with \d+ events/);
    const res = await fetch(
      `${served.url}/v1/tenants/acme/events?category=logins&outcome=failure`,
      {
        headers: auth(key),
      },
    );
    const body = (await res.json()) as { events: unknown[] };
    expect(body.events.length).toBeGreaterThan(0);
    await stop(served);
    const again = await serve(tmp.dir, '--demo');
    expect(again.output()).not.toMatch(/Loaded the demo tenant/);
    await stop(again);
    tmp.remove();
  });

  it('never loses an event it answered 202 for, even when killed', async () => {
    const tmp = tempDir();
    const served = await serve(tmp.dir);
    const key = adminKeyOf(served.output());
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, b) =>
        fetch(`${served.url}/v1/events`, {
          method: 'POST',
          headers: auth(key),
          body: JSON.stringify({
            events: Array.from({ length: 50 }, (_, i) => ({
              tenant: 'durable',
              id: `b${b}-e${i}`,
              action: 'record.created',
              actor: { id: 'u1' },
            })),
          }),
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    served.child.kill('SIGKILL');
    await new Promise((resolve) => served.child.on('exit', resolve));

    const restarted = await serve(tmp.dir);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = cursor ? `&cursor=${cursor}` : '';
      const res = await fetch(`${restarted.url}/v1/tenants/durable/events?limit=500${qs}`, {
        headers: auth(key),
      });
      const page = (await res.json()) as {
        events: Array<{ id: string }>;
        nextCursor: string | null;
      };
      ids.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(1000);
    await stop(restarted);
    tmp.remove();
  });
});

describe('checkpoint signing key', () => {
  it('is created once under the data directory, kept secret, and reused', async () => {
    const tmp = tempDir();
    const first = await serve(tmp.dir, '--origin', 'audit.example.com');
    expect(first.output()).toMatch(/Created the checkpoint signing key/);
    const vkey = /Checkpoints are signed by (\S+)/.exec(first.output())?.[1];
    expect(vkey).toMatch(/^audit\.example\.com\+[0-9a-f]{8}\+/);
    const file = join(tmp.dir, 'signing.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^PRIVATE\+KEY\+audit\.example\.com\+/);
    const key = adminKeyOf(first.output());
    await fetch(`${first.url}/v1/events`, {
      method: 'POST',
      headers: auth(key),
      body: JSON.stringify({ tenant: 'acme', action: 'a.b', actor: { id: 'u' } }),
    });
    const signed = await (
      await fetch(`${first.url}/v1/tenants/acme/checkpoint`, { headers: auth(key) })
    ).text();
    expect(signed.startsWith('audit.example.com/acme\n1\n')).toBe(true);
    await stop(first);
    const again = await serve(tmp.dir, '--origin', 'audit.example.com');
    expect(again.output()).not.toMatch(/Created the checkpoint signing key/);
    expect(again.output()).toContain(`Checkpoints are signed by ${vkey}`);
    await stop(again);
    tmp.remove();
  });

  it('exports a log that `hindsight verify` accepts, and refuses once it is cut short', async () => {
    const tmp = tempDir();
    const anchors = join(tmp.dir, 'anchors.ndjson');
    const served = await serve(tmp.dir, '--anchor-file', anchors);
    const key = adminKeyOf(served.output());
    for (let b = 0; b < 3; b++) {
      const res = await fetch(`${served.url}/v1/events`, {
        method: 'POST',
        headers: auth(key),
        body: JSON.stringify({
          events: Array.from({ length: 40 }, (_, i) => ({
            tenant: 'acme',
            action: 'record.updated',
            actor: { id: `u${i}`, name: 'Ann Lee', email: 'ann@acme.test' },
            description: `batch ${b} event ${i}`,
          })),
        }),
      });
      expect(res.status).toBe(202);
      // Let the server sign (and anchor) a checkpoint of this size.
      await new Promise((r) => setTimeout(r, 1100));
    }
    const publicKey = join(tmp.dir, 'server.pub');
    writeFileSync(publicKey, await (await fetch(`${served.url}/v1/keys/public`)).text());
    const exported = await fetch(`${served.url}/v1/tenants/acme/export?format=ndjson`, {
      headers: auth(key),
    });
    const file = join(tmp.dir, 'acme.ndjson');
    writeFileSync(file, await exported.text());
    await stop(served);
    expect(readFileSync(anchors, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(3);

    const verify = (...args: string[]) =>
      run(process.execPath, [CLI, 'verify', ...args]).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => error,
      );
    const ok = await verify(file, '--public-key', publicKey, '--checkpoint', anchors);
    expect(ok.stdout).toMatch(/^OK: tenant acme, 120 events/);
    expect(ok.code).toBe(0);
    // A file it cannot read is named, in words.
    const unread = await cli('verify', file, '--public-key', join(tmp.dir, 'missing.pub'));
    expect(unread.code).toBe(1);
    expect(unread.stderr).toBe(
      `hindsight: Cannot read ${join(tmp.dir, 'missing.pub')}: no such file or directory.\n`,
    );
    // The same verdict as JSON, for programs.
    const json = await verify(file, '--public-key', publicKey, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      tenant: 'acme',
      events: 120,
      checkpoints: expect.any(Number),
      verifiedSize: 120,
      pruned: 0,
      redacted: [],
      problems: [],
    });
    // From standard input, and gzip-compressed under any name: told by its first bytes.
    const piped = await verifyInput(gzipSync(readFileSync(file)), '-', '--public-key', publicKey);
    expect(piped).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^OK: tenant acme, 120 events/),
    });
    const packed = join(tmp.dir, 'acme.export');
    writeFileSync(packed, gzipSync(readFileSync(file)));
    expect((await verify(packed, '--public-key', publicKey)).stdout).toMatch(/^OK: tenant acme/);
    // A gzip stream cut short is an error, not a verdict on the events it held.
    writeFileSync(packed, gzipSync(readFileSync(file)).subarray(0, 2000));
    const torn = await verify(packed, '--public-key', publicKey);
    expect(torn.code).toBe(1);
    expect(torn.stdout).toBe('');

    // The newest 40 events and every checkpoint after the first cut from the file: only the
    // anchored checkpoints tell.
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const kept = lines.filter((l) => {
      const line = JSON.parse(l) as { type: string; event?: { seq: number }; note?: string };
      if (line.type === 'event') return (line.event?.seq ?? 0) <= 80;
      if (line.type === 'checkpoint') return (line.note ?? '').split('\n')[1] === '40';
      return true;
    });
    const header = JSON.parse(kept[0] ?? '{}') as Record<string, unknown>;
    kept[0] = JSON.stringify({ ...header, size: 80 });
    const cut = join(tmp.dir, 'cut.ndjson');
    writeFileSync(cut, `${kept.join('\n')}\n`);
    const refused = await verify(cut, '--public-key', publicKey, '--checkpoint', anchors);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^FAILED/);
    expect(refused.stdout).toMatch(/truncated \(seq 81\)/);
    const refusedJson = await verify(
      cut,
      '--public-key',
      publicKey,
      '--checkpoint',
      anchors,
      '--json',
    );
    expect(refusedJson.code).toBe(1);
    const report = JSON.parse(refusedJson.stdout) as { ok: boolean; problems: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', seq: 81 }));
    tmp.remove();
  });

  it('refuses a missing key file, a malformed origin, public URL or webhook key', async () => {
    const tmp = tempDir();
    const fail = (args: string[]) =>
      run(process.execPath, [CLI, 'serve', '--port', '0', '--data', tmp.dir, ...args]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
    const missing = await fail(['--signing-key', join(tmp.dir, 'nope.key')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No signing key file/);
    expect(existsSync(join(tmp.dir, 'nope.key'))).toBe(false);
    const origin = await fail(['--origin', 'has space']);
    expect(origin.code).toBe(2);
    expect(origin.stderr).toMatch(/Invalid origin/);
    const publicUrl = await fail(['--public-url', 'audit.example.com']);
    expect(publicUrl.code).toBe(2);
    expect(publicUrl.stderr).toMatch(/Invalid --public-url/);
    // A mistyped webhook key fails the start, not the first webhook.
    const sendgrid = await fail(['--sendgrid-public-key', 'not-a-key']);
    expect(sendgrid.code).toBe(1);
    expect(sendgrid.stderr).toMatch(/SendGrid public key/);
    tmp.remove();
  });
});

describe('two servers on one data directory', () => {
  it('keep each tenant gap-free while both write concurrently', async () => {
    const tmp = tempDir();
    const first = await serve(tmp.dir);
    const key = adminKeyOf(first.output());
    const second = await serve(tmp.dir);
    const post = (url: string, b: number) =>
      fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: auth(key),
        body: JSON.stringify({
          events: Array.from({ length: 20 }, (_, i) => ({
            tenant: i % 2 === 0 ? 'shared-a' : 'shared-b',
            action: 'record.created',
            actor: { id: `u${b}` },
          })),
        }),
      });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, b) => post(b % 2 === 0 ? first.url : second.url, b)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    for (const tenant of ['shared-a', 'shared-b']) {
      const res = await fetch(`${second.url}/v1/tenants/${tenant}/events?limit=500&order=asc`, {
        headers: auth(key),
      });
      const { events } = (await res.json()) as { events: Array<{ seq: number }> };
      const seqs = events.map((e) => e.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
    await stop(first);
    await stop(second);
    tmp.remove();
  });
});

const provided = providedPostgres();
describe.skipIf('skip' in provided)('hindsight serve --database-url postgres://', () => {
  it('serves the demo tenant from PostgreSQL, and a second server shares it gap-free', async () => {
    const db = await testDatabase('url' in provided ? provided.url : '');
    const first = await serve(db.url, '--demo');
    expect(first.output()).toMatch(/store: postgres/);
    expect(first.output()).toMatch(/Loaded the demo tenant "acme" with \d+ events/);
    const key = adminKeyOf(first.output());
    const failed = await fetch(
      `${first.url}/v1/tenants/acme/events?category=logins&outcome=failure`,
      {
        headers: auth(key),
      },
    );
    expect(((await failed.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);

    // A second server on the same database: no second admin key, no second demo.
    const second = await serve(db.url, '--demo');
    expect(second.output()).not.toMatch(/hsk_|Loaded the demo tenant/);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, b) =>
        fetch(`${(b % 2 === 0 ? first : second).url}/v1/events`, {
          method: 'POST',
          headers: auth(key),
          body: JSON.stringify({
            events: Array.from({ length: 10 }, () => ({
              tenant: 'shared',
              action: 'record.created',
              actor: { id: `u${b}` },
            })),
          }),
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const res = await fetch(`${second.url}/v1/tenants/shared/events?limit=500`, {
      headers: auth(key),
    });
    const { events } = (await res.json()) as { events: Array<{ seq: number; hash: string }> };
    expect(events.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    await stop(first);
    await stop(second);
    await db.drop();
  });
});

describe('hindsight keys create', () => {
  it('makes a key that a running server accepts at once', async () => {
    const tmp = tempDir();
    const served = await serve(tmp.dir);
    const { stdout } = await run(process.execPath, [
      CLI,
      'keys',
      'create',
      '--scope',
      'events:write',
      '--scope',
      'events:read',
      '--tenant',
      'acme',
      '--name',
      'ci',
      '--data',
      tmp.dir,
    ]);
    const key = stdout.trim().split('\n').pop() ?? '';
    expect(key).toMatch(/^hsk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const post = await fetch(`${served.url}/v1/events`, {
      method: 'POST',
      headers: auth(key),
      body: JSON.stringify({ tenant: 'acme', action: 'user.created', actor: { id: 'u1' } }),
    });
    expect(post.status).toBe(202);
    const other = await fetch(`${served.url}/v1/tenants/other/events`, { headers: auth(key) });
    expect(other.status).toBe(403);
    await stop(served);
    tmp.remove();
  });

  it('reads the data directory and port from the environment', async () => {
    const tmp = tempDir();
    const child = spawn(process.execPath, [CLI, 'serve', '--no-geoip'], {
      env: {
        ...process.env,
        HINDSIGHT_DATA: tmp.dir,
        HINDSIGHT_PORT: '0',
        HINDSIGHT_HOST: '127.0.0.1',
        HINDSIGHT_LOG_LEVEL: 'silent',
      },
    });
    children.push(child);
    const listening = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const url = /listening on (http:\/\/\S+) /.exec(out)?.[1];
        if (url) resolve(url);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { stdout } = await run(
      process.execPath,
      [CLI, 'keys', 'create', '--scope', 'events:read'],
      {
        env: { ...process.env, HINDSIGHT_DATA: tmp.dir },
      },
    );
    const key = stdout.trim().split('\n').pop() ?? '';
    const res = await fetch(`${listening}/v1/tenants/acme/events`, { headers: auth(key) });
    expect(res.status).toBe(200);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    tmp.remove();
  });

  it('runs as the installed `hindsight` command', async () => {
    const bin = fileURLToPath(new URL('../bin/hindsight.js', import.meta.url));
    const { stdout } = await run(process.execPath, [bin, '--help']);
    expect(stdout).toMatch(/^Usage:\n {2}hindsight --help \| --version\n {2}hindsight serve/);
    // After a command too, and with nothing else done (no store is opened).
    for (const args of [
      ['verify', '--help'],
      ['serve', '-h'],
      ['keys', 'create', '--help'],
    ]) {
      const shown = await cli(...args, '--data', '/nonexistent/hindsight');
      expect(shown, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      // That command's usage, with the scopes and environment, and no other command's.
      const lines = shown.stdout.split('\n').filter((l) => l.startsWith('  hindsight '));
      expect(lines.length, shown.stdout).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(new RegExp(`^ {2}hindsight ${args[0]} `));
      for (const line of lines) expect(stdout).toContain(line);
      expect(shown.stdout).toContain('\nEnvironment: HINDSIGHT_DATA');
      expect(shown.stdout).toMatch(/Every command: hindsight --help\n$/);
    }
    expect((await cli('help')).stdout).toBe(stdout);
    expect((await cli('nonsense', '--help')).stdout).toBe(stdout);
    const { version } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect((await cli('--version')).stdout).toBe(`hindsight ${version}\n`);
  });

  it('refuses unknown scopes, missing scopes and a name with a control character with exit code 2', async () => {
    const tmp = tempDir();
    for (const args of [['--scope', 'events:everything'], []]) {
      const result = await run(process.execPath, [
        CLI,
        'keys',
        'create',
        ...args,
        '--data',
        tmp.dir,
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/scope/);
    }
    // A name with a control character, refused as the API refuses them in every text value.
    const named = await cli(
      'keys',
      'create',
      '--scope',
      'events:read',
      '--name',
      'ci\u001b[2Jkey',
      '--data',
      tmp.dir,
    );
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('The key name must not contain control characters.');
    expect((await cli('keys', 'list', '--data', tmp.dir)).stderr).toContain('No keys.');
    tmp.remove();
  });
});

describe('a rotated signing key', () => {
  it('signs on with a new key and cosigns the newest checkpoint; older ones need the old key', async () => {
    const tmp = tempDir();
    const post = async (url: string, key: string) => {
      const events = Array.from({ length: 10 }, (_, i) => ({
        tenant: 'acme',
        action: 'doc.viewed',
        actor: { id: `u${i}` },
      }));
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: auth(key),
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(202);
      // Let the server sign a checkpoint of this size.
      await new Promise((r) => setTimeout(r, 1100));
      return fetch(`${url}/v1/keys/public`).then((r) => r.text());
    };
    const first = await serve(tmp.dir);
    const key = adminKeyOf(first.output());
    const before = join(tmp.dir, 'before.pub');
    await post(first.url, key);
    writeFileSync(before, await post(first.url, key));
    await stop(first);
    // The operator retires the key: the next start makes a new one.
    renameSync(join(tmp.dir, 'signing.key'), join(tmp.dir, 'retired.key'));
    expect(first.output()).not.toMatch(/Warning/);
    const second = await serve(tmp.dir);
    expect(second.output()).toMatch(/Created the checkpoint signing key/);
    // It says so: the log's newest checkpoint is signed by the retired key.
    const { verifierKey } = JSON.parse(readFileSync(before, 'utf8')) as { verifierKey: string };
    const retired = verifierKey.split('+').slice(0, 2).join('+');
    expect(second.output()).toContain(
      `Warning: the newest checkpoints of 1 tenant(s) (acme) were signed by another key (${retired})`,
    );
    expect(second.output()).toContain('the server signed them with its own key as well');
    // The newest checkpoint of the old key now verifies with either key; the log did not grow.
    const newKey = (await fetch(`${second.url}/v1/keys/public`).then((r) => r.json())) as {
      verifierKey: string;
    };
    const newest = await fetch(`${second.url}/v1/tenants/acme/checkpoint`, {
      headers: auth(key),
    }).then((r) => r.text());
    for (const k of [verifierKey, newKey.verifierKey]) {
      expect(note.openNote(newest, note.parseVerifierKey(k)).text).toMatch(
        /^hindsight\/acme\n20\n/,
      );
    }
    expect(note.noteSigners(newest)).toHaveLength(2);
    const after = join(tmp.dir, 'after.pub');
    writeFileSync(after, await post(second.url, key));
    expect(readFileSync(after, 'utf8')).not.toBe(readFileSync(before, 'utf8'));
    const exported = await fetch(`${second.url}/v1/tenants/acme/export?format=ndjson`, {
      headers: auth(key),
    });
    const file = join(tmp.dir, 'acme.ndjson');
    writeFileSync(file, await exported.text());
    await stop(second);

    const alone = await cli('verify', file, '--public-key', after);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/An exported checkpoint does not verify with the key/);
    const both = await cli('verify', file, '--public-key', before, '--public-key', after);
    expect(both.stdout).toMatch(/^OK: tenant acme, 30 events/);
    expect(both.code).toBe(0);
    tmp.remove();
  });
});

describe('hindsight backup', () => {
  it('copies a running server’s store and key: served, the copy is the same log, and verifies', async () => {
    const tmp = tempDir();
    const copies = tempDir();
    const served = await serve(tmp.dir, '--demo');
    const key = adminKeyOf(served.output());
    const demo = Number(/with (\d+) events/.exec(served.output())?.[1]);
    // Appends go on while the copy is taken.
    let posting = true;
    let posted = 0;
    const poster = (async () => {
      while (posting) {
        const res = await fetch(`${served.url}/v1/events`, {
          method: 'POST',
          headers: auth(key),
          body: JSON.stringify({
            tenant: 'acme',
            action: 'doc.viewed',
            actor: { id: `u${posted}` },
          }),
        });
        expect(res.status).toBe(202);
        posted++;
      }
    })();
    const target = join(copies.dir, 'backup');
    const result = await cli('backup', target, '--data', tmp.dir);
    posting = false;
    await poster;
    expect(result.code, result.stderr).toBe(0);
    const events = Number(
      /([\d,]+) events of 1 tenant,/.exec(result.stdout)?.[1]?.replaceAll(',', ''),
    );
    expect(events).toBeGreaterThanOrEqual(demo);
    expect(events).toBeLessThanOrEqual(demo + posted);
    expect(result.stdout).toMatch(/signing\.key {3}the checkpoint signing key/);
    expect(result.stdout).toContain(`hindsight serve --data ${target}`);
    expect(statSync(join(target, 'signing.key')).mode & 0o777).toBe(0o600);
    const publicKey = join(copies.dir, 'server.pub');
    writeFileSync(publicKey, await (await fetch(`${served.url}/v1/keys/public`)).text());
    await stop(served);

    // The copy, served: the same key signs, the same admin key reads, every event it held.
    const restored = await serve(target);
    expect(await (await fetch(`${restored.url}/v1/keys/public`)).text()).toBe(
      readFileSync(publicKey, 'utf8'),
    );
    const exported = await fetch(`${restored.url}/v1/tenants/acme/export?format=ndjson`, {
      headers: auth(key),
    });
    expect(exported.status).toBe(200);
    const file = join(copies.dir, 'acme.ndjson');
    writeFileSync(file, await exported.text());
    // Its search index came along: the demo's failed sign-ins are found by keyword.
    const found = await fetch(`${restored.url}/v1/tenants/acme/events?q=failed&limit=5`, {
      headers: auth(key),
    });
    expect(((await found.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    await stop(restored);
    // A sqlite: URL names the same store, and its signing key beside it (not in the working
    // directory's ./hindsight-data).
    const again = await cli(
      'backup',
      join(copies.dir, 'again'),
      '--database-url',
      `sqlite:${join(target, 'hindsight.db')}`,
    );
    expect(again.stdout).toContain(`${events.toLocaleString('en-US')} events of 1 tenant`);
    expect(again.stdout).toMatch(/signing\.key {3}the checkpoint signing key/);
    const verified = await cli('verify', file, '--public-key', publicKey);
    expect(verified.stdout).toMatch(new RegExp(`^OK: tenant acme, ${events} events`));
    expect(verified.code).toBe(0);
    tmp.remove();
    copies.remove();
  });

  it('refuses no directory, a directory in use, a missing store and PostgreSQL, clearly', async () => {
    const tmp = tempDir();
    const none = await cli('backup', '--data', tmp.dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Give the one directory to back up to/);
    writeFileSync(join(tmp.dir, 'note.txt'), 'x');
    const used = await cli('backup', tmp.dir, '--data', join(tmp.dir, 'nothing'));
    expect(used.code).toBe(1);
    expect(used.stderr).toMatch(/No Hindsight database at .*nothing\/hindsight\.db/);
    await serve(tmp.dir).then(stop);
    const busy = await cli('backup', tmp.dir, '--data', tmp.dir);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/already exists and is not an empty directory/);
    // A file that is not a database: an error, and nothing left that looks like a backup.
    const garbage = tempDir();
    writeFileSync(join(garbage.dir, 'hindsight.db'), 'not a database'.repeat(100));
    const broken = await cli('backup', join(garbage.dir, 'copy'), '--data', garbage.dir);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/not a database/);
    expect(existsSync(join(garbage.dir, 'copy', 'hindsight.db'))).toBe(false);
    garbage.remove();
    const pg = await cli(
      'backup',
      join(tmp.dir, 'b'),
      '--database-url',
      'postgres://x@127.0.0.1/y',
    );
    expect(pg.code).toBe(1);
    expect(pg.stderr).toMatch(/Back up PostgreSQL with its own tools/);
    tmp.remove();
  });
});

/** Runs the CLI; resolves its exit code and output, also when it fails. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
const idOf = (key: string) => /^hsk_([a-z0-9]{16})_/.exec(key)?.[1] ?? `not a key: ${key}`;

/**
 * `keys rotate`, `keys revoke` and `keys list` against a server that keeps running: the server
 * refuses a revoked or rotated-away key from its next request.
 */
async function revokeAndRotateWhileServing(location: string): Promise<void> {
  const served = await serve(location);
  const admin = adminKeyOf(served.output());
  const store = [location.startsWith('postgres') ? '--database-url' : '--data', location];
  const create = async (...args: string[]) => {
    const created = await cli('keys', 'create', ...args, ...store);
    expect(created.code).toBe(0);
    return lastLine(created.stdout);
  };
  const reader = await create('--scope', 'events:read', '--tenant', 'acme', '--name', 'dashboard');
  const writer = await create('--scope', 'events:write', '--name', 'ingest');
  const read = (key: string, tenant = 'acme') =>
    fetch(`${served.url}/v1/tenants/${tenant}/events`, { headers: auth(key) });
  const write = (key: string) =>
    fetch(`${served.url}/v1/events`, {
      method: 'POST',
      headers: auth(key),
      body: JSON.stringify({ tenant: 'acme', action: 'user.created', actor: { id: 'u1' } }),
    });
  expect((await read(reader)).status).toBe(200);
  expect((await write(writer)).status).toBe(202);

  const rotated = await cli('keys', 'rotate', idOf(reader), ...store);
  expect(rotated.code).toBe(0);
  const replacement = lastLine(rotated.stdout);
  expect(replacement).toMatch(/^hsk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
  expect(replacement).not.toBe(reader);
  expect(rotated.stdout).toBe(`${replacement}\n`);
  expect(rotated.stderr).toContain(`Created key ${idOf(replacement)} to replace ${idOf(reader)}`);
  expect(rotated.stderr).toContain(`Revoked key ${idOf(reader)}`);
  const refused = await read(reader);
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  expect((await read(replacement)).status).toBe(200);
  // The same tenant limit and scopes as the key it replaced.
  expect((await read(replacement, 'other')).status).toBe(403);
  expect((await write(replacement)).status).toBe(403);

  const revoked = await cli('keys', 'revoke', idOf(writer), ...store);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toMatch(new RegExp(`^Revoked key ${idOf(writer)} \\(ingest\\) at 20`));
  expect((await write(writer)).status).toBe(401);
  expect((await read(admin)).status).toBe(200);

  const json = await cli('keys', 'list', '--json', ...store);
  expect(json.code).toBe(0);
  const keys = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const when = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  // Oldest first; every field but the secret's hash, and nothing else.
  expect(keys).toEqual([
    {
      id: idOf(admin),
      name: 'admin',
      scopes: ['admin'],
      tenant: null,
      createdAt: when,
      revokedAt: null,
    },
    {
      id: idOf(reader),
      name: 'dashboard',
      scopes: ['events:read'],
      tenant: 'acme',
      createdAt: when,
      revokedAt: when,
    },
    {
      id: idOf(writer),
      name: 'ingest',
      scopes: ['events:write'],
      tenant: null,
      createdAt: when,
      revokedAt: when,
    },
    {
      id: idOf(replacement),
      name: 'dashboard',
      scopes: ['events:read'],
      tenant: 'acme',
      createdAt: when,
      revokedAt: null,
    },
  ]);

  const table = await cli('keys', 'list', ...store);
  expect(table.code).toBe(0);
  const rows = table.stdout.trimEnd().split('\n');
  expect(rows).toHaveLength(5);
  expect(rows[0]).toMatch(/^ID {16}NAME +SCOPES +TENANT +CREATED +REVOKED$/);
  expect(rows[1]).toMatch(new RegExp(`^${idOf(admin)}  admin +admin +all +20\\S+Z  active$`));
  expect(rows[2]).toMatch(
    new RegExp(`^${idOf(reader)}  dashboard +events:read +acme +20\\S+Z  20\\S+Z$`),
  );
  expect(rows[4]).toMatch(new RegExp(`^${idOf(replacement)}  dashboard .* active$`));
  for (const key of [admin, reader, writer, replacement]) {
    const secret = key.slice('hsk_0123456789abcdef_'.length);
    expect(json.stdout + table.stdout + table.stderr).not.toContain(secret);
  }
  await stop(served);
}

describe('hindsight keys list, revoke and rotate', () => {
  it('take effect on a running server at its next request (SQLite)', async () => {
    const tmp = tempDir();
    await revokeAndRotateWhileServing(tmp.dir);
    tmp.remove();
  }, 60_000);

  it.skipIf('skip' in provided)(
    'take effect on a running server at its next request (PostgreSQL)',
    async () => {
      const db = await testDatabase('url' in provided ? provided.url : '');
      await revokeAndRotateWhileServing(db.url);
      await db.drop();
    },
    60_000,
  );

  it('refuse missing, unknown and revoked keys with a message and exit code', async () => {
    const tmp = tempDir();
    const store = ['--data', tmp.dir];
    const empty = await cli('keys', 'list', ...store);
    expect(empty).toEqual({ code: 0, stdout: '', stderr: 'No keys.\n' });
    const key = lastLine((await cli('keys', 'create', '--scope', 'events:read', ...store)).stdout);
    const other = lastLine((await cli('keys', 'create', '--scope', 'admin', ...store)).stdout);
    const id = idOf(key);

    // Called wrongly: exit 2 with the usage, before any store is opened.
    for (const [args, message] of [
      [['revoke'], 'Give the id of each key to revoke.'],
      [['rotate'], 'Give the id of one key to rotate.'],
      [['rotate', id, idOf(other)], 'Give the id of one key to rotate.'],
      [['revoke', key], `Give the key's id (${id}), not the whole key`],
      [['list', 'extra'], 'Unexpected argument'],
      [['list', '--secrets'], "Unknown option '--secrets'"],
      [['remove', id], 'Unknown command "keys remove".'],
    ] as const) {
      const result = await cli('keys', ...args, ...store);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('Usage:');
    }

    // Unknown ids: exit 1, and `revoke` still revokes the ids it knows.
    for (const action of ['revoke', 'rotate']) {
      const unknown = await cli('keys', action, '0000000000000000', ...store);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe(
        'hindsight: No key with id "0000000000000000"; `hindsight keys list` shows every key.\n',
      );
      expect(unknown.stdout).toBe('');
    }
    const mixed = await cli('keys', 'revoke', 'nope', id, ...store);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('No key with id "nope"');
    const at = /^Revoked key \S+ at (\S+); servers refuse it/.exec(mixed.stdout)?.[1];
    expect(mixed.stdout).toContain(`Revoked key ${id} at `);

    // Revoking again keeps the first time and says so.
    const again = await cli('keys', 'revoke', id, ...store);
    expect(again).toEqual({
      code: 0,
      stdout: `Key ${id} was already revoked at ${at}.\n`,
      stderr: '',
    });

    // A revoked key cannot be rotated, and no key is made.
    const before = (await cli('keys', 'list', '--json', ...store)).stdout;
    const rotated = await cli('keys', 'rotate', id, ...store);
    expect(rotated.code).toBe(1);
    expect(rotated.stdout).toBe('');
    expect(rotated.stderr).toContain(`Key ${id} was revoked at ${at} and cannot be rotated`);
    expect((await cli('keys', 'list', '--json', ...store)).stdout).toBe(before);
    expect(before.trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(before.split('\n')[0] ?? '')).toMatchObject({ id, revokedAt: at });
    tmp.remove();
  }, 60_000);
});

describe('hindsight scrub', () => {
  it('checks every stored log with the verifier key, and names the one changed behind the server’s back', async () => {
    const tmp = tempDir();
    try {
      const anchors = join(tmp.dir, 'anchors');
      const served = await serve(tmp.dir, '--demo', '--anchor-file', anchors);
      const verifierKey = /Checkpoints are signed by (\S+)/.exec(served.output())?.[1] ?? '';
      const demo = Number(/with (\d+) events/.exec(served.output())?.[1]);
      const keyFile = join(tmp.dir, 'server.pub');
      writeFileSync(keyFile, `${verifierKey}\n`);
      const scrub = (...args: string[]) =>
        cli('scrub', '--data', tmp.dir, '--public-key', keyFile, ...args);
      // Stopped once it has said all it says at start (it handles SIGTERM from then on).
      await expect.poll(served.output).toContain('Open http');
      expect(await stop(served)).toBe(0);
      // The server signed the demo's log as it started (the demo is loaded straight into the
      // store): the scrub checks every event.
      const early = await scrub();
      expect(early.code).toBe(0);
      expect(early.stdout).toMatch(new RegExp(`^OK: tenant acme, ${demo} events; `, 'm'));
      expect(early.stdout).not.toContain('not signed by a checkpoint yet');
      const again = await serve(tmp.dir, '--anchor-file', anchors);
      const signed = await fetch(`${again.url}/v1/tenants/acme/checkpoint`, {
        headers: auth(adminKeyOf(served.output())),
      });
      expect(signed.status).toBe(200);
      await expect.poll(again.output).toContain('Open http');
      expect(await stop(again)).toBe(0);

      const clean = await scrub();
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stdout).toMatch(new RegExp(`^OK: tenant acme, ${demo} events; `, 'm'));
      expect(lastLine(clean.stdout)).toBe('1 log verifies.');
      const json = await scrub('--json');
      expect(JSON.parse(json.stdout)).toEqual([
        expect.objectContaining({ ok: true, tenant: 'acme', events: demo, problems: [] }),
      ]);
      // Checked with another key: no checkpoint holds.
      const otherKey = join(tmp.dir, 'other.pub');
      writeFileSync(
        otherKey,
        note.verifierKeyText(note.signerFromSeed('hindsight', Buffer.alloc(32, 4))),
      );
      const other = await cli('scrub', '--data', tmp.dir, '--public-key', otherKey);
      expect(other.code).toBe(1);
      expect(other.stdout).toContain('bad_signature');

      // One event's action changed in the file, as someone with access to it could.
      const intruder = new Database(join(tmp.dir, 'hindsight.db'));
      const row = intruder
        .prepare('SELECT seq, id FROM events WHERE body LIKE ? LIMIT 1')
        .get('%"action":"login.failed"%') as { seq: number; id: string };
      const swap = (from: string, to: string) =>
        intruder
          .prepare('UPDATE events SET body = replace(body, ?, ?) WHERE id = ?')
          .run(`"action":"${from}"`, `"action":"${to}"`, row.id);
      swap('login.failed', 'login.succeeded');
      const changed = await scrub();
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/^FAILED: tenant acme, /m);
      expect(changed.stdout).toContain(`altered (seq ${row.seq}): The event "${row.id}"`);
      expect(lastLine(changed.stdout)).toBe('1 of 1 log does not verify: acme.');

      // Put back, then the newest events removed with every checkpoint that covers them: the
      // stored log alone looks whole; the anchor file's checkpoint says it is not.
      swap('login.succeeded', 'login.failed');
      expect((await scrub()).code).toBe(0);
      intruder.prepare('DELETE FROM events WHERE seq > ?').run(demo - 10);
      intruder.prepare('DELETE FROM checkpoints WHERE size > ?').run(demo - 10);
      intruder.close();
      const shortened = await scrub();
      expect(shortened.code, shortened.stdout).toBe(0);
      const anchored = await scrub('--anchor-file', anchors);
      expect(anchored.code).toBe(1);
      expect(anchored.stdout).toMatch(
        /truncated \(seq \d+\): The trusted checkpoint of size \d+ was signed/,
      );

      // A tenant the store does not hold, or no key: refused plainly.
      const unknown = await scrub('--tenant', 'nope');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('No tenant "nope" in this store.');
      const keyless = await cli('scrub', '--data', tmp.dir);
      expect(keyless.code).toBe(2);
      expect(keyless.stderr).toContain("Give the server's verifier key with --public-key FILE");
    } finally {
      tmp.remove();
    }
  }, 60_000);
});
