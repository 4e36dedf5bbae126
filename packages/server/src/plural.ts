/** Counts in the server's sentences (audit entries, the PDF, the CLI's reports). */

/**
 * A count with its noun: `1 event`, `2 events`.
 * @example countOf(1, 'problem') // '1 problem'
 */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
