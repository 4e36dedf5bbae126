/**
 * How values of events are turned into words: pure functions from event data to plain strings
 * (never markup), shared by the table cells, the detail panel and the summaries. The column
 * formats are those of `COLUMN_FORMATS` in `@hindsight/core` (docs/views.md).
 */
import type { Change, Client, Location, StoredEvent } from '@hindsight/core';

export { showBidiControls } from '@hindsight/core/text';

/** The value at a dotted path of the stored event (`targets.0`, `metadata.subject`). */
export function valueAt(event: StoredEvent, path: string): unknown {
  let value: unknown = event;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The JSON Pointer (RFC 6901) of a dotted path: how an event's `erased` map names its values.
 * @example pointerOf('changes') // '/changes'
 */
export function pointerOf(path: string): string {
  return path
    .split('.')
    .map((key) => `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    .join('');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** An actor as a reader names it: a primary line and, when it helps, a secondary one. */
export interface ActorText {
  readonly name: string;
  readonly detail?: string;
}

/**
 * Who did it: the name (or e-mail, or id); "System" for the product itself.
 * @example actorText({ type: 'user', name: 'Ann', email: 'ann@acme.test' }) // { name: 'Ann', detail: 'ann@acme.test' }
 */
export function actorText(actor: unknown): ActorText {
  if (typeof actor === 'string') return { name: actor };
  if (!isObject(actor)) return { name: '' };
  const name = text(actor['name']);
  const email = text(actor['email']);
  const id = text(actor['id']);
  switch (actor['type']) {
    case 'system':
      return { name: 'System' };
    case 'anonymous':
      return email ? { name: email, detail: 'Unknown account' } : { name: 'Anonymous' };
    case 'api_key':
      return { name: name ?? id ?? 'API key', detail: 'API key' };
    case 'integration':
      return { name: name ?? id ?? 'Integration', detail: 'Integration' };
    default: {
      const primary = name ?? email ?? id ?? 'Unknown user';
      const detail = name ? email : undefined;
      return detail ? { name: primary, detail } : { name: primary };
    }
  }
}

/** "updated" from `workflow.updated`, as a reader says it: "Updated". */
export function verbText(action: unknown): string {
  if (typeof action !== 'string') return '';
  const verb = action.slice(action.lastIndexOf('.') + 1).replaceAll('_', ' ');
  return verb.charAt(0).toUpperCase() + verb.slice(1);
}

/** "London, England, GB" from `context.location`. */
export function locationText(location: unknown): string {
  if (!isObject(location)) return '';
  const { city, region, country } = location as Location;
  return [city, region, country].filter((part) => part !== undefined && part !== '').join(', ');
}

/** "Chrome 124 on Windows 10" from `context.client`. */
export function clientText(client: unknown): string {
  if (!isObject(client)) return '';
  const { browser, os } = client as Client;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? '';
}

const MESSAGE_TYPES: Record<string, string> = { email: 'E-mail', sms: 'SMS' };

/** "E-mail, manual" from a message's metadata (`type` and `mode`). */
export function messageTypeText(metadata: unknown): string {
  if (!isObject(metadata)) return '';
  const type = text(metadata['type']);
  const mode = text(metadata['mode']);
  return [type ? (MESSAGE_TYPES[type] ?? type) : undefined, mode].filter(Boolean).join(', ');
}

const CHANNELS: Record<string, string> = {
  ui: 'User interface',
  api: 'API',
  import: 'File import',
  system: 'System',
  integration: 'Integration',
};

/** How it was triggered, in words: `import` → "File import". */
export function channelText(channel: unknown): string {
  return typeof channel === 'string' ? (CHANNELS[channel] ?? channel) : '';
}

/** The channels, for a select. */
export const CHANNEL_CHOICES = Object.entries(CHANNELS).map(([value, label]) => ({ value, label }));

/**
 * The URL a deep link may point to: only absolute `http:` and `https:` URLs. Anything else
 * (`javascript:`, `data:`, paths into the product, which would resolve against the console)
 * is shown as text.
 * @example safeHref('javascript:alert(1)') // null
 */
export function safeHref(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A JSON value as one line of text: strings as they are, anything else as JSON. */
export function plainText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** One change as "field: before → after"; a sensitive one only says that it changed. */
export function changeText(change: Change): string {
  if (change.sensitive) return `${change.field}: changed`;
  if (change.before === undefined) return `${change.field}: ${plainText(change.after)}`;
  if (change.after === undefined) return `${change.field}: ${plainText(change.before)} → (removed)`;
  return `${change.field}: ${plainText(change.before)} → ${plainText(change.after)}`;
}

/** A receiver of a message: `{ name, address }` in `metadata.receivers`. */
export interface Receiver {
  readonly name?: string;
  readonly address?: string;
}

/**
 * The receivers of a message: `metadata.receivers` (a list) or, for a delivery report,
 * `metadata.receiver` (one).
 */
export function receiversOf(value: unknown): Receiver[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter(isObject).map((r) => ({
    ...(text(r['name']) ? { name: r['name'] as string } : {}),
    ...(text(r['address']) ? { address: r['address'] as string } : {}),
  }));
}

/** "Ann Lee, Bob +3" for a list of receivers. */
export function receiversText(receivers: readonly Receiver[], shown = 2): string {
  const names = receivers.map((r) => r.name ?? r.address ?? '?');
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} +${names.length - shown}` : head;
}

/** A number in the reader's locale. */
export function numberText(value: unknown): string {
  return typeof value === 'number' ? new Intl.NumberFormat().format(value) : plainText(value);
}

/**
 * A count with its noun, in the reader's locale: "1 event", "1,234 events".
 * @example countText(1, 'event') // "1 event"
 */
export function countText(count: number, noun: string, plural = `${noun}s`): string {
  return `${new Intl.NumberFormat().format(count)} ${count === 1 ? noun : plural}`;
}

/** Formats times in the reader's time zone, or in UTC. */
export interface TimeFormat {
  /** "20 Nov 2026, 17:24:12" */
  (iso: unknown): string;
  /** The zone's name for a label: "Europe/London" or "UTC". */
  readonly zone: string;
}

/**
 * A time formatter for the reader's locale, in their own time zone or in UTC.
 * @example timeFormat(true)('2026-01-08T09:41:12.000Z') // '8 Jan 2026, 09:41:12' in en-GB
 */
export function timeFormat(utc: boolean, locale?: string): TimeFormat {
  const format = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(utc ? { timeZone: 'UTC' } : {}),
  });
  const zone = utc ? 'UTC' : format.resolvedOptions().timeZone;
  const fn = (iso: unknown) => {
    if (typeof iso !== 'string') return '';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : format.format(date);
  };
  return Object.assign(fn, { zone });
}

/** The outcome in words. */
export function outcomeText(outcome: unknown): string {
  if (outcome === 'success') return 'Success';
  if (outcome === 'failure') return 'Failure';
  return plainText(outcome);
}
