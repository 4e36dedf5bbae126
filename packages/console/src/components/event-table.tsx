/**
 * A page of events as a table with the view's columns: a checkbox per row for bulk export (only
 * for a reader who may export), a click or Enter on a row opens its details, the arrow keys move
 * between rows.
 */
import type { StoredEvent, ViewDefinition } from '@hindsight/core';
import { useRef, useState } from 'react';
import type { TimeFormat } from '../formats.js';
import { clickedInside, onRowKey, useFocusReturn } from '../row-keys.js';
import { Cell } from './cell.js';

/** What a `seq` column shows, for its heading's tooltip and accessible name. */
const SEQ_MEANING = 'Number in the log (seq)';

export function EventTable({
  view,
  events,
  time,
  openId,
  onOpen,
  selection,
}: {
  readonly view: ViewDefinition;
  readonly events: readonly StoredEvent[];
  readonly time: TimeFormat;
  readonly openId: string | null;
  readonly onOpen: (id: string) => void;
  /**
   * The rows ticked for export and how to tick them; `null` for a reader who cannot export, whose
   * rows have no tick boxes (they would choose rows for nothing).
   */
  readonly selection: {
    readonly selected: ReadonlySet<string>;
    readonly onSelect: (ids: readonly string[], on: boolean) => void;
  } | null;
}) {
  const body = useRef<HTMLTableSectionElement>(null);
  const [active, setActive] = useState(0);
  useFocusReturn(openId, body);
  const selected = selection?.selected ?? new Set<string>();
  const allOn = events.length > 0 && events.every((e) => selected.has(e.id));
  const someOn = !allOn && events.some((e) => selected.has(e.id));

  return (
    <div className="table-wrap">
      <table className="data-table events-table" data-view={view.id}>
        <caption className="visually-hidden">
          {view.label}: events, newest first. Press Enter on a row to see all its details
          {selection ? ', Space to select it for export.' : '.'}
        </caption>
        <thead>
          <tr>
            {selection && (
              <th scope="col" className="select-col">
                <input
                  type="checkbox"
                  aria-label="Select every event on this page"
                  checked={allOn}
                  ref={(box) => {
                    if (box) box.indeterminate = someOn;
                  }}
                  onChange={(e) =>
                    selection.onSelect(
                      events.map((ev) => ev.id),
                      e.currentTarget.checked,
                    )
                  }
                />
              </th>
            )}
            {view.columns.map((column) => (
              <th
                scope="col"
                key={column.field + column.label}
                data-format={column.format}
                // A short heading ("No.") says in full what it counts, as the details do.
                {...(column.format === 'seq'
                  ? { title: SEQ_MEANING, 'aria-label': `${column.label}: ${SEQ_MEANING}` }
                  : {})}
              >
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>
          {events.map((event, index) => (
            <tr
              key={event.id}
              data-id={event.id}
              tabIndex={index === active ? 0 : -1}
              className={[
                'row',
                event.id === openId ? 'row-open' : '',
                selected.has(event.id) ? 'row-selected' : '',
              ].join(' ')}
              aria-current={event.id === openId ? 'true' : undefined}
              onFocus={() => setActive(index)}
              onKeyDown={(e) =>
                onRowKey(
                  e,
                  body.current,
                  () => onOpen(event.id),
                  selection
                    ? () => selection.onSelect([event.id], !selected.has(event.id))
                    : undefined,
                )
              }
              onClick={(e) => {
                if (!clickedInside(e)) onOpen(event.id);
              }}
            >
              {selection && (
                <td className="select-col">
                  <input
                    type="checkbox"
                    aria-label={`Select event ${event.seq}`}
                    checked={selected.has(event.id)}
                    onChange={(e) => selection.onSelect([event.id], e.currentTarget.checked)}
                  />
                </td>
              )}
              {view.columns.map((column) => (
                <td key={column.field + column.label} data-format={column.format}>
                  <Cell event={event} column={column} view={view} time={time} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
