/**
 * `client.verify()` against a real Hindsight: an event recorded through the SDK checks out
 * against the server's signed log with the verifier key kept by the caller; with another key it
 * does not; an unknown event is refused.
 */
import { note } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type EventProofReport, type HindsightClient } from '../src/index.js';
import { type Hindsight, startHindsight, uniqueTenant } from './hindsight.js';

describe('client.verify()', () => {
  let hindsight: Hindsight;
  let client: HindsightClient;
  let verifierKey: string;

  beforeAll(async () => {
    hindsight = await startHindsight();
    client = createClient({ url: hindsight.url, key: hindsight.key });
    // An operator hands the key out once; here it is read the same way.
    verifierKey = (
      (await (await fetch(`${hindsight.url}/v1/keys/public`)).json()) as {
        verifierKey: string;
      }
    ).verifierKey;
  });
  afterAll(async () => {
    await client.close();
    await hindsight.close();
  });

  /** Verifies, waiting out the second before a checkpoint covers a new event. */
  async function verified(
    tenant: string,
    id: string,
    key: string | string[] = verifierKey,
  ): Promise<EventProofReport> {
    for (let i = 0; ; i++) {
      const report = await client.verify(tenant, id, { verifierKey: key });
      if (report.included !== null || !report.signed || i === 50) return report;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('verifies an event with personal values against the signed log', async () => {
    const tenant = uniqueTenant();
    for (let i = 0; i < 5; i++) {
      await client.record({
        tenant,
        id: `evt-${i}`,
        action: 'user.role_changed',
        actor: { id: 'u-1', name: 'Ann Ng', email: 'ann@acme.test' },
        targets: [{ type: 'user', id: 'u-2', name: 'Bo Li' }],
        changes: [{ field: 'role', before: 'viewer', after: 'admin' }],
        context: { ip: '203.0.113.7' },
      });
    }
    await client.flush();
    const report = await verified(tenant, 'evt-3');
    expect(report).toMatchObject({
      ok: true,
      content: true,
      signed: true,
      included: true,
      size: 5,
    });
    expect(report.signer).toBe(verifierKey.split('+').slice(0, 2).join('+'));
  });

  it('does not verify with another key, and refuses an unknown event', async () => {
    const tenant = uniqueTenant();
    await client.record({ tenant, id: 'evt-1', action: 'invoice.sent' });
    await client.flush();
    const other = note.verifierKeyText(note.signerFromSeed('hindsight', Buffer.alloc(32, 3)));
    const report = await verified(tenant, 'evt-1', other);
    expect(report).toMatchObject({ ok: false, content: true, signed: false });
    expect(report.problems.join(' ')).toContain('not by the key hindsight+');
    // With the server's key beside it (the keys before and after a rotation), it verifies.
    expect(await verified(tenant, 'evt-1', [other, verifierKey])).toMatchObject({
      ok: true,
      signer: verifierKey.split('+').slice(0, 2).join('+'),
    });
    await expect(client.verify(tenant, 'nope', { verifierKey })).rejects.toMatchObject({
      code: 'not_found',
    });
    // A key left out (an environment variable not set) is a mistake at the call site.
    const env = process.env['HINDSIGHT_NO_SUCH_VERIFIER_KEY'] as string;
    await expect(client.verify(tenant, 'evt-1', { verifierKey: env })).rejects.toMatchObject({
      code: 'invalid_options',
      message:
        "verify(): verifierKey must be the server's verifier key (a string, or several), not undefined.",
    });
    for (const wrong of [42, [], [verifierKey, ''], null]) {
      await expect(
        client.verify(tenant, 'evt-1', { verifierKey: wrong as unknown as string }),
      ).rejects.toMatchObject({ code: 'invalid_options' });
    }
    await expect(
      client.verify(tenant, 'evt-1', undefined as unknown as { verifierKey: string }),
    ).rejects.toMatchObject({
      code: 'invalid_options',
      message: expect.stringContaining('its options'),
    });
  });
});
