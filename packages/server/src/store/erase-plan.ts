/**
 * What every backend does the same way when it erases a person or deletes events (issue #9):
 * the checks of the tenant's settings, and the new columns of an erased event's row. Backends
 * differ only in how they read and write rows.
 */
import {
  type ErasureSubject,
  emailKey,
  eraseEvent,
  type LegalHold,
  leafHash,
  parseIp,
  type StoredEvent,
  searchText,
  type TenantSettings,
  type UnsealedEvent,
} from '@hindsight/core';
import { HindsightError } from '../errors.js';
import { saltsOf } from './append-plan.js';

/** Most events one deletion request names. */
export const MAX_REDACTIONS = 1000;

/**
 * The legal hold the tenant's settings (as stored JSON text, or absent) hold, if any: read by
 * each removal inside its own transaction, so that a hold placed meanwhile is seen.
 */
export function legalHoldIn(settingsText: string | null | undefined): LegalHold | undefined {
  return settingsIn(settingsText).legalHold;
}

/** A tenant's settings from their stored JSON text; `{}` when there is none. */
function settingsIn(settingsText: string | null | undefined): TenantSettings {
  return settingsText ? (JSON.parse(settingsText) as TenantSettings) : {};
}

/**
 * Throws `legal_hold` while the tenant's settings (as stored JSON text, or absent) hold a
 * legal hold: nothing of its log may be erased or deleted then.
 */
export function refuseUnderLegalHold(
  tenant: string,
  settingsText: string | null | undefined,
  what: 'erased' | 'deleted',
): TenantSettings {
  const settings = settingsIn(settingsText);
  const hold = settings.legalHold;
  if (hold) {
    throw new HindsightError(
      'legal_hold',
      `Tenant "${tenant}" is under legal hold since ${hold.since} ("${hold.reason}"): nothing of ` +
        `its log may be ${what} until the hold is lifted. Nothing was changed.`,
    );
  }
  return settings;
}

/** Throws `deletion_not_allowed` unless the tenant's settings allow deleting events. */
export function refuseUnlessDeletionAllowed(tenant: string, settings: TenantSettings): void {
  if (settings.deletion?.allowed !== true) {
    throw new HindsightError(
      'deletion_not_allowed',
      `Tenant "${tenant}" does not permit deleting events. An administrator may allow it with ` +
        'the tenant setting `deletion: { allowed: true }`. Nothing was deleted.',
    );
  }
}

/** A stored event row as an erasure reads it. */
export interface EventRowText {
  readonly seq: number;
  /** Leaf hash, hex. */
  readonly hash: string;
  /** The stored body: the event without `seq` and `hash`. */
  readonly body: string;
  readonly salts?: string | null;
}

/** The new columns of an erased event's row. */
export interface ErasedRow {
  readonly body: string;
  readonly salts: string | null;
  readonly actorEmail: string | null;
  readonly ip: Uint8Array | null;
  /** The event's search tokens after the erasure, space-separated. */
  readonly searchText: string;
  /** How many values were erased now. */
  readonly values: number;
}

/**
 * Erases the subject from one stored row, or `null` when nothing of it is left there. Checks
 * that the erased event still gives its stored leaf hash, so that an erasure can never make a
 * log fail verification: an event that does not (a row altered by hand) is refused.
 */
export function eraseRow(row: EventRowText, subject: ErasureSubject): ErasedRow | null {
  const event = JSON.parse(row.body) as UnsealedEvent;
  const out = eraseEvent(event, saltsOf(row), subject);
  if (!out) return null;
  const erased = out.event;
  if (leafHash({ ...erased, seq: row.seq } as StoredEvent, out.salts) !== row.hash) {
    throw new HindsightError(
      'internal_error',
      `The event "${erased.id}" (seq ${row.seq}) does not match its stored leaf hash, so it was ` +
        'not erased: verify the log (`hindsight verify`). Nothing was erased.',
    );
  }
  const ip = erased.context?.ip === undefined ? null : parseIp(erased.context.ip);
  return {
    body: JSON.stringify(erased),
    salts: Object.keys(out.salts).length === 0 ? null : JSON.stringify(out.salts),
    actorEmail: erased.actor.email === undefined ? null : emailKey(erased.actor.email),
    ip: ip ? ip.bytes : null,
    searchText: searchText(erased),
    values: out.paths.length,
  };
}

/** The id of every target of a stored body (to remove its target rows). */
export function targetIds(body: string): string[] {
  const event = JSON.parse(body) as UnsealedEvent;
  return event.targets?.map((t) => t.id) ?? [];
}

/** The subject's key as actor id or e-mail (its {@link emailKey}), and as target id. */
export function subjectKey(subject: ErasureSubject): {
  readonly column: 'actor_id' | 'actor_email';
  readonly value: string;
  readonly target: string;
} {
  return subject.actorId !== undefined
    ? { column: 'actor_id', value: subject.actorId, target: subject.actorId }
    : { column: 'actor_email', value: emailKey(subject.email), target: subject.email };
}
