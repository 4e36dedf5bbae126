import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { note } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { exportBytes, ProgressLine, readCheckpoints, readVerifierKey } from './cli-verify.js';

async function* chunksOf(...chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

/** What {@link exportBytes} gives for `bytes` read in three pieces, and the bytes it counted. */
async function readInPieces(bytes: Buffer, cuts: [number, number]) {
  let counted = 0;
  const pieces = chunksOf(
    bytes.subarray(0, cuts[0]),
    bytes.subarray(...cuts),
    bytes.subarray(cuts[1]),
  );
  const text = await collect(
    exportBytes(pieces, (n) => {
      counted += n;
    }),
  );
  return { text, counted };
}

describe('verify input', () => {
  const text = `${'{"type":"header"}\n'}${'{"type":"event","event":{}}\n'.repeat(500)}`;

  it('passes plain text through, counting every byte read', async () => {
    const bytes = Buffer.from(text);
    expect(await readInPieces(bytes, [1, 700])).toEqual({ text, counted: bytes.length });
  });

  it('gunzips what starts with gzip magic, even when the first chunk holds one byte', async () => {
    const packed = gzipSync(text);
    // Progress is measured in the file's bytes, not the text's.
    expect(await readInPieces(packed, [1, 40])).toEqual({ text, counted: packed.length });
  });

  it('fails on a gzip stream cut short, and yields nothing for an empty input', async () => {
    const packed = gzipSync(text);
    await expect(collect(exportBytes(chunksOf(packed.subarray(0, 60))))).rejects.toThrow(
      /unexpected end of file/,
    );
    expect(await collect(exportBytes(chunksOf()))).toBe('');
  });
});

describe('verify progress line', () => {
  function terminal(isTTY: boolean) {
    const writes: string[] = [];
    return { isTTY, writes, write: (t: string) => writes.push(t) };
  }

  it('redraws the share of the file read on a terminal, at most once per interval', () => {
    const target = terminal(true);
    let now = 0;
    const line = new ProgressLine(target, 'acme.ndjson', 4_000_000, {
      intervalMs: 250,
      now: () => now,
    });
    line.add(1_000_000);
    now = 100;
    line.add(1_000_000); // too soon: not drawn
    now = 300;
    line.add(2_000_000);
    expect(target.writes).toEqual([
      '\r\x1b[KVerifying acme.ndjson: 25% (1 of 4 MB)',
      '\r\x1b[KVerifying acme.ndjson: 100% (4 of 4 MB)',
    ]);
    line.clear();
    expect(target.writes.at(-1)).toBe('\r\x1b[K');
  });

  it('counts megabytes when the size is unknown, and writes nothing off a terminal', () => {
    const tty = terminal(true);
    const unknown = new ProgressLine(tty, 'standard input', null, { now: () => 0 });
    unknown.add(25_000_000);
    expect(tty.writes).toEqual(['\r\x1b[KVerifying standard input: 25 MB read']);

    const pipe = terminal(false);
    const quiet = new ProgressLine(pipe, 'acme.ndjson', 10_000_000);
    quiet.add(2_500_000);
    quiet.clear();
    expect(pipe.writes).toEqual([]);
    expect(quiet.text()).toBe('Verifying acme.ndjson: 25% (2.5 of 10 MB)');
  });
});

describe('verify key and checkpoint files', () => {
  const signer = note.signerFromSeed('audit.example', Buffer.alloc(32, 3));
  const key = note.verifierKeyText(signer);

  function withFile(text: string, read: (file: string) => unknown): unknown {
    const dir = mkdtempSync(join(tmpdir(), 'hindsight-verify-'));
    try {
      const file = join(dir, 'input');
      writeFileSync(file, text);
      return read(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('reads the key as text or as the JSON of GET /v1/keys/public, and names a file without one', () => {
    expect(withFile(`${key}\n`, readVerifierKey)).toBe(key);
    expect(
      withFile(JSON.stringify({ verifierKey: key, origin: 'audit.example' }), readVerifierKey),
    ).toBe(key);
    expect(() => withFile('{bad', readVerifierKey)).toThrow(
      /input holds no verifier key .*GET \/v1\/keys\/public/,
    );
    expect(() => withFile('not a key', readVerifierKey)).toThrow(/input holds no verifier key/);
  });

  it('reads one signed note or an anchor file, and names the line it cannot read', () => {
    expect(withFile('origin\n3\nroot\n\n— sig\n', readCheckpoints)).toEqual([
      'origin\n3\nroot\n\n— sig\n',
    ]);
    const anchors = `${JSON.stringify({ tenant: 'a', size: 1, note: 'one' })}\n\n${JSON.stringify({ tenant: 'b', size: 2, note: 'two' })}\n`;
    expect(withFile(anchors, readCheckpoints)).toEqual(['one', 'two']);
    expect(() => withFile(`${anchors}{oops\n`, readCheckpoints)).toThrow(
      /^Line 4 of .*input is not an anchored checkpoint/,
    );
  });
});
