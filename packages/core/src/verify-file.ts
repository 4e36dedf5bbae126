/**
 * `hindsight verify` at the speed of every core: the events of an export are checked — parsed,
 * their leaf recomputed from content and salts, compared with the stored hash — in worker
 * threads, a chunk of lines at a time, while this thread reads the file and feeds the results,
 * in line order, to one {@link ExportVerifier}. The report is exactly the one that feeding every
 * line to `ExportVerifier.line` gives: lines that are not events whose content gives their
 * stored hash (headers, checkpoints, pruned and redacted lines, anything altered or malformed)
 * are handed back as text and read by the verifier itself.
 *
 * Node.js only (worker threads); imported as `@hindsight/core/verify-file`.
 */
import { isUtf8 } from 'node:buffer';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkEventLine, ExportVerifier, type VerifyOptions, type VerifyReport } from './verify.js';
import { checkEventBytes } from './verify-bytes.js';

/** Options of {@link verifyExport}. */
export interface VerifyExportOptions extends VerifyOptions {
  /**
   * Worker threads that check events; 0 checks them in this thread. Default: one per core, at
   * most 4.
   */
  readonly threads?: number;
  /** Bytes of the export in one unit of work (default 1 MiB). */
  readonly chunkBytes?: number;
  /**
   * Awaited between the pieces of the work this thread does once the last line is read (the
   * tree's nodes, about 30,000 at a time): a caller that shares its thread, a server, can let
   * its other work run meanwhile.
   */
  readonly pause?: () => Promise<void>;
}

/** What checking a chunk of lines found, line by line. */
export interface ChunkResult {
  /** Per line: 1 for an event whose content gives its stored hash, 0 for one handed back. */
  readonly checked: Uint8Array;
  /** The checked events' seqs, ids and leaf hashes (32 bytes each), in line order. */
  readonly seqs: Float64Array;
  readonly ids: string[];
  readonly leaves: Uint8Array;
  /** The other lines' text, in line order. */
  readonly others: string[];
}

/** Line breaks as `readline` (with `crlfDelay: Infinity`) reads them. */
const LINE_BREAK = /\r\n|\n|\r/;

/**
 * Checks a chunk of whole lines (UTF-8). Each line is first tried from its bytes
 * ({@link checkEventBytes}); what that leaves is decoded and read by {@link checkEventLine}.
 */
export function checkChunk(bytes: Uint8Array): ChunkResult {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A chunk with "\r" in it is cut as `readline` would; one that is not UTF-8 is decoded with
  // replacement characters, so its bytes are not the text the slow path reads.
  if (buffer.includes(13) || !isUtf8(buffer)) return checkLines(buffer);
  const ends: number[] = [];
  for (let at = 0; at < buffer.length; ) {
    const newline = buffer.indexOf(10, at);
    const end = newline === -1 ? buffer.length : newline;
    ends.push(end);
    at = end + 1;
  }
  const result = emptyResult(ends.length);
  let at = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    const event = checkEventBytes(buffer, at, end, result.leaves, 32 * result.ids.length);
    if (event !== null) keep(result, i, event);
    else addLine(result, i, buffer.toString('utf8', at, end));
    at = end + 1;
  }
  return finished(result);
}

/** Checks a chunk's lines as text, each with {@link checkEventLine}. */
function checkLines(buffer: Buffer): ChunkResult {
  const text = buffer.toString('utf8');
  const lines = text.includes('\r') ? text.split(LINE_BREAK) : text.split('\n');
  if (text.endsWith('\n') || text.endsWith('\r')) lines.pop();
  const result = emptyResult(lines.length);
  for (let i = 0; i < lines.length; i++) addLine(result, i, lines[i] as string);
  return finished(result);
}

/** A chunk's result while its lines are read: room for every line to be an event. */
type Pending = ChunkResult & { readonly leaves: Buffer };

function emptyResult(lines: number): Pending {
  return {
    checked: new Uint8Array(lines),
    seqs: new Float64Array(lines),
    ids: [],
    leaves: Buffer.allocUnsafeSlow(32 * lines),
    others: [],
  };
}

/** Adds line `i` as {@link checkEventLine} reads it: a checked event, or a line handed back. */
function addLine(result: Pending, i: number, line: string): void {
  const event = checkEventLine(line);
  if (event === null) {
    result.others.push(line);
    return;
  }
  result.leaves.write(event.hash, 32 * result.ids.length, 'hex');
  keep(result, i, event);
}

/** Records line `i` as a checked event, whose leaf is already at its place in `leaves`. */
function keep(result: Pending, i: number, event: { seq: number; id: string }): void {
  result.checked[i] = 1;
  result.seqs[result.ids.length] = event.seq;
  result.ids.push(event.id);
}

function finished(result: Pending): ChunkResult {
  return { ...result, leaves: result.leaves.subarray(0, 32 * result.ids.length) };
}

/**
 * Verifies an export read from `input` (e.g. `createReadStream(file)`, or through `createGunzip()`).
 * @example const report = await verifyExport(createReadStream('acme.ndjson'), { verifierKey })
 */
export async function verifyExport(
  input: AsyncIterable<Uint8Array | string>,
  options: VerifyExportOptions,
): Promise<VerifyReport> {
  const verifier = new ExportVerifier(options);
  const threads = options.threads ?? Math.min(availableParallelism(), 4);
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const pool = threads > 0 ? new CheckerPool(threads) : null;
  // Results are read in line order; a few chunks per thread are in flight, so memory stays flat.
  const inFlight: Array<Promise<ChunkResult>> = [];
  const feed = (r: ChunkResult) => {
    let event = 0;
    let other = 0;
    for (let i = 0; i < r.checked.length; i++) {
      if (r.checked[i] === 1) {
        const at = 32 * event;
        verifier.checkedEvent(
          r.seqs[event] as number,
          r.ids[event] as string,
          r.leaves.subarray(at, at + 32),
        );
        event++;
      } else verifier.line(r.others[other++] as string);
    }
  };
  try {
    for await (const chunk of lineChunks(input, chunkBytes)) {
      inFlight.push(pool ? pool.check(chunk) : Promise.resolve(checkChunk(chunk)));
      while (inFlight.length >= 4 * Math.max(threads, 1))
        feed(await (inFlight.shift() as Promise<ChunkResult>));
    }
    for (const result of inFlight) feed(await result);
  } finally {
    await pool?.close();
  }
  const steps = verifier.finishing();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await options.pause?.();
  }
}

/**
 * The input cut into chunks of whole lines of at least `chunkBytes` (the last may be shorter):
 * each ends after a newline, so a line, and a UTF-8 character, is never cut in two. Each chunk
 * has a buffer of its own, so that it can be moved to a worker thread rather than copied.
 */
export async function* lineChunks(
  input: AsyncIterable<Uint8Array | string>,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let bytes = 0;
  const join = (length: number) => {
    const chunk = new Uint8Array(new ArrayBuffer(length));
    let at = 0;
    for (const piece of pieces) {
      chunk.set(piece, at);
      at += piece.length;
    }
    return chunk;
  };
  for await (const input_ of input) {
    const piece = typeof input_ === 'string' ? Buffer.from(input_) : input_;
    const cut = piece.lastIndexOf(10) + 1;
    if (cut === 0 || bytes + cut < chunkBytes) {
      pieces.push(piece);
      bytes += piece.length;
      continue;
    }
    pieces.push(piece.subarray(0, cut));
    yield join(bytes + cut);
    pieces = cut < piece.length ? [piece.subarray(cut)] : [];
    bytes = piece.length - cut;
  }
  if (bytes > 0) yield join(bytes);
}

/** A worker thread, and the chunks it has yet to answer, oldest first. */
interface Checker {
  readonly worker: Worker;
  readonly waiting: Array<{ resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
}

/** Worker threads that check chunks, each answering its chunks in the order it got them. */
class CheckerPool {
  readonly #workers: Checker[];

  constructor(threads: number) {
    this.#workers = Array.from({ length: threads }, () => {
      const worker = new Worker(new URL('./verify-worker.js', import.meta.url), {
        workerData: { hindsightVerifyWorker: true },
      });
      const entry: Checker = { worker, waiting: [] };
      worker.on('message', (r: ChunkResult) => entry.waiting.shift()?.resolve(r));
      worker.on('error', (error) => {
        for (const w of entry.waiting.splice(0)) w.reject(error);
      });
      return entry;
    });
  }

  /** Checks a chunk in the least busy worker; the chunk's buffer moves to it. */
  check(chunk: Uint8Array): Promise<ChunkResult> {
    const entry = this.#workers.reduce((a, b) => (b.waiting.length < a.waiting.length ? b : a));
    return new Promise((resolve, reject) => {
      entry.waiting.push({ resolve, reject });
      entry.worker.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}
