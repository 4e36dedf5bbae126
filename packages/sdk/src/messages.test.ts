import { LIMITS, type Target, validateEvent } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { message } from './messages.js';

const customer = (i: number): Target => ({
  type: 'customer',
  id: `CUS-${100 + i}`,
  name: `Customer ${i}`,
  url: `https://app.acme.test/customers/CUS-${100 + i}`,
});

const sent = (receivers: Parameters<typeof message>[0]['receivers']) =>
  message({
    tenant: 'acme',
    messageId: 'MSG-300139',
    subject: 'This month: 20% off window cleaning',
    type: 'email',
    sender: { id: 'u-1003', name: 'Priya Raman' },
    receivers,
  });

describe('message', () => {
  it('lists the message, then each receiver that is an object of the product, among the targets', () => {
    const event = sent([
      {
        name: 'Harbour View Dental',
        address: 'reception@harbourview.example',
        target: customer(1),
      },
      { address: 'someone@elsewhere.example' },
    ]);
    expect(event.targets).toEqual([
      { type: 'message', id: 'MSG-300139', name: 'This month: 20% off window cleaning' },
      customer(1),
    ]);
    expect(event.metadata?.['receivers']).toStrictEqual([
      { name: 'Harbour View Dental', address: 'reception@harbourview.example' },
      { address: 'someone@elsewhere.example' },
    ]);
    expect(event.description).toBe(
      'Sent the e-mail "This month: 20% off window cleaning" to 2 receivers',
    );
  });

  // regression: QA pass of the event helpers, bug 3 (the targets of receivers past the 19th
  // were dropped: nothing in the event said that customer 20 had been sent the message).
  it('keeps every receiver and every target: one that does not fit among the targets stays with its receiver', () => {
    const receivers = Array.from({ length: 30 }, (_, i) => ({
      address: `r${i}@example.test`,
      // Every third receiver is no object of the product: only targets count against the limit.
      ...(i % 3 === 2 ? {} : { target: customer(i) }),
    }));
    const event = sent(receivers);
    const withTargets = receivers.flatMap((r) => (r.target === undefined ? [] : [r.target]));
    expect(withTargets).toHaveLength(20);

    expect(event.targets).toHaveLength(LIMITS.targets);
    expect(event.targets?.slice(1)).toEqual(withTargets.slice(0, LIMITS.targets - 1));
    const kept = event.metadata?.['receivers'] as { address: string; target?: Target }[];
    expect(kept.map((r) => r.address)).toEqual(receivers.map((r) => r.address));
    const overflow = kept.flatMap((r) => (r.target === undefined ? [] : [r.target]));
    expect(overflow).toEqual(withTargets.slice(LIMITS.targets - 1));
    // Every receiver's target is in the event once: among the targets or with its receiver.
    expect([...(event.targets?.slice(1) ?? []), ...overflow]).toEqual(withTargets);
    expect(validateEvent(event, { now: new Date() })).toEqual([]);
  });

  it('records up to 19 receivers with targets without any target in the metadata', () => {
    const receivers = Array.from({ length: LIMITS.targets - 1 }, (_, i) => ({
      address: `r${i}@example.test`,
      target: customer(i),
    }));
    const event = sent(receivers);
    expect(event.targets).toHaveLength(LIMITS.targets);
    expect(event.metadata?.['receivers']).toStrictEqual(
      receivers.map((r) => ({ address: r.address })),
    );
  });
});
