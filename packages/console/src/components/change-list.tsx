/**
 * `changes` as before → after; a sensitive field only says that it changed, and a value erased
 * (GDPR, docs/erasure.md) says so: it is absent from the event, its commitment kept in the
 * event's `erased` map under its JSON Pointer (`/changes/0/after`).
 */
import type { Change, StoredEvent } from '@hindsight/core';
import { plainText } from '../formats.js';

/** An event's map of erased values, by JSON Pointer. */
type ErasedMap = StoredEvent['erased'];

/** Which sides of the change at `pointer` (`/changes/0`) were erased. */
function erasedSides(erased: ErasedMap, pointer: string) {
  return {
    before: erased?.[`${pointer}/before`] !== undefined,
    after: erased?.[`${pointer}/after`] !== undefined,
  };
}

function Erased() {
  return <em className="erased">erased</em>;
}

function Values({
  change,
  erased,
}: {
  readonly change: Change;
  readonly erased: ReturnType<typeof erasedSides>;
}) {
  if (change.sensitive) return <em className="changed">changed</em>;
  const before = erased.before ? (
    <Erased />
  ) : change.before === undefined ? null : (
    <span className="before">{plainText(change.before)}</span>
  );
  const after = erased.after ? (
    <Erased />
  ) : change.after === undefined ? null : (
    <span className="after">{plainText(change.after)}</span>
  );
  return (
    <>
      {before}
      {before && after && (
        <span className="arrow">
          <span aria-hidden="true"> → </span>
          <span className="visually-hidden"> changed to </span>
        </span>
      )}
      {after}
      {before && !after && <span className="removed"> (removed)</span>}
    </>
  );
}

/**
 * A short list for a table cell: the first few changes and how many more. `pointer` is where
 * the list is in the event (`/changes`), to find its erased values in `erased`.
 */
export function ChangeList({
  value,
  erased,
  pointer,
  shown = 3,
}: {
  readonly value: unknown;
  readonly erased: ErasedMap;
  readonly pointer: string;
  readonly shown?: number;
}) {
  if (!Array.isArray(value) || value.length === 0) return null;
  const changes = value as Change[];
  return (
    <ul className="change-list">
      {changes.slice(0, shown).map((change, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: changes are a fixed list; a field may repeat
        <li key={i}>
          <span className="field">{change.field}</span>:{' '}
          <Values change={change} erased={erasedSides(erased, `${pointer}/${i}`)} />
        </li>
      ))}
      {changes.length > shown && <li className="more">+{changes.length - shown} more</li>}
    </ul>
  );
}

/** One side of a change in the detail panel: its value, erased, or none. */
function Side({ value, erased }: { readonly value: unknown; readonly erased: boolean }) {
  if (erased) return <Erased />;
  return value === undefined ? <span className="none">—</span> : plainText(value);
}

/** The whole before → after table of the detail panel, of the event's `changes`. */
export function ChangeTable({
  changes,
  erased,
}: {
  readonly changes: readonly Change[];
  readonly erased: ErasedMap;
}) {
  return (
    <table className="change-table">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((change, i) => {
          const gone = erasedSides(erased, `/changes/${i}`);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: changes are a fixed list; a field may repeat
            <tr key={i}>
              <th scope="row">{change.field}</th>
              {change.sensitive ? (
                <td colSpan={2}>
                  <em className="changed">changed</em>
                  <span className="hint"> (sensitive: the values are never stored)</span>
                </td>
              ) : (
                <>
                  <td className="before-cell">
                    <Side value={change.before} erased={gone.before} />
                  </td>
                  <td className="after-cell">
                    <Side value={change.after} erased={gone.after} />
                  </td>
                </>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
