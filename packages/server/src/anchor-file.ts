/**
 * Reading the anchor file back (`--anchor-file`: one JSON line `{ tenant, size, note }` per
 * checkpoint signed): the newest checkpoint it holds for each tenant, for the integrity scrub to
 * check each stored log against — a checkpoint kept outside the database, which a rewrite of the
 * database and its checkpoints cannot reach.
 *
 * The file only grows, so it is read once from the start and then from where the last read
 * ended; a line not yet complete is read the next time. A file that became shorter, or is
 * another file now (rotated, restored), is read again from the start.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AnchoredCheckpoint } from './checkpoints.js';

/** The newest anchored checkpoint of each tenant, kept up to date from the file. */
export class AnchorFileReader {
  readonly #file: string;
  /** Bytes read up to the end of the last complete line. */
  #offset = 0;
  /** The file's inode when it was last read. */
  #inode = -1;
  readonly #newest = new Map<string, { size: number; note: string }>();

  constructor(file: string) {
    this.#file = file;
  }

  /**
   * Reads what was appended since the last call; the newest checkpoint note of each tenant.
   * A file that does not exist (yet) holds none.
   * @example const anchored = (await reader.newest()).get('acme');
   */
  async newest(): Promise<ReadonlyMap<string, { size: number; note: string }>> {
    let size: number;
    let inode: number;
    try {
      ({ size, ino: inode } = await stat(this.#file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#newest;
      throw error;
    }
    if (size < this.#offset || inode !== this.#inode) {
      this.#offset = 0;
      this.#inode = inode;
      this.#newest.clear();
    }
    if (size === this.#offset) return this.#newest;
    let rest = Buffer.alloc(0);
    let read = this.#offset;
    for await (const chunk of createReadStream(this.#file, {
      start: this.#offset,
      end: size - 1,
    })) {
      let bytes = Buffer.concat([rest, chunk as Buffer]);
      for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10)) {
        this.#line(bytes.subarray(0, nl).toString('utf8'));
        read += nl + 1;
        bytes = bytes.subarray(nl + 1);
      }
      rest = bytes;
    }
    this.#offset = read;
    return this.#newest;
  }

  #line(text: string): void {
    let entry: Partial<AnchoredCheckpoint>;
    try {
      entry = JSON.parse(text) as Partial<AnchoredCheckpoint>;
    } catch {
      return;
    }
    const { tenant, size, note } = entry;
    if (typeof tenant !== 'string' || typeof note !== 'string' || !Number.isSafeInteger(size)) {
      return;
    }
    const known = this.#newest.get(tenant);
    if (known === undefined || (size as number) > known.size) {
      this.#newest.set(tenant, { size: size as number, note });
    }
  }
}
