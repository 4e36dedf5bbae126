/**
 * The durable outbox: recorded events are appended to a file and fsynced before `record()`
 * resolves, and their file is removed once every event in it has been answered with a 202 (or
 * refused for good). A client that starts on a directory holding files of an earlier process
 * sends their events first.
 *
 * Layout of the directory:
 *   lock-<pid>-<nonce>          the lock of the client using it (see takeLock)
 *   segment-000000000001.ndjson one event per line, as sent (JSON with its `id` and `time`)
 *   segment-000000000002.ndjson …
 *
 * Appends of concurrent `record()` calls are written and fsynced together (group commit): a
 * record waits for at most the write in progress and its own. A crash in the middle of a write
 * can leave a last line without its newline: that event's `record()` never resolved, so the
 * line is cut off when the file is read again.
 */
import { randomBytes } from 'node:crypto';
import {
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HindsightError } from './errors.js';
import type { Entry, SegmentRef } from './queue.js';

/** One outbox file. */
export interface Segment extends SegmentRef {
  readonly file: string;
  /** Nothing more will be appended; the file goes when `outstanding` reaches 0. */
  sealed: boolean;
  /** Written by an earlier process. */
  readonly old: boolean;
}

/** The lines of an earlier process's file, to send again. */
export interface LoadedSegment {
  readonly segment: Segment;
  readonly lines: readonly string[];
}

/** What the outbox tells its owner. */
export interface OutboxHandlers {
  /** These entries are on disk: they may be sent. */
  durable(entries: readonly Entry[]): void;
  /** Writing these entries failed: they are only in memory. */
  failed(entries: readonly Entry[], error: HindsightError): void;
  /** Something to report that concerns no event being sent (an unreadable line). */
  problem(error: HindsightError): void;
}

interface Group {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: HindsightError): void;
}

const SEGMENT = /^segment-(\d{12})\.ndjson$/;
const segmentName = (n: number) => `segment-${String(n).padStart(12, '0')}.ndjson`;
const ignore = () => {};

export class Outbox {
  private active: { segment: Segment; handle: FileHandle; size: number } | null = null;
  private pending: Entry[] = [];
  private group: Group | null = null;
  private writing: Promise<void> | null = null;
  /** Files of earlier processes not loaded yet, oldest first. */
  private readonly old: string[];
  /** Files of earlier processes not yet settled (loaded or not). */
  private oldRemaining: number;
  private readonly io = new Set<Promise<void>>();

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly handlers: OutboxHandlers,
    private readonly lockFile: string,
    old: string[],
    private nextNumber: number,
  ) {
    this.old = old;
    this.oldRemaining = old.length;
  }

  /**
   * Opens (and creates) the outbox directory and takes its lock, synchronously: a client
   * that cannot have its outbox fails where it is created.
   * @example const outbox = Outbox.open('/var/lib/app/hindsight-outbox', 8 << 20, handlers);
   */
  static open(dir: string, segmentBytes: number, handlers: OutboxHandlers): Outbox {
    try {
      mkdirSync(dir, { recursive: true });
      const lockFile = takeLock(dir);
      const names = readdirSync(dir)
        .filter((name) => SEGMENT.test(name))
        .sort();
      const last = names.at(-1);
      const next = last === undefined ? 1 : Number(SEGMENT.exec(last)?.[1]) + 1;
      return new Outbox(dir, segmentBytes, handlers, lockFile, names, next);
    } catch (error) {
      if (error instanceof HindsightError) throw error;
      // A directory that cannot be made, read or written: an option createClient cannot use.
      throw new HindsightError(
        'invalid_options',
        `createClient(): the outbox directory ${dir} cannot be used (${(error as Error).message}).`,
        { cause: error },
      );
    }
  }

  /**
   * Appends an entry; the promise resolves once it is fsynced (together with every entry
   * appended meanwhile), or rejects with `outbox_write_failed`.
   */
  append(entry: Entry): Promise<void> {
    this.pending.push(entry);
    if (this.group === null) this.group = newGroup();
    if (this.writing === null) this.writing = this.writeLoop();
    return this.group.promise;
  }

  /** The entry was delivered or refused for good: its line is no longer needed. */
  settle(entry: Entry): void {
    const segment = entry.segment as Segment | null;
    if (segment === null) return;
    entry.segment = null;
    segment.outstanding--;
    if (segment.outstanding > 0) return;
    if (segment.sealed) {
      this.track(unlink(segment.file));
      if (segment.old) this.oldRemaining--;
    } else if (this.writing === null && this.active?.segment === segment) {
      // Idle and fully delivered: remove the file now rather than at the next crash.
      this.seal();
    }
  }

  /** Whether files of an earlier process are still to be sent. */
  hasOld(): boolean {
    return this.oldRemaining > 0;
  }

  /** Reads the next file of an earlier process; `null` when there is none. */
  async loadOld(): Promise<LoadedSegment | null> {
    const name = this.old.shift();
    if (name === undefined) return null;
    const file = join(this.dir, name);
    const bytes = await readFile(file);
    const end = bytes.lastIndexOf(0x0a) + 1;
    // A torn last line: its write never completed, so its record() never resolved.
    if (end < bytes.length) await truncate(file, end);
    const lines: string[] = [];
    bytes
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line === '') return;
        if (isEventLine(line)) {
          lines.push(line);
          return;
        }
        this.handlers.problem(
          new HindsightError(
            'outbox_unreadable',
            `Line ${i + 1} of the outbox file ${file} is not an event; it was skipped.`,
            { details: [{ file, line: i + 1 }] },
          ),
        );
      });
    const segment: Segment = { file, outstanding: lines.length, sealed: true, old: true };
    if (lines.length === 0) {
      this.oldRemaining--;
      this.track(unlink(file));
    }
    return { segment, lines };
  }

  /** Waits for writes in progress, removes a fully delivered file, and releases the lock. */
  async close(): Promise<void> {
    while (this.writing !== null) await this.writing;
    if (this.active !== null) this.seal();
    while (this.io.size > 0) await Promise.all(this.io);
    await releaseLock(this.lockFile);
  }

  private async writeLoop(): Promise<void> {
    // Let the calls of the current tick join the first write.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const entries = this.pending;
      const group = this.group as Group;
      this.pending = [];
      this.group = null;
      let segment: Segment | null = null;
      try {
        const active = await this.activeSegment();
        segment = active.segment;
        segment.outstanding += entries.length;
        let text = '';
        let size = 0;
        for (const entry of entries) {
          text += `${entry.json}\n`;
          size += entry.bytes + 1;
        }
        await active.handle.appendFile(text);
        await active.handle.datasync();
        active.size += size;
        for (const entry of entries) entry.segment = segment;
        if (active.size >= this.segmentBytes) this.seal();
        group.resolve();
        this.handlers.durable(entries);
      } catch (cause) {
        if (segment !== null) segment.outstanding -= entries.length;
        if (this.active !== null) this.seal();
        const error = new HindsightError(
          'outbox_write_failed',
          `Writing ${entries.length} event(s) to the outbox in ${this.dir} failed; they are kept in memory only.`,
          { cause },
        );
        group.reject(error);
        this.handlers.failed(entries, error);
      }
    }
    this.writing = null;
  }

  private async activeSegment(): Promise<{ segment: Segment; handle: FileHandle; size: number }> {
    if (this.active !== null) return this.active;
    let file = join(this.dir, segmentName(this.nextNumber++));
    let handle: FileHandle | null = null;
    while (handle === null) {
      try {
        // Never append to a file of another writer: the lock rules that out, this checks it.
        handle = await open(file, 'ax');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        file = join(this.dir, segmentName(this.nextNumber++));
      }
    }
    // The new file's name must survive a crash as much as its lines do.
    await syncDirectory(this.dir);
    this.active = {
      segment: { file, outstanding: 0, sealed: false, old: false },
      handle,
      size: 0,
    };
    return this.active;
  }

  /** Closes the active file; it is removed now if everything in it was delivered, else later. */
  private seal(): void {
    const active = this.active;
    if (active === null) return;
    this.active = null;
    active.segment.sealed = true;
    this.track(active.handle.close());
    if (active.segment.outstanding === 0) this.track(unlink(active.segment.file));
  }

  private track(io: Promise<void>): void {
    // A file that cannot be removed is sent again by a later client: harmless (same ids).
    const settled = io.catch(ignore).finally(() => this.io.delete(settled));
    this.io.add(settled);
  }
}

function newGroup(): Group {
  let resolve = ignore;
  let reject: (error: HindsightError) => void = ignore;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that does not await record() must not crash the process on a disk error; the
  // error also goes to onError.
  promise.catch(ignore);
  return { promise, resolve, reject };
}

function isEventLine(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Lock files: `lock-<pid>-<nonce>` holding the owner's identity as JSON, and `lock`, the one lock
 * file of earlier SDK versions, holding a process id.
 */
const LOCK = /^lock(?:-[0-9]+-[0-9a-f]+)?$/;
/** How long clients opening a directory at once keep trying before `outbox_locked`. */
const CONTEND_MS = 1000;
/** A lock file left empty this long was created by a process that died before writing it. */
const EMPTY_LOCK_DEBRIS_MS = 60_000;
/** Lock files this process holds, by path. */
const held = new Set<string>();

/** Who holds a lock: a process id, and where the platform tells, the process's start. */
interface Holder {
  readonly pid: number;
  /** The kernel's boot id and the process's start time (Linux): a reused pid differs. */
  readonly boot?: string;
  readonly start?: string;
}

/**
 * Takes the directory's lock, or throws `outbox_locked` while a live process holds it.
 *
 * Each client creates a lock file of its own (a unique name, so that no one ever removes it but
 * its owner, or a process that finds its owner dead), then reads the directory: if any other
 * lock file belongs to a live process, it removes its own and backs off. Of two clients that
 * try at once, at least one sees the other's file, so two can never both hold the directory.
 * Both may back off: while the other file is a few moments old (another client trying, not
 * one holding), it tries again a random moment later, for up to {@link CONTEND_MS}.
 */
function takeLock(dir: string): string {
  const file = join(dir, `lock-${process.pid}-${randomBytes(8).toString('hex')}`);
  const me: Holder = { pid: process.pid, ...processStart(process.pid) };
  const giveUpAt = Date.now() + CONTEND_MS;
  for (let attempt = 1; ; attempt++) {
    writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
    const other = liveHolder(dir, file);
    if (other === null) {
      held.add(file);
      return file;
    }
    rmSync(file, { force: true });
    const now = Date.now();
    if (other.pid === process.pid || now - other.since > CONTEND_MS || now >= giveUpAt) {
      throw new HindsightError(
        'outbox_locked',
        `The outbox ${dir} is in use by process ${other.pid}${other.pid === process.pid ? ' (this one: close the other client first)' : ''}.`,
      );
    }
    sleepSync(Math.random() * 10 * Math.min(attempt, 8));
  }
}

/** Releases a lock taken by `takeLock`. */
async function releaseLock(file: string): Promise<void> {
  held.delete(file);
  await unlink(file).catch(ignore);
}

/**
 * The live process of another lock file in `dir`, and since when its file is there (the oldest,
 * if several); removes the stale ones.
 */
function liveHolder(dir: string, own: string): { pid: number; since: number } | null {
  let live: { pid: number; since: number } | null = null;
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (!LOCK.test(name) || file === own) continue;
    const holder = readHolder(file);
    if (holder === undefined) continue; // gone meanwhile: released
    if (holder === null) {
      // Empty or unreadable: a lock being written right now, or the debris of a process that
      // died while writing it. Neither holds the directory: a writer reads the directory only
      // after its file is complete, and will see this one.
      if (Date.now() - mtime(file) > EMPTY_LOCK_DEBRIS_MS) rmSync(file, { force: true });
      continue;
    }
    if (isLive(holder, file)) {
      const since = mtime(file);
      if (live === null || since < live.since) live = { pid: holder.pid, since };
    }
    // The holder died (a crash, a SIGKILL), or its pid now belongs to another process: stale.
    else rmSync(file, { force: true });
  }
  return live;
}

/** A lock file's holder: `undefined` if the file is gone, `null` if it says nothing usable. */
function readHolder(file: string): Holder | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return existsSync(file) ? null : undefined;
  }
  if (/^[1-9][0-9]*$/.test(text)) return { pid: Number(text) };
  try {
    const value = JSON.parse(text) as Partial<Holder> | null;
    if (typeof value?.pid !== 'number' || !Number.isSafeInteger(value.pid) || value.pid <= 0) {
      return null;
    }
    return {
      pid: value.pid,
      ...(typeof value.boot === 'string' ? { boot: value.boot } : {}),
      ...(typeof value.start === 'string' ? { start: value.start } : {}),
    };
  } catch {
    return null;
  }
}

function isLive(holder: Holder, file: string): boolean {
  // Our own pid: live only if this process holds that very file. Otherwise it is the lock of an
  // earlier process that had the same pid — as pid 1 of a container restarted after a crash.
  if (holder.pid === process.pid) return held.has(file);
  if (!isAlive(holder.pid)) return false;
  if (holder.start === undefined) return true;
  const now = processStart(holder.pid);
  // Where the start cannot be read, the pid alone decides.
  return now.start === undefined || (now.start === holder.start && now.boot === holder.boot);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The kernel's boot id and the start time of process `pid` (in clock ticks since boot), from
 * Linux's /proc; nothing elsewhere. Together they tell a process from a later one given its pid.
 */
function processStart(pid: number): { boot?: string; start?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3,
    // starttime field 22.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start === undefined || !/^[0-9]+$/.test(start)) return {};
    return { boot: bootId(), start };
  } catch {
    return {};
  }
}

let boot: string | undefined;
function bootId(): string {
  boot ??= readText('/proc/sys/kernel/random/boot_id').trim();
  return boot;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
