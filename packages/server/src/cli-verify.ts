/**
 * `hindsight verify` (SPEC §7, issue #4): checks an export offline with nothing but
 * `@hindsight/core` — no server, no database client is loaded. The export is a file or standard
 * input (`-`), plain or gzip-compressed (told by its first bytes, as retention archives are);
 * the verdict is printed for people, or as JSON (`--json`) for programs; and while it runs, a
 * progress line is kept on standard error when that is a terminal.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { note, type VerifyReport } from '@hindsight/core';
import { verifyExport } from '@hindsight/core/verify-file';
import { UsageError } from './cli-usage.js';
import { countOf } from './plural.js';

/**
 * Reads a verifier key file: the key text, or the JSON of `GET /v1/keys/public`. A file that
 * holds neither is refused here, naming the file, before the export is read.
 */
export function readVerifierKey(file: string): string {
  const text = readFileSync(file, 'utf8').trim();
  try {
    const key = text.startsWith('{')
      ? String((JSON.parse(text) as { verifierKey?: unknown }).verifierKey)
      : text;
    note.parseVerifierKey(key);
    return key;
  } catch (error) {
    throw new Error(
      `${file} holds no verifier key (${(error as Error).message}): save it from GET /v1/keys/public.`,
    );
  }
}

/** Signed notes from a file: one note, or an anchor file (one `{ tenant, size, note }` a line). */
export function readCheckpoints(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith('{')) return [text];
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [String((JSON.parse(line) as { note?: unknown }).note)];
    } catch (error) {
      throw new Error(
        `Line ${i + 1} of ${file} is not an anchored checkpoint (${(error as Error).message}).`,
      );
    }
  });
}

/**
 * The bytes of `source`, gunzipped when they start with gzip's magic number (`1f 8b`; an export
 * starts with `{`). `counted` is told the size of every chunk read from `source`, before any
 * decompression, so that progress is measured against the file's size.
 */
export async function* exportBytes(
  source: AsyncIterable<Buffer>,
  counted: (bytes: number) => void = () => {},
): AsyncGenerator<Buffer> {
  const chunks = (async function* () {
    for await (const chunk of source) {
      counted(chunk.length);
      yield chunk;
    }
  })();
  // Enough of the start to see the magic number (a first chunk may hold a single byte).
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    yield* chunks;
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  // A read error of the source, or a corrupt stream, ends the iteration below with that error.
  pipeline(Readable.from(rest()), gunzip, () => {});
  yield* gunzip as AsyncIterable<Buffer>;
}

/** Where progress goes: standard error, or any stream in the tests. */
export interface ProgressTarget {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A progress line on a terminal, redrawn at most every `intervalMs`: the share of the file read
 * when its size is known, else the megabytes read. Nothing at all when the target is not a
 * terminal (a log file or a pipe gets only the verdict).
 */
export class ProgressLine {
  readonly #target: ProgressTarget;
  readonly #label: string;
  readonly #total: number | null;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #read = 0;
  #shownAt = Number.NEGATIVE_INFINITY;
  #shown = false;

  constructor(
    target: ProgressTarget,
    label: string,
    total: number | null,
    { intervalMs = 250, now = () => performance.now() } = {},
  ) {
    this.#target = target;
    this.#label = label;
    this.#total = total !== null && total > 0 ? total : null;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Counts `bytes` more read, and redraws the line if it is due. */
  add(bytes: number): void {
    this.#read += bytes;
    if (!this.#target.isTTY) return;
    const now = this.#now();
    if (now - this.#shownAt < this.#intervalMs) return;
    this.#shownAt = now;
    this.#shown = true;
    this.#target.write(`\r\x1b[K${this.text()}`);
  }

  /** The line as it stands. */
  text(): string {
    const mb = (bytes: number) =>
      (bytes / 1_000_000).toLocaleString('en', { maximumFractionDigits: bytes < 1e7 ? 1 : 0 });
    if (this.#total === null) return `Verifying ${this.#label}: ${mb(this.#read)} MB read`;
    const percent = Math.min(100, Math.floor((100 * this.#read) / this.#total));
    return `Verifying ${this.#label}: ${percent}% (${mb(this.#read)} of ${mb(this.#total)} MB)`;
  }

  /** Removes the line, so that the verdict starts on a clean one. */
  clear(): void {
    if (this.#shown) this.#target.write('\r\x1b[K');
    this.#shown = false;
  }
}

/** The verdict for people: `OK: …` or `FAILED: …` and a line per problem. */
export function reportLines(report: VerifyReport): string[] {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(
      `OK: tenant ${report.tenant}, ${countOf(report.events, 'event')}; ${countOf(report.checkpoints, 'signed checkpoint')} verified, up to size ${report.verifiedSize}.`,
    );
    if (report.pruned > 0) {
      lines.push(
        `  ${report.pruned === 1 ? '1 event is' : `${report.pruned} events are`} present as hashes only: removed by retention, or (an archive) not in this file.`,
      );
    }
  } else {
    lines.push(
      `FAILED: tenant ${report.tenant ?? '?'}, ${countOf(report.events, 'event')}, ${countOf(report.problems.length, 'problem')}:`,
    );
    for (const p of report.problems)
      lines.push(`  ${p.kind}${p.seq === undefined ? '' : ` (seq ${p.seq})`}: ${p.message}`);
  }
  // Deleted with permission (issue #9): reported, never a problem.
  for (const r of report.redacted) {
    lines.push(`  redacted (seq ${r.seq}): event "${r.id}" was redacted at ${r.at} by ${r.by}.`);
  }
  return lines;
}

/** `hindsight verify FILE|- --public-key FILE [--public-key FILE …] [--checkpoint FILE] [--json]`. */
export async function verifyCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'public-key': { type: 'string', multiple: true },
      checkpoint: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('Give one export file to verify (or - for standard input).');
  if (values['public-key'] === undefined) {
    throw new UsageError("Give the server's verifier key with --public-key FILE.");
  }
  // Several after a rotation of the server's signing key: each checkpoint verifies with one.
  const verifierKey = values['public-key'].map(readVerifierKey);
  const trustedCheckpoints =
    values.checkpoint === undefined ? undefined : readCheckpoints(values.checkpoint);
  const stdin = file === '-';
  // A missing file fails here, with its name; a FIFO or device has no size to measure against.
  const stat = stdin ? null : statSync(file);
  const total = stat?.isFile() ? stat.size : null;
  const source: Readable = stdin ? process.stdin : createReadStream(file);
  const progress = new ProgressLine(process.stderr, stdin ? 'standard input' : file, total);
  let report: VerifyReport;
  try {
    report = await verifyExport(
      exportBytes(source as AsyncIterable<Buffer>, (n) => progress.add(n)),
      { verifierKey, ...(trustedCheckpoints ? { trustedCheckpoints } : {}) },
    );
  } finally {
    progress.clear();
  }
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${reportLines(report).join('\n')}\n`);
  if (!report.ok) process.exitCode = 1;
}
