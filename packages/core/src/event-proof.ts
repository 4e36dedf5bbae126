/**
 * Checks a tenant's log where node:crypto is not at hand — in the console, in the
 * administrator's browser, with Web Crypto (`crypto.subtle`), SPEC §6:
 * - {@link verifyEventProof}: one event's content gives its leaf hash, that leaf is in the
 *   tree of the newest signed checkpoint, and the checkpoint is signed by the server's key and
 *   names the tenant's log;
 * - {@link verifyCheckpoint}: a checkpoint alone;
 * - {@link verifyConsistencyProof}: a log seen before is the start of the log signed now.
 *
 * What it proves is only as good as the verifier key it is given: a key fetched from the server
 * being checked proves that the server has not changed the event since it signed the
 * checkpoint, not that the server is honest. `hindsight verify` with a key kept elsewhere, and
 * a checkpoint anchored elsewhere, is the auditor's check.
 */
import { canonicalJson } from './canonical-json.js';
import { hashedViewWith, personalValues, type Salts } from './hashed-view.js';
import { consistencySides, inclusionSides } from './merkle-path.js';
import {
  keyHashInput,
  keyName,
  NoteError,
  parseCheckpoint,
  parseKeyText,
  readUint32,
  splitNote,
} from './note-text.js';
import type { StoredEvent } from './schema.js';

/** What the server gives to check one event (`GET /v1/tenants/{tenant}/events/{id}/proof`). */
export interface EventProof {
  readonly event: StoredEvent;
  /** The salts of its personal values that are not erased. */
  readonly salts: Salts;
  /** The tenant log's newest signed checkpoint (a C2SP signed note); `null` before the first. */
  readonly checkpoint: string | null;
  /** The event's inclusion proof in that checkpoint's tree, hex, from the leaf up. */
  readonly proof: readonly string[];
}

/**
 * The server's newest verdict on a tenant's stored log, from its integrity scrub
 * (`GET /v1/tenants/{tenant}/integrity`; `null` there while no check ever found a problem).
 */
export interface IntegrityVerdict {
  /** `true`: it verifies again after a failure; `false`: the check found it changed. */
  readonly ok: boolean;
  /** When the verdict was recorded (RFC 3339). */
  readonly at: string;
  /** The verdict's entry in the tenant's `audit` log. */
  readonly id: string;
  readonly description: string;
  /** The first problems found (none when `ok`, or for a viewer limited to some logs). */
  readonly problems: ReadonlyArray<{ kind: string; seq?: number; message: string }>;
}

/** What the checkpoint must be signed by, and name. */
export interface ProofTrust {
  /**
   * The signed-note verifier key, `name+hash+base64(0x01 ‖ key)`, or several: a checkpoint
   * signed by any of them holds (the keys before and after a rotation). Every signature the
   * checkpoint carries by one of them must be valid.
   */
  readonly verifierKey: string | readonly string[];
  /** The checkpoint origin of the tenant's log, `<server origin>/<tenant>`. */
  readonly origin: string;
}

/** The outcome of {@link verifyEventProof}: each check, and what failed, in words. */
export interface EventProofReport {
  /** Every check held. */
  readonly ok: boolean;
  /** The event's content, its salts and its `seq` give its stored `hash`. */
  readonly content: boolean;
  /** The checkpoint is well formed, names the tenant's log and is signed by the key. */
  readonly signed: boolean;
  /**
   * The leaf recomputed from the content is in the checkpoint's tree; `null` when the newest
   * checkpoint does not cover the event yet.
   */
  readonly included: boolean | null;
  /** The checkpoint's tree size, when it could be read. */
  readonly size: number | null;
  /**
   * The key the check asked for, `name+hash`: of several, the first one that signed the
   * checkpoint, else the first one.
   */
  readonly signer: string | null;
  /**
   * The keys that signed the checkpoint, `name+hash`, whether or not they are the one asked
   * for (after the server's signing key is rotated, a dormant log's newest checkpoint carries
   * only the old one).
   */
  readonly signers: string[];
  /** One sentence for each check that did not hold. */
  readonly problems: string[];
}

const ENCODER = new TextEncoder();

/** Web Crypto's `SubtleCrypto`, as the browser and Node (≥ 20) both have it. */
type Subtle = typeof globalThis.crypto.subtle;

/**
 * Checks an event's proof against a verifier key with Web Crypto; never throws for bad input,
 * it reports it.
 * @example const report = await verifyEventProof(await api.eventProof(id), { verifierKey, origin: `${origin}/${tenant}` });
 */
export async function verifyEventProof(
  proof: EventProof,
  trust: ProofTrust,
  subtle: Subtle = globalThis.crypto.subtle,
): Promise<EventProofReport> {
  const sha256 = sha256With(subtle);
  const problems: string[] = [];
  const { event } = proof;

  const leaf = await eventLeaf(event, proof.salts, sha256).catch(() => null);
  const content = leaf !== null && toHex(leaf) === event.hash;
  if (!content) {
    problems.push(
      `Event seq ${event.seq} was altered: its content does not give its hash ${event.hash}.`,
    );
  }

  const checkpoint = await openCheckpoint(proof.checkpoint, trust, subtle, sha256);
  if ('problem' in checkpoint) problems.push(checkpoint.problem);
  const size = 'size' in checkpoint ? checkpoint.size : null;

  let included: boolean | null = null;
  if ('rootHash' in checkpoint && leaf !== null) {
    if (event.seq > checkpoint.size) {
      problems.push(
        `Event seq ${event.seq} is not in a signed checkpoint yet (the newest covers ` +
          `${checkpoint.size} events); try again in a moment.`,
      );
    } else {
      const root = await inclusionRoot(event.seq - 1, checkpoint.size, leaf, proof.proof, sha256);
      included = root !== null && toHex(root) === toHex(checkpoint.rootHash);
      if (!included) {
        problems.push(
          `Event seq ${event.seq} is not in the log of ${checkpoint.size} events the ` +
            'checkpoint signs: the log was changed after it was signed.',
        );
      }
    }
  }
  return {
    ok: problems.length === 0,
    content,
    signed: 'rootHash' in checkpoint,
    included,
    size,
    signer: checkpoint.signer,
    signers: checkpoint.signers ?? [],
    problems,
  };
}

type Sha256 = (...parts: Uint8Array[]) => Promise<Uint8Array>;

/**
 * Whether a checkpoint carries signatures, none of them by the key asked for: after a
 * rotation of the signing key that the server could not cosign, a warning rather than proof of
 * tampering.
 * @example if (!report.signed && signedByOthersOnly(report)) …
 */
export function signedByOthersOnly(report: {
  readonly signer: string | null;
  readonly signers: readonly string[];
}): boolean {
  return report.signers.length > 0 && !report.signers.includes(report.signer ?? '');
}

/** SHA-256 of the concatenated parts, with Web Crypto. */
function sha256With(subtle: Subtle): Sha256 {
  return async (...parts) => new Uint8Array(await subtle.digest('SHA-256', concat(parts)));
}

/** A checkpoint whose signature held, or why it did not ({@link verifyCheckpoint}). */
export type CheckpointReport =
  | {
      readonly ok: true;
      readonly size: number;
      /** The root hash, hex. */
      readonly root: string;
      readonly signer: string;
      readonly signers: string[];
    }
  | {
      readonly ok: false;
      readonly size: number | null;
      readonly signer: string | null;
      readonly signers: string[];
      readonly problem: string;
    };

/**
 * Checks a tenant log's signed checkpoint (`GET …/checkpoint`): well formed, naming the
 * tenant's log, signed by the key. Never throws for bad input.
 * @example const report = await verifyCheckpoint(noteText, { verifierKey, origin: 'hindsight/acme' });
 */
export async function verifyCheckpoint(
  message: string,
  trust: ProofTrust,
  subtle: Subtle = globalThis.crypto.subtle,
): Promise<CheckpointReport> {
  const opened = await openCheckpoint(message, trust, subtle, sha256With(subtle));
  if ('rootHash' in opened) {
    const { size, signer, signers } = opened;
    return { ok: true, size, root: toHex(opened.rootHash), signer, signers };
  }
  return {
    ok: false,
    size: opened.size ?? null,
    signer: opened.signer,
    signers: opened.signers ?? [],
    problem: opened.problem,
  };
}

/**
 * Whether `proof` (hex, `GET …/proofs/consistency`) proves that the log of `older` is a
 * prefix of the log of `newer` (RFC 9162 §2.1.4.2): nothing in the older log was changed,
 * removed or reordered since. Roots are hex, as {@link verifyCheckpoint} gives them.
 * @example await verifyConsistencyProof({ size: 840, root }, { size: 863, root: now }, proof)
 */
export async function verifyConsistencyProof(
  older: { readonly size: number; readonly root: string },
  newer: { readonly size: number; readonly root: string },
  proof: readonly string[],
  subtle: Subtle = globalThis.crypto.subtle,
): Promise<boolean> {
  const sha256 = sha256With(subtle);
  const oldRoot = fromHex(older.root);
  const newRoot = fromHex(newer.root);
  const path = proof.map(fromHex);
  if (oldRoot?.length !== 32 || newRoot?.length !== 32) return false;
  if (path.some((p) => p?.length !== 32)) return false;
  if (older.size === newer.size) return path.length === 0 && older.root === newer.root;
  const shape = consistencySides(older.size, newer.size, path.length);
  if (shape === null) return false;
  const nodes = (shape.oldRootFirst ? [oldRoot, ...path] : path) as Uint8Array[];
  let fr = nodes[0] as Uint8Array;
  let sr = fr;
  for (const [i, left] of shape.sides.entries()) {
    const c = nodes[i + 1] as Uint8Array;
    if (left) {
      fr = await sha256(NODE, c, fr);
      sr = await sha256(NODE, c, sr);
    } else {
      sr = await sha256(NODE, sr, c);
    }
  }
  return toHex(fr) === older.root && toHex(sr) === newer.root;
}

/** The RFC 9162 leaf hash of an event from its content: `SHA-256(0x00 ‖ canonical view)`. */
async function eventLeaf(event: StoredEvent, salts: Salts, sha256: Sha256): Promise<Uint8Array> {
  // Hashing is asynchronous here, so each commitment is computed ahead, then looked up.
  const commitments = new Map<string, string>();
  for (const { path, value } of personalValues(event)) {
    const salt = salts[path];
    const saltBytes = salt === undefined ? null : fromHex(salt);
    if (saltBytes === null) continue;
    commitments.set(path, toHex(await sha256(saltBytes, ENCODER.encode(canonicalJson(value)))));
  }
  const view = hashedViewWith(event, salts, (path) => {
    const made = commitments.get(path);
    if (made === undefined) throw new Error(`The salt of ${path} is not hex.`);
    return made;
  });
  return sha256(Uint8Array.of(0), ENCODER.encode(canonicalJson(view)));
}

type OpenedCheckpoint =
  | { signer: string | null; problem: string; size?: number; signers?: string[] }
  | { signer: string; size: number; rootHash: Uint8Array; signers: string[] };

/** The checkpoint, once its origin and its signature by the trusted key hold. */
async function openCheckpoint(
  message: string | null,
  trust: ProofTrust,
  subtle: Subtle,
  sha256: Sha256,
): Promise<OpenedCheckpoint> {
  const keys: Array<ReturnType<typeof parseKeyText>> = [];
  for (const text of typeof trust.verifierKey === 'string'
    ? [trust.verifierKey]
    : trust.verifierKey) {
    try {
      keys.push(parseKeyText(text.trim(), ''));
    } catch {
      return { signer: null, problem: 'The verifier key is malformed.' };
    }
  }
  for (const key of keys) {
    if (readUint32(await sha256(keyHashInput(key.name, key.key))) !== key.keyHash) {
      return {
        signer: keyName(key),
        problem: `The verifier key ${keyName(key)} does not match its hash.`,
      };
    }
  }
  const first = keys[0];
  if (first === undefined) return { signer: null, problem: 'No verifier key was given.' };
  let signer = keyName(first);
  if (message === null) {
    return { signer, problem: 'The log has no signed checkpoint yet; try again in a moment.' };
  }
  let note: ReturnType<typeof splitNote>;
  let checkpoint: ReturnType<typeof parseCheckpoint>;
  try {
    note = splitNote(message);
    checkpoint = parseCheckpoint(note.text);
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
    return { signer, problem: 'The checkpoint is malformed.' };
  }
  const { size } = checkpoint;
  const signers = note.signatures.map(keyName);
  if (checkpoint.origin !== trust.origin) {
    return {
      signer,
      size,
      signers,
      problem: `The checkpoint is of the log "${checkpoint.origin}", not "${trust.origin}".`,
    };
  }
  const signedBy = keys.flatMap((key) => {
    const line = note.signatures.find((s) => s.name === key.name && s.keyHash === key.keyHash);
    return line === undefined ? [] : [{ key, line }];
  });
  const [firstSigned] = signedBy;
  if (firstSigned === undefined) {
    const asked =
      keys.length === 1 ? `the key ${signer}` : `any of the keys ${keys.map(keyName).join(', ')}`;
    return {
      signer,
      size,
      signers,
      problem:
        `The checkpoint is signed by ${signers.join(', ')}, not by ${asked}. Right ` +
        'after the signing key was rotated that is expected until the log grows and is signed ' +
        'again; otherwise the log was signed by someone else.',
    };
  }
  signer = keyName(firstSigned.key);
  // As a signed note's verifier does: a bad signature by a trusted key is refused, whatever
  // the others say.
  for (const { key, line } of signedBy) {
    const publicKey = await subtle.importKey('raw', key.key, { name: 'Ed25519' }, false, [
      'verify',
    ]);
    const valid = await subtle.verify(
      { name: 'Ed25519' },
      publicKey,
      line.signature,
      ENCODER.encode(note.text),
    );
    if (!valid) {
      return {
        signer: keyName(key),
        size,
        signers,
        problem: `The checkpoint's signature by ${keyName(key)} is not valid.`,
      };
    }
  }
  return { signer, size, rootHash: checkpoint.rootHash, signers };
}

/** The root an inclusion proof leads to from `leaf` (RFC 9162 §2.1.3.2), or `null`. */
async function inclusionRoot(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly string[],
  sha256: Sha256,
): Promise<Uint8Array | null> {
  const siblings = proof.map(fromHex);
  const sides = inclusionSides(index, size, siblings.length);
  if (sides === null) return null;
  let r = leaf;
  for (const [i, sibling] of siblings.entries()) {
    if (sibling?.length !== 32) return null;
    r = sides[i] ? await sha256(NODE, sibling, r) : await sha256(NODE, r, sibling);
  }
  return r;
}

const NODE = Uint8Array.of(1);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** The bytes of lowercase hex, or `null`. */
function fromHex(hex: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
