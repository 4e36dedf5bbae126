/** Node.js's file errors, and making directories that tells them apart. */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Node.js's file errors, in the words Hindsight's messages use. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * Why a file could not be read, in words, for Node.js's common file errors; `undefined` for any
 * other error.
 * @example fileErrorWords(Object.assign(new Error(), { code: 'ENOENT' })) // 'no such file or directory'
 */
export function fileErrorWords(error: unknown): string | undefined {
  const { code } = error as NodeJS.ErrnoException;
  return code === undefined ? undefined : FILE_ERRORS[code];
}

/**
 * Makes `dir` and the directories above it that are missing, each with `mode`. Where Node.js's
 * recursive `mkdir` fails with ENOENT although the parent exists (it does on a read-only file
 * system), the first missing directory is made alone, whose error (EROFS) is the real one.
 * @example makeDirectory('./hindsight-data', 0o700)
 */
export function makeDirectory(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let missing = resolve(dir);
    while (!existsSync(dirname(missing)) && dirname(missing) !== missing)
      missing = dirname(missing);
    try {
      mkdirSync(missing, { mode });
    } catch (cause) {
      // Something of its name is there (a link to nothing): the first error says it best.
      throw (cause as NodeJS.ErrnoException).code === 'EEXIST' ? error : cause;
    }
    mkdirSync(dir, { recursive: true, mode });
  }
}
