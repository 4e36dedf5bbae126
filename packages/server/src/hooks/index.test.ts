import { readFileSync } from 'node:fs';
import { DELIVERY_ACTIONS as DELIVERY } from '@hindsight/core';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HindsightError } from '../errors.js';
import { HOOK_PROVIDERS, type HookRequest, hookEvents, isHookProvider } from './index.js';

const request: HookRequest = {
  url: 'https://audit.example.com/v1/hooks/x?tenant=acme',
  query: { tenant: 'acme' },
  headers: {},
  rawBody: Buffer.from('[]'),
  contentType: 'application/json',
};

const webhooksDoc = readFileSync(new URL('../../../../docs/webhooks.md', import.meta.url), 'utf8');
const conventions = readFileSync(
  new URL('../../../../docs/event-conventions.md', import.meta.url),
  'utf8',
);

describe('hookEvents', () => {
  it('lists the three providers', () => {
    expect(HOOK_PROVIDERS).toEqual(['sendgrid', 'mailgun', 'twilio']);
    expect(isHookProvider('mailgun')).toBe(true);
    expect(isHookProvider('postmark')).toBe(false);
  });

  it('answers hook_not_configured (404) for a provider without a secret', () => {
    for (const provider of HOOK_PROVIDERS) {
      for (const secrets of [
        {},
        { sendgridPublicKey: '', mailgunSigningKey: '', twilioAuthToken: '' },
      ]) {
        let error: unknown;
        try {
          hookEvents(provider, request, secrets);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(HindsightError);
        expect(error).toMatchObject({ code: 'hook_not_configured', status: 404 });
        expect((error as Error).message).toMatch(
          /configure it with --[a-z-]+ or HINDSIGHT_[A-Z_]+/,
        );
      }
    }
    expect(ERROR_CODES.hook_not_configured.status).toBe(404);
    expect(ERROR_CODES.invalid_signature.status).toBe(401);
  });

  it('never checks a provider with another provider’s secret', () => {
    expect(() => hookEvents('twilio', request, { sendgridPublicKey: 'x' })).toThrow(
      /Twilio webhooks are not configured/,
    );
  });
});

describe('delivery table', () => {
  it('is the "Delivery" table of docs/event-conventions.md, plus message.dispatched for sent', () => {
    const rows = [
      ...conventions.matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \| `([a-z_.]+)` \| (\w+)/gm),
    ];
    const documented = new Map<string, [string, boolean]>();
    for (const [, statuses = '', action = '', outcome] of rows) {
      for (const status of statuses.match(/[a-z_]+/g) ?? []) {
        documented.set(status, [action, outcome === 'failure']);
      }
    }
    for (const [status, { action, failure }] of Object.entries(DELIVERY)) {
      if (status === 'sent') expect(action).toBe('message.dispatched');
      else expect(documented.get(status), status).toEqual([action, failure]);
    }
  });

  it('is documented in docs/webhooks.md, action by action', () => {
    for (const { action } of Object.values(DELIVERY))
      expect(webhooksDoc).toContain(`\`${action}\``);
  });
});
