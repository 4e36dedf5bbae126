/**
 * An event as the API sends it, from its stored row, alike in both stores.
 *
 * The stored body is the event as `JSON.stringify` wrote it, `id` first, without `seq` and
 * `hash`. The API's form puts `seq` after the id and `hash` last: {@link storedEvent} builds
 * that object, and {@link eventJson} its JSON text straight from the body — pages and exports
 * send events without parsing and serialising each one again.
 */
import type { StoredEvent } from '@hindsight/core';
import type { EventText } from './types.js';

/** The stored columns an event is read from. */
export interface EventRowText {
  readonly body: string;
  readonly hash: Buffer;
  /** The salts as JSON text, `null` for an event without personal values. */
  readonly salts?: string | null;
}

/** The event object of a stored row. */
export function storedEvent(row: EventRowText, seq: number): StoredEvent {
  const { id, ...rest } = JSON.parse(row.body) as Omit<StoredEvent, 'seq' | 'hash'>;
  return { id, seq, ...rest, hash: row.hash.toString('hex') } as StoredEvent;
}

/** `{"id":"…"` at the start of a body: ids are printable and never need escaping. */
const ID_MEMBER = /^\{"id":"[^"\\]*"/;

/** The JSON text of {@link storedEvent}: the same text `JSON.stringify` gives for it. */
export function eventJson(row: EventRowText, seq: number): string {
  const head = ID_MEMBER.exec(row.body)?.[0];
  if (head === undefined || row.body[head.length] !== ',') {
    return JSON.stringify(storedEvent(row, seq));
  }
  return `${head},"seq":${seq}${row.body.slice(head.length, -1)},"hash":"${row.hash.toString('hex')}"}`;
}

/** An event of a page as text, with its salts' text when asked (`{}` when it has none). */
export function eventText(
  row: EventRowText,
  seq: number,
  withSalts: boolean | undefined,
): EventText {
  const json = eventJson(row, seq);
  return withSalts ? { seq, json, salts: row.salts ?? '{}' } : { seq, json };
}
