/**
 * Every exported function that takes arguments answers wrong ones with a HindsightError
 * `invalid_options` that names the argument — never a TypeError from deep inside, and never an
 * event built from them.
 */
import { describe, expect, it } from 'vitest';
import { HindsightError } from './errors.js';
import {
  changes,
  createClient,
  expressRequestLogger,
  fastifyRequestLogger,
  honoRequestLogger,
  login,
  message,
  messageStatus,
  nodeRequestLogger,
  redactUrl,
  withActor,
} from './index.js';

const WRONG = [undefined, null, 0, 7, '', 'x', [], [1], true, () => 1, Symbol('s'), 10n];
const tenant = 'acme';
const loginInput = { tenant, user: { id: 'u-1' }, succeeded: true };
const receiver = { address: 'reception@harbourview.example' };
const messageInput = {
  tenant,
  messageId: 'MSG-1',
  subject: 'Invoice',
  type: 'email',
  receivers: [receiver],
};
const statusInput = { tenant, messageId: 'MSG-1', type: 'email', receiver, status: 'delivered' };
const recorder = { record: () => Promise.resolve() };
const logOptions = { log: 'api', tenant: () => tenant };

/** Calls `fn` untyped: the point is what JavaScript callers (and `as any`) can pass. */
function call(fn: unknown, ...args: unknown[]): unknown {
  return (fn as (...a: unknown[]) => unknown)(...args);
}

function refusal(run: () => unknown): HindsightError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HindsightError);
    expect((error as HindsightError).code).toBe('invalid_options');
    return error as HindsightError;
  }
  throw new Error('expected invalid_options, and nothing was thrown');
}

/** [what is wrong, the call, a word the message must hold] */
type Case = readonly [string, () => unknown, string];

const cases: Case[] = [
  ...WRONG.map((w): Case => [`login(${String(w)})`, () => call(login, w), 'login(): its argument']),
  ['login without user', () => call(login, { tenant, succeeded: true }), 'user'],
  ['login with user null', () => call(login, { ...loginInput, user: null }), 'user'],
  ['login with user.id 7', () => call(login, { ...loginInput, user: { id: 7 } }), 'user.id'],
  ['login without tenant', () => call(login, { ...loginInput, tenant: undefined }), 'tenant'],
  [
    'login without succeeded',
    () => call(login, { ...loginInput, succeeded: undefined }),
    'succeeded',
  ],
  ['login succeeded "no"', () => call(login, { ...loginInput, succeeded: 'no' }), 'succeeded'],
  ['login reason 5', () => call(login, { ...loginInput, succeeded: false, reason: 5 }), 'reason'],
  ['login ip 5', () => call(login, { ...loginInput, ip: 5 }), 'ip'],

  ...WRONG.map(
    (w): Case => [`message(${String(w)})`, () => call(message, w), 'message(): its argument'],
  ),
  ...WRONG.filter((w) => w !== undefined && !Array.isArray(w)).map(
    (w): Case => [
      `message receivers ${String(w)}`,
      () => call(message, { ...messageInput, receivers: w }),
      'receivers',
    ],
  ),
  [
    'message without receivers',
    () => call(message, { ...messageInput, receivers: undefined }),
    'receivers',
  ],
  ['message to no receivers', () => call(message, { ...messageInput, receivers: [] }), 'receivers'],
  [
    'message receiver null',
    () => call(message, { ...messageInput, receivers: [receiver, null] }),
    'receivers[1]',
  ],
  ['message receiver 1', () => call(message, { ...messageInput, receivers: [1] }), 'receivers[0]'],
  [
    'message receiver without address',
    () => call(message, { ...messageInput, receivers: [{ name: 'Bo' }] }),
    'receivers[0].address',
  ],
  [
    'message receiver target "x"',
    () => call(message, { ...messageInput, receivers: [{ ...receiver, target: 'x' }] }),
    'receivers[0].target',
  ],
  ['message type fax', () => call(message, { ...messageInput, type: 'fax' }), 'type'],
  ['message mode sometimes', () => call(message, { ...messageInput, mode: 'sometimes' }), 'mode'],
  ['message sender null', () => call(message, { ...messageInput, sender: null }), 'sender'],
  [
    'message without subject',
    () => call(message, { ...messageInput, subject: undefined }),
    'subject',
  ],
  [
    'message without messageId',
    () => call(message, { ...messageInput, messageId: undefined }),
    'messageId',
  ],

  ...WRONG.map(
    (w): Case => [
      `messageStatus(${String(w)})`,
      () => call(messageStatus, w),
      'messageStatus(): its argument',
    ],
  ),
  [
    'messageStatus without receiver',
    () => call(messageStatus, { ...statusInput, receiver: undefined }),
    'receiver',
  ],
  [
    'messageStatus receiver null',
    () => call(messageStatus, { ...statusInput, receiver: null }),
    'receiver',
  ],
  [
    'messageStatus status nope',
    () => call(messageStatus, { ...statusInput, status: 'nope' }),
    'status',
  ],
  // Names every object has are not delivery statuses.
  [
    'messageStatus status toString',
    () => call(messageStatus, { ...statusInput, status: 'toString' }),
    'status',
  ],
  [
    'messageStatus status constructor',
    () => call(messageStatus, { ...statusInput, status: 'constructor' }),
    'status',
  ],
  [
    'messageStatus without status',
    () => call(messageStatus, { ...statusInput, status: undefined }),
    'status',
  ],
  ['messageStatus reason 5', () => call(messageStatus, { ...statusInput, reason: 5 }), 'reason'],

  ...WRONG.filter((w) => w !== undefined && w !== null).map(
    (w): Case => [`changes(${String(w)}, {})`, () => call(changes, w, {}), 'changes(): before'],
  ),
  ...WRONG.filter((w) => w !== undefined && w !== null).map(
    (w): Case => [`changes({}, ${String(w)})`, () => call(changes, {}, w), 'changes(): after'],
  ),
  ['changes of a Date', () => call(changes, new Date(), {}), 'before'],
  ['changes of a circular object', () => call(changes, circular(), {}), 'before'],
  ['changes of a bigint field', () => call(changes, {}, { n: 10n }), 'after'],
  ...WRONG.filter((w) => w !== undefined).map(
    (w): Case => [`changes options ${String(w)}`, () => call(changes, {}, {}, w), 'options'],
  ),
  [
    'changes sensitive "password"',
    () => call(changes, {}, {}, { sensitive: 'password' }),
    'sensitive',
  ],
  ['changes sensitive [1]', () => call(changes, {}, {}, { sensitive: ['a', 1] }), 'sensitive[1]'],

  ...WRONG.filter((w) => typeof w !== 'object' || w === null || Array.isArray(w)).map(
    (w): Case => [
      `withActor(${String(w)}, fn)`,
      () => call(withActor, w, () => 1),
      'withActor(): actor',
    ],
  ),
  ...WRONG.filter((w) => typeof w !== 'function').map(
    (w): Case => [
      `withActor(actor, ${String(w)})`,
      () => call(withActor, { id: 'u-1' }, w),
      'withActor(): fn',
    ],
  ),

  ...WRONG.filter((w) => typeof w !== 'string').map(
    (w): Case => [`redactUrl(${String(w)})`, () => call(redactUrl, w, ['key']), 'url'],
  ),
  ...WRONG.filter((w) => !Array.isArray(w) || w.length > 0).map(
    (w): Case => [`redactUrl(url, ${String(w)})`, () => call(redactUrl, '/a?key=1', w), 'words'],
  ),

  ...WRONG.filter((w) => typeof w !== 'object' || w === null || Array.isArray(w)).map(
    (w): Case => [
      `createClient(${String(w)})`,
      () => call(createClient, w),
      'createClient: options',
    ],
  ),
  [
    'createClient outbox null',
    () => call(createClient, { url: 'http://127.0.0.1:1', key: 'k', outbox: null }),
    'outbox',
  ],
  [
    'createClient onError "log"',
    () => call(createClient, { url: 'http://127.0.0.1:1', key: 'k', onError: 'log' }),
    'onError',
  ],

  ...[expressRequestLogger, fastifyRequestLogger, honoRequestLogger, nodeRequestLogger].flatMap(
    (logger): Case[] => [
      [`${logger.name}(client, null)`, () => call(logger, recorder, null), 'options'],
      [`${logger.name}(client)`, () => call(logger, recorder), 'options'],
      [`${logger.name}(undefined, options)`, () => call(logger, undefined, logOptions), 'client'],
      [`${logger.name}({}, options)`, () => call(logger, {}, logOptions), 'client'],
      [
        `${logger.name} redact "key"`,
        () => call(logger, recorder, { ...logOptions, redact: 'key' }),
        'redact',
      ],
      [
        `${logger.name} exclude "/healthz"`,
        () => call(logger, recorder, { ...logOptions, exclude: '/healthz' }),
        'exclude',
      ],
      [
        `${logger.name} actor "me"`,
        () => call(logger, recorder, { ...logOptions, actor: 'me' }),
        'actor',
      ],
      [
        `${logger.name} trustProxy "loopback"`,
        () => call(logger, recorder, { ...logOptions, trustProxy: 'loopback' }),
        'trustProxy',
      ],
      [
        `${logger.name} trustProxy ["constructor"]`,
        () => call(logger, recorder, { ...logOptions, trustProxy: ['constructor'] }),
        'trustProxy',
      ],
    ],
  ),
];

function circular(): object {
  const value: { self?: unknown } = {};
  value.self = value;
  return value;
}

// regression: QA pass of the event helpers, bug 1 (raw TypeErrors, or events built from
// arguments of the wrong type).
describe('wrong arguments', () => {
  it.each(cases)('%s is refused as invalid_options, naming it', (_name, run, named) => {
    expect(refusal(run).message).toContain(named);
  });

  it('says what was expected and what was given', () => {
    expect(refusal(() => call(login, { ...loginInput, succeeded: 'no' })).message).toBe(
      'login(): succeeded must be true or false, not "no".',
    );
    expect(refusal(() => call(changes, {}, circular())).cause).toBeInstanceOf(TypeError);
  });

  it('still takes what is right, with optional fields left out or undefined', () => {
    expect(call(login, { ...loginInput, ip: undefined })).toMatchObject({
      action: 'login.succeeded',
    });
    expect(call(message, { ...messageInput, sender: undefined, url: undefined })).toBeDefined();
    expect(messageStatus(statusInput as Parameters<typeof messageStatus>[0]).action).toBe(
      'message.delivered',
    );
    expect(call(changes, undefined, null, { sensitive: undefined })).toEqual([]);
    expect(withActor({ type: 'anonymous' }, () => 1)).toBe(1);
    expect(redactUrl('/a?api_key=1', [])).toBe('/a?api_key=1');
  });
});
