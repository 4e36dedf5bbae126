import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers.js';
import { eraseFromArchives } from './archive-erase.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** An archived event line of `actor`, with the salts of its name and e-mail. */
function line(seq: number, actor: { id: string; name: string; email: string }): string {
  return JSON.stringify({
    type: 'event',
    event: {
      id: `e${seq}`,
      seq,
      tenant: 'big',
      category: 'changes',
      action: 'plan.updated',
      time: '2026-01-01T00:00:00.000Z',
      actor: { type: 'user', ...actor },
      outcome: 'success',
      description: `Change ${seq} ${'·'.repeat(seq % 300)}`,
      hash: '0'.repeat(64),
    },
    salts: { '/actor/name': 'ab'.repeat(16), '/actor/email': 'cd'.repeat(16) },
  });
}

describe('eraseFromArchives', () => {
  it('rewrites only the person’s lines, also across the reader’s chunks, byte for byte elsewhere', async () => {
    const person = { id: 'p-7', name: 'Quirinal Vasko', email: 'q.vasko@acme.test' };
    const other = { id: 'p-8', name: 'Other Person', email: 'other@acme.test' };
    // About 2 MB of lines of varied length, so that lines straddle the gunzip chunks.
    const lines = Array.from({ length: 6000 }, (_, i) =>
      line(i + 1, i % 97 === 0 ? person : other),
    );
    const text = `${lines.join('\n')}\n`;
    mkdirSync(join(tmp.dir, 'big'));
    const file = join(tmp.dir, 'big', '2026-01-01T00-00-00.000Z-abc.ndjson.gz');
    writeFileSync(file, gzipSync(text));

    const result = await eraseFromArchives(tmp.dir, 'big', { actorId: 'p-7' });
    const ours = lines.filter((_, i) => i % 97 === 0).length;
    // Name and e-mail of each of the person's events.
    expect(result).toEqual({ files: 1, events: ours, values: 2 * ours });

    const after = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
    expect(after).toHaveLength(lines.length + 1);
    after.slice(0, -1).forEach((out, i) => {
      if (i % 97 !== 0) {
        expect(out).toBe(lines[i]);
        return;
      }
      const { event, salts } = JSON.parse(out) as {
        event: { actor: Record<string, unknown>; erased: Record<string, unknown> };
        salts: Record<string, string>;
      };
      expect(event.actor).toEqual({ type: 'user', id: 'p-7', name: 'Deleted User' });
      expect(Object.keys(event.erased).sort()).toEqual(['/actor/email', '/actor/name']);
      expect(salts).toEqual({});
    });
    expect(after.join('\n')).not.toContain('Vasko');

    // Nothing of the person is left: the file is not written again.
    const bytes = readFileSync(file);
    expect(await eraseFromArchives(tmp.dir, 'big', { actorId: 'p-7' })).toEqual({
      files: 0,
      events: 0,
      values: 0,
    });
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(await eraseFromArchives(tmp.dir, 'nobody', { email: 'x@acme.test' })).toEqual({
      files: 0,
      events: 0,
      values: 0,
    });
  });
});
