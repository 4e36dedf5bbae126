/** `changes` as before → after; a sensitive field only says that it changed. */
import type { Change } from '@hindsight/core';
import { plainText } from '../formats.js';

function Values({ change }: { readonly change: Change }) {
  if (change.sensitive) return <em className="changed">changed</em>;
  return (
    <>
      {change.before !== undefined && <span className="before">{plainText(change.before)}</span>}
      {change.before !== undefined && change.after !== undefined && (
        <span className="arrow">
          <span aria-hidden="true"> → </span>
          <span className="visually-hidden"> changed to </span>
        </span>
      )}
      {change.after !== undefined && <span className="after">{plainText(change.after)}</span>}
      {change.before !== undefined && change.after === undefined && (
        <span className="removed"> (removed)</span>
      )}
    </>
  );
}

/** A short list for a table cell: the first few changes and how many more. */
export function ChangeList({
  value,
  shown = 3,
}: {
  readonly value: unknown;
  readonly shown?: number;
}) {
  if (!Array.isArray(value) || value.length === 0) return null;
  const changes = value as Change[];
  return (
    <ul className="change-list">
      {changes.slice(0, shown).map((change, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: changes are a fixed list; a field may repeat
        <li key={i}>
          <span className="field">{change.field}</span>: <Values change={change} />
        </li>
      ))}
      {changes.length > shown && <li className="more">+{changes.length - shown} more</li>}
    </ul>
  );
}

/** One side of a change in the detail panel: its value, erased (GDPR), or none. */
function Side({ value, erased }: { readonly value: unknown; readonly erased: boolean }) {
  if (erased) return <em className="erased">erased</em>;
  return value === undefined ? <span className="none">—</span> : plainText(value);
}

/**
 * The whole before → after table of the detail panel; `erased` is the event's map of erased
 * values (docs/erasure.md), whose changes show as erased.
 */
export function ChangeTable({
  changes,
  erased,
}: {
  readonly changes: readonly Change[];
  readonly erased?: Readonly<Record<string, string | null>> | undefined;
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
        {changes.map((change, i) => (
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
                  <Side
                    value={change.before}
                    erased={erased?.[`/changes/${i}/before`] !== undefined}
                  />
                </td>
                <td className="after-cell">
                  <Side
                    value={change.after}
                    erased={erased?.[`/changes/${i}/after`] !== undefined}
                  />
                </td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
