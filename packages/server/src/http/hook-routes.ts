/**
 * `POST /v1/hooks/{provider}`: delivery-status webhooks of SendGrid, Mailgun and Twilio,
 * authenticated by the provider's signature (not an API key) and recorded as `communications`
 * events (docs/webhooks.md).
 */
import { LIMITS, Tenant } from '@hindsight/core';
import { Type } from '@sinclair/typebox';
import { HindsightError } from '../errors.js';
import { HOOK_PROVIDERS, type HookProvider, type HookSecrets, hookEvents } from '../hooks/index.js';
import { type RouteSpec, recordEvents } from './routes.js';

/** Webhook settings of a server. */
export interface HookOptions extends HookSecrets {
  /**
   * The server's external base URL (`https://audit.example.com`), which Twilio signs; by
   * default the URL is rebuilt from the request's `Host` and protocol.
   */
  readonly publicUrl?: string | undefined;
}

export const HOOK_ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/v1/hooks/:provider',
    operationId: 'providerWebhook',
    summary: 'Delivery-status webhooks of SendGrid, Mailgun and Twilio',
    description:
      'Takes the provider’s webhook exactly as it sends it (JSON for SendGrid and Mailgun, a ' +
      'form for Twilio), checks its signature with the secret configured on the server, maps ' +
      'each delivery report onto a SPEC §4 status and records it as a `communications` event ' +
      'with an id derived from the provider’s, so retries are harmless. Reports that are not ' +
      'about delivery (opens, clicks) are counted as ignored. No API key: the signature is the ' +
      'authentication. See docs/webhooks.md.',
    scope: null,
    formBody: true,
    params: Type.Object(
      {
        provider: Type.Union(
          HOOK_PROVIDERS.map((p) => Type.Literal(p)),
          { description: 'The provider.' },
        ),
      },
      { additionalProperties: false },
    ),
    querystring: Type.Object(
      {
        tenant: Type.Optional(Tenant),
        message: Type.Optional(
          Type.String({ minLength: 1, maxLength: 128, description: 'Twilio: our message id.' }),
        ),
      },
      { additionalProperties: false },
    ),
    success: {
      status: 200,
      description: 'Recorded.',
      schema: Type.Object({ recorded: Type.Integer(), ignored: Type.Integer() }),
    },
    errors: [
      'invalid_request',
      'invalid_signature',
      'hook_not_configured',
      'invalid_event',
      'payload_too_large',
      'overloaded',
      'store_unavailable',
    ],
    handler: async (ctx, req) => {
      const { provider } = req.params as { provider: HookProvider };
      const rawBody = ctx.rawBody(req);
      if (rawBody === undefined) {
        throw new HindsightError('invalid_request', 'The webhook has no body.');
      }
      const base = ctx.hooks.publicUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}`;
      const query = Object.fromEntries(
        Object.entries(req.query as Record<string, string | undefined>).filter(
          (e): e is [string, string] => e[1] !== undefined,
        ),
      );
      const url = base + req.url;
      const now = new Date();
      const { events, ignored, signature } = hookEvents(
        provider,
        {
          url,
          query,
          headers: req.headers,
          rawBody,
          contentType: req.headers['content-type'] ?? '',
        },
        ctx.hooks,
        now,
      );
      // Shed as a whole before its signature is claimed: the provider's retry is no replay.
      await ctx.queue.admitting(events.length, async () => {
        const release =
          signature === undefined
            ? async () => {}
            : await ctx.hookCalls.claim(provider, signature, url, rawBody, now.getTime());
        try {
          // Providers batch many reports; each id is the provider's, so a retry of a part stored
          // before a failure is harmless.
          for (let i = 0; i < events.length; i += LIMITS.batch) {
            await recordEvents(ctx, { events: events.slice(i, i + LIMITS.batch) }, null);
          }
        } catch (error) {
          await release();
          throw error;
        }
      });
      return { recorded: events.length, ignored };
    },
  },
];
