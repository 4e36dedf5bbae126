/**
 * The durable outbox against a real Hindsight: on disk before `record()` resolves, fsyncs
 * shared by concurrent records, removed after the 202, drained by the next client — also
 * after the process was SIGKILLed with batches stored but unanswered, and a torn last line.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type HindsightError } from '../src/index.js';
import {
  numbered as event,
  eventually,
  expectExactlyOnce as exactlyOnce,
  uniqueTenant,
  useHindsight,
} from './hindsight.js';
import { startProxy } from './proxy.js';

const ctx = useHindsight();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function outboxDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hindsight-outbox-'));
  dirs.push(dir);
  return dir;
}

/** The id of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid ?? 0;
}

const contender = fileURLToPath(new URL('./fixtures/outbox-contender.mjs', import.meta.url));

/**
 * A process that opens a client on `dir` at `startAt` (ms since epoch): `answer` is what it got
 * (`got` or `locked`); it holds the directory until `release()`, which waits for it to exit.
 */
function contend(dir: string, startAt: number) {
  const child = spawn(process.execPath, [contender, dir, String(startAt)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`outbox-contender exited with ${code}`)),
    );
  });
  const answer = new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve(output.trim());
    });
    exited.then(() => reject(new Error('outbox-contender answered nothing')), reject);
  });
  return {
    answer,
    release: () => {
      child.stdin.end();
      return exited;
    },
  };
}

const segments = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.ndjson'))
    .sort();
const expectExactlyOnce = (tenant: string, n: number) => exactlyOnce(ctx.hindsight, tenant, n);

describe('outbox', () => {
  it('record() resolves once the event is in the outbox file; the file goes after the 202', async () => {
    const dir = outboxDir();
    const tenant = uniqueTenant();
    const proxy = await startProxy(ctx.hindsight.url, () => ({
      forward: true,
      delayAnswerMs: 300,
    }));
    const client = createClient({ url: proxy.url, key: ctx.hindsight.key, outbox: { dir } });
    await client.record({ ...event(tenant, 0), id: 'ev-on-disk' });
    const [file] = segments(dir);
    expect(file).toBeDefined();
    const lines = readFileSync(join(dir, file ?? ''), 'utf8').split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ id: 'ev-on-disk', tenant });
    const [lock] = readdirSync(dir).filter((name) => name.startsWith('lock-'));
    expect(lock).toMatch(new RegExp(`^lock-${process.pid}-[0-9a-f]+$`));
    expect(JSON.parse(readFileSync(join(dir, lock ?? ''), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    await client.flush();
    await eventually(() => segments(dir).length === 0, 2000, 'the outbox file to go');
    await client.close();
    expect(readdirSync(dir)).toEqual([]);
    await expectExactlyOnce(tenant, 1);
    await proxy.close();
  });

  it('records of one tick share one write and fsync; awaiting records join the next', async () => {
    const dir = outboxDir();
    const tenant = uniqueTenant();
    // segmentBytes 1: each write begins a new file, so the files count the writes.
    const proxy = await startProxy(ctx.hindsight.url, () => ({
      forward: true,
      delayAnswerMs: 2000,
    }));
    const client = createClient({
      url: proxy.url,
      key: ctx.hindsight.key,
      outbox: { dir, segmentBytes: 1 },
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => client.record(event(tenant, i))));
    expect(segments(dir)).toHaveLength(1);
    // 50 producers, each awaiting 4 records in turn: 4 writes, not 200.
    await Promise.all(
      Array.from({ length: 50 }, async (_, p) => {
        for (let r = 0; r < 4; r++) await client.record(event(tenant, 200 + p * 4 + r));
      }),
    );
    expect(segments(dir)).toHaveLength(5);
    await client.close();
    expect(segments(dir)).toEqual([]);
    await expectExactlyOnce(tenant, 400);
    await proxy.close();
  });

  it('what one client could not deliver, the next client on the directory sends', async () => {
    const dir = outboxDir();
    const tenant = uniqueTenant();
    const down = createClient({
      url: 'http://127.0.0.1:9',
      key: ctx.hindsight.key,
      outbox: { dir },
      onError: () => {},
    });
    for (let i = 0; i < 20; i++) await down.record(event(tenant, i));
    await down.close({ timeoutMs: 50 });
    expect(segments(dir)).toHaveLength(1);
    expect(readdirSync(dir).filter((name) => name.startsWith('lock'))).toEqual([]);

    const up = createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, outbox: { dir } });
    await up.flush();
    await expectExactlyOnce(tenant, 20);
    await up.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cuts a torn last line off, reports a corrupt one, and sends the others', async () => {
    const dir = outboxDir();
    const tenant = uniqueTenant();
    const line = (i: number) =>
      JSON.stringify({ ...event(tenant, i), id: `ev-${i}`, time: new Date().toISOString() });
    writeFileSync(
      join(dir, 'segment-000000000007.ndjson'),
      `${line(0)}\nnot an event\n${line(1)}\n${line(2).slice(0, 40)}`,
    );
    const problems: HindsightError[] = [];
    const client = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      outbox: { dir },
      onError: (error) => problems.push(error),
    });
    await client.flush();
    expect(problems.map((p) => [p.code, p.details])).toEqual([
      ['outbox_unreadable', [{ file: join(dir, 'segment-000000000007.ndjson'), line: 2 }]],
    ]);
    await expectExactlyOnce(tenant, 2);
    await client.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses whenQueueFull "drop-oldest": the outbox would send the dropped events anyway', () => {
    const dir = outboxDir();
    expect(() =>
      createClient({
        url: ctx.hindsight.url,
        key: ctx.hindsight.key,
        outbox: { dir },
        whenQueueFull: 'drop-oldest',
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: expect.stringContaining('"drop-oldest" cannot go with an outbox'),
      }),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a directory it cannot make or use, naming it and why', () => {
    const file = join(outboxDir(), 'a-file');
    writeFileSync(file, '');
    const dir = join(file, 'outbox');
    expect(() =>
      createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, outbox: { dir } }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: expect.stringMatching(
          new RegExp(`^createClient\\(\\): the outbox directory ${dir} cannot be used \\(ENOTDIR`),
        ),
      }),
    );
  });

  it('one client at a time per directory', async () => {
    const dir = outboxDir();
    const first = createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, outbox: { dir } });
    expect(() =>
      createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, outbox: { dir } }),
    ).toThrow(expect.objectContaining({ code: 'outbox_locked' }));
    await first.close();
    const second = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      outbox: { dir },
    });
    await second.close();
  });

  it('processes opening one directory at the same moment, over a stale lock: exactly one gets it', async () => {
    // The lock of a dead process is there to be taken over; each round, three processes try at
    // the same millisecond. Before the lock was made safe, two of them took it in about one
    // round of three, then wrote the same outbox files.
    // Each holds what it got until all have answered, however late a busy machine starts them.
    const rounds = 5;
    const startAt = Date.now() + 3000;
    const results = await Promise.all(
      Array.from({ length: rounds }, async () => {
        const dir = outboxDir();
        writeFileSync(join(dir, 'lock'), `${deadPid()}\n`);
        const processes = Array.from({ length: 3 }, () => contend(dir, startAt));
        const answers = await Promise.all(processes.map((p) => p.answer));
        await Promise.all(processes.map((p) => p.release()));
        return { answers: answers.sort(), left: readdirSync(dir) };
      }),
    );
    for (const result of results) {
      expect(result).toEqual({ answers: ['got', 'locked', 'locked'], left: [] });
    }
  }, 30_000);

  it("a lock holding this process's own pid, not taken by it, is stale (pid 1 of a restarted container)", async () => {
    const dir = outboxDir();
    writeFileSync(join(dir, 'lock'), `${process.pid}\n`);
    writeFileSync(
      join(dir, `lock-${process.pid}-0badc0de`),
      `${JSON.stringify({ pid: process.pid })}\n`,
    );
    const client = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      outbox: { dir },
    });
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^lock-\d+-[0-9a-f]+$/)]);
    await client.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')(
    'a lock whose pid now belongs to a later process is stale; one of the live process is not',
    async () => {
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
      try {
        const dir = outboxDir();
        const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
        const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
        const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        const lock = (started: string | undefined) =>
          writeFileSync(
            join(dir, `lock-${sleeper.pid}-1`),
            JSON.stringify({ pid: sleeper.pid, boot, start: started }),
          );
        lock('1');
        const client = createClient({
          url: ctx.hindsight.url,
          key: ctx.hindsight.key,
          outbox: { dir },
        });
        expect(existsSync(join(dir, `lock-${sleeper.pid}-1`))).toBe(false);
        await client.close();
        lock(start);
        expect(() =>
          createClient({ url: ctx.hindsight.url, key: ctx.hindsight.key, outbox: { dir } }),
        ).toThrow(
          expect.objectContaining({
            code: 'outbox_locked',
            message: `The outbox ${dir} is in use by process ${sleeper.pid}.`,
          }),
        );
        expect(readdirSync(dir)).toEqual([`lock-${sleeper.pid}-1`]);
      } finally {
        sleeper.kill('SIGKILL');
      }
    },
  );

  it('a process SIGKILLed mid-delivery: after restart every recorded event is stored exactly once', async () => {
    const dir = outboxDir();
    const tenant = uniqueTenant();
    const count = 300;
    // Hindsight stores each batch at once, but its answers take 3 s to come back: when the
    // process dies, some batches are stored and unanswered, the others not sent yet.
    const proxy = await startProxy(ctx.hindsight.url, () => ({
      forward: true,
      delayAnswerMs: 3000,
    }));
    const writer = fileURLToPath(new URL('./fixtures/outbox-writer.mjs', import.meta.url));
    const child = spawn(
      process.execPath,
      [writer, proxy.url, ctx.hindsight.key, tenant, dir, String(count)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await eventually(() => output.includes('all durable'), 15_000, 'the writer to record');
    await eventually(
      async () => (await ctx.hindsight.events(tenant)).length > 0,
      5000,
      'a stored batch',
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const storedBefore = (await ctx.hindsight.events(tenant)).length;
    expect(storedBefore).toBeGreaterThan(0);
    expect(storedBefore).toBeLessThan(count);
    expect(segments(dir).length).toBeGreaterThan(0);
    // A crash in the middle of a write leaves a torn line behind.
    const last = segments(dir).at(-1) ?? '';
    appendFileSync(join(dir, last), '{"tenant":"torn","action":"rep');

    const problems: HindsightError[] = [];
    const client = createClient({
      url: ctx.hindsight.url,
      key: ctx.hindsight.key,
      outbox: { dir },
      onError: (error) => problems.push(error),
    });
    await client.flush();
    await client.close();
    expect(problems).toEqual([]);
    await expectExactlyOnce(tenant, count);
    expect(readdirSync(dir)).toEqual([]);
    await proxy.close();
  }, 40_000);
});
