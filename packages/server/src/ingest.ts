/**
 * From a `POST /v1/events` body to events ready to store: shape check, validation of every
 * event (all problems reported at once), normalisation, enrichment, salts and input digest.
 */

import {
  type EventInput,
  inputDigest,
  LIMITS,
  leafHashParts,
  makeSalts,
  normalizeEvent,
  searchText,
  type ValidationIssue,
  validateEvent,
} from '@hindsight/core';
import type { Enricher } from './enrich.js';
import { type ErrorDetail, HindsightError } from './errors.js';
import { newUlid, secureRandom } from './ids.js';
import { forEachInSlices } from './slices.js';
import type { PreparedEvent } from './store/types.js';

const MAX_DETAILS = 100;

/** Whether a body is a batch, `{ events: … }` (well formed or not); anything else is one event. */
function isBatch(body: unknown): body is { events: unknown } {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && 'events' in body;
}

/** Splits a body into its events: `{ events: [...] }` is a batch, anything else one event. */
function eventsOf(body: unknown): { events: unknown[]; batch: boolean } {
  if (isBatch(body)) {
    const keys = Object.keys(body);
    const { events } = body;
    const fail = (message: string) =>
      new HindsightError('invalid_event', `The batch is malformed: ${message}.`, {
        details: [{ index: -1, path: '/events', message }],
      });
    if (keys.length !== 1) throw fail('a batch body has only the key "events"');
    if (!Array.isArray(events)) throw fail('"events" must be an array');
    if (events.length === 0) throw fail('a batch holds at least 1 event');
    if (events.length > LIMITS.batch) {
      throw fail(`a batch holds at most ${LIMITS.batch} events, this one has ${events.length}`);
    }
    return { events, batch: true };
  }
  return { events: [body], batch: false };
}

/**
 * How many events a body holds, as {@link eventsOf} reads it; a malformed batch counts as one
 * (it is refused as soon as it is read).
 */
export function eventCount(body: unknown): number {
  return isBatch(body) && Array.isArray(body.events) ? body.events.length : 1;
}

/**
 * Validates and prepares a request body. Throws `invalid_event` listing every problem as
 * `{ index, path, message }` when any event is invalid, so nothing of the batch is stored.
 */
export function prepareEvents(
  body: unknown,
  enricher: Enricher,
  now = new Date(),
): PreparedEvent[] {
  return validEvents(body, now).map((input) => prepareEvent(input, enricher, now));
}

/**
 * {@link prepareEvents} for the HTTP route: the same result, in slices (`forEachInSlices`).
 * Preparing a batch of 1,000 events takes tens of milliseconds in one piece otherwise, and
 * every round trip the store makes meanwhile (PostgreSQL's, inside a transaction that holds the
 * tenants' locks) waits for it.
 */
export async function prepareEventsInSlices(
  body: unknown,
  enricher: Enricher,
  now = new Date(),
): Promise<PreparedEvent[]> {
  const prepared: PreparedEvent[] = [];
  await forEachInSlices(validEvents(body, now), (input) => {
    prepared.push(prepareEvent(input, enricher, now));
  });
  return prepared;
}

/** The body's events when every one is valid; else throws `invalid_event` with every problem. */
function validEvents(body: unknown, now: Date): EventInput[] {
  const { events, batch } = eventsOf(body);
  const details: ErrorDetail[] = [];
  events.forEach((event, index) => {
    if (details.length >= MAX_DETAILS) return;
    const path = batch ? `/events/${index}` : '';
    const issues: ValidationIssue[] =
      event === null || typeof event !== 'object' || Array.isArray(event)
        ? [{ path: path || '/', message: 'an event must be a JSON object' }]
        : validateEvent(event, { now, path });
    for (const issue of issues) details.push({ index, path: issue.path, message: issue.message });
  });
  if (details.length > 0) {
    const first = details[0] ?? {};
    throw new HindsightError(
      'invalid_event',
      `${details.length === 1 ? 'An event is' : 'Events are'} invalid: ${first['path'] ? `${first['path']} ` : ''}${first['message']}. Nothing was stored.`,
      { details: details.slice(0, MAX_DETAILS) },
    );
  }
  return events as EventInput[];
}

function prepareEvent(input: EventInput, enricher: Enricher, receivedAt: Date): PreparedEvent {
  const event = normalizeEvent(input, { id: newUlid(receivedAt.getTime()), receivedAt });
  const context = event.context;
  if (context) {
    if (context.ip !== undefined) {
      const location = enricher.location(context.ip);
      if (location) context.location = location;
    }
    if (context.userAgent !== undefined) {
      const client = enricher.client(context.userAgent);
      if (client) context.client = client;
    }
  }
  const salts = makeSalts(event, secureRandom);
  return {
    event,
    salts,
    digest: input.id === undefined ? null : inputDigest(input),
    hashParts: leafHashParts(event, salts),
    json: JSON.stringify(event),
    searchText: searchText(event),
  };
}
