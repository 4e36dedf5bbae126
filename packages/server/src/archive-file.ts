/**
 * The files of the retention archives (`retention.ts` writes them, `archive-erase.ts` rewrites
 * them): `<dir>/<tenant>/<time>-<random>.ndjson.gz`, each written whole or not at all.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** The suffix of a finished archive; one being written ends in `.partial` after it. */
export const ARCHIVE_SUFFIX = '.ndjson.gz';

/**
 * Writes `chunks`, gzip-compressed, to `file` whole or not at all: to `<file>.partial`, synced,
 * then renamed over `file`. When `keep()` answers false once everything is written, the file
 * is dropped instead. Answers whether `file` was written; on an error nothing is left behind.
 * @example await writeArchiveFile('/archive/acme/x.ndjson.gz', lines(), () => true)
 */
export async function writeArchiveFile(
  file: string,
  chunks: AsyncIterable<string | Buffer>,
  keep: () => boolean,
): Promise<boolean> {
  const partial = `${file}.partial`;
  try {
    await pipeline(
      Readable.from(chunks),
      createGzip(),
      createWriteStream(partial, { mode: 0o600 }),
    );
    if (!keep()) {
      await rm(partial);
      return false;
    }
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
    return true;
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
