/**
 * Exports as background jobs (issue #9): for exports too large to wait for in one request, the
 * server writes the file in the background, reports progress, and serves it for download when
 * done. Jobs live in this server process (their files under its export directory) for
 * {@link KEEP_MS} after they finish; a restart forgets them.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeDirectory } from './file-errors.js';
import { takingTurns } from './pacing.js';

/** How long a finished job and its file are kept. */
export const KEEP_MS = 24 * 3_600_000;

/** A job as the API shows it. */
export interface ExportJobView {
  readonly id: string;
  readonly tenant: string;
  readonly format: string;
  readonly status: 'running' | 'done' | 'failed';
  /**
   * Events and bytes written so far, and how many events there will be when known (`events` is
   * `null` for the whole-log export, which counts bytes only).
   */
  readonly progress: {
    readonly events: number | null;
    readonly total: number | null;
    readonly bytes: number;
  };
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly filename: string;
}

interface Job {
  view: ExportJobView;
  readonly path: string;
  readonly contentType: string;
  /** Stops a running job's writing. */
  readonly abort: AbortController;
  /** Why the job was withdrawn, once it is. */
  withdrawn: string | null;
}

/** What a job writes: the export's chunks, and a way to read how many events went out. */
export interface ExportSource {
  readonly chunks: AsyncGenerator<string | Buffer>;
  readonly events: () => number | null;
  readonly total: number | null;
  /** What is exported, for the file's name: `log`, `selected`, a category, or `events`. */
  readonly subject: string;
}

/**
 * The name of an export's file: `<tenant>-<subject>-<day>.<format>` (`acme-logins-2026-11-25.csv`),
 * with the characters of a tenant name that file systems refuse (`:`) or treat apart (`@`)
 * written `_`.
 */
export function exportFilename(
  tenant: string,
  subject: string,
  day: string,
  format: string,
): string {
  return `${tenant.replace(/[^A-Za-z0-9._-]/g, '_')}-${subject}-${day}.${format}`;
}

/**
 * The running and finished export jobs of this server.
 * @example const view = jobs.start('acme', 'csv', 'text/csv', source); jobs.get('acme', view.id)
 */
export class ExportJobs {
  readonly #dir: string;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Set<Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Starts writing an export in the background; resolves at once with the job. */
  start(tenant: string, format: string, contentType: string, source: ExportSource): ExportJobView {
    this.#forgetOld();
    makeDirectory(this.#dir, 0o700);
    const id = randomBytes(12).toString('base64url');
    const path = join(this.#dir, `${id}.${format}`);
    const createdAt = new Date().toISOString();
    const job: Job = {
      path,
      contentType,
      abort: new AbortController(),
      withdrawn: null,
      view: {
        id,
        tenant,
        format,
        status: 'running',
        progress: { events: 0, total: source.total, bytes: 0 },
        createdAt,
        finishedAt: null,
        error: null,
        filename: exportFilename(tenant, source.subject, createdAt.slice(0, 10), format),
      },
    };
    this.#jobs.set(id, job);
    let bytes = 0;
    const counted = async function* () {
      for await (const chunk of source.chunks) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        yield chunk;
      }
    };
    const progress = () => ({ events: source.events(), total: source.total, bytes });
    const timer = setInterval(() => {
      if (job.view.status === 'running') job.view = { ...job.view, progress: progress() };
    }, 250);
    // In the server's thread beside its requests, which get their turns while it runs.
    const run = pipeline(
      Readable.from(takingTurns(counted())),
      createWriteStream(path, { mode: 0o600 }),
      { signal: job.abort.signal },
    )
      .then(
        () => {
          job.view = {
            ...job.view,
            status: 'done',
            progress: progress(),
            finishedAt: new Date().toISOString(),
          };
        },
        (error: unknown) => {
          rmSync(path, { force: true });
          job.view = {
            ...job.view,
            status: 'failed',
            progress: progress(),
            finishedAt: new Date().toISOString(),
            error: job.withdrawn ?? (error instanceof Error ? error.message : String(error)),
          };
        },
      )
      .finally(() => {
        clearInterval(timer);
        this.#running.delete(run);
      });
    this.#running.add(run);
    return job.view;
  }

  /** A job of the tenant, by id (a job of another tenant is not there). */
  get(tenant: string, id: string): ExportJobView | null {
    const job = this.#jobs.get(id);
    return job && job.view.tenant === tenant ? job.view : null;
  }

  /** The file of a finished job of the tenant. */
  file(tenant: string, id: string): { path: string; contentType: string; filename: string } | null {
    const job = this.#jobs.get(id);
    if (!job || job.view.tenant !== tenant || job.view.status !== 'done') return null;
    return { path: job.path, contentType: job.contentType, filename: job.view.filename };
  }

  /**
   * Withdraws every export of the tenant, running or finished: a running one stops, and each
   * file is removed; the job stays, `failed` with `reason` as its error. Answers how many.
   * For an erasure: a file written before it may hold the person.
   */
  withdraw(tenant: string, reason: string): number {
    let n = 0;
    for (const job of this.#jobs.values()) {
      if (job.view.tenant !== tenant || job.withdrawn !== null || job.view.status === 'failed') {
        continue;
      }
      n++;
      job.withdrawn = reason;
      if (job.view.status === 'running') {
        // The job's own failure handler removes the file and records the reason.
        job.abort.abort();
        continue;
      }
      rmSync(job.path, { force: true });
      job.view = { ...job.view, status: 'failed', error: reason };
    }
    return n;
  }

  /** Waits for running jobs, then removes every job's file. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#running]);
    for (const job of this.#jobs.values()) rmSync(job.path, { force: true });
    this.#jobs.clear();
  }

  #forgetOld(): void {
    const now = Date.now();
    for (const [id, job] of this.#jobs) {
      const finished = job.view.finishedAt === null ? null : Date.parse(job.view.finishedAt);
      if (finished !== null && now - finished > KEEP_MS) {
        rmSync(job.path, { force: true });
        this.#jobs.delete(id);
      }
    }
  }
}
