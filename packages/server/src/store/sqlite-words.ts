/**
 * The words of the SQLite store's keyword search (see `sqlite-schema.ts`): a contentless FTS5
 * index keyed by the event's `pos`, whose tokens carry the tenant (`t<id>_word`).
 */
import { type StoredEvent, searchText } from '@hindsight/core';

/** The FTS5 document of an event: its search tokens, each carrying the tenant. */
export function ftsWords(tenantId: number, searchText: string): string {
  const prefix = `t${tenantId}_`;
  return searchText === '' ? '' : prefix + searchText.replaceAll(' ', ` ${prefix}`);
}

/**
 * The FTS5 document of a stored event (its parsed body): what {@link ftsWords} indexed when it was
 * stored, and so what {@link DELETE_FTS_SQL} must be given to remove it. Every writer indexes
 * `searchText` of the body it stores, so the two agree; a change to how words are found
 * must come with a schema version that re-indexes (as version 5 does).
 */
export function eventWords(tenantId: number, event: StoredEvent): string {
  return ftsWords(tenantId, searchText(event));
}

export const INSERT_FTS_SQL = 'INSERT INTO events_fts (rowid, words) VALUES (?, ?)';
/**
 * Removes an event's words: a delete marker that the index's merges apply, written with the
 * transaction's other new entries (removal by rowid scatters a write over the index's pages).
 * Parameters: the position and {@link eventWords} of the stored body.
 */
export const DELETE_FTS_SQL =
  "INSERT INTO events_fts (events_fts, rowid, words) VALUES ('delete', ?, ?)";
