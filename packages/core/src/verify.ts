/**
 * The offline verifier of a tenant's NDJSON export (SPEC §6), with nothing but this package:
 * it recomputes every leaf from the event's content and salts, rebuilds the Merkle tree,
 * checks every checkpoint's signature against the verifier key, and that every checkpoint's
 * root is the root of the recomputed events — so that any event changed, removed, reordered or
 * inserted after a checkpoint was signed, and any checkpoint forged or forked, is reported.
 *
 * An export is one JSON object per line:
 *   {"type":"header","format":"hindsight-export/1","tenant":…,"origin":…,"size":…,"exportedAt":…}
 *   {"type":"event","event":{…stored event with seq and hash…},"salts":{…}}    (any order)
 *   {"type":"checkpoint","note":"…signed note…"}
 *   {"type":"pruned","seqs":[from,to],"hashes":[…]}   (events removed by retention, any order)
 *   {"type":"redacted","seq":…,"id":…,"hash":…,"redactedAt":…,"redactedBy":…}   (deleted events)
 *
 * A `pruned` line stands for the events `from`…`to` (inclusive) that retention removed: it
 * carries the hashes of the complete subtrees that make up those leaves (`merkle.rangeNodes`
 * of `[from - 1, to)`, left to right), so that the tree, and every checkpoint, can still be
 * recomputed. The events the export does hold are checked as before; a seq that is neither
 * in the export nor in a `pruned` line is reported as removed.
 */

import type { Salts } from './hashed-view.js';
import { type LeafHashParts, leafHash, leafHashOf, leafHashParts } from './leaf.js';
import * as merkle from './merkle.js';
import * as note from './note.js';
import type { StoredEvent } from './schema.js';

/** The format name in an export's header line. */
export const EXPORT_FORMAT = 'hindsight-export/1';

/**
 * The format name in the header of an export of selected events (filters or ids): the events
 * as stored, without salts or checkpoints, so it cannot be verified.
 */
export const EVENTS_FORMAT = 'hindsight-events/1';

/** One line of an export. */
export type ExportLine =
  | {
      readonly type: 'header';
      readonly format: string;
      readonly tenant: string;
      readonly origin: string;
      readonly size: number;
      readonly exportedAt: string;
    }
  | { readonly type: 'event'; readonly event: StoredEvent; readonly salts: Salts }
  | { readonly type: 'checkpoint'; readonly note: string }
  | PrunedLine
  | RedactedLine;

/**
 * An event deleted where the tenant permits it (issue #9): its content is gone, its leaf hash
 * stays, so the tree and every checkpoint still verify; the report names when and by whom.
 */
export interface RedactedLine {
  readonly type: 'redacted';
  readonly seq: number;
  readonly id: string;
  /** The event's leaf hash (hex), as stored when it was appended. */
  readonly hash: string;
  /** When it was deleted (RFC 3339). */
  readonly redactedAt: string;
  /** Who deleted it: `api_key:<id>` or `user:<viewer id>`. */
  readonly redactedBy: string;
}

/**
 * Events `seqs[0]`…`seqs[1]` were removed by retention: `hashes` are the hex hashes of the
 * complete subtrees `merkle.rangeNodes(seqs[0] - 1, seqs[1])`, left to right.
 */
export interface PrunedLine {
  readonly type: 'pruned';
  readonly seqs: readonly [from: number, to: number];
  readonly hashes: readonly string[];
}

/** What can be wrong with an export. */
export type ProblemKind =
  | 'malformed'
  | 'altered'
  | 'reordered'
  | 'missing'
  | 'inserted'
  | 'bad_signature'
  | 'checkpoint_mismatch'
  | 'truncated';

/** One problem, with the `seq` it concerns when there is one. */
export interface Problem {
  readonly kind: ProblemKind;
  readonly seq?: number;
  readonly message: string;
}

/** The verdict on an export: `ok` only when there is no problem at all. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly tenant: string | null;
  /** Events in the export. */
  readonly events: number;
  /** Checkpoints whose signature and root were checked. */
  readonly checkpoints: number;
  /** The largest size a valid checkpoint covers. */
  readonly verifiedSize: number;
  /** Events removed by retention, present only as hashes (`pruned` lines). */
  readonly pruned: number;
  /** Events deleted with permission: present as their leaf hash only (`redacted` lines). */
  readonly redacted: ReadonlyArray<{ seq: number; id: string; at: string; by: string }>;
  /** With `otherKeys: 'skip'`: checkpoints signed by none of the keys, not checked. */
  readonly skippedCheckpoints?: number;
  readonly problems: Problem[];
}

/** Options of {@link ExportVerifier}. */
export interface VerifyOptions {
  /**
   * The server's verifier key (`name+hash+base64`), obtained out of band; or its keys, when
   * its signing key was rotated: a checkpoint then verifies with any one of them.
   */
  readonly verifierKey: string | readonly string[];
  /**
   * Checkpoints kept outside the server (e.g. by an anchor), as signed notes: the export must
   * reach their size and agree with their roots — the only way to catch a log truncated along
   * with its checkpoints. Those of other logs (another tenant's, in one anchor file) are
   * skipped; at least one must be of this log.
   */
  readonly trustedCheckpoints?: readonly string[];
  /**
   * What to do with a checkpoint that carries no signature by any of the keys: `report` it
   * (`bad_signature`, the default), or `skip` it and count it in `skippedCheckpoints` — for a
   * server checking its own log, which knows only its current key, not those it had before a
   * rotation. A checkpoint one of the keys signed is checked either way, and the export's
   * size must still be covered by a checkpoint that verifies.
   */
  readonly otherKeys?: 'report' | 'skip';
}

/** An event whose content does not give the leaf hash stored with it. */
interface Mismatch {
  readonly seq: number;
  readonly id: string;
  /** The leaf hash stored with the event. */
  readonly stored: string;
  /**
   * Its canonical text around the seq, to try it at other seqs; `null` past the first
   * {@link REORDER_KEPT} mismatches, which are reported as altered without that search.
   */
  readonly parts: LeafHashParts | null;
}

/** Mismatched events kept with their text, to be tried at other seqs (about 1 KB each). */
const REORDER_KEPT = 20_000;

/**
 * Most leaf hashes computed to find where mismatched events were signed: every other
 * mismatched seq is tried while that stays within it, else the nearest ones (by seq) first.
 */
const REORDER_BUDGET = 1_000_000;

/**
 * Feeds an export line by line, then reports. Memory is about 70 bytes an event (its leaf
 * hash, and the tree's inner nodes, in flat buffers) and the few events that do not match
 * their stored hash.
 * @example const v = new ExportVerifier({ verifierKey }); for (const l of lines) v.line(l); v.finish()
 */
export class ExportVerifier {
  readonly #verifiers: readonly note.NoteVerifier[];
  readonly #trusted: readonly string[];
  readonly #skipOthers: boolean;
  #skipped = 0;
  readonly #problems: Problem[] = [];
  /** The leaf hash of each seq (at `32 * (seq - 1)`), and whether it is in the export. */
  #leaves = new Uint8Array(0);
  #present = new Uint8Array(0);
  /** The highest seq in the export (events and redacted lines). */
  #end = 0;
  readonly #mismatched: Mismatch[] = [];
  readonly #notes: string[] = [];
  /** Subtree hashes of pruned events, by `level/index`. */
  readonly #prunedNodes = new Map<string, Uint8Array>();
  /** The seq ranges of `pruned` lines, `[from, to]` inclusive. */
  readonly #prunedRanges: Array<readonly [number, number]> = [];
  #header: (ExportLine & { type: 'header' }) | null = null;
  /** Set by a header of another format: the rest of the file is not read. */
  #foreign = false;
  /** The tenant a header of another format names, for the report. */
  #foreignTenant: string | null = null;
  #events = 0;
  readonly #redacted: Array<{ seq: number; id: string; at: string; by: string }> = [];
  #lineNumber = 0;

  constructor(options: VerifyOptions) {
    const keys =
      typeof options.verifierKey === 'string' ? [options.verifierKey] : options.verifierKey;
    if (keys.length === 0) throw new TypeError('ExportVerifier: give at least one verifier key.');
    this.#verifiers = keys.map((key) => note.parseVerifierKey(key));
    this.#trusted = options.trustedCheckpoints ?? [];
    this.#skipOthers = options.otherKeys === 'skip';
  }

  /** Reads one line of the export. */
  line(text: string): void {
    this.#lineNumber++;
    if (this.#foreign || text.trim() === '') return;
    let parsed: ExportLine;
    try {
      parsed = JSON.parse(text) as ExportLine;
    } catch {
      this.#problem('malformed', `Line ${this.#lineNumber} is not JSON.`);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.#problem('malformed', `Line ${this.#lineNumber} is not a JSON object.`);
      return;
    }
    if (parsed.type === 'header') {
      if (this.#header) this.#problem('malformed', `Line ${this.#lineNumber}: a second header.`);
      else if (parsed.format !== EXPORT_FORMAT) {
        this.#foreignTenant = typeof parsed.tenant === 'string' ? parsed.tenant : null;
        this.#foreignFormat(parsed.format);
      } else {
        const { size, tenant, origin } = parsed;
        if (
          !Number.isSafeInteger(size) ||
          size < 0 ||
          typeof tenant !== 'string' ||
          typeof origin !== 'string'
        ) {
          this.#problem(
            'malformed',
            `Line ${this.#lineNumber}: the header's size, tenant or origin is not valid.`,
          );
        }
        // An invalid size counts as 0: every event then lies past it, and is reported so.
        this.#header = { ...parsed, size: Number.isSafeInteger(size) && size >= 0 ? size : 0 };
      }
    } else if (parsed.type === 'event') this.#event(parsed.event, parsed.salts ?? {});
    else if (parsed.type === 'checkpoint') this.#notes.push(parsed.note);
    else if (parsed.type === 'pruned') this.#prunedLine(parsed);
    else if (parsed.type === 'redacted') this.#redactedLine(parsed);
    else this.#problem('malformed', `Line ${this.#lineNumber} has no known type.`);
  }

  /** Checks the tree against every checkpoint and returns the verdict. */
  finish(): VerifyReport {
    const steps = this.finishing();
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * {@link finish} in steps: it yields after each piece of the tree's hashing (some 30,000
   * nodes), so that a caller sharing its thread can let other work run in between.
   * @example const steps = v.finishing(); let s = steps.next(); while (!s.done) { await turn(); s = steps.next(); }
   */
  *finishing(): Generator<void, VerifyReport> {
    if (this.#foreign) {
      return {
        ok: false,
        tenant: this.#foreignTenant,
        events: this.#events,
        checkpoints: 0,
        verifiedSize: 0,
        pruned: 0,
        redacted: [],
        problems: [...this.#problems],
      };
    }
    const header = this.#header;
    if (!header) this.#problem('malformed', 'The export has no header line.');
    this.#resolveMismatches();
    const prunedEnd = this.#prunedRanges.reduce((end, [, to]) => Math.max(end, to), 0);
    const size = Math.max(this.#end, prunedEnd);
    this.#reserve(size);
    const covered = this.#coverage(size);
    if (header && size > header.size) {
      this.#problem(
        'malformed',
        `The header gives the log's size as ${header.size}, but the export holds seq ${size}: an export ends at its header's size.`,
        header.size + 1,
      );
    }
    if (header && size < header.size) {
      this.#problem(
        'truncated',
        `The export promises ${header.size} events but ends at seq ${size}: events ${size + 1}…${header.size} were removed.`,
        size + 1,
      );
    }
    let pruned = 0;
    // A run of removed events is one problem, from its first seq.
    let gap = 0;
    const endGap = (next: number) => {
      if (gap === 0) return;
      const count = next - gap;
      this.#problem(
        'missing',
        count === 1
          ? `No event with seq ${gap}: it was removed.`
          : `No events with seq ${gap}…${next - 1} (${count}): they were removed.`,
        gap,
      );
      gap = 0;
    };
    const present = this.#present;
    for (let i = 0; i < size; i++) {
      if (covered[i] === 1) {
        endGap(i + 1);
        pruned++;
        if (present[i] === 1) {
          this.#problem(
            'inserted',
            `The event with seq ${i + 1} is in the export, yet marked as pruned.`,
            i + 1,
          );
        }
      } else if (present[i] === 1) endGap(i + 1);
      else if (gap === 0) gap = i + 1;
    }
    endGap(size + 1);
    // A removed event counts as a zero leaf (its bytes were never set): the checkpoints over
    // it then fail too. Pruned leaves are unknown; their subtree hashes stand in.
    const roots = new RootCache(this.#leaves, covered, size, this.#prunedNodes);
    yield* roots.build();
    let checked = 0;
    let verifiedSize = 0;
    const origin = header?.origin ?? null;
    // Problems from here on are checkpoints that do not count (see the end).
    const problemsBefore = this.#problems.length;
    const checkpoints = this.#notes.map((n) => this.#openCheckpoint(n, origin, 'exported'));
    const trusted = this.#trusted.filter((n) => origin === null || originOf(n) === origin);
    if (this.#trusted.length > 0 && trusted.length === 0) {
      this.#problem('bad_signature', `None of the trusted checkpoints is for "${origin}".`);
    }
    for (const n of trusted) checkpoints.push(this.#openCheckpoint(n, origin, 'trusted'));
    let previous = 0;
    for (const cp of checkpoints.filter((c) => c !== null).sort((a, b) => a.size - b.size)) {
      checked++;
      if (cp.size > size) {
        this.#problem(
          'truncated',
          `The ${cp.label} checkpoint of size ${cp.size} was signed, but the export ends at ${size}: events ${size + 1}…${cp.size} were removed.`,
          size + 1,
        );
        continue;
      }
      const root = roots.root(cp.size);
      if (root === null) {
        this.#problem(
          'malformed',
          `The ${cp.label} checkpoint of size ${cp.size} cuts through a pruned range, whose hashes cannot give its root.`,
          cp.size,
        );
        continue;
      }
      if (!equal(root, cp.rootHash)) {
        this.#problem(
          'checkpoint_mismatch',
          `The events do not match the ${cp.label} checkpoint of size ${cp.size}: an event with seq ${previous + 1}…${cp.size} was changed, removed, reordered or inserted after it was signed, or the checkpoint is forked.`,
          previous + 1,
        );
        continue;
      }
      previous = cp.size;
      verifiedSize = Math.max(verifiedSize, cp.size);
    }
    if (header && header.size > 0 && verifiedSize < header.size) {
      // Checkpoints refused above explain a size left uncovered: one that does not match the
      // events says it all; one of another key may be of a rotation, or replace a removed one.
      const refused = this.#problems.slice(problemsBefore).map((p) => p.kind);
      const uncovered = `No checkpoint that verifies covers the export's ${header.size} events (the newest that does covers ${verifiedSize})`;
      if (refused.includes('bad_signature')) {
        this.#problem(
          'truncated',
          `${uncovered}. If the signing key was rotated, give its other keys too; if not, the log's own checkpoints were removed or replaced.`,
          verifiedSize + 1,
        );
      } else if (refused.length === 0) {
        this.#problem('truncated', `${uncovered}: checkpoints were removed.`, verifiedSize + 1);
      }
    }
    return {
      ok: this.#problems.length === 0,
      tenant: header?.tenant ?? null,
      events: this.#events,
      checkpoints: checked,
      verifiedSize,
      pruned,
      redacted: [...this.#redacted].sort((a, b) => a.seq - b.seq),
      ...(this.#skipOthers ? { skippedCheckpoints: this.#skipped } : {}),
      problems: [...this.#problems].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)),
    };
  }

  /** Keeps the subtree hashes of a `pruned` line, after checking its shape. */
  #prunedLine(line: PrunedLine): void {
    const [from, to] = Array.isArray(line.seqs) ? line.seqs : [];
    const valid =
      Number.isSafeInteger(from) &&
      Number.isSafeInteger(to) &&
      (from as number) >= 1 &&
      (to as number) >= (from as number) &&
      this.#withinBound(to as number) &&
      Array.isArray(line.hashes);
    const ids = valid ? merkle.rangeNodes((from as number) - 1, to as number) : [];
    if (
      !valid ||
      ids.length !== line.hashes.length ||
      !line.hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
    ) {
      this.#problem('malformed', `Line ${this.#lineNumber}: a malformed pruned range.`);
      return;
    }
    ids.forEach(({ level, index }, i) => {
      this.#prunedNodes.set(`${level}/${index}`, Buffer.from(line.hashes[i] as string, 'hex'));
    });
    this.#prunedRanges.push([from as number, to as number]);
  }

  /**
   * Which seqs (index `seq - 1`) the `pruned` lines cover: 1 once, 2 for a seq in two lines
   * (reported as malformed).
   */
  #coverage(size: number): Uint8Array {
    const covered = new Uint8Array(size);
    for (const [from, to] of this.#prunedRanges) {
      for (let seq = from; seq <= to; seq++) {
        if (covered[seq - 1] === 1) {
          this.#problem('malformed', `Seq ${seq} is in two pruned ranges.`, seq);
        }
        covered[seq - 1] = 1;
      }
    }
    return covered;
  }

  /** A header of another format: one clear problem, and nothing more is read. */
  #foreignFormat(format: unknown): void {
    this.#foreign = true;
    this.#problem(
      'malformed',
      format === EVENTS_FORMAT
        ? `This is an export of selected events ("${EVENTS_FORMAT}": filters or ids), not a ` +
            'verifiable log: it has no salts or checkpoints. To verify, export the whole log ' +
            '(GET /v1/tenants/{tenant}/export?format=ndjson, without filters).'
        : `Unknown export format "${String(format)}": this is not a Hindsight log export ` +
            `("${EXPORT_FORMAT}").`,
    );
  }

  /**
   * A deleted event: its stored leaf hash takes its place in the tree. A changed hash makes
   * every checkpoint over it fail; a second line for its seq is an insertion.
   */
  #redactedLine(line: RedactedLine): void {
    const { seq, hash, redactedAt, redactedBy } = line;
    if (
      !Number.isSafeInteger(seq) ||
      seq < 1 ||
      typeof hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(hash) ||
      typeof redactedAt !== 'string' ||
      typeof redactedBy !== 'string'
    ) {
      this.#problem('malformed', `Line ${this.#lineNumber}: a malformed redacted event.`);
      return;
    }
    if (!this.#room(seq)) return;
    if (this.#present[seq - 1] === 1) {
      this.#problem('inserted', `A second event with seq ${seq} (a redacted one).`, seq);
      return;
    }
    this.#setLeaf(seq, Buffer.from(hash, 'hex'));
    this.#redacted.push({ seq, id: String(line.id ?? ''), at: redactedAt, by: redactedBy });
  }

  /**
   * Reads the next line when it is already known to be an event whose content gives its stored
   * hash ({@link checkEventLine}, run elsewhere, e.g. in a worker thread): the same as
   * {@link line} with that line, without parsing and hashing it again.
   */
  checkedEvent(seq: number, id: string, leaf: Uint8Array): void {
    this.#lineNumber++;
    if (this.#foreign) return;
    this.#events++;
    this.#keepLeaf(seq, id, leaf);
  }

  #event(event: StoredEvent, salts: Salts): void {
    this.#events++;
    const { seq } = event ?? {};
    if (!Number.isSafeInteger(seq) || seq < 1) {
      this.#problem('malformed', `Line ${this.#lineNumber}: an event without a valid seq.`);
      return;
    }
    let hex: string;
    try {
      hex = leafHash(event, salts);
    } catch {
      this.#problem('malformed', `The event with seq ${seq} cannot be read.`, seq);
      return;
    }
    const leaf = Buffer.from(hex, 'hex');
    if (this.#keepLeaf(seq, event.id, leaf) && event.hash !== hex) {
      this.#mismatched.push({
        seq,
        id: String(event.id),
        stored: String(event.hash),
        parts: this.#mismatched.length < REORDER_KEPT ? leafHashParts(event, salts) : null,
      });
    }
  }

  /** Keeps an event's recomputed leaf; false (and a problem) when its seq is taken. */
  #keepLeaf(seq: number, id: string, leaf: Uint8Array): boolean {
    if (!this.#room(seq)) return false;
    if (this.#present[seq - 1] === 1) {
      this.#problem('inserted', `A second event with seq ${seq} (id "${id}").`, seq);
      return false;
    }
    this.#setLeaf(seq, leaf);
    return true;
  }

  #setLeaf(seq: number, leaf: Uint8Array): void {
    this.#leaves.set(leaf, 32 * (seq - 1));
    this.#present[seq - 1] = 1;
    if (seq > this.#end) this.#end = seq;
  }

  /**
   * Makes room for `seq`; false (and a problem) for a seq so far past the log that holding it
   * would take memory out of proportion to the export: past the header's size, and more than
   * twice the lines read so far plus a million.
   */
  #room(seq: number): boolean {
    if (!this.#withinBound(seq) || !this.#reserve(seq)) {
      this.#problem(
        'malformed',
        `Line ${this.#lineNumber}: seq ${seq} is far past the log's size (${this.#header?.size ?? 'no header'}).`,
        seq,
      );
      return false;
    }
    return true;
  }

  /** Whether a seq is within what the export can hold (see `#room`). */
  #withinBound(seq: number): boolean {
    return seq <= Math.max(this.#header?.size ?? 0, 2 * this.#lineNumber + 1_000_000);
  }

  /** Grows the leaves' buffers to hold `size` seqs (doubling); false if memory runs out. */
  #reserve(size: number): boolean {
    if (size <= this.#present.length) return true;
    const capacity = Math.max(size, 2 * this.#present.length, 1024);
    try {
      const leaves = new Uint8Array(32 * capacity);
      const present = new Uint8Array(capacity);
      leaves.set(this.#leaves);
      present.set(this.#present);
      this.#leaves = leaves;
      this.#present = present;
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Events whose content does not give their stored hash: moved (its content gives the stored
   * hash under another mismatched seq of the export) or altered. The search for where each was
   * signed is bounded ({@link REORDER_BUDGET}), so that a log whose every event was changed is
   * reported as quickly as one with a single change; runs of altered seqs are one problem.
   */
  #resolveMismatches(): void {
    const all = this.#mismatched.sort((a, b) => a.seq - b.seq);
    const searched = all.filter((m) => m.parts !== null);
    const tries = Math.max(64, Math.floor(REORDER_BUDGET / Math.max(searched.length, 1)));
    const homes = new Map<number, number>();
    for (let i = 0; i < searched.length; i++) {
      const home = homeOf(searched, i, tries);
      if (home !== undefined) homes.set((searched[i] as Mismatch).seq, home);
    }
    let run: Mismatch[] = [];
    const endRun = () => {
      const first = run[0];
      const last = run[run.length - 1];
      if (first === undefined || last === undefined) return;
      this.#problem(
        'altered',
        run.length === 1
          ? `The event "${first.id}" at seq ${first.seq} does not match its hash: its content was changed.`
          : `The events with seq ${first.seq}…${last.seq} (${run.length}, "${first.id}"…"${last.id}") do not match their hashes: their content was changed.`,
        first.seq,
      );
      run = [];
    };
    for (const m of all) {
      const home = homes.get(m.seq);
      if (home !== undefined) {
        endRun();
        this.#problem(
          'reordered',
          `The event "${m.id}" at seq ${m.seq} was signed at seq ${home}: events were reordered.`,
          m.seq,
        );
        continue;
      }
      if (run.length > 0 && (run[run.length - 1] as Mismatch).seq !== m.seq - 1) endRun();
      run.push(m);
    }
    endRun();
  }

  #openCheckpoint(
    text: string,
    origin: string | null,
    label: string,
  ): (note.Checkpoint & { label: string }) | null {
    if (this.#skipOthers && !this.#signedByAKey(text)) {
      this.#skipped++;
      return null;
    }
    try {
      const cp = note.parseCheckpoint(note.openNote(text, this.#verifiers).text);
      if (origin !== null && cp.origin !== origin) {
        this.#problem(
          'bad_signature',
          `The ${label} checkpoint is for "${cp.origin}", not "${origin}".`,
        );
        return null;
      }
      return { ...cp, label };
    } catch (error) {
      this.#problem(
        'bad_signature',
        `${/^[aeiou]/.test(label) ? 'An' : 'A'} ${label} checkpoint does not verify with the ${this.#verifiers.length === 1 ? 'key' : 'keys'}: ${(error as Error).message}`,
      );
      return null;
    }
  }

  /** Whether a note carries a signature line of one of the keys (valid or not). */
  #signedByAKey(text: string): boolean {
    try {
      return note
        .splitNote(text)
        .signatures.some((s) =>
          this.#verifiers.some((k) => k.name === s.name && k.keyHash === s.keyHash),
        );
    } catch {
      // Malformed: reported as such by opening it.
      return true;
    }
  }

  #problem(kind: ProblemKind, message: string, seq?: number): void {
    this.#problems.push(seq === undefined ? { kind, message } : { kind, seq, message });
  }
}

/** An event line whose content gives its stored hash: its seq, id and leaf hash (hex). */
export interface CheckedEvent {
  readonly seq: number;
  readonly id: string;
  readonly hash: string;
}

/**
 * The part of reading an export that needs no other line, and is most of the work: whether a
 * line is an event whose content gives its stored hash. Anything else — another kind of line,
 * an unreadable or altered event — is `null`, for {@link ExportVerifier.line} to report.
 */
export function checkEventLine(text: string): CheckedEvent | null {
  let parsed: ExportLine;
  try {
    parsed = JSON.parse(text) as ExportLine;
  } catch {
    return null;
  }
  if (parsed?.type !== 'event') return null;
  const { event, salts } = parsed;
  if (!Number.isSafeInteger(event?.seq) || event.seq < 1 || typeof event.id !== 'string') {
    return null;
  }
  try {
    const hex = leafHash(event, salts ?? {});
    return hex === event.hash ? { seq: event.seq, id: event.id, hash: hex } : null;
  } catch {
    return null;
  }
}

/**
 * The seq, among the other mismatched ones, at which `mismatched[i]`'s content gives its stored
 * hash: the nearest seqs first, at most `tries` of them.
 */
function homeOf(mismatched: readonly Mismatch[], i: number, tries: number): number | undefined {
  const m = mismatched[i] as Mismatch;
  const parts = m.parts as LeafHashParts;
  for (let step = 1, tried = 0; tried < tries; step++) {
    const before = mismatched[i - step];
    const after = mismatched[i + step];
    if (before === undefined && after === undefined) return undefined;
    for (const other of [before, after]) {
      if (other === undefined) continue;
      tried++;
      if (leafHashOf(parts, other.seq) === m.stored) return other.seq;
    }
  }
  return undefined;
}

/** The origin line of a note, unverified (to pick the notes of one log from many). */
function originOf(signedNote: string): string {
  return signedNote.split('\n', 1)[0] ?? '';
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * Roots of prefixes of one list of leaves, sharing work: every complete subtree is computed
 * once (O(n) hashes) and kept per level in one flat buffer (32 bytes a node); each root folds
 * O(log n) of them. Pruned leaves are unknown; the subtree hashes given for them stand in.
 */
/** One level of a tree: its nodes' hashes (at `32 * index`) and which are known. */
interface Level {
  readonly hashes: Uint8Array;
  readonly known: Uint8Array;
}

/** The tree's nodes hashed between two yields of {@link RootCache.build}. */
const NODES_PER_STEP = 32_768;

class RootCache {
  readonly #levels: Level[] = [];

  /**
   * `leaves` holds at least `size` leaf hashes; `pruned[i]` is 1 for a leaf removed by
   * retention, whose hash is unknown.
   */
  constructor(
    leaves: Uint8Array,
    pruned: Uint8Array,
    size: number,
    given: ReadonlyMap<string, Uint8Array>,
  ) {
    const known = new Uint8Array(size);
    for (let i = 0; i < size; i++) known[i] = pruned[i] === 1 ? 0 : 1;
    this.#levels.push({ hashes: leaves.subarray(0, 32 * size), known });
    for (let level = 1; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      this.#levels.push({ hashes: new Uint8Array(32 * count), known: new Uint8Array(count) });
    }
    for (const [id, hash] of given) {
      const [level, index] = id.split('/').map(Number) as [number, number];
      const row = this.#levels[level];
      if (row === undefined || index >= row.known.length) continue;
      row.hashes.set(hash, 32 * index);
      row.known[index] = 1;
    }
  }

  /** Hashes the inner nodes, level by level; yields after every {@link NODES_PER_STEP} of them. */
  *build(): Generator<void> {
    let step = 0;
    for (let level = 1; level < this.#levels.length; level++) {
      const below = this.#levels[level - 1] as Level;
      const row = this.#levels[level] as Level;
      const hashes = Buffer.from(row.hashes.buffer, row.hashes.byteOffset, row.hashes.byteLength);
      for (let j = 0; j < row.known.length; j++) {
        if (row.known[j] === 1 || below.known[2 * j] !== 1 || below.known[2 * j + 1] !== 1) {
          continue;
        }
        // A million leaves make a million nodes, hashed here after the last line is read.
        merkle.nodeHashInto(below.hashes, 64 * j, hashes, 32 * j);
        row.known[j] = 1;
        if (++step === NODES_PER_STEP) {
          step = 0;
          yield;
        }
      }
    }
  }

  /** The root of the first `size` leaves, or `null` when a subtree it needs is unknown. */
  root(size: number): Uint8Array | null {
    if (size === 0) return merkle.emptyRoot();
    const nodes: Uint8Array[] = [];
    for (const { level, index } of merkle.rangeNodes(0, size)) {
      const row = this.#levels[level];
      if (row?.known[index] !== 1) return null;
      nodes.push(row.hashes.subarray(32 * index, 32 * index + 32));
    }
    return merkle.foldRange(nodes);
  }
}
