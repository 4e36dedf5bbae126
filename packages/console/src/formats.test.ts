import type { StoredEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import {
  actorText,
  changeText,
  clientText,
  countText,
  locationText,
  messageTypeText,
  pointerOf,
  receiversOf,
  receiversText,
  safeHref,
  showBidiControls,
  timeFormat,
  valueAt,
  verbText,
} from './formats.js';

const event = {
  id: 'e1',
  seq: 7,
  actor: { type: 'user', id: 'u-1', name: 'Ann Lee', email: 'ann@acme.test' },
  targets: [{ type: 'user', id: 'u-2', name: 'Bob' }],
  metadata: { receiver: { name: 'Cy', address: 'cy@x.test' } },
} as unknown as StoredEvent;

describe('formats', () => {
  it('shows direction overrides and isolates as marks, and leaves other text be', () => {
    expect(showBidiControls('Alice\u202Eevil')).toBe('Alice⟨U+202E⟩evil');
    expect(showBidiControls('a\u2066b\u2069c\u202Ad')).toBe('a⟨U+2066⟩b⟨U+2069⟩c⟨U+202A⟩d');
    // Right-to-left text and its invisible marks are text.
    expect(showBidiControls('שלום \u200F עולם')).toBe('שלום \u200F עולם');
  });

  it('gives a count its noun, one or many', () => {
    expect(countText(1, 'event')).toBe('1 event');
    expect(countText(0, 'event')).toBe('0 events');
    expect(countText(1234, 'event')).toMatch(/^1\D?234 events$/);
    expect(countText(2, 'day', 'days')).toBe('2 days');
  });

  it('reads dotted paths, array items by index', () => {
    expect(valueAt(event, 'targets.0.name')).toBe('Bob');
    expect(valueAt(event, 'metadata.missing.deeper')).toBeUndefined();
  });

  it('names a dotted path as the JSON Pointer of an event’s erased values', () => {
    expect(pointerOf('changes')).toBe('/changes');
    expect(pointerOf('metadata.a/b~c')).toBe('/metadata/a~1b~0c');
  });

  it('names actors as readers expect: "System" for the product itself', () => {
    expect(actorText(event.actor)).toEqual({ name: 'Ann Lee', detail: 'ann@acme.test' });
    expect(actorText({ type: 'system' })).toEqual({ name: 'System' });
    expect(actorText({ type: 'api_key', id: 'k1', name: 'Sync' })).toEqual({
      name: 'Sync',
      detail: 'API key',
    });
    expect(actorText({ type: 'anonymous', email: 'x@y.test' }).name).toBe('x@y.test');
    expect(actorText({ type: 'user', id: 'u-9' }).name).toBe('u-9');
  });

  it('writes verbs, places, clients and message types in words', () => {
    expect(verbText('user.admin_rights.updated')).toBe('Updated');
    expect(verbText('integration.sync_failed')).toBe('Sync failed');
    expect(locationText({ country: 'GB', region: 'England', city: 'London' })).toBe(
      'London, England, GB',
    );
    expect(locationText({ country: 'GB' })).toBe('GB');
    expect(clientText({ browser: 'Chrome 124', os: 'Windows 10' })).toBe(
      'Chrome 124 on Windows 10',
    );
    expect(messageTypeText({ type: 'email', mode: 'manual' })).toBe('E-mail, manual');
    expect(messageTypeText({ type: 'sms', mode: 'automated' })).toBe('SMS, automated');
  });

  it('shows a sensitive change only as changed', () => {
    expect(changeText({ field: 'password', sensitive: true })).toBe('password: changed');
    expect(changeText({ field: 'license', before: 'Field', after: 'Field Plus' })).toBe(
      'license: Field → Field Plus',
    );
  });

  it('links only to absolute http(s) URLs', () => {
    expect(safeHref('https://app.acme.test/users/u-1')).toBe('https://app.acme.test/users/u-1');
    expect(safeHref('http://app.acme.test/x')).toBe('http://app.acme.test/x');
    for (const bad of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:x',
      '/customers/CUS-1',
      '//evil.test/x',
      42,
      undefined,
    ]) {
      expect(safeHref(bad), String(bad)).toBeNull();
    }
  });

  it('lists receivers, and a delivery report’s single receiver', () => {
    expect(receiversOf(valueAt(event, 'metadata.receiver'))).toEqual([
      { name: 'Cy', address: 'cy@x.test' },
    ]);
    const many = [{ name: 'A' }, { name: 'B' }, { address: 'c@x.test' }, { name: 'D' }];
    expect(receiversText(receiversOf(many))).toBe('A, B +2');
  });

  it('writes times in UTC or in the reader’s zone', () => {
    const utc = timeFormat(true, 'en-GB');
    expect(utc.zone).toBe('UTC');
    expect(utc('2026-01-08T09:41:12.000Z')).toBe('8 Jan 2026, 09:41:12');
    expect(utc('not a time')).toBe('not a time');
    expect(utc(undefined)).toBe('');
  });
});
