/**
 * Each reader's browser as a witness of the tenant's log: the console checks the newest signed
 * checkpoint, remembers it (in `localStorage`, per server origin and log), and on every later
 * visit asks for a consistency proof from what it remembered to what the server signs now. A
 * log rewritten, shortened or forked since — even with every hash recomputed and re-signed by
 * the server's own key — then fails here, for every reader who saw it before. When the
 * application embedding the console pinned its verifier keys (`trust.ts`), a log re-signed by
 * any other key fails here on the first visit too.
 */
import {
  type CheckpointReport,
  signedByOthersOnly,
  verifyCheckpoint,
  verifyConsistencyProof,
} from '@hindsight/core/event-proof';
import type { Api } from './api.js';
import { countText } from './formats.js';
import { logTrust } from './trust.js';

/** A checkpoint this browser checked, and when. */
export interface SeenCheckpoint {
  readonly size: number;
  /** Root hash, hex. */
  readonly root: string;
  /** When it was checked, ISO 8601. */
  readonly at: string;
}

/** What the check found. */
export type LogIntegrity =
  /** The log has no events, so nothing is signed yet. */
  | { readonly kind: 'empty' }
  /** Signed by the key; `seen` is what this browser checked before (it is part of this log). */
  | { readonly kind: 'ok'; readonly size: number; readonly seen: SeenCheckpoint | null }
  /** The checkpoint carries only another key: a rotation the server could not cosign after. */
  | { readonly kind: 'other-key'; readonly problem: string }
  /** The checkpoint carries none of the keys the embedding application pinned. */
  | { readonly kind: 'untrusted'; readonly problem: string }
  /** A checkpoint that does not hold, or a log that does not extend what was seen. */
  | { readonly kind: 'broken'; readonly problem: string };

/** Where a browser keeps what it saw of one log: `localStorage`, or nothing when denied. */
export interface SeenStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

/** The browser's `localStorage`, or a store that keeps nothing when it is not allowed. */
export function browserStore(): SeenStore {
  try {
    const storage = window.localStorage;
    storage.getItem('hindsight');
    return {
      get: (key) => storage.getItem(key),
      set: (key, value) => {
        try {
          storage.setItem(key, value);
        } catch {
          // Full or denied: the next visit checks the signature only.
        }
      },
    };
  } catch {
    return { get: () => null, set: () => undefined };
  }
}

function readSeen(store: SeenStore, key: string): SeenCheckpoint | null {
  try {
    const value = JSON.parse(store.get(key) ?? 'null') as Partial<SeenCheckpoint> | null;
    if (
      typeof value?.size === 'number' &&
      typeof value.root === 'string' &&
      typeof value.at === 'string'
    ) {
      return { size: value.size, root: value.root, at: value.at };
    }
  } catch {
    // Not ours: checked afresh.
  }
  return null;
}

/**
 * Checks the tenant's newest checkpoint — with the keys the embedding application pinned, if
 * any, else the server's — and that its log extends the one this browser saw last; remembers
 * the new one only when everything held.
 * @example const integrity = await checkLogIntegrity(api, 'acme', null, browserStore(), new Date());
 */
export async function checkLogIntegrity(
  api: Api,
  tenant: string,
  pinnedKeys: readonly string[] | null,
  store: SeenStore,
  now: Date,
  signal?: AbortSignal,
): Promise<LogIntegrity> {
  const trust = await logTrust(api, tenant, pinnedKeys, signal);
  let note: string;
  try {
    note = await api.checkpoint(tenant, signal);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'not_found') return { kind: 'empty' };
    throw error;
  }
  const report: CheckpointReport = await verifyCheckpoint(note, trust);
  if (!report.ok) {
    const otherKey = signedByOthersOnly(report);
    return {
      kind: !otherKey ? 'broken' : trust.pinned ? 'untrusted' : 'other-key',
      problem: report.problem,
    };
  }
  const storeKey = `hindsight:seen-checkpoint:${trust.origin}`;
  const seen = readSeen(store, storeKey);
  if (seen !== null) {
    const since = `since this browser checked it on ${seen.at.slice(0, 10)}`;
    if (seen.size > report.size) {
      return {
        kind: 'broken',
        problem: `The log is shorter than ${since}: ${countText(seen.size, 'event')} then, ${report.size.toLocaleString('en')} now.`,
      };
    }
    const proof =
      seen.size === report.size
        ? []
        : await api.consistency(tenant, seen.size, report.size, signal);
    if (!(await verifyConsistencyProof(seen, report, proof))) {
      return {
        kind: 'broken',
        problem: `The log was rewritten ${since}: the first ${countText(seen.size, 'event')} it saw are not part of the log signed now.`,
      };
    }
  }
  store.set(
    storeKey,
    JSON.stringify({ size: report.size, root: report.root, at: now.toISOString() }),
  );
  return { kind: 'ok', size: report.size, seen };
}
