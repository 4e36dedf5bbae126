/**
 * The day-led keys of the SQLite store (see `sqlite-schema.ts`): the indexes of actor id,
 * e-mail and IP, and the targets' table, are keyed by the tenant and the event's day before the
 * value, and a look-up by value probes each day of its range in turn.
 */
import { DAY_POS } from './sqlite-projections.js';

// Positions are bound as numbers, which SQLite takes as REAL: each is cast to INTEGER before its
// division, so that days are whole numbers as in the indexes.

/**
 * A recursive CTE `days(day)`: every day from that of the newest of a tenant's events at a
 * position in `[lo, hi)` down to that of the oldest, for one probe of a day-led index per day
 * (`x.pos / DAY_POS = days.day`, or `x.day = days.day` for `event_targets`). No rows for a
 * tenant without events. The members that follow it bound their positions by `[lo, hi)` too.
 */
function daysOf(tenantId: number, lo: number, hi: number): { sql: string; params: unknown[] } {
  const newest = 'SELECT max(pos) FROM events WHERE tenant_id = ?';
  const oldest = 'SELECT min(pos) FROM events WHERE tenant_id = ?';
  return {
    sql:
      `WITH RECURSIVE days(day) AS (SELECT min(CAST(? AS INTEGER) - 1, (${newest})) / ${DAY_POS} ` +
      `UNION ALL SELECT day - 1 FROM days WHERE day > max(CAST(? AS INTEGER), (${oldest})) / ${DAY_POS}) `,
    params: [hi, tenantId, lo, tenantId],
  };
}

/** A look-up of a day-led index: the table (alias `x`) and the value's condition. */
export interface DayLookup {
  readonly from: 'events' | 'event_targets';
  readonly where: string;
  readonly params: readonly unknown[];
}

/**
 * The condition `column IN (…)` of the positions in `[lo, hi)` of a tenant's events that one of
 * `lookups` finds, each a look-up of a day-led index probed once per day of the range.
 * @example byDay('e.pos', 1, { lo, hi }, [{ from: 'events', where: 'x.actor_id = ?', params: ['u'] }])
 */
export function byDay(
  column: string,
  tenantId: number,
  range: { readonly lo: number; readonly hi: number },
  lookups: readonly DayLookup[],
): { sql: string; params: unknown[] } {
  const days = daysOf(tenantId, range.lo, range.hi);
  const params = [...days.params];
  const selects = lookups.map((m) => {
    params.push(tenantId, ...m.params, range.lo, range.hi);
    // The `events` indexes' expression, written exactly as they are.
    const day = m.from === 'events' ? `x.pos / ${DAY_POS}` : 'x.day';
    return (
      `SELECT x.pos FROM days CROSS JOIN ${m.from} x WHERE x.tenant_id = ? AND ${day} = days.day ` +
      `AND ${m.where} AND x.pos >= ? AND x.pos < ?`
    );
  });
  return { sql: `${column} IN (${days.sql}${selects.join(' UNION ')})`, params };
}

/** Parameters: {@link targetParams}. */
export const INSERT_TARGET_SQL =
  'INSERT OR IGNORE INTO event_targets (tenant_id, day, target_id, pos) ' +
  `VALUES (?, CAST(? AS INTEGER) / ${DAY_POS}, ?, ?)`;
/** Parameters: {@link targetParams}. */
export const DELETE_TARGET_SQL =
  `DELETE FROM event_targets WHERE tenant_id = ? AND day = CAST(? AS INTEGER) / ${DAY_POS} ` +
  'AND target_id = ? AND pos = ?';

/** The parameters of {@link INSERT_TARGET_SQL} and {@link DELETE_TARGET_SQL}. */
export function targetParams(tenantId: number, targetId: string, pos: number): unknown[] {
  return [tenantId, pos, targetId, pos];
}
