import { describe, expect, it } from 'vitest';
import {
  DEJAVU,
  drawnLength,
  loadPdfFont,
  type PdfFont,
  shownText,
  textRuns,
} from './pdf-fonts.js';

/** A fallback font with these characters (and the space), as `loadPdfFont` reads one. */
function fontWith(text: string): PdfFont {
  return { file: 'test.ttf', chars: new Set([...`${text} `].map((c) => c.codePointAt(0) ?? 0)) };
}

describe('textRuns', () => {
  const cjk = fontWith('山田太郎承認');
  const thai = fontWith('สวัสดี');

  it('marks what no font has, when there are no fallback fonts too', () => {
    expect(textRuns('Zoë Ångström, Дмитрий', [])).toEqual([
      { font: 'base', text: 'Zoë Ångström, Дмитрий' },
    ]);
    expect(textRuns('山田 (Yamada)', [])).toEqual([
      { font: 'none', text: '山田 ' },
      { font: 'base', text: '(Yamada)' },
    ]);
    // Spaces, controls and formatting characters are not drawn: never missing.
    expect(textRuns('a\u200db\u3000c\u00a0', [])).toEqual([
      { font: 'base', text: 'a\u200db\u3000c\u00a0' },
    ]);
  });

  it('sets each character in DejaVu Sans when it has it, else in the first font that has it', () => {
    expect(textRuns('Zoë 山田 太郎 (Yamada) สวัสดี', [cjk, thai])).toEqual([
      { font: 'base', text: 'Zoë ' },
      // The space between the names stays in the run, whose font has it.
      { font: 0, text: '山田 太郎 ' },
      { font: 'base', text: '(Yamada) ' },
      { font: 1, text: 'สวัสดี' },
    ]);
    // The first font that has a character sets it.
    expect(textRuns('山', [fontWith('山'), cjk])).toEqual([{ font: 0, text: '山' }]);
  });

  it('keeps a line break in its run, and marks a character no font has', () => {
    expect(textRuns('承認\n김민준', [cjk])).toEqual([
      { font: 0, text: '承認\n' },
      { font: 'none', text: '김민준' },
    ]);
    expect(textRuns('', [cjk])).toEqual([{ font: 'base', text: '' }]);
  });
});

it('counts the characters that are drawn, and shows those no font has as □', () => {
  expect(drawnLength('山田 太郎\n\u200d😀')).toBe(5);
  expect(shownText({ font: 'none', text: '김 민준\n😀' })).toBe('□ □□\n□');
  expect(shownText({ font: 0, text: '山田' })).toBe('山田');
});

describe('loadPdfFont', () => {
  it('reads a font’s characters, and says why a file is no font', () => {
    const dejavu = loadPdfFont(DEJAVU.regular);
    expect(dejavu.chars.has('Ж'.codePointAt(0) ?? 0)).toBe(true);
    expect(dejavu.chars.has('山'.codePointAt(0) ?? 0)).toBe(false);
    expect(dejavu.face).toBeUndefined();
    expect(() => loadPdfFont('/nonexistent/font.ttf')).toThrow(
      'Cannot use the PDF font /nonexistent/font.ttf: no such file or directory.',
    );
    expect(() => loadPdfFont(new URL(import.meta.url).pathname)).toThrow(
      /Cannot use the PDF font .*pdf-fonts\.test\.ts: Unknown font format\.$/,
    );
  });
});
