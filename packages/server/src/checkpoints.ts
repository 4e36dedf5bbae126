/**
 * Signed checkpoints (SPEC §6): after batches commit, each tenant whose log grew gets a new
 * C2SP `tlog-checkpoint` — origin `<origin>/<tenant>`, size, root — signed with the server's
 * Ed25519 key, at most once a second per server under load. Every checkpoint is kept, and can
 * be anchored outside the database (a file, a webhook): someone who can rewrite the database
 * cannot rewrite those.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { note } from '@hindsight/core';
import { HindsightError } from './errors.js';
import { makeDirectory } from './file-errors.js';
import type { Store } from './store/types.js';
import { treeRoot } from './tree.js';

/** How checkpoints are signed. */
export interface CheckpointOptions {
  readonly signer: note.NoteSigner;
  /** The log origin prefix; a tenant's checkpoints name `<origin>/<tenant>`. */
  readonly origin: string;
  /** The least time between two signing rounds, in ms (default 1,000). */
  readonly intervalMs?: number;
  /**
   * Where each new checkpoint is also sent, so that the latest roots live outside the
   * database: a file it is appended to (one JSON line each) and/or a URL it is POSTed to.
   */
  readonly anchors?: { readonly file?: string; readonly url?: string };
  /**
   * Told when an anchor starts failing (with the error and the checkpoints it has yet to
   * take) and when it takes them again: once per change, not once per round.
   */
  readonly onAnchorChange?: (change: AnchorChange) => void;
  /**
   * Sign, once the server runs, every log that grew past its newest checkpoint while no server
   * signed it (the demo, loaded straight into the store; a server stopped mid-round), as
   * `hindsight serve` does. Off for an app in a test or embedded in another server.
   */
  readonly catchUp?: boolean;
}

/** An anchor that started failing (`ok: false`, with its error) or recovered (`ok: true`). */
export interface AnchorChange {
  readonly anchor: 'file' | 'url';
  readonly ok: boolean;
  readonly error?: unknown;
  /** Checkpoints it has yet to take. */
  readonly backlog: number;
}

/** What an anchor receives for each checkpoint: one JSON object (one line in a file). */
export interface AnchoredCheckpoint {
  readonly tenant: string;
  readonly size: number;
  readonly note: string;
}

/**
 * Where an export's checkpoints come from: the server's {@link Checkpointer} (which signs one
 * first when the log has grown past the newest), or {@link storedCheckpoints} (which never signs).
 */
export type CheckpointSource = Pick<Checkpointer, 'latest' | 'origin'>;

/**
 * The checkpoints a store holds, as they are: for a check from the command line, which has no
 * signing key and must not sign. Events past the newest checkpoint are not in its export.
 * @example exportLines(store, storedCheckpoints(store, 'hindsight'), 'acme')
 */
export function storedCheckpoints(store: Store, origin: string): CheckpointSource {
  return { origin, latest: (tenant) => store.latestCheckpoint(tenant) };
}

/** Most checkpoints kept for a webhook that does not answer; older ones are dropped. */
const MAX_UNSENT = 10_000;

/** A checkpoint signed for a tenant. */
interface SignedCheckpoint {
  readonly tenant: string;
  readonly size: number;
  readonly note: string;
}

/** The default origin: operators set their own (`--origin audit.example.com`). */
export const DEFAULT_ORIGIN = 'hindsight';

/**
 * Reads the signer key in `file`, or creates one there (mode 0600) on first start.
 * @example const signer = loadOrCreateSigner('./hindsight-data/signing.key', 'audit.example.com');
 */
export function loadOrCreateSigner(
  file: string,
  name: string,
): { signer: note.NoteSigner; created: boolean } {
  if (existsSync(file))
    return { signer: note.parseSignerKey(readFileSync(file, 'utf8')), created: false };
  const signer = note.signerFromSeed(name, randomBytes(32));
  makeDirectory(dirname(file), 0o700);
  writeFileSync(file, `${signer.privateKeyText}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { signer, created: true };
}

/**
 * For a server started with another key than the one that signed before (a rotation, a restore
 * without the key, a second server given its own key): adds `signer`'s signature to the newest
 * checkpoint of each tenant that does not carry it (`note.cosignNote`), so that a log that has
 * not grown since is checked with the server's key too — by the console's Verify, and by
 * anyone holding only the new key. Only where the checkpoint names the tenant's log under
 * `origin` and the stored tree still gives its root; a tenant whose tree does not is left as it
 * is and returned in `mismatched` (the database was changed outside the server, or damaged).
 * Older checkpoints keep only the key that signed them. Returns the tenants cosigned and the
 * keys (`name+hash`) that had signed them. Every tenant is looked at only when one of the 100
 * largest lacks the key: a start without a key change reads 100 checkpoints.
 * @example const { cosigned, keys, mismatched } = await cosignNewest(store, signer, 'hindsight')
 */
export async function cosignNewest(
  store: Store,
  signer: note.NoteSigner,
  origin: string,
): Promise<{ cosigned: string[]; keys: string[]; mismatched: string[] }> {
  const mine = note.keyName(signer);
  const cosigned: SignedCheckpoint[] = [];
  const mismatched: string[] = [];
  const keys = new Set<string>();
  const tenants = await store.tenants();
  // A start like any other — the largest logs signed by this key — reads a hundred
  // checkpoints, not one per tenant; any of them not signed by it means a key change, and
  // then every tenant is looked at.
  const largest = [...tenants].sort((a, b) => b.size - a.size).slice(0, SAMPLE_TENANTS);
  let changed = false;
  for (const { name } of largest) {
    const latest = await store.latestCheckpoint(name);
    if (latest !== null && !signedBy(latest.note, mine)) changed = true;
  }
  for (const { name: tenant } of changed ? tenants : []) {
    const latest = await store.latestCheckpoint(tenant);
    if (latest === null) continue;
    try {
      const signers = note.noteSigners(latest.note);
      if (signers.includes(mine)) continue;
      const { text } = note.splitNote(latest.note);
      const checkpoint = note.parseCheckpoint(text);
      const root = await treeRoot(store, tenant, latest.size);
      if (
        checkpoint.origin !== `${origin}/${tenant}` ||
        checkpoint.size !== latest.size ||
        !Buffer.from(root).equals(checkpoint.rootHash)
      ) {
        mismatched.push(tenant);
        continue;
      }
      for (const key of signers) keys.add(key);
      cosigned.push({ tenant, size: latest.size, note: note.cosignNote(latest.note, signer) });
    } catch (error) {
      if (!(error instanceof note.NoteError) && !(error instanceof HindsightError)) throw error;
      mismatched.push(tenant);
    }
  }
  for (let i = 0; i < cosigned.length; i += 500) {
    await store.saveCheckpoints(cosigned.slice(i, i + 500));
  }
  return { cosigned: cosigned.map((c) => c.tenant), keys: [...keys], mismatched };
}

/** How many of the largest tenants {@link cosignNewest} looks at before all of them. */
const SAMPLE_TENANTS = 100;

/** Whether a note carries a signature line of the key `name+hash` (a malformed one: no). */
function signedBy(message: string, key: string): boolean {
  try {
    return note.noteSigners(message).includes(key);
  } catch {
    return false;
  }
}

/**
 * Signs checkpoints for tenants whose logs grew, in rounds at most `intervalMs` apart.
 * @example checkpointer.touch(['acme']); await checkpointer.latest('acme');
 */
export class Checkpointer {
  readonly #store: Store;
  readonly #signer: note.NoteSigner;
  readonly #origin: string;
  readonly #intervalMs: number;
  readonly #anchors: { readonly file?: string; readonly url?: string };
  /** Checkpoints the webhook has not taken yet, oldest first. */
  #unsent: AnchoredCheckpoint[] = [];
  /** Checkpoints the anchor file could not take yet. */
  #unwritten: AnchoredCheckpoint[] = [];
  readonly #pending = new Set<string>();
  /** The largest size this server signed or saw stored, per tenant. */
  readonly #signed = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  /** Checkpoints this server signed and stored. */
  #signedCount = 0;
  /** The search for logs behind their checkpoints, when the server started (`catchUp`). */
  #catchingUp: Promise<void> = Promise.resolve();
  /** The sending to the anchors under way (see `#anchor`). */
  #anchoring: Promise<void> = Promise.resolve();
  /** The anchors whose last attempt failed. */
  readonly #failing = new Set<'file' | 'url'>();
  readonly #onAnchorChange: ((change: AnchorChange) => void) | undefined;
  #lastRound = 0;

  constructor(store: Store, options: CheckpointOptions) {
    this.#store = store;
    this.#signer = options.signer;
    this.#origin = options.origin;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#anchors = options.anchors ?? {};
    this.#onAnchorChange = options.onAnchorChange;
  }

  /** The verifier key of this server, in the signed-note form. */
  get verifierKey(): string {
    return note.verifierKeyText(this.#signer);
  }

  get origin(): string {
    return this.#origin;
  }

  /** Checkpoints signed and stored so far, and those each anchor has yet to take. */
  stats(): { signed: number; anchorFileBacklog: number; anchorUrlBacklog: number } {
    return {
      signed: this.#signedCount,
      anchorFileBacklog: this.#unwritten.length,
      anchorUrlBacklog: this.#unsent.length,
    };
  }

  /**
   * Marks the tenants whose log is larger than their newest checkpoint: signed in the next
   * round.
   */
  catchUp(): Promise<void> {
    this.#catchingUp = (async () => {
      const tenants = await this.#store.tenants();
      this.touch(tenants.filter((t) => t.size > t.signed).map((t) => t.name));
    })();
    return this.#catchingUp;
  }

  /** Marks tenants whose logs grew; their checkpoints are signed in the next round. */
  touch(tenants: Iterable<string>): void {
    for (const t of tenants) this.#pending.add(t);
    if (this.#pending.size > 0) this.#retry();
  }

  /** Schedules the next round (at most one waits at a time). */
  #retry(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastRound + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#round = this.#round.then(() => this.#signPending()).catch(() => {});
    }, wait);
    this.#timer.unref();
  }

  /**
   * The tenant's newest checkpoint (its size and signed note): signed now when the log has grown past the newest
   * stored one (or there is none yet); `null` for a tenant with no events.
   */
  async latest(tenant: string): Promise<{ size: number; note: string } | null> {
    const [stored, size] = await Promise.all([
      this.#store.latestCheckpoint(tenant),
      this.#store.logSize(tenant),
    ]);
    if (stored && stored.size >= size) return stored;
    if (size === 0) return null;
    const signed = await this.#sign(tenant, size);
    await this.#store.saveCheckpoints([signed]);
    this.#remember(signed);
    // Stored, so answered now: a slow or hung anchor must not hold the reader up (it has its
    // own timeout, and retries come with later rounds).
    void this.#anchor([signed]);
    return { size, note: signed.note };
  }

  /** Signs what is pending now; used when the server stops. */
  async flush(): Promise<void> {
    // A server stopped right after it started still signs what it found behind.
    await this.#catchingUp.catch(() => {});
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#round = this.#round.then(() => this.#signPending()).catch(() => {});
    await this.#round;
  }

  async #signPending(): Promise<void> {
    this.#lastRound = Date.now();
    const tenants = [...this.#pending];
    this.#pending.clear();
    const signed: SignedCheckpoint[] = [];
    for (const tenant of tenants) {
      try {
        const size = await this.#store.logSize(tenant);
        if (size > (this.#signed.get(tenant) ?? 0)) signed.push(await this.#sign(tenant, size));
      } catch {
        // The store is unavailable: try again in the next round.
        this.#pending.add(tenant);
      }
    }
    try {
      // One write (one fsync) for the whole round.
      await this.#store.saveCheckpoints(signed);
      for (const s of signed) this.#remember(s);
    } catch {
      for (const s of signed) this.#pending.add(s.tenant);
      signed.length = 0;
    }
    await this.#anchor(signed);
    if (this.#pending.size > 0 || this.#unsent.length > 0 || this.#unwritten.length > 0) {
      this.#retry();
    }
  }

  async #sign(tenant: string, size: number): Promise<SignedCheckpoint> {
    const rootHash = await treeRoot(this.#store, tenant, size);
    const text = note.checkpointText({ origin: `${this.#origin}/${tenant}`, size, rootHash });
    return { tenant, size, note: note.signNote(text, this.#signer) };
  }

  /**
   * Sends new checkpoints to the anchors, one sending at a time (two at once would both send the
   * backlog's first checkpoint); a webhook that fails gets them in a later round.
   */
  #anchor(signed: readonly SignedCheckpoint[]): Promise<void> {
    const sent = this.#anchoring.then(() => this.#anchorNow(signed));
    this.#anchoring = sent.catch(() => {});
    return this.#anchoring;
  }

  async #anchorNow(signed: readonly SignedCheckpoint[]): Promise<void> {
    const entries: AnchoredCheckpoint[] = signed.map(({ tenant, size, note }) => ({
      tenant,
      size,
      note,
    }));
    const { file, url } = this.#anchors;
    if (file) {
      this.#unwritten.push(...entries);
      if (this.#unwritten.length > 0) {
        try {
          const lines = this.#unwritten.map((e) => `${JSON.stringify(e)}\n`).join('');
          await appendFile(file, lines, { mode: 0o600 });
          this.#unwritten = [];
          this.#anchorWorked('file');
        } catch (error) {
          // Kept for the next round (the file system may come back).
          if (this.#unwritten.length > MAX_UNSENT)
            this.#unwritten.splice(0, this.#unwritten.length - MAX_UNSENT);
          this.#anchorFailed('file', error);
        }
      }
    }
    if (!url) return;
    this.#unsent.push(...entries);
    if (this.#unsent.length > MAX_UNSENT) this.#unsent.splice(0, this.#unsent.length - MAX_UNSENT);
    while (this.#unsent.length > 0) {
      const next = this.#unsent[0] as AnchoredCheckpoint;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(next),
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) {
          this.#anchorFailed('url', new Error(`It answered ${res.status}.`));
          return;
        }
      } catch (error) {
        this.#anchorFailed('url', withoutSecrets(error, url));
        return;
      }
      this.#unsent.shift();
    }
    this.#anchorWorked('url');
  }

  #anchorFailed(anchor: 'file' | 'url', error: unknown): void {
    // (The error of a URL anchor never holds its URL whole: see `withoutSecrets`.)
    if (this.#failing.has(anchor)) return;
    this.#failing.add(anchor);
    const backlog = anchor === 'file' ? this.#unwritten.length : this.#unsent.length;
    this.#onAnchorChange?.({ anchor, ok: false, error, backlog });
  }

  #anchorWorked(anchor: 'file' | 'url'): void {
    if (!this.#failing.delete(anchor)) return;
    this.#onAnchorChange?.({ anchor, ok: true, backlog: 0 });
  }

  #remember(signed: SignedCheckpoint): void {
    this.#signedCount++;
    this.#signed.set(signed.tenant, Math.max(signed.size, this.#signed.get(signed.tenant) ?? 0));
  }
}

/**
 * The error of a POST to the anchor URL, told without the URL's user name, password or query
 * (where a token may sit): `fetch` names the whole URL in some of its errors, and the error is
 * logged.
 */
function withoutSecrets(error: unknown, url: string): Error {
  let shown = url;
  try {
    const parsed = new URL(url);
    shown = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    shown = '(the anchor URL)';
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const reason = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return new Error(`POST to ${shown} failed: ${message.split(url).join(shown)}${reason}`);
}
