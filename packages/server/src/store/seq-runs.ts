/**
 * Seqs as maximal runs of consecutive numbers, `[from, to]` inclusive, ascending: how both
 * stores record the seqs retention removed (`pruned_ranges`).
 * @example runsOf([5, 1, 2, 3]) // [[1, 3], [5, 5]]
 */
export function runsOf(seqs: readonly number[]): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const seq of sorted) {
    const last = runs[runs.length - 1];
    if (last && seq === last[1] + 1) last[1] = seq;
    else if (!last || seq > last[1]) runs.push([seq, seq]);
  }
  return runs;
}
