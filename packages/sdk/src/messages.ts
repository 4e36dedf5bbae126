/**
 * Messages for the `communications` log — one `message.sent` per message, then one delivery
 * report per receiver — exactly as the messages view reads them (docs/event-conventions.md,
 * "communications"; docs/views.md, "Messages and their delivery").
 */
import {
  type Actor,
  type Channel,
  DELIVERY_ACTIONS,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type EventInput,
  LIMITS,
  type Target,
} from '@hindsight/core';
import { SYSTEM_ACTOR } from './actor.js';
import {
  fields,
  oneOf,
  optionalFields,
  optionalText,
  refuse,
  text,
  type Unchecked,
} from './arguments.js';

/** One receiver of a message. */
export interface Receiver {
  /** The e-mail address or phone number: how delivery reports find the receiver. */
  readonly address: string;
  readonly name?: string;
  /** The product's object the receiver is (a customer, a user), listed among the targets. */
  readonly target?: Target;
}

/** A message sent; see {@link message}. */
export interface MessageInput {
  readonly tenant: string;
  /** Your id of the message: reports name it, and the messages view groups by it. */
  readonly messageId: string;
  readonly subject: string;
  readonly type: 'email' | 'sms';
  /** The employee who sent a manual message; leave out for an automated one (the system). */
  readonly sender?: Actor;
  /** Default `manual` with a sender, `automated` without. */
  readonly mode?: 'manual' | 'automated';
  readonly receivers: readonly Receiver[];
  /** Deep link to the message in the product. */
  readonly url?: string;
  /** Default `ui` for a manual message, `system` for an automated one. */
  readonly channel?: Channel;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly time?: string;
  readonly id?: string;
}

/** A delivery report of one receiver; see {@link messageStatus}. */
export interface MessageStatusInput {
  readonly tenant: string;
  readonly messageId: string;
  readonly type: 'email' | 'sms';
  readonly receiver: Receiver;
  readonly status: DeliveryStatus;
  readonly subject?: string;
  readonly mode?: 'manual' | 'automated';
  /** The provider's reason, for anything but `delivered`. */
  readonly reason?: string;
  /** When the provider saw it (RFC 3339); default now. */
  readonly time?: string;
  /** Your idempotency id, e.g. the provider's event id, so a repeated webhook is harmless. */
  readonly id?: string;
}

const LABELS = new Map(DELIVERY_STATUSES.map((s) => [s.value, s.label.toLowerCase()]));

/**
 * The `message.sent` event of a message, with every receiver in `metadata.receivers`. The
 * targets are the message and the receivers' own targets, as many as an event holds (SPEC §2:
 * 20 in all); a receiver whose target did not fit keeps it in its `metadata.receivers` entry.
 * @example
 * client.record(message({ tenant: 'acme', messageId: 'MSG-300139', subject: 'Your invoice',
 *   type: 'email', sender: { id: 'u-1003', name: 'Priya Raman' },
 *   receivers: [{ name: 'Harbour View Dental', address: 'reception@harbourview.example' }] }));
 */
export function message(input: MessageInput): EventInput {
  checkMessage(input);
  const mode = input.mode ?? (input.sender === undefined ? 'automated' : 'manual');
  const what = input.type === 'email' ? 'e-mail' : 'SMS';
  const count = input.receivers.length;
  const to =
    count === 1 ? (input.receivers[0]?.name ?? input.receivers[0]?.address) : `${count} receivers`;
  const context = {
    ...(input.ip === undefined ? {} : { ip: input.ip }),
    ...(input.userAgent === undefined ? {} : { userAgent: input.userAgent }),
  };
  // The message is the first target; receivers' targets fill the rest. One that does not fit is
  // kept with its receiver in the metadata, never dropped: it is who got the message.
  const receiverTargets: Target[] = [];
  const receivers = input.receivers.map((r) => {
    if (r.target === undefined) return receiverOf(r);
    if (receiverTargets.length < LIMITS.targets - 1) {
      receiverTargets.push(r.target);
      return receiverOf(r);
    }
    return { ...receiverOf(r), target: r.target };
  });
  return {
    tenant: input.tenant,
    ...(input.id === undefined ? {} : { id: input.id }),
    ...(input.time === undefined ? {} : { time: input.time }),
    action: 'message.sent',
    category: 'communications',
    actor: input.sender ?? SYSTEM_ACTOR,
    channel: input.channel ?? (mode === 'manual' ? 'ui' : 'system'),
    status: 'sent',
    // The sender is the actor, named there (where an erasure reaches them), not here.
    description:
      input.sender === undefined
        ? `The ${what} "${input.subject}" was sent to ${to}`
        : `Sent the ${what} "${input.subject}" to ${to}`,
    targets: [
      {
        type: 'message',
        id: input.messageId,
        name: input.subject,
        ...(input.url === undefined ? {} : { url: input.url }),
      },
      ...receiverTargets,
    ],
    ...(Object.keys(context).length === 0 ? {} : { context }),
    metadata: {
      type: input.type,
      mode,
      subject: input.subject,
      receivers,
    },
  };
}

/**
 * A delivery report of one receiver of a message (`message.delivered`, `message.bounced`, …
 * by the status), from the system.
 * @example
 * client.record(messageStatus({ tenant: 'acme', messageId: 'MSG-300139', type: 'email',
 *   receiver: { address: 'info@riverside.example' }, status: 'hard_bounce',
 *   reason: '550 5.1.1 no such user' }));
 */
export function messageStatus(input: MessageStatusInput): EventInput {
  checkMessageStatus(input);
  const { action, failure } = DELIVERY_ACTIONS[input.status];
  const reason = input.status === 'delivered' ? undefined : input.reason;
  const what = input.type === 'email' ? 'E-mail' : 'SMS';
  const subject = input.subject === undefined ? '' : ` "${input.subject}"`;
  const label = LABELS.get(input.status) ?? input.status;
  return {
    tenant: input.tenant,
    ...(input.id === undefined ? {} : { id: input.id }),
    ...(input.time === undefined ? {} : { time: input.time }),
    action,
    category: 'communications',
    actor: SYSTEM_ACTOR,
    channel: 'system',
    ...(failure ? { outcome: 'failure' as const } : {}),
    status: input.status,
    description:
      `${what}${subject} to ${input.receiver.name ?? input.receiver.address}: ${label}` +
      (reason === undefined ? '' : ` (${reason})`),
    targets: [
      {
        type: 'message',
        id: input.messageId,
        ...(input.subject === undefined ? {} : { name: input.subject }),
      },
      ...(input.receiver.target === undefined ? [] : [input.receiver.target]),
    ],
    metadata: {
      type: input.type,
      ...(input.mode === undefined ? {} : { mode: input.mode }),
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      receiver: receiverOf(input.receiver),
      ...(reason === undefined ? {} : { reason }),
    },
  };
}

function receiverOf(receiver: Receiver): { name?: string; address: string } {
  return receiver.name === undefined
    ? { address: receiver.address }
    : { name: receiver.name, address: receiver.address };
}

const TYPES = ['email', 'sms'] as const;
const MODES = ['manual', 'automated'] as const;
const STATUSES = Object.keys(DELIVERY_ACTIONS);

function checkMessage(input: MessageInput): void {
  const where = 'message()';
  const given = common<MessageInput>(where, input);
  text(where, 'subject', given.subject);
  optionalFields(where, 'sender', given.sender);
  const receivers = given.receivers;
  if (!Array.isArray(receivers) || receivers.length === 0) {
    refuse(where, 'receivers', 'an array of at least one { address, name?, target? }', receivers);
  }
  for (const [i, receiver] of (receivers as unknown[]).entries()) {
    checkReceiver(where, `receivers[${i}]`, receiver);
  }
  for (const key of ['url', 'channel', 'ip', 'userAgent', 'time', 'id'] as const) {
    optionalText(where, key, given[key]);
  }
}

function checkMessageStatus(input: MessageStatusInput): void {
  const where = 'messageStatus()';
  const given = common<MessageStatusInput>(where, input);
  checkReceiver(where, 'receiver', given.receiver);
  // A listed status only: `toString` is not one, though DELIVERY_ACTIONS has it as any object.
  oneOf(where, 'status', given.status, STATUSES);
  for (const key of ['subject', 'reason', 'time', 'id'] as const) {
    optionalText(where, key, given[key]);
  }
}

/**
 * The argument of `message()` or `messageStatus()` as an object, with what both take checked;
 * the rest of its fields are still to be checked.
 */
function common<T extends Pick<MessageInput, 'tenant' | 'messageId' | 'type' | 'mode'>>(
  where: string,
  input: unknown,
): Unchecked<T> {
  const given = fields<T>(where, 'its argument', input, 'an object { tenant, messageId, … }');
  text(where, 'tenant', given.tenant);
  text(where, 'messageId', given.messageId);
  oneOf(where, 'type', given.type, TYPES);
  oneOf(where, 'mode', given.mode, MODES, true);
  return given;
}

function checkReceiver(where: string, name: string, value: unknown): void {
  const receiver = fields<Receiver>(where, name, value, 'an object { address, name?, target? }');
  text(where, `${name}.address`, receiver.address);
  optionalText(where, `${name}.name`, receiver.name);
  optionalFields(where, `${name}.target`, receiver.target);
}
