/**
 * The PDF export of selected events (issue #9), for people who file or print the log: a title
 * page header naming the tenant, the filters, when it was made and the signed checkpoint the log
 * had then; one row per event (time, who, action, what, outcome); "Page N" on every page. Written
 * with pdfkit a page of events at a time, so memory stays flat however many events there are.
 * Text is set in DejaVu Sans (embedded, subset), which covers Latin, Greek and Cyrillic scripts.
 */
import { createRequire } from 'node:module';
import { type StoredEvent, showBidiControls } from '@hindsight/core';
import PDFDocument from 'pdfkit';
import { actorText } from './export-csv.js';
import { countOf } from './plural.js';

const fonts = createRequire(import.meta.url);
const REGULAR = fonts.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const BOLD = fonts.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

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
  { title: 'Who', width: 100 },
  { title: 'Action', width: 96 },
  { title: 'What', width: 177 },
  { title: 'Outcome', width: 50 },
] as const;
const GAP = 0;

/** The cells of one event's row. */
function cells(event: StoredEvent): string[] {
  const targets = (event.targets ?? []).map((t) => t.name ?? `${t.type} ${t.id}`).join(', ');
  const what = [event.description, targets === '' ? undefined : `→ ${targets}`]
    .filter((s) => s !== undefined && s !== '')
    .join('\n');
  return [
    event.time
      .replace('T', ' ')
      .replace(/\.\d+Z$/, '')
      .replace('Z', ''),
    actorText(event.actor) || event.actor.type || '',
    event.action,
    what,
    event.status ? `${event.outcome} (${event.status})` : event.outcome,
  ];
}

/**
 * The PDF's bytes, a chunk per page of events (the heading comes with the first).
 * @example for await (const chunk of pdfChunks(heading, pages)) res.write(chunk);
 */
export async function* pdfChunks(
  heading: PdfHeading,
  pages: AsyncIterable<StoredEvent[]>,
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
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);

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
  doc.text(
    heading.ids
      ? `Events picked by id: ${heading.ids.length}`
      : `Filters: ${filters.length === 0 ? 'none (every event)' : filters.join('; ')}`,
  );
  doc.text(
    heading.checkpoint
      ? `Latest signed checkpoint: ${countOf(heading.checkpoint.size, 'event')}, root ${heading.checkpoint.root}`
      : 'Latest signed checkpoint: none yet',
  );
  doc.text(
    'Each row names its event; the verifiable form of the log is the NDJSON export, checked ' +
      'with "hindsight verify".',
  );
  doc.moveDown(0.8);
  columnHeads();

  let rows = 0;
  for await (const events of pages) {
    for (const event of events) {
      const texts = cells(event);
      doc.font('regular').fontSize(8);
      // Direction overrides as marks, so that the row reads as what it holds.
      const row = COLUMNS.map((c, i) => ({
        text: showBidiControls(texts[i] ?? ''),
        width: c.width - 4,
      }));
      const height = Math.max(...row.map((c) => doc.heightOfString(c.text, c))) + 4;
      if (doc.y + height > bottom()) newPage();
      const y = doc.y;
      let x = MARGIN;
      for (const c of row) {
        doc.text(c.text, x, y, { width: c.width });
        x += c.width + 4 + GAP;
      }
      doc.y = y + height;
      rows++;
    }
    yield take();
  }
  if (rows === 0) doc.font('regular').fontSize(9).text('No events match.', MARGIN, doc.y);
  doc.end();
  await ended;
  yield take();
}
