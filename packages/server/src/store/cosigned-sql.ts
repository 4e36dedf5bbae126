/**
 * When a checkpoint kept already may be replaced: only by itself with signature lines added
 * after its own (a cosignature, `note.cosignNote`), so that nothing signed ever changes. The
 * same condition in SQLite and PostgreSQL, over the conflicting row (`checkpoints`) and the
 * one offered (`excluded`); lengths and positions count characters in both.
 */
export const COSIGNED_SQL =
  'length(excluded.note) > length(checkpoints.note) ' +
  'AND substr(excluded.note, 1, length(checkpoints.note)) = checkpoints.note ' +
  "AND substr(checkpoints.note, length(checkpoints.note), 1) = '\n' " +
  "AND substr(excluded.note, length(checkpoints.note) + 1, 2) = '\u2014 '";
