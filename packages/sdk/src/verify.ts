/**
 * Checking one stored event against the server's signed log: `GET …/events/{id}/proof`, then
 * `@hindsight/core/event-proof` — the event's content gives its hash, the hash is in the tree
 * of the newest signed checkpoint, and the checkpoint is signed by the key you trust.
 */
import {
  type EventProof,
  type EventProofReport,
  type IntegrityVerdict,
  verifyEventProof,
} from '@hindsight/core/event-proof';
import { fields, optionalText, refuse, text } from './arguments.js';
import type { Settings } from './options.js';
import { getJson } from './transport.js';

/** What {@link verifyEvent} trusts. */
export interface VerifyEventOptions {
  /**
   * The server's verifier key (`name+hash+base64`), as you keep it — obtained once, out of
   * band, not fetched from the server being checked. Several (the keys before and after a
   * rotation of the signing key): a checkpoint signed by any of them verifies.
   */
  readonly verifierKey: string | readonly string[];
  /**
   * The checkpoint origin of the server (`hindsight` by default, or its `--origin`); read from
   * `GET /v1/keys/public` when not given. Checkpoints of the tenant name `<origin>/<tenant>`.
   */
  readonly origin?: string;
}

/**
 * Checks one event of a tenant (needs `events:read`): resolves with the report of each check
 * and what failed; rejects only when the server cannot be read (`unavailable`) or refuses
 * (`not_found` for an unknown event, `forbidden`, …).
 * @example const report = await verifyEvent(settings, 'acme', 'evt_123', { verifierKey });
 */
export async function verifyEvent(
  settings: Settings,
  tenant: string,
  id: string,
  options: VerifyEventOptions,
): Promise<EventProofReport> {
  // Checked before anything is read: a key left out (an unset environment variable) is a
  // mistake at the call site, not a log that fails to verify.
  text('verify()', 'tenant', tenant);
  text('verify()', 'id', id);
  const given = fields<VerifyEventOptions>('verify()', 'its options', options, '{ verifierKey }');
  const keys = given.verifierKey;
  const keyList = Array.isArray(keys) ? (keys as unknown[]) : [keys];
  if (keyList.length === 0 || keyList.some((k) => typeof k !== 'string' || k === '')) {
    refuse('verify()', 'verifierKey', "the server's verifier key (a string, or several)", keys);
  }
  optionalText('verify()', 'origin', given.origin);
  const path = `/v1/tenants/${encodeURIComponent(tenant)}/events/${encodeURIComponent(id)}/proof`;
  const proof = await getJson<EventProof>(
    settings,
    settings.baseUrl + path,
    `Reading the proof of event "${id}" of "${tenant}"`,
  );
  const origin =
    options.origin ??
    (
      await getJson<{ origin: string }>(
        settings,
        `${settings.baseUrl}/v1/keys/public`,
        "Reading the server's checkpoint origin",
      )
    ).origin;
  return verifyEventProof(proof, {
    verifierKey: options.verifierKey,
    origin: `${origin}/${tenant}`,
  });
}

/**
 * The tenant's newest integrity verdict (needs `events:read`); `null` while the server's check
 * never found a problem in the log.
 * @example const verdict = await integrityVerdict(settings, 'acme'); if (verdict && !verdict.ok) alert(verdict.description);
 */
export async function integrityVerdict(
  settings: Settings,
  tenant: string,
): Promise<IntegrityVerdict | null> {
  const { verdict } = await getJson<{ verdict: IntegrityVerdict | null }>(
    settings,
    `${settings.baseUrl}/v1/tenants/${encodeURIComponent(tenant)}/integrity`,
    `Reading the integrity verdict of "${tenant}"`,
  );
  return verdict;
}
