/**
 * The PDF export of selected events (issue #9), for people who file or print the log: a title
 * page header naming the tenant, the filters, when it was made and the signed checkpoint the log
 * had then; one row per event (time, who, action, what, outcome); "Page N" on every page. Written
 * with pdfkit a page of events at a time, so memory stays flat however many events there are.
 * Text is set in DejaVu Sans (embedded, subset), which covers Latin, Greek and Cyrillic scripts,
 * and the characters it lacks in the operator's fallback fonts (`pdf-fonts.ts`).
 */
import { type StoredEvent, showBidiControls } from '@hindsight/core';
import PDFDocument from 'pdfkit';
import { actorText, changeTexts } from './export-csv.js';
import {
  DEJAVU,
  drawnLength,
  type PdfFont,
  shownText,
  type TextRun,
  textRuns,
} from './pdf-fonts.js';
import { countOf } from './plural.js';

/** What the first lines of the PDF say. */
export interface PdfHeading {
  readonly tenant: string;
  /** The event-list filters, or the picked ids. */
  readonly filters: Record<string, string>;
  readonly ids?: readonly string[];
  readonly generatedAt: string;
  /** The tenant's latest signed checkpoint when the export began, if any. */
  readonly checkpoint: { readonly size: number; readonly root: string } | null;
}

const MARGIN = 40;
const FOOTER = 24;
/** Column titles and widths (points); A4 is 595 points wide. */
const COLUMNS = [
  { title: 'Time (UTC)', width: 92 },
  { title: 'Who', width: 94 },
  { title: 'Action', width: 90 },
  { title: 'What', width: 177 },
  { title: 'Outcome', width: 62 },
] as const;
const GAP = 0;
/**
 * The tallest a cell is drawn, in points (about 15 lines of 8-point text): every row then fits
 * on a page, and a value of thousands of lines fills no pages of blank rows. A cell's text past
 * it is cut, and says so.
 */
const MAX_CELL_HEIGHT = 150;

/** The cells of one event's row. */
function cells(event: StoredEvent): string[] {
  const targets = (event.targets ?? []).map((t) => t.name ?? `${t.type} ${t.id}`).join(', ');
  const what = [
    event.description,
    targets === '' ? undefined : `→ ${targets}`,
    ...changeTexts(event),
  ]
    .filter((s) => s !== undefined && s !== '')
    .join('\n');
  // A line each: a status (hard_bounce) is as wide as the column.
  const outcome = event.status ? `${event.outcome}\n${event.status}` : event.outcome;
  return [
    // Its seq names the event in the log, and in the verifiable export.
    `${event.time
      .replace('T', ' ')
      .replace(/\.\d+Z$/, '')
      .replace('Z', '')}\nseq ${event.seq}`,
    actorText(event.actor) || event.actor.type || '',
    event.action,
    what,
    event.channel ? `${outcome}\nvia ${event.channel}` : outcome,
  ];
}

/**
 * The PDF's bytes, a chunk per page of events (the heading comes with the first). `fonts` set
 * the characters DejaVu Sans lacks (`--pdf-font`).
 * @example for await (const chunk of pdfChunks(heading, pages)) res.write(chunk);
 */
export async function* pdfChunks(
  heading: PdfHeading,
  pages: AsyncIterable<StoredEvent[]>,
  fonts: readonly PdfFont[] = [],
): AsyncGenerator<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    info: {
      Title: `Audit log of ${heading.tenant}`,
      Author: 'Hindsight',
      CreationDate: new Date(heading.generatedAt),
    },
  });
  const out: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  const take = () => Buffer.concat(out.splice(0));
  doc.registerFont('regular', DEJAVU.regular);
  doc.registerFont('bold', DEJAVU.bold);
  for (const [i, font] of fonts.entries()) doc.registerFont(`fallback-${i}`, font.file, font.face);
  const fontOf = (run: TextRun) =>
    typeof run.font === 'number' ? `fallback-${run.font}` : 'regular';
  /** Characters set as boxes: no font has them. */
  let unshown = 0;
  /** Text of the log (`textRuns`), in its fonts: at (x, y), or below the last text. */
  const write = (
    runs: readonly TextRun[],
    options: PDFKit.Mixins.TextOptions = {},
    x?: number,
    y?: number,
  ) => {
    runs.forEach((run, i) => {
      const continued = { ...options, continued: i < runs.length - 1 };
      if (run.font === 'none') unshown += drawnLength(run.text);
      doc.font(fontOf(run));
      if (i === 0 && x !== undefined) doc.text(shownText(run), x, y, continued);
      else doc.text(shownText(run), continued);
    });
  };
  /** The height {@link write} takes for `runs` in `width`. */
  const heightOf = (runs: readonly TextRun[], width: number) =>
    runs.reduce((height, run, i) => {
      doc.font(fontOf(run));
      return height + doc.heightOfString(shownText(run), { width, continued: i < runs.length - 1 });
    }, 0);

  let page = 1;
  const bottom = () => doc.page.height - MARGIN - FOOTER;
  const footer = () => {
    const y = doc.page.height - MARGIN - 10;
    doc
      .font('regular')
      .fontSize(7)
      .fillColor('#555555')
      .text(`${heading.tenant} · exported ${heading.generatedAt} · Page ${page}`, MARGIN, y, {
        width: doc.page.width - 2 * MARGIN,
        align: 'center',
        lineBreak: false,
      });
    doc.fillColor('black');
  };
  const columnHeads = () => {
    let x = MARGIN;
    const y = doc.y;
    doc.font('bold').fontSize(8);
    for (const c of COLUMNS) {
      doc.text(c.title, x, y, { width: c.width - 4, lineBreak: false });
      x += c.width + GAP;
    }
    doc
      .moveTo(MARGIN, y + 12)
      .lineTo(doc.page.width - MARGIN, y + 12)
      .strokeColor('#999999')
      .stroke();
    doc.y = y + 16;
  };
  const newPage = () => {
    doc.addPage();
    page++;
    footer();
    doc.x = MARGIN;
    doc.y = MARGIN;
    columnHeads();
  };

  // The heading.
  footer();
  doc.x = MARGIN;
  doc.y = MARGIN;
  doc.font('bold').fontSize(16).text(`Audit log of ${heading.tenant}`);
  doc.moveDown(0.4).font('regular').fontSize(9);
  const filters = Object.entries(heading.filters).map(([k, v]) => `${k}: ${v}`);
  doc.text(`Exported: ${heading.generatedAt}`);
  write(
    textRuns(
      heading.ids
        ? `Events picked by id: ${heading.ids.length}`
        : `Filters: ${filters.length === 0 ? 'none (every event)' : filters.join('; ')}`,
      fonts,
    ),
  );
  doc.text(
    heading.checkpoint
      ? `Latest signed checkpoint: ${countOf(heading.checkpoint.size, 'event')}, root ${heading.checkpoint.root}`
      : 'Latest signed checkpoint: none yet',
  );
  doc.text(
    'Each row names its event by its number in the log (seq); the verifiable form of the log ' +
      'is the NDJSON export, checked with "hindsight verify".',
  );
  doc.moveDown(0.8);
  columnHeads();

  let shortened = 0;
  /** A cell's runs, its text cut (with "…") where it would be taller than the most a cell is. */
  const cellRuns = (text: string, width: number): TextRun[] => {
    // Direction overrides as marks, so that the row reads as what it holds.
    const runsOf = (shown: string) => textRuns(showBidiControls(shown), fonts);
    const whole = runsOf(text);
    if (heightOf(whole, width) <= MAX_CELL_HEIGHT) return whole;
    shortened++;
    // The longest beginning that fits with its "…", never ending inside a surrogate pair.
    let fits = 0;
    let over = text.length;
    while (over - fits > 1) {
      const mid = (fits + over) >> 1;
      if (heightOf(runsOf(`${text.slice(0, mid)}…`), width) <= MAX_CELL_HEIGHT) fits = mid;
      else over = mid;
    }
    const code = text.charCodeAt(fits - 1);
    if (code >= 0xd800 && code <= 0xdbff) fits--;
    return runsOf(`${text.slice(0, fits)}…`);
  };

  /**
   * An action wider than its column, broken into lines after its dots (`user.admin_rights.` /
   * `updated`) rather than in the middle of a word. Actions are ASCII: the regular font sets them.
   */
  const actionLines = (action: string, width: number): string => {
    if (doc.widthOfString(action) <= width) return action;
    const lines: string[] = [];
    let line = '';
    for (const part of action.split(/(?<=\.)/)) {
      if (line !== '' && doc.widthOfString(line + part) > width) {
        lines.push(line);
        line = part;
      } else line += part;
    }
    lines.push(line);
    return lines.join('\n');
  };
  const ACTION = COLUMNS.findIndex((c) => c.title === 'Action');

  let rows = 0;
  for await (const events of pages) {
    for (const event of events) {
      const texts = cells(event);
      doc.font('regular').fontSize(8);
      texts[ACTION] = actionLines(texts[ACTION] ?? '', (COLUMNS[ACTION]?.width ?? 0) - 4);
      const row = COLUMNS.map((c, i) => ({
        runs: cellRuns(texts[i] ?? '', c.width - 4),
        width: c.width - 4,
      }));
      const height = Math.max(...row.map((c) => heightOf(c.runs, c.width))) + 4;
      if (doc.y + height > bottom()) newPage();
      const y = doc.y;
      let x = MARGIN;
      for (const c of row) {
        write(c.runs, { width: c.width }, x, y);
        x += c.width + 4 + GAP;
      }
      doc.y = y + height;
      rows++;
    }
    yield take();
  }
  if (rows === 0) doc.font('regular').fontSize(9).text('No events match.', MARGIN, doc.y);
  const notes = [
    unshown > 0 &&
      `${countOf(unshown, 'character')} above, shown as □, are in a script this ` +
        'server has no font for. They are stored unchanged: the CSV and NDJSON exports hold them.',
    shortened > 0 &&
      `${countOf(shortened, 'cell')} above ${shortened === 1 ? 'is' : 'are'} cut short (…) to ` +
        'fit a page; the CSV and NDJSON exports hold them whole.',
  ];
  for (const note of notes) {
    if (!note) continue;
    const options = { width: doc.page.width - 2 * MARGIN };
    doc.font('regular').fontSize(8);
    if (doc.y + 8 + doc.heightOfString(note, options) > bottom()) newPage();
    doc
      .fillColor('#555555')
      .text(note, MARGIN, doc.y + 8, options)
      .fillColor('black');
  }
  doc.end();
  await ended;
  yield take();
}
