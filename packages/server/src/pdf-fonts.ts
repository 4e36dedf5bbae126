/**
 * The fonts of the PDF export. DejaVu Sans, which comes with the server, covers Latin, Greek,
 * Cyrillic, Armenian, Georgian, Hebrew and Arabic letters but not Chinese, Japanese, Korean,
 * Thai or Indic scripts, whose characters it sets as empty boxes. An operator gives fonts that
 * have them with `--pdf-font` (docs/configuration.md#pdf-fonts); each character is then set in
 * DejaVu Sans when it has it, else in the first of those fonts that has it.
 */
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';
import { fileErrorWords } from './file-errors.js';

const fontFiles = createRequire(import.meta.url);
/** The embedded fonts' files. */
export const DEJAVU = {
  regular: fontFiles.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: fontFiles.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
} as const;

/** A fallback font of the PDF export: its file, its face and the characters it has. */
export interface PdfFont {
  readonly file: string;
  /** Of a collection (`.ttc`), the PostScript name of the face used. */
  readonly face?: string;
  /** Unicode code points the font has a glyph for. */
  readonly chars: ReadonlySet<number>;
}

/**
 * Reads a TrueType or OpenType font (`.ttf`, `.otf`; of a collection, `.ttc`, its first face).
 * Throws an `Error` saying why a file cannot be used.
 * @example loadPdfFont('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc').face // 'NotoSansCJKjp-Regular'
 */
export function loadPdfFont(file: string): PdfFont {
  let opened: fontkit.Font | fontkit.FontCollection;
  try {
    opened = fontkit.openSync(file);
  } catch (error) {
    const reason =
      fileErrorWords(error) ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`Cannot use the PDF font ${file}: ${reason.replace(/\.$/, '')}.`);
  }
  const collection = opened.type === 'TTC' || opened.type === 'DFont';
  const font = collection ? (opened as fontkit.FontCollection).fonts[0] : (opened as fontkit.Font);
  if (font === undefined || font.characterSet.length === 0) {
    throw new Error(`Cannot use the PDF font ${file}: it has no characters.`);
  }
  return {
    file,
    ...(collection ? { face: font.postscriptName } : {}),
    chars: new Set(font.characterSet),
  };
}

/** DejaVu Sans's characters, read once when first needed. */
let dejavuChars: ReadonlySet<number> | undefined;
/** Text DejaVu Sans has every character of: printable ASCII and line breaks. */
const ASCII = /^[\t\n\r\x20-\x7e]*$/;
/** A character that is not drawn: a control, formatting character, space or separator. */
const UNDRAWN = /^[\p{Cc}\p{Cf}\p{Z}]$/u;
/** Every character that is drawn. */
const DRAWN_ALL = /[^\p{Cc}\p{Cf}\p{Z}]/gu;

/**
 * How many characters of `text` are drawn (not spaces, controls or formatting characters).
 * @example drawnLength('山田 太郎') // 4
 */
export function drawnLength(text: string): number {
  return text.match(DRAWN_ALL)?.length ?? 0;
}

/**
 * A run as it is set: each drawn character of a run no font has becomes □ (U+25A1, which
 * DejaVu Sans has), so that it takes the room it is drawn in and wraps in its cell.
 * @example shownText({ font: 'none', text: '김 민' }) // '□ □'
 */
export function shownText(run: TextRun): string {
  return run.font === 'none' ? run.text.replace(DRAWN_ALL, '\u25a1') : run.text;
}

/**
 * A piece of text set in one font: DejaVu Sans (`'base'`), a fallback font (its index), or
 * none that has its characters (`'none'`: set in DejaVu Sans, as empty boxes).
 */
export interface TextRun {
  readonly font: number | 'base' | 'none';
  readonly text: string;
}

/**
 * `text` cut into runs by the font that sets each character: DejaVu Sans (`'base'`) when it has
 * it, else the first of `fonts` that has it, else none. A space or line break stays in the run
 * it is in when that run's font has it, so that a sentence in one script is one run.
 * @example textRuns('山田 太郎 (Yamada)', [cjk]) // [{ font: 0, text: '山田 太郎 ' }, { font: 'base', text: '(Yamada)' }]
 */
export function textRuns(text: string, fonts: readonly PdfFont[]): TextRun[] {
  if (ASCII.test(text)) return [{ font: 'base', text }];
  dejavuChars ??= loadPdfFont(DEJAVU.regular).chars;
  const base = dejavuChars;
  const has = (font: TextRun['font'], code: number) =>
    font === 'none' || (font === 'base' ? base : (fonts[font] as PdfFont).chars).has(code);
  const runs: { font: TextRun['font']; text: string }[] = [];
  let run: { font: TextRun['font']; text: string } | undefined;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    let font: TextRun['font'] = 'base';
    if (run !== undefined && code <= 0x20 && (code === 0x0a || has(run.font, code))) {
      font = run.font;
    } else if (!base.has(code)) {
      const index = fonts.findIndex((f) => f.chars.has(code));
      font = index >= 0 ? index : UNDRAWN.test(char) ? 'base' : 'none';
    }
    if (run?.font === font) run.text += char;
    else {
      run = { font, text: char };
      runs.push(run);
    }
  }
  return runs.length === 0 ? [{ font: 'base', text }] : runs;
}
