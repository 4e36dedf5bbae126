/**
 * The CSV export of selected events: one readable row per event, for spreadsheets. Values that
 * a spreadsheet would run as a formula are neutralised (OWASP CSV injection).
 */
import type { StoredEvent } from '@hindsight/core';
import { type Options, stringify } from 'csv-stringify/sync';

/** The header row, in column order. */
export const CSV_COLUMNS = [
  'seq',
  'time',
  'category',
  'action',
  'actor',
  'actor_id',
  'description',
  'targets',
  'outcome',
  'status',
  'channel',
  'ip',
  'location',
  'changes',
  'id',
  'hash',
] as const;

const OPTIONS: Options = {
  // RFC 4180 line ends; fields holding quotes, commas or line breaks are quoted — a bare CR or
  // LF too (csv-stringify quotes only a CRLF by itself), which spreadsheets read as a new row.
  record_delimiter: 'windows',
  quoted_match: /[\r\n]/,
  // A cell starting with =, +, -, @, tab or CR (or their full-width forms) gets a leading '.
  escape_formulas: true,
};

/** Who did it, as a reader names them: "System", else name, e-mail or id. */
export function actorText(actor: StoredEvent['actor']): string {
  if (actor.type === 'system') return 'System';
  return actor.name ?? actor.email ?? actor.id ?? (actor.type === 'anonymous' ? 'Anonymous' : '');
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function changeText(change: NonNullable<StoredEvent['changes']>[number], erased: boolean): string {
  if (change.sensitive) return `${change.field}: changed`;
  // Values erased for a person (GDPR, issue #9).
  if (erased) return `${change.field}: erased`;
  const parts: string[] = [];
  if (change.before !== undefined) parts.push(valueText(change.before));
  parts.push('→');
  if (change.after !== undefined) parts.push(valueText(change.after));
  return `${change.field}: ${parts.join(' ')}`;
}

/**
 * Each change of an event as a reader reads it: `field: before → after`, `field: changed` for a
 * sensitive one, `field: erased` for values erased for a person.
 * @example changeTexts(event) // ['role: member → owner', 'password: changed']
 */
export function changeTexts(event: StoredEvent): string[] {
  return (event.changes ?? []).map((c, i) =>
    changeText(
      c,
      event.erased?.[`/changes/${i}/before`] !== undefined ||
        event.erased?.[`/changes/${i}/after`] !== undefined,
    ),
  );
}

/**
 * One event's cells, in the order of {@link CSV_COLUMNS}.
 * @example csvCells(event) // [42, '2026-06-15T12:00:00.000Z', 'changes', 'user.updated', 'Ann Lee', …]
 */
export function csvCells(event: StoredEvent): Array<string | number> {
  const location = event.context?.location;
  return [
    event.seq,
    event.time,
    event.category,
    event.action,
    actorText(event.actor),
    event.actor.id ?? '',
    event.description ?? '',
    (event.targets ?? [])
      .map((t) => `${t.type}:${t.id}${t.name === undefined ? '' : ` ${t.name}`}`)
      .join('; '),
    event.outcome,
    event.status ?? '',
    event.channel ?? '',
    event.context?.ip ?? '',
    [location?.city, location?.region, location?.country].filter(Boolean).join(', '),
    changeTexts(event).join('; '),
    event.id,
    event.hash,
  ];
}

/**
 * The CSV text of an export, a chunk per page: a byte order mark (so that Excel reads UTF-8)
 * and the header row come with the first page, so that a store failing before any event is
 * read fails the request, not the download.
 */
export async function* csvChunks(pages: AsyncIterable<StoredEvent[]>): AsyncGenerator<string> {
  let first = true;
  for await (const page of pages) {
    yield stringify(page.map(csvCells), {
      ...OPTIONS,
      ...(first ? { bom: true, header: true, columns: CSV_COLUMNS } : {}),
    });
    first = false;
  }
}
