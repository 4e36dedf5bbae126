/**
 * GDPR erasure in the retention archives (issue #9, docs/erasure.md). An archive holds the
 * events retention removed, with their personal values and salts; an erasure that left them
 * there would leave the person on the server's disk. So after the store's erasure, each archive
 * of the tenant that holds the person is rewritten with the same values erased, in the same way
 * (`eraseEvent` of `@hindsight/core`): the commitments stay, so the archive still verifies on
 * its own with `hindsight verify`.
 *
 * A file is rewritten beside itself, synced and renamed over the original (`writeArchiveFile`),
 * so a crash leaves either the old archive or the new one, never half of one.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { type ErasureSubject, type ExportLine, eraseEvent } from '@hindsight/core';
import { ARCHIVE_SUFFIX, writeArchiveFile } from './archive-file.js';

/** What an erasure changed in a tenant's archives. */
export interface ArchiveErasure {
  /** Archive files rewritten. */
  readonly files: number;
  /** Archived events of which personal values were erased. */
  readonly events: number;
  /** Personal values erased in them. */
  readonly values: number;
}

/** Nothing erased: no archive held the person, or the server writes none. */
export const NO_ARCHIVE_ERASURE: ArchiveErasure = Object.freeze({ files: 0, events: 0, values: 0 });

/**
 * Erases a person from every archive of a tenant under `dir` (`<dir>/<tenant>/*.ndjson.gz`).
 * @example await eraseFromArchives('/var/lib/hindsight/archive', 'acme', { email: 'ann@acme.test' })
 */
export async function eraseFromArchives(
  dir: string,
  tenant: string,
  subject: ErasureSubject,
): Promise<ArchiveErasure> {
  const tenantDir = join(dir, tenant);
  let names: string[];
  try {
    names = (await readdir(tenantDir)).filter((n) => n.endsWith(ARCHIVE_SUFFIX)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return NO_ARCHIVE_ERASURE;
    throw error;
  }
  const total = { ...NO_ARCHIVE_ERASURE };
  for (const name of names) {
    const changed = await eraseFromArchive(join(tenantDir, name), subject);
    if (changed.events === 0) continue;
    total.files++;
    total.events += changed.events;
    total.values += changed.values;
  }
  return total;
}

/** Rewrites one archive without the person, unless nothing of them is in it. */
async function eraseFromArchive(
  file: string,
  subject: ErasureSubject,
): Promise<{ events: number; values: number }> {
  const key = subject.actorId ?? subject.email;
  // The key as JSON writes it inside a string: lines without it cannot hold the person.
  const needle = Buffer.from(JSON.stringify(key).slice(1, -1));
  const counts = { events: 0, values: 0 };
  // A first pass only looks for the key: most archives do not hold most people, and reading
  // one costs a fraction of writing it again.
  if (!(await holds(file, needle))) return counts;
  const edit = (line: string) => erasedLine(line, subject, counts);
  try {
    await writeArchiveFile(
      file,
      editedLines(decompressed(file), needle, edit),
      () => counts.events > 0,
    );
    return counts;
  } catch (error) {
    throw new Error(`The archive ${file} could not be rewritten without the erased person.`, {
      cause: error,
    });
  }
}

/** The decompressed bytes of an archive, chunk by chunk. */
function decompressed(file: string): AsyncIterable<Buffer> {
  const source = createReadStream(file);
  const output = createGunzip();
  // `pipe` passes on neither a read error (the reader would wait for ever) nor a reader that
  // stops early (the file would stay open).
  source.on('error', (error) => output.destroy(error));
  output.on('close', () => source.destroy());
  return source.pipe(output);
}

/** Whether the archive's text holds `needle` anywhere. */
async function holds(file: string, needle: Buffer): Promise<boolean> {
  let tail = Buffer.alloc(0);
  for await (const chunk of decompressed(file)) {
    // The end of the previous chunk too, in case the key spans the two.
    const bytes = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    if (bytes.includes(needle)) return true;
    tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - needle.length + 1)));
  }
  return false;
}

/**
 * The archive's bytes with each line holding `needle` replaced by `edit(line)`; every other
 * byte as it was. Works on whole lines: a chunk's unfinished last line waits for the next.
 */
async function* editedLines(
  chunks: AsyncIterable<Buffer>,
  needle: Buffer,
  edit: (line: string) => string,
): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const end = bytes.lastIndexOf(10) + 1;
    carry = Buffer.from(bytes.subarray(end));
    if (end > 0) yield editLinesOf(bytes.subarray(0, end), needle, edit);
  }
  if (carry.length > 0) yield editLinesOf(carry, needle, edit);
}

function editLinesOf(bytes: Buffer, needle: Buffer, edit: (line: string) => string): Buffer {
  let at = bytes.indexOf(needle);
  if (at < 0) return bytes;
  const parts: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    const start = bytes.lastIndexOf(10, at) + 1;
    const newline = bytes.indexOf(10, at);
    const stop = newline < 0 ? bytes.length : newline;
    parts.push(bytes.subarray(from, start), Buffer.from(edit(bytes.toString('utf8', start, stop))));
    from = stop;
    at = bytes.indexOf(needle, stop);
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

/** A line of an archive, with the person's values erased if it is one of their events. */
function erasedLine(
  line: string,
  subject: ErasureSubject,
  counts: { events: number; values: number },
): string {
  let parsed: ExportLine;
  try {
    parsed = JSON.parse(line) as ExportLine;
  } catch {
    // Not ours to mend: the verifier reports it.
    return line;
  }
  if (parsed.type !== 'event') return line;
  const erased = eraseEvent(parsed.event, parsed.salts, subject);
  if (erased === null) return line;
  counts.events++;
  counts.values += erased.paths.length;
  return JSON.stringify({ type: 'event', event: erased.event, salts: erased.salts });
}
