import { describe, expect, it } from 'vitest';
import { createEnricher } from './enrich.js';
import { prepareEvents, prepareEventsInSlices } from './ingest.js';

const enricher = createEnricher({ geo: false });
const NOW = new Date('2026-11-20T12:00:00.000Z');

/** A batch of `n` valid events, each with the index in its description. */
function batch(n: number) {
  return {
    events: Array.from({ length: n }, (_, i) => ({
      tenant: 'acme',
      action: 'invoice.sent',
      actor: { id: `u-${i % 7}`, name: 'Ann', email: 'ann@acme.test' },
      targets: [{ type: 'invoice', id: `INV-${i}`, name: `Invoice ${i}` }],
      description: `Sent invoice ${i}`,
      context: { ip: '81.2.69.142', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0' },
    })),
  };
}

describe('prepareEventsInSlices', () => {
  it('prepares a batch as prepareEvents does, in order', async () => {
    const body = batch(300);
    const sliced = await prepareEventsInSlices(body, enricher, NOW);
    const whole = prepareEvents(body, enricher, NOW);
    expect(sliced).toHaveLength(300);
    // Ids and salts are drawn fresh for each preparation; everything else is the same.
    const shape = (p: (typeof whole)[number]) => ({
      ...p.event,
      id: undefined,
      salts: Object.keys(p.salts),
      searchText: p.searchText,
    });
    expect(sliced.map(shape)).toEqual(whole.map(shape));
    expect(sliced.map((p) => p.event.description)).toEqual(body.events.map((e) => e.description));
  });

  it('lets the event loop run other work while it prepares a large batch', async () => {
    let ranMeanwhile = 0;
    const other = setInterval(() => ranMeanwhile++, 0);
    try {
      // 1,000 events take well over the 1 ms slice on any machine.
      await prepareEventsInSlices(batch(1000), enricher, NOW);
    } finally {
      clearInterval(other);
    }
    expect(ranMeanwhile).toBeGreaterThan(0);
  });

  it('refuses an invalid batch before preparing any of it', async () => {
    const body = batch(3);
    (body.events[2] as { action: unknown }).action = 42;
    await expect(prepareEventsInSlices(body, enricher, NOW)).rejects.toMatchObject({
      code: 'invalid_event',
      details: [expect.objectContaining({ index: 2, path: '/events/2/action' })],
    });
  });
});
