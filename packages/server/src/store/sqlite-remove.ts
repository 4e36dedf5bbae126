/**
 * Removing a stored event from SQLite with everything indexed of it — its targets, its search
 * words and its row: what pruning and permitted deletion both do.
 */
import type { StoredEvent } from '@hindsight/core';
import type Database from 'better-sqlite3';
import { DELETE_TARGET_SQL, targetParams } from './sqlite-keys.js';
import { DELETE_FTS_SQL, eventWords } from './sqlite-words.js';

/** A function that removes the event at a position, prepared once for a connection. */
export type RemoveEvent = (tenantId: number, pos: number) => void;

/** Prepares {@link RemoveEvent} on a connection; an absent position removes nothing. */
export function eventRemover(db: Database.Database): RemoveEvent {
  const row = db.prepare('DELETE FROM events WHERE pos = ? RETURNING body').pluck();
  const target = db.prepare(DELETE_TARGET_SQL);
  const words = db.prepare(DELETE_FTS_SQL);
  return (tenantId, pos) => {
    const body = row.get(pos) as string | undefined;
    if (body === undefined) return;
    const event = JSON.parse(body) as StoredEvent;
    for (const t of event.targets ?? []) target.run(targetParams(tenantId, t.id, pos));
    words.run(pos, eventWords(tenantId, event));
  };
}
