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

/** The whole before → after table of the detail panel. */
export function ChangeTable({ changes }: { readonly changes: readonly Change[] }) {
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
                  {change.before === undefined ? (
                    <span className="none">—</span>
                  ) : (
                    plainText(change.before)
                  )}
                </td>
                <td className="after-cell">
                  {change.after === undefined ? (
                    <span className="none">—</span>
                  ) : (
                    plainText(change.after)
                  )}
                </td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
