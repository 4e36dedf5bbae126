import { readFileSync } from 'node:fs';
import { type EventInput, validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { DEMO_TENANT, demoEvents } from './demo.js';

const NOW = new Date('2026-03-15T12:34:56.789Z');
const DAY_MS = 86_400_000;
const CATEGORIES = [
  'changes',
  'access',
  'communications',
  'integrations',
  'requests',
  'api',
  'sms',
  'logins',
  'users',
  'audit',
];
const events = demoEvents(NOW);
/** The demo as loaded on each of seven days in a row: which days hold what follows the weekday. */
const week = Array.from({ length: 7 }, (_, day) => {
  const now = new Date(NOW.getTime() + day * DAY_MS);
  return { loaded: now.toISOString(), events: demoEvents(now) };
});

const inCategory = (category: string) => events.filter((e) => e.category === category);
const meta = (e: EventInput, key: string): unknown => e.metadata?.[key];

describe('demoEvents', () => {
  it('is deterministic for a given now and seed', () => {
    expect(demoEvents(new Date(NOW))).toEqual(events);
    expect(demoEvents(NOW, { seed: 7 })).toEqual(demoEvents(NOW, { seed: 7 }));
    expect(demoEvents(NOW, { seed: 7 })).not.toEqual(events);
  });

  it('belongs to the demo tenant unless told otherwise', () => {
    expect(new Set(events.map((e) => e.tenant))).toEqual(new Set([DEMO_TENANT]));
    const other = demoEvents(NOW, { tenant: 'globex' });
    expect(other.every((e) => e.tenant === 'globex')).toBe(true);
    expect(other.map(({ tenant: _, ...rest }) => rest)).toEqual(
      events.map(({ tenant: _, ...rest }) => rest),
    );
  });

  it('has several hundred events in every category of SPEC §4, whatever the seed', () => {
    for (const seed of [undefined, 1, 2, 3, 42, 9_999]) {
      const some = demoEvents(NOW, seed === undefined ? {} : { seed });
      expect(some.length).toBeGreaterThanOrEqual(600);
      expect(some.length).toBeLessThanOrEqual(900);
      expect(new Set(some.map((e) => e.category))).toEqual(new Set(CATEGORIES));
    }
  });

  it('keeps every time in the 90 days before now, in ascending order', () => {
    // Midnight and just after it are the edges of the day arithmetic.
    for (const now of [
      NOW,
      new Date('2026-01-01T00:00:00.000Z'),
      new Date('2025-07-06T00:00:30Z'),
    ]) {
      const times = demoEvents(now).map((e) => Date.parse(e.time ?? ''));
      for (const [i, t] of times.entries()) {
        expect(t).toBeGreaterThan(now.getTime() - 90 * DAY_MS);
        expect(t).toBeLessThanOrEqual(now.getTime());
        if (i > 0) expect(t).toBeGreaterThanOrEqual(times[i - 1] ?? 0);
      }
    }
    expect(events.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time ?? ''))).toBe(true);
  });

  it('gives every event a unique, stable id', () => {
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(events.length);
    expect(ids[0]).toBe('demo-000001');
    expect(ids.every((id) => /^demo-\d{6}$/.test(id ?? ''))).toBe(true);
  });

  it('produces only events the core validator accepts', () => {
    const issues = events.flatMap((e, i) => validateEvent(e, { now: NOW, path: `/events/${i}` }));
    expect(issues).toEqual([]);
  });

  it('has a message to several receivers whose statuses differ (mixed)', () => {
    const latest = new Map<string, Map<string, string>>();
    for (const e of inCategory('communications')) {
      const message = e.targets?.find((t) => t.type === 'message');
      const receiver = meta(e, 'receiver');
      if (e.action === 'message.sent' || !message || !e.status) continue;
      const byReceiver = latest.get(message.id) ?? new Map<string, string>();
      byReceiver.set(JSON.stringify(receiver), e.status);
      latest.set(message.id, byReceiver);
    }
    const mixed = [...latest.values()].filter((r) => r.size > 1 && new Set(r.values()).size > 1);
    expect(mixed.length).toBeGreaterThanOrEqual(1);
  });

  it('covers e-mail and SMS, manual and automated, and the delivery statuses of SPEC §4', () => {
    const sent = inCategory('communications').filter((e) => e.action === 'message.sent');
    expect(new Set(sent.map((e) => meta(e, 'type')))).toEqual(new Set(['email', 'sms']));
    expect(new Set(sent.map((e) => meta(e, 'mode')))).toEqual(new Set(['manual', 'automated']));
    const statuses = new Set(inCategory('communications').map((e) => e.status));
    for (const status of [
      'sent',
      'delivered',
      'pending',
      'deferred',
      'hard_bounce',
      'soft_bounce',
      'spam',
      'blocked',
      'unsubscribed',
      'invalid_email',
      'external_error',
      'internal_error',
    ]) {
      expect(statuses, status).toContain(status);
    }
  });

  it('has a burst of failed logins from one foreign address', () => {
    const failed = inCategory('logins').filter((e) => e.action === 'login.failed');
    expect(failed.every((e) => e.outcome === 'failure')).toBe(true);
    const byIp = new Map<string, number[]>();
    for (const e of failed) {
      const ip = e.context?.ip ?? '';
      byIp.set(ip, [...(byIp.get(ip) ?? []), Date.parse(e.time ?? '')]);
    }
    const bursts = [...byIp.entries()].filter(
      ([, times]) => times.length >= 10 && Math.max(...times) - Math.min(...times) < 15 * 60_000,
    );
    expect(bursts.map(([ip]) => ip)).toEqual(['175.16.199.0']);
  });

  it('has a user signing in from two countries on the same day', () => {
    const lars = inCategory('logins').filter(
      (e) => e.action === 'login.succeeded' && e.actor.email === 'lars@acme.test',
    );
    const days = new Map<string, Set<string>>();
    for (const e of lars) {
      const day = (e.time ?? '').slice(0, 10);
      days.set(day, (days.get(day) ?? new Set()).add(e.context?.ip ?? ''));
    }
    const both = [...days.values()].some(
      (ips) => ips.has('81.2.69.142') && ips.has('89.160.20.112'),
    );
    expect(both).toBe(true);
  });

  it('has a user whose last successful sign-in is from a new country, whatever the day it is loaded', () => {
    for (const { loaded, events: demo } of week) {
      const olumide = demo.filter(
        (e) => e.action === 'login.succeeded' && e.actor.id === 'u-1011' && e.outcome !== 'failure',
      );
      const ips = olumide.map((e) => e.context?.ip);
      const lagos = '105.112.0.1';
      // Lagos (NG) twice in the last three days, after sign-ins from elsewhere only.
      expect(ips.slice(-2), `loaded on ${loaded}`).toEqual([lagos, lagos]);
      expect(ips.indexOf(lagos), `loaded on ${loaded}`).toBeGreaterThan(0);
      const first = Date.parse(olumide[ips.indexOf(lagos)]?.time ?? '');
      expect(Date.parse(loaded) - first).toBeLessThan(3 * DAY_MS);
    }
  });

  it('has changes made by the system, with before and after values', () => {
    const system = inCategory('changes').filter((e) => e.actor.type === 'system');
    expect(system.length).toBeGreaterThan(0);
    expect(system.every((e) => e.actor.id === undefined && e.channel === 'system')).toBe(true);
    expect(
      system.some((e) => e.changes?.some((c) => c.before !== undefined && c.after !== undefined)),
    ).toBe(true);
    expect(inCategory('changes').every((e) => typeof meta(e, 'module') === 'string')).toBe(true);
  });

  it('records user management through ui, api and import', () => {
    const users = inCategory('users');
    expect(new Set(users.map((e) => e.channel))).toEqual(new Set(['ui', 'api', 'import']));
    expect(new Set(users.map((e) => e.action))).toEqual(
      new Set([
        'user.created',
        'user.deleted',
        'user.license.updated',
        'user.admin_rights.updated',
      ]),
    );
    const license = users.find((e) => e.action === 'user.license.updated');
    expect(license?.changes?.[0]).toMatchObject({ field: 'license', before: expect.any(String) });
  });

  it('marks secrets as sensitive and never carries their values', () => {
    const sensitive = events.flatMap((e) => e.changes ?? []).filter((c) => c.sensitive);
    expect(sensitive.length).toBeGreaterThanOrEqual(1);
    expect(sensitive.every((c) => c.before === undefined && c.after === undefined)).toBe(true);
  });

  it('leaves a system with errors to acknowledge, whatever the day it is loaded', () => {
    // Which days have exports, and so which draws fail, follows the weekday of `now`.
    for (const { loaded, events: demo } of week) {
      const list = demo.filter((e) => e.category === 'integrations');
      const systemOf = (e: EventInput) => e.targets?.[0]?.id ?? '';
      const acknowledged = new Map<string, number>();
      list.forEach((e, i) => {
        if (e.action === 'integration.acknowledged') acknowledged.set(systemOf(e), i);
      });
      const pending = list.filter(
        (e, i) =>
          e.action !== 'integration.acknowledged' &&
          (e.status === 'error' || e.status === 'notification') &&
          i > (acknowledged.get(systemOf(e)) ?? -1),
      );
      expect(pending.length, `loaded on ${loaded}`).toBeGreaterThan(0);
    }
  });

  it('keeps its message of mixed fate on the first page of messages, whatever the day', () => {
    // The console's test of a mixed message opens it from the first page (50, the default).
    for (const { loaded, events: demo } of week) {
      const newest = demo
        .filter((e) => e.action === 'message.sent')
        .sort((a, b) => Date.parse(b.time ?? '') - Date.parse(a.time ?? ''))
        .slice(0, 50);
      const mixed = newest.filter((e) => (e.targets?.[0]?.name ?? '').includes('20% off'));
      expect(mixed, `loaded on ${loaded}`).toHaveLength(1);
    }
  });

  it('fills the columns of the request, api, sms, integration and audit logs', () => {
    for (const e of [...inCategory('requests'), ...inCategory('api')]) {
      expect(e.context?.http?.status).toBeTypeOf('number');
      expect(e.context?.ip).toBeTypeOf('string');
    }
    expect(inCategory('api').every((e) => e.metadata === undefined)).toBe(true);
    for (const e of inCategory('sms')) {
      expect(['sms.sent', 'sms.failed']).toContain(e.action);
      for (const key of ['messageId', 'campaign', 'phone', 'gateway']) {
        expect(meta(e, key)).toBeTypeOf('string');
      }
      expect(meta(e, 'error') !== undefined).toBe(e.action === 'sms.failed');
    }
    const integrations = inCategory('integrations');
    expect(
      new Set(
        integrations.filter((e) => e.action !== 'integration.acknowledged').map((e) => e.status),
      ),
    ).toEqual(new Set(['ok', 'error', 'notification']));
    // An acknowledgement covers the events before it (the demo loads into an empty tenant).
    for (const ack of integrations.filter((e) => e.action === 'integration.acknowledged')) {
      expect(meta(ack, 'upToSeq')).toBe(events.indexOf(ack));
    }
    expect(new Set(inCategory('audit').map((e) => e.action))).toEqual(
      new Set(['audit_log.viewed', 'audit_log.exported']),
    );
    expect(
      inCategory('access').every(
        (e) => e.targets?.[0]?.type === 'key_ring' && e.targets[1]?.type === 'customer',
      ),
    ).toBe(true);
  });

  it('gives every event a channel and a description, and client context for people and keys', () => {
    expect(events.every((e) => e.channel !== undefined && (e.description ?? '') !== '')).toBe(true);
    const byClients = events.filter((e) => ['user', 'api_key', undefined].includes(e.actor.type));
    expect(byClients.filter((e) => !e.context?.ip || !e.context.userAgent)).toEqual([]);
  });
});

describe('docs/event-conventions.md', () => {
  const doc = readFileSync(new URL('../../../docs/event-conventions.md', import.meta.url), 'utf8');

  it('has only valid examples', () => {
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) =>
      JSON.parse(m[1] ?? ''),
    );
    expect(examples.length).toBeGreaterThanOrEqual(CATEGORIES.length);
    const issues = examples.flatMap((e, i) =>
      validateEvent({ tenant: DEMO_TENANT, ...e }, { now: NOW, path: `/examples/${i}` }),
    );
    expect(issues).toEqual([]);
  });

  it('documents every action the demo uses', () => {
    const undocumented = new Set<string>();
    for (const e of events) {
      // `changes` and `integrations` document their resources and the `integration.` prefix.
      const name =
        e.category === 'changes'
          ? e.action.split('.')[0]
          : e.category === 'integrations'
            ? 'integration.<event>'
            : e.action;
      if (!doc.includes(`\`${name}\``)) undocumented.add(`${e.category}: ${name}`);
    }
    expect([...undocumented]).toEqual([]);
  });
});
