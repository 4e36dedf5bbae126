/**
 * Delivery-status webhooks of e-mail and SMS providers → `communications` events
 * (docs/webhooks.md). Pure: the HTTP route passes the request in and records what comes out.
 * @example
 * const { events, ignored } = hookEvents('mailgun', request, { mailgunSigningKey: 'key-…' });
 */
import { HindsightError } from '../errors.js';
import { mailgunEvents } from './mailgun.js';
import { sendgridEvents, sendgridPublicKey } from './sendgrid.js';
import {
  type HookProvider,
  type HookRequest,
  type HookResult,
  type HookSecrets,
  PROVIDER_NAMES,
} from './shared.js';
import { twilioEvents } from './twilio.js';

export type { HookProvider, HookRequest, HookResult, HookSecrets };

/** Every provider, in the order the docs list them. */
export const HOOK_PROVIDERS: readonly HookProvider[] = ['sendgrid', 'mailgun', 'twilio'];

interface Hook {
  readonly secret: keyof HookSecrets;
  readonly setting: string;
  readonly events: (request: HookRequest, secret: string, now: Date) => HookResult;
}

const HOOKS: Readonly<Record<HookProvider, Hook>> = {
  sendgrid: {
    secret: 'sendgridPublicKey',
    setting: '--sendgrid-public-key or HINDSIGHT_SENDGRID_PUBLIC_KEY',
    events: sendgridEvents,
  },
  mailgun: {
    secret: 'mailgunSigningKey',
    setting: '--mailgun-signing-key or HINDSIGHT_MAILGUN_SIGNING_KEY',
    events: mailgunEvents,
  },
  twilio: {
    secret: 'twilioAuthToken',
    setting: '--twilio-auth-token or HINDSIGHT_TWILIO_AUTH_TOKEN (and --public-url)',
    events: twilioEvents,
  },
};

/**
 * Checks the configured secrets that have a format (SendGrid's public key), so that a server
 * with a mistyped key fails on start rather than on the first webhook.
 * @example checkHookSecrets({ sendgridPublicKey: 'MFkw…' })
 */
export function checkHookSecrets(secrets: HookSecrets): void {
  if (secrets.sendgridPublicKey) sendgridPublicKey(secrets.sendgridPublicKey);
}

/** Whether a path segment names a provider, e.g. `isHookProvider('sendgrid')`. */
export function isHookProvider(value: string): value is HookProvider {
  return (HOOK_PROVIDERS as readonly string[]).includes(value);
}

/**
 * The events of one provider webhook call, and how many of its reports were not deliveries.
 * Throws `hook_not_configured` (404) without the provider's secret, `invalid_signature` (401)
 * when the signature does not hold, `invalid_request` (400) for a malformed payload; the result
 * is all or nothing, so a call either records all its deliveries or none.
 * @example hookEvents('twilio', request, { twilioAuthToken: '…' }) // { events: [...], ignored: 0 }
 */
export function hookEvents(
  provider: HookProvider,
  request: HookRequest,
  secrets: HookSecrets,
  now: Date = new Date(),
): HookResult {
  if (!isHookProvider(provider)) {
    throw new HindsightError('not_found', `No webhook provider "${String(provider)}".`);
  }
  const hook = HOOKS[provider];
  const secret = secrets[hook.secret];
  if (secret === undefined || secret === '') {
    throw new HindsightError(
      'hook_not_configured',
      `${PROVIDER_NAMES[provider]} webhooks are not configured on this server: configure it ` +
        `with ${hook.setting}.`,
    );
  }
  return hook.events(request, secret, now);
}
