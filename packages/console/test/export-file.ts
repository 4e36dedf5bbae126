/**
 * Reads the files the console downloads: the ids of the events an export holds — the `event`
 * lines of NDJSON (`{ "type": "event", "event": … }`), or the `id` column of CSV.
 */
import type { StoredEvent } from '@hindsight/core';

/** The ids of an export's events, in file order. */
export function exportedIds(text: string, format: 'csv' | 'ndjson'): string[] {
  if (format === 'ndjson') {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type?: string; event?: StoredEvent })
      .filter((line) => line.type === 'event')
      .map((line) => line.event?.id ?? '');
  }
  const [header = [], ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  const column = header.indexOf('id');
  if (column < 0) throw new Error(`no "id" column in:\n${text.slice(0, 300)}`);
  return rows.map((row) => row[column] ?? '');
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
