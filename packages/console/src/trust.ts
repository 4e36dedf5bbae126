/**
 * Which key the console checks a tenant's signed log with: the verifier keys the application
 * that embeds it pinned (so the check does not rest on the server being checked), else the key
 * the server serves (`GET /v1/keys/public`). The log's origin is the server's either way: it
 * only names the log, and a checkpoint naming another one is refused.
 */
import type { ProofTrust } from '@hindsight/core/event-proof';
import type { Api } from './api.js';

/** A tenant log's trust for `@hindsight/core/event-proof`, and where its keys came from. */
export interface LogTrust extends ProofTrust {
  /** Whether the keys are the embedding application's, not the server's. */
  readonly pinned: boolean;
}

/**
 * @example const trust = await logTrust(api, 'acme', ['hindsight+1a2b3c4d+AQ…']);
 */
export async function logTrust(
  api: Api,
  tenant: string,
  pinnedKeys: readonly string[] | null,
  signal?: AbortSignal,
): Promise<LogTrust> {
  const served = await api.publicKey(signal);
  return {
    verifierKey: pinnedKeys ?? served.verifierKey,
    origin: `${served.origin}/${tenant}`,
    pinned: pinnedKeys !== null,
  };
}
