/**
 * The text of C2SP signed notes, verifier keys and `tlog-checkpoint` bodies, read without
 * Node built-ins: `note.ts` signs and verifies with node:crypto, a browser with Web Crypto
 * (`event-proof.ts`), from the same parsing.
 */

/** The signature algorithm byte of Ed25519 keys. */
export const ALG_ED25519 = 1;
/** How each signature line starts: an em dash and a space. */
export const SIG_PREFIX = '\u2014 ';

/** Why a key, note or checkpoint was refused. */
export class NoteError extends Error {
  override readonly name = 'NoteError';
}

/** Whether a key name is valid: non-empty, no spaces and no `+`. */
export function validName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && /^[\x21-\x7e\u0080-\u{10ffff}]+$/u.test(name);
}

/** A key hash as its 8 hex digits. */
export const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * A key's name and hash, `name+hash`: how a signature line names it, and the start of its
 * verifier key text.
 * @example keyName(signer) // 'audit.example.com+1a2b3c4d'
 */
export function keyName(key: { readonly name: string; readonly keyHash: number }): string {
  return `${key.name}+${hex8(key.keyHash)}`;
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The bytes of canonical standard base64 (padded, no spaces), or `null` for anything else. */
export function fromBase64(text: string): Uint8Array | null {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // atob forgives spaces and missing padding; the formats do not.
  return toBase64(bytes) === text ? bytes : null;
}

/** A big-endian 32-bit number from the first 4 bytes. */
export function readUint32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

/** The bytes a key hash is taken over: `name ‖ "\n" ‖ 0x01 ‖ public key`. */
export function keyHashInput(name: string, publicKey: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${name}\n`);
  const out = new Uint8Array(head.length + 1 + publicKey.length);
  out.set(head, 0);
  out[head.length] = ALG_ED25519;
  out.set(publicKey, head.length + 1);
  return out;
}

/**
 * Splits `<prefix>name+hash+base64` into its parts; `key` is what follows the algorithm byte.
 * The hash is not checked against the key here (that needs SHA-256).
 */
export function parseKeyText(
  text: string,
  prefix: string,
): { name: string; keyHash: number; key: Uint8Array } {
  if (!text.startsWith(prefix)) throw new NoteError('Malformed key.');
  // name+hash+key, where only the key (base64) may itself contain "+".
  const match = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text.slice(prefix.length));
  const [, name, hashHex, encoded] = match ?? [];
  if (name === undefined || hashHex === undefined || encoded === undefined) {
    throw new NoteError('Malformed key.');
  }
  const key = fromBase64(encoded);
  if (
    key === null ||
    !validName(name) ||
    !/^[0-9a-f]{8}$/.test(hashHex) ||
    key.length !== 33 ||
    key[0] !== ALG_ED25519
  ) {
    throw new NoteError('Malformed key.');
  }
  return { name, keyHash: Number.parseInt(hashHex, 16), key: key.subarray(1) };
}

/** One signature line of a note: the key's name and hash, and the signature. */
export interface NoteSignature {
  readonly name: string;
  readonly keyHash: number;
  readonly signature: Uint8Array;
}

/** A note's text and its signature lines; throws `NoteError` when it is malformed. */
export function splitNote(message: string): { text: string; signatures: NoteSignature[] } {
  const split = message.lastIndexOf('\n\n');
  if (split < 0 || !message.endsWith('\n')) throw new NoteError('Malformed note.');
  const signatures = message
    .slice(split + 2, -1)
    .split('\n')
    .map((line): NoteSignature => {
      if (!line.startsWith(SIG_PREFIX)) throw new NoteError('Malformed note.');
      const [name, encoded, ...rest] = line.slice(SIG_PREFIX.length).split(' ');
      if (name === undefined || encoded === undefined || rest.length > 0 || !validName(name)) {
        throw new NoteError('Malformed note.');
      }
      const payload = fromBase64(encoded);
      if (payload === null || payload.length < 5) throw new NoteError('Malformed note.');
      return { name, keyHash: readUint32(payload), signature: payload.subarray(4) };
    });
  return { text: message.slice(0, split + 1), signatures };
}

/** A checkpoint of a log: its origin, size and root hash (C2SP `tlog-checkpoint`). */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

/**
 * The note text of a checkpoint.
 * @example checkpointText({ origin: 'hindsight.example/acme', size: 3, rootHash }) // "hindsight.example/acme\n3\n…=\n"
 */
export function checkpointText(checkpoint: Checkpoint): string {
  if (checkpoint.origin === '' || /[\n]/.test(checkpoint.origin)) {
    throw new NoteError('A checkpoint origin is one non-empty line.');
  }
  return `${checkpoint.origin}\n${checkpoint.size}\n${toBase64(checkpoint.rootHash)}\n`;
}

/** Reads a checkpoint note text (extension lines after the root are allowed and ignored). */
export function parseCheckpoint(text: string): Checkpoint {
  const [origin, size, root] = text.split('\n');
  const rootHash = fromBase64(root ?? '');
  if (!origin || !/^(0|[1-9]\d{0,15})$/.test(size ?? '') || rootHash?.length !== 32) {
    throw new NoteError('Malformed checkpoint.');
  }
  return { origin, size: Number(size), rootHash };
}
