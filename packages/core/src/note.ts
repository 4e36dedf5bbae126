/**
 * C2SP signed notes with Ed25519 keys, and the `tlog-checkpoint` body they carry — byte-exact
 * to the format of `golang.org/x/mod/sumdb/note`, so transparency-log tooling and witnesses
 * verify Hindsight's checkpoints unchanged (SPEC §6).
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n        ← the note text (a checkpoint)
 *   \n
 *   — <key name> <base64(key hash ‖ Ed25519 signature)>\n
 *
 * Keys are written as the Go tooling writes them: a verifier key
 * `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`, and a signer key
 * `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>`.
 */
import { createPrivateKey, createPublicKey, hash, type KeyObject, sign, verify } from 'node:crypto';
import {
  ALG_ED25519,
  hex8,
  keyHashInput,
  keyName,
  NoteError,
  parseKeyText,
  SIG_PREFIX,
  splitNote,
  validName,
} from './note-text.js';

export {
  type Checkpoint,
  checkpointText,
  keyName,
  NoteError,
  parseCheckpoint,
  splitNote,
} from './note-text.js';

/** PKCS #8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A key that signs notes. */
export interface NoteSigner {
  readonly name: string;
  /** The key hash: first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), big-endian. */
  readonly keyHash: number;
  readonly publicKey: Uint8Array;
  /** The signer key text (keep it secret). */
  readonly privateKeyText: string;
  sign(message: Uint8Array): Uint8Array;
}

/** A key that verifies notes. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: number;
  readonly publicKey: Uint8Array;
}

function keyHashOf(name: string, publicKey: Uint8Array): number {
  return hash('sha256', keyHashInput(name, publicKey), 'buffer').readUInt32BE(0);
}

function publicKeyOf(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
}

/**
 * A signer from a 32-byte Ed25519 seed.
 * @example const signer = signerFromSeed('hindsight.example', randomBytes(32));
 */
export function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (!validName(name)) throw new NoteError(`"${name}" is not a valid key name.`);
  if (seed.length !== 32) throw new NoteError('An Ed25519 seed has 32 bytes.');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = publicKeyOf(createPublicKey(privateKey));
  const keyHash = keyHashOf(name, publicKey);
  const encoded = Buffer.concat([Uint8Array.of(ALG_ED25519), seed]).toString('base64');
  return {
    name,
    keyHash,
    publicKey,
    privateKeyText: `PRIVATE+KEY+${name}+${hex8(keyHash)}+${encoded}`,
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

/**
 * A signer from its key text (`PRIVATE+KEY+name+hash+base64`), as Go's `note.NewSigner` reads it.
 */
export function parseSignerKey(text: string): NoteSigner {
  const { name, keyHash, key } = parseKeyText(text.trim(), 'PRIVATE+KEY+');
  const signer = signerFromSeed(name, key);
  if (signer.keyHash !== keyHash) throw new NoteError('The key hash does not match the key.');
  return signer;
}

/** The verifier key text of a signer or verifier: `name+hash+base64(0x01 ‖ public key)`. */
export function verifierKeyText(key: NoteVerifier): string {
  const encoded = Buffer.concat([Uint8Array.of(ALG_ED25519), key.publicKey]).toString('base64');
  return `${key.name}+${hex8(key.keyHash)}+${encoded}`;
}

/** A verifier from its key text, as Go's `note.NewVerifier` reads it. */
export function parseVerifierKey(text: string): NoteVerifier {
  const { name, keyHash, key } = parseKeyText(text.trim(), '');
  if (key.length !== 32 || keyHashOf(name, key) !== keyHash) {
    throw new NoteError('The key hash does not match the key.');
  }
  return { name, keyHash, publicKey: new Uint8Array(key) };
}

/**
 * Signs a note text (non-empty, ending in a newline, no blank line's worth of ambiguity):
 * the text, a blank line, and one signature line.
 * @example signNote('example.com/log\n5\nq6…=\n', signer)
 */
export function signNote(text: string, signer: NoteSigner): string {
  if (text === '' || !text.endsWith('\n') || text.includes('\n\n')) {
    throw new NoteError('A note text is non-empty, ends with a newline and has no blank line.');
  }
  const signature = signer.sign(Buffer.from(text));
  const payload = Buffer.concat([Buffer.alloc(4), signature]);
  payload.writeUInt32BE(signer.keyHash, 0);
  return `${text}\n${SIG_PREFIX}${signer.name} ${payload.toString('base64')}\n`;
}

/**
 * Adds a signature by `signer` to a signed note — a cosignature: the note's text and its
 * signatures are kept as they are, one line is added after them. A note `signer` signed
 * already is returned unchanged. Throws `NoteError` for a malformed note.
 * @example cosignNote(checkpointSignedByOldKey, newSigner) // verifies with either key
 */
export function cosignNote(message: string, signer: NoteSigner): string {
  const { text, signatures } = splitNote(message);
  if (signatures.some((s) => s.name === signer.name && s.keyHash === signer.keyHash)) {
    return message;
  }
  // The signature line `signNote` writes after the text and its blank line.
  return message + signNote(text, signer).slice(text.length + 1);
}

/** A note whose signature by the verifier's key was checked. */
export interface OpenedNote {
  readonly text: string;
}

/**
 * The keys that signed a note, as `name+hash` (the start of their verifier keys), whether or
 * not their signatures verify.
 * @example noteSigners(checkpointNote) // ['audit.example.com+1a2b3c4d']
 */
export function noteSigners(message: string): string[] {
  return splitNote(message).signatures.map(keyName);
}

/**
 * Checks a signed note against a verifier key, or several (a server's keys before and after a
 * rotation), and returns its text. Throws `NoteError` when the note is malformed, carries no
 * signature by any of the keys, or a signature by one of them that does not verify (other
 * signatures, such as a witness's cosignature, are allowed and ignored).
 * @example openNote(checkpointNote, [oldKey, newKey]).text
 */
export function openNote(
  message: string,
  verifiers: NoteVerifier | readonly NoteVerifier[],
): OpenedNote {
  const known: readonly NoteVerifier[] = Array.isArray(verifiers) ? verifiers : [verifiers];
  const { text, signatures } = splitNote(message);
  let verified = false;
  for (const { name, keyHash, signature } of signatures) {
    const verifier = known.find((k) => k.name === name && k.keyHash === keyHash);
    if (verifier === undefined) continue;
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(verifier.publicKey).toString('base64url') },
      format: 'jwk',
    });
    if (!verify(null, Buffer.from(text), publicKey, signature)) {
      throw new NoteError(`Invalid signature for key ${name}+${hex8(keyHash)}.`);
    }
    verified = true;
  }
  if (!verified) {
    throw new NoteError(
      known.length === 1
        ? 'The note has no signature by this key.'
        : `The note has no signature by any of these ${known.length} keys.`,
    );
  }
  return { text };
}
