/** Node.js's file errors, in the words Hindsight's messages use. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
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
