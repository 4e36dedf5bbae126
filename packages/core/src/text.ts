/**
 * Search text: which words of an event are searchable (SPEC §5) and how text is cut into
 * tokens, shared by every store so that indexing and querying always agree.
 */
import type { UnsealedEvent } from './schema.js';

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
const ASCII_WORD = /[a-z0-9]+/g;
/** A character past ASCII (used by the validator's `utf8Length` too). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: every character below U+0080.
export const NON_ASCII = /[^\u0000-\u007f]/;
// C0 controls, DEL and C1 controls; the second without tab, line feed and carriage return.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROLS_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * Whether `text` holds a control character an event's text field refuses (SPEC §2): any C0 or
 * C1 control or DEL, or with `lineBreaks` (the rule of multi-line fields such as
 * `description`) any but tab, line feed and carriage return.
 * @example hasControlCharacters('two\nlines', { lineBreaks: true }) // false
 */
export function hasControlCharacters(text: string, options: { lineBreaks?: boolean } = {}) {
  return (options.lineBreaks ? CONTROLS_BUT_LINE_BREAKS : CONTROLS).test(text);
}

/**
 * Lower-cased, accent-free words of a text: letters and digits, split at everything else, so
 * `CUS-123456` gives `cus 123456` and `ann@acme.test` gives `ann acme test`; searching for the
 * same text as a phrase therefore finds identifiers and e-mail addresses whole.
 * @example searchTokens('Zoë sent CUS-42') // ['zoe', 'sent', 'cus', '42']
 */
export function searchTokens(text: string): string[] {
  // ASCII text is its own NFKD form, has no marks, and its letters and digits are [A-Za-z0-9]:
  // the same tokens, without the Unicode passes (most of what events hold is ASCII).
  if (!NON_ASCII.test(text)) return text.toLowerCase().match(ASCII_WORD) ?? [];
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase().match(WORD) ?? [];
}

function collectValues(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) collectValues(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) collectValues(v, out);
  }
}

/**
 * The searchable texts of an event: description, action, actor name/e-mail/id, target names
 * and ids, metadata values.
 */
export function searchableTexts(event: UnsealedEvent): string[] {
  const out: string[] = [event.action];
  const { actor } = event;
  for (const v of [actor.id, actor.name, actor.email, event.description, event.status]) {
    if (v !== undefined) out.push(v);
  }
  for (const t of event.targets ?? []) {
    out.push(t.id);
    if (t.name !== undefined) out.push(t.name);
  }
  if (event.metadata !== undefined) collectValues(event.metadata, out);
  return out;
}

/**
 * An event's search text: the tokens of its {@link searchableTexts}, in order, joined by single
 * spaces — what every store indexes, and what a store computes again from a stored event to take
 * its words out of the index, so the two must always agree.
 * @example searchText(event) // 'user created u 17 ann ann acme test cus 42'
 */
export function searchText(event: UnsealedEvent): string {
  // A loop rather than `flatMap`, which costs twice as much on every event ingested.
  const tokens: string[] = [];
  for (const text of searchableTexts(event)) {
    const found = searchTokens(text);
    for (let i = 0; i < found.length; i++) tokens.push(found[i] as string);
  }
  return tokens.join(' ');
}

/**
 * The characters that override or isolate the direction of the text around them (U+202A–U+202E,
 * U+2066–U+2069): shown as they act, `Alice\u202Eevil` reads "Alicelive" — the "Trojan
 * Source" trick, here to disguise what an administrator reads in a log.
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text with each direction override or isolate shown as a visible mark, `⟨U+202E⟩`, so that a
 * value reads as what it is: for the console and the PDF export, never for what is hashed.
 * @example showBidiControls('Alice\u202Eevil') // 'Alice⟨U+202E⟩evil'
 */
export function showBidiControls(text: string): string {
  return text.replace(
    BIDI_CONTROLS,
    (c) => `⟨U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`,
  );
}
