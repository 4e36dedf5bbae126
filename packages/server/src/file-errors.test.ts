import { mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileErrorWords, makeDirectory } from './file-errors.js';

describe('makeDirectory', () => {
  const root = mkdtempSync(join(tmpdir(), 'hindsight-dirs-'));

  it('makes every missing directory, with the mode', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirectory(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    makeDirectory(dir, 0o700); // There already: nothing to do.
  });

  it('fails with the error that stopped it, in words', () => {
    writeFileSync(join(root, 'file'), '');
    const notDir = catchError(() => makeDirectory(join(root, 'file', 'sub'), 0o700));
    expect(fileErrorWords(notDir)).toBe('a part of the path is not a directory');
    // A link to nothing: Node.js says ENOENT, which is said again rather than "it exists".
    symlinkSync(join(root, 'nowhere'), join(root, 'link'));
    const dangling = catchError(() => makeDirectory(join(root, 'link', 'sub'), 0o700));
    expect(dangling).toMatchObject({ code: 'ENOENT', path: join(root, 'link', 'sub') });
  });
});

function catchError(work: () => void): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('It did not fail.');
}
