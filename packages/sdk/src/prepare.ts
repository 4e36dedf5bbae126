/**
 * From what `record()` is given to what is sent: the id, time and actor filled in, serialised
 * once, and validated with `@hindsight/core`'s validator — the server's own — so that a bad
 * event fails at the call site rather than in a batch later.
 */
import { type Actor, type EventInput, validateEvent } from '@hindsight/core';
import { currentActor, SYSTEM_ACTOR } from './actor.js';
import { HindsightError } from './errors.js';
import { newEventId } from './ids.js';

/**
 * An event as `record()` takes it: SPEC §2's input, whose `actor` may be left out (the actor
 * of the enclosing `withActor`, else the system).
 */
export type RecordInput = Omit<EventInput, 'actor'> & { actor?: Actor };

const EVENT_KEYS = new Set([
  'tenant',
  'action',
  'category',
  'time',
  'id',
  'actor',
  'targets',
  'channel',
  'outcome',
  'status',
  'description',
  'changes',
  'context',
  'metadata',
]);

function hasOnlyEventKeys(input: object): boolean {
  for (const key in input) if (!EVENT_KEYS.has(key)) return false;
  return true;
}

/** The millisecond last stamped and its RFC 3339 text: events come many per millisecond. */
let stampMs = Number.NaN;
let stampText = '';

/** `new Date(ms).toISOString()`, computed once per millisecond. */
function timeText(ms: number): string {
  if (ms !== stampMs) {
    stampText = new Date(ms).toISOString();
    stampMs = ms;
  }
  return stampText;
}

/** A prepared event: its id and its JSON as sent. */
export interface PreparedEvent {
  readonly id: string;
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
}

/**
 * Fills in `id` (a new ULID), `time` (now) and `actor`, serialises and validates the event.
 * Throws `invalid_event` with every problem's JSON Pointer path.
 * @example prepareEvent({ tenant: 'acme', action: 'user.created', actor: { id: 'u1' } }).id
 */
export function prepareEvent(input: RecordInput): PreparedEvent {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new HindsightError('invalid_event', 'Invalid event: an event must be an object.', {
      details: [{ path: '', message: 'must be an object' }],
    });
  }
  const now = Date.now();
  const id = input.id ?? newEventId(now);
  const time = input.time ?? timeText(now);
  const actor = input.actor ?? currentActor() ?? SYSTEM_ACTOR;
  const event = hasOnlyEventKeys(input)
    ? // One literal shape for every event keeps serialising and validating on V8's fast
      // paths (a spread copy makes both several times slower); absent fields stay undefined,
      // which JSON leaves out.
      {
        tenant: input.tenant,
        action: input.action,
        category: input.category,
        time,
        id,
        actor,
        targets: input.targets,
        channel: input.channel,
        outcome: input.outcome,
        status: input.status,
        description: input.description,
        changes: input.changes,
        context: input.context,
        metadata: input.metadata,
      }
    : // An unknown field: the validator names it.
      { ...input, id, time, actor };
  let json: string;
  try {
    json = JSON.stringify(event);
  } catch (cause) {
    throw new HindsightError(
      'invalid_event',
      `Invalid event: it cannot be serialised as JSON (${String(cause)}).`,
      { details: [{ path: '', message: 'cannot be serialised as JSON' }], cause },
    );
  }
  const issues = validateEvent(event, { now: new Date(now), json });
  if (issues.length > 0) {
    const [first] = issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problems; see details)` : '';
    throw new HindsightError(
      'invalid_event',
      `Invalid event: ${first?.path || '/'} ${first?.message}${more}.`,
      { details: issues.map((issue) => ({ path: issue.path, message: issue.message })) },
    );
  }
  return { id, json, bytes: Buffer.byteLength(json) };
}
