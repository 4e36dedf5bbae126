import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as merkle from './merkle.js';
import {
  checkpointText,
  cosignNote,
  NoteError,
  noteSigners,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signerFromSeed,
  signNote,
  verifierKeyText,
} from './note.js';

// The vectors of golang.org/x/mod/sumdb/note (note_test.go): the same key and text must give
// the same signature line, byte for byte, so Go's tooling and witnesses accept our notes.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const GO_SIGNED = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
const GO_ENOCH_SIG =
  '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('signed notes (C2SP signed-note, Go sumdb/note format)', () => {
  it('signs exactly as Go does, and derives the same verifier key', () => {
    const signer = parseSignerKey(GO_SIGNER);
    expect(signer.privateKeyText).toBe(GO_SIGNER);
    expect(verifierKeyText(signer)).toBe(GO_VERIFIER);
    expect(signNote(GO_TEXT, signer)).toBe(GO_SIGNED);
  });

  it("opens Go's note, also with another key's cosignature beside it", () => {
    const verifier = parseVerifierKey(GO_VERIFIER);
    expect(openNote(GO_SIGNED, verifier).text).toBe(GO_TEXT);
    expect(openNote(GO_SIGNED + GO_ENOCH_SIG, verifier).text).toBe(GO_TEXT);
  });

  it('refuses altered notes, foreign keys and malformed input', () => {
    const verifier = parseVerifierKey(GO_VERIFIER);
    const other = signerFromSeed('PeterNeumann', randomBytes(32));
    const bad = [
      GO_SIGNED.replace('answer', 'Answer'),
      GO_SIGNED.replace('x08go', 'x08gp'),
      GO_SIGNED.slice(0, -1),
      GO_TEXT,
      `${GO_TEXT}\n`,
      `${GO_TEXT}\n${GO_ENOCH_SIG}`,
      signNote(GO_TEXT, other),
      `${GO_SIGNED}Unexpected line.\n`,
    ];
    for (const message of bad) expect(() => openNote(message, verifier)).toThrow(NoteError);
  });

  it('refuses mangled keys', () => {
    for (const key of [
      GO_VERIFIER.slice(1),
      GO_VERIFIER.slice(0, -1),
      GO_VERIFIER.replace('c74f20a3', 'c74f20a4'),
      GO_VERIFIER.replace('+ARpc', '+ZRpc'),
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
    ]) {
      expect(() => parseVerifierKey(key)).toThrow(NoteError);
    }
    expect(() => parseSignerKey(GO_SIGNER.replace('c74f20a3', 'c74f20a4'))).toThrow(NoteError);
    expect(() => parseSignerKey(GO_SIGNER.slice(0, -2))).toThrow(NoteError);
    expect(() => signerFromSeed('bad name', randomBytes(32))).toThrow(NoteError);
    expect(() => signerFromSeed('a+b', randomBytes(32))).toThrow(NoteError);
  });

  it('opens a note with any of several keys (a rotated server key), never with a bad signature', () => {
    const before = signerFromSeed('hindsight.example', randomBytes(32));
    const after = signerFromSeed('hindsight.example', randomBytes(32));
    const keys = [before, after].map((k) => parseVerifierKey(verifierKeyText(k)));
    expect(openNote(signNote('old\n', before), keys).text).toBe('old\n');
    expect(openNote(signNote('new\n', after), keys).text).toBe('new\n');
    expect(() => openNote(signNote('new\n', after), keys.slice(0, 1))).toThrow(
      'The note has no signature by this key.',
    );
    const stranger = signerFromSeed('hindsight.example', randomBytes(32));
    expect(() => openNote(signNote('x\n', stranger), keys)).toThrow(
      'The note has no signature by any of these 2 keys.',
    );
    // A known key's signature that does not verify is refused, whatever else signed the note.
    const cosigned = signNote('new\n', after) + signNote('new\n', before).split('\n\n')[1];
    expect(openNote(cosigned, keys).text).toBe('new\n');
    const keyName = (k: typeof before) => verifierKeyText(k).split('+').slice(0, 2).join('+');
    expect(noteSigners(cosigned)).toEqual([keyName(after), keyName(before)]);
    const forged = cosigned.replace(
      /(\u2014 hindsight\.example \S{10})(\S)/,
      (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`,
    );
    expect(() => openNote(forged, keys)).toThrow(/Invalid signature/);
  });

  it('round-trips a fresh key through its texts', () => {
    const signer = signerFromSeed('hindsight.example', randomBytes(32));
    const again = parseSignerKey(signer.privateKeyText);
    expect(verifierKeyText(again)).toBe(verifierKeyText(signer));
    const note = signNote('hello\n', signer);
    expect(openNote(note, parseVerifierKey(verifierKeyText(signer))).text).toBe('hello\n');
  });

  it('cosigns a note: the old signature kept, one line added, verifiable with either key', () => {
    const peter = parseSignerKey(GO_SIGNER);
    const enoch = signerFromSeed('EnochRoot', randomBytes(32));
    const both = cosignNote(GO_SIGNED, enoch);
    expect(both.startsWith(GO_SIGNED)).toBe(true);
    expect(both.split('\n').length).toBe(GO_SIGNED.split('\n').length + 1);
    expect(noteSigners(both)).toEqual([
      'PeterNeumann+c74f20a3',
      noteSigners(signNote('x\n', enoch))[0],
    ]);
    expect(openNote(both, parseVerifierKey(GO_VERIFIER)).text).toBe(GO_TEXT);
    expect(openNote(both, parseVerifierKey(verifierKeyText(enoch))).text).toBe(GO_TEXT);
    // Signed by that key already: unchanged.
    expect(cosignNote(both, enoch)).toBe(both);
    expect(cosignNote(GO_SIGNED, peter)).toBe(GO_SIGNED);
    expect(() => cosignNote('no signature\n', enoch)).toThrow(NoteError);
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const rootHash = merkle.rootHash([merkle.leafHash(Buffer.from('a'))]);

  it('writes origin, size and base64 root, one per line, and reads them back', () => {
    const text = checkpointText({ origin: 'hindsight.example/acme', size: 1, rootHash });
    expect(text).toBe(`hindsight.example/acme\n1\n${Buffer.from(rootHash).toString('base64')}\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'hindsight.example/acme', size: 1, rootHash });
    // Extension lines are allowed after the root.
    expect(parseCheckpoint(`${text}extra\n`).size).toBe(1);
  });

  it('refuses malformed checkpoints', () => {
    const root = Buffer.from(rootHash).toString('base64');
    for (const text of [
      `o\n01\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n1\n${root.slice(4)}\n`,
      `\n1\n${root}\n`,
      'o\n1\n',
    ]) {
      expect(() => parseCheckpoint(text)).toThrow(NoteError);
    }
    expect(() => checkpointText({ origin: 'a\nb', size: 1, rootHash })).toThrow(NoteError);
  });
});
