import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { AnchorFileReader } from './anchor-file.js';

const line = (tenant: string, size: number) =>
  `${JSON.stringify({ tenant, size, note: `${tenant} at ${size}` })}\n`;

describe('AnchorFileReader', () => {
  it('keeps the newest checkpoint per tenant, reading only what was appended', async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'anchors.ndjson');
      const reader = new AnchorFileReader(file);
      // No file yet: none.
      expect((await reader.newest()).size).toBe(0);
      writeFileSync(file, line('acme', 3) + line('globex', 1) + line('acme', 5) + line('acme', 4));
      expect(await reader.newest()).toEqual(
        new Map([
          ['acme', { size: 5, note: 'acme at 5' }],
          ['globex', { size: 1, note: 'globex at 1' }],
        ]),
      );
      // A line being written is read once complete; lines that are not checkpoints are skipped.
      const next = line('globex', 9);
      appendFileSync(file, `not json\n{"tenant":"acme"}\n${next.slice(0, 10)}`);
      expect((await reader.newest()).get('globex')?.size).toBe(1);
      appendFileSync(file, next.slice(10));
      expect((await reader.newest()).get('globex')).toEqual({ size: 9, note: 'globex at 9' });
      // A file replaced by a shorter one is read again from its start.
      writeFileSync(file, line('initech', 2));
      expect(await reader.newest()).toEqual(
        new Map([['initech', { size: 2, note: 'initech at 2' }]]),
      );
      // And so is a longer file put in its place.
      const moved = join(tmp.dir, 'moved.ndjson');
      writeFileSync(moved, line('hooli', 7).repeat(5));
      renameSync(moved, file);
      expect(await reader.newest()).toEqual(new Map([['hooli', { size: 7, note: 'hooli at 7' }]]));
    } finally {
      tmp.remove();
    }
  });
});
