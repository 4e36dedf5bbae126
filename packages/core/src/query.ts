/**
 * The search query language of SPEC §5 (`q`): free words, "quoted phrases" and qualifiers such
 * as `actor:` or `after:`, ANDed, each optionally negated with `-`. Parsing is pure and checks
 * every value up front, so a store only ever binds well-formed values.
 *
 * Lexical rules, for a reader of the code and of the docs:
 * - Terms are separated by whitespace. Positions are 0-based offsets into the query string
 *   (JavaScript string indices, i.e. UTF-16 code units).
 * - A leading `-` always negates; to search for text that starts with `-`, quote it.
 * - `name:` starts a qualifier only when `name` is lowercase ASCII letters (`/^[a-z]+$/`).
 *   Anything else before a colon keeps the whole term a free word, so `10:30`, `CUS-123:x` and
 *   `Re:hello` are words. An unknown lowercase name is an error (a likely typo) unless a `//`
 *   follows the colon, so URLs such as `https://x.test` stay words; quote a term to search for
 *   it literally (`"colour:red"`).
 * - Double quotes enclose a whole term or a whole qualifier value; there are no escapes, and a
 *   quote in the middle of a word is an error.
 * - `*` means "starts with" and may only end a free word or an `action:` value; an `action:`
 *   value may instead start with it, meaning "ends with" (`action:*.deleted`). A quoted phrase
 *   takes `*` literally.
 */
import { type IpRange, parseIpRange } from './ip.js';
import { CATEGORY_PATTERN, CHANNELS, type Channel, OUTCOMES, type Outcome } from './schema.js';
import { searchTokens } from './text.js';
import { parseRfc3339 } from './validate.js';

/**
 * A free word or a "quoted phrase" matched against the event's text. `text` is as written,
 * without quotes; a free word ending in `*` is a prefix search (`prefix: true`, `*` removed).
 * @example parseQuery('-deliv*').clauses[0] // { kind: 'text', text: 'deliv', phrase: false, prefix: true, negate: true, position: 0 }
 */
export type TextClause = {
  kind: 'text';
  text: string;
  phrase: boolean;
  prefix: boolean;
  negate: boolean;
  position: number;
};

/**
 * A qualifier whose value is matched as is: actor id or e-mail, target id, status, category.
 * @example parseQuery('actor:"Ann Lee"').clauses[0] // { kind: 'actor', value: 'Ann Lee', negate: false, position: 0 }
 */
export type ValueClause = {
  kind: 'actor' | 'target' | 'status' | 'category';
  value: string;
  negate: boolean;
  position: number;
};

/**
 * `action:`; a trailing `*` makes it a prefix match, a leading `*` a suffix match (`suffix:
 * true`): `value` is without the `*`.
 * @example parseQuery('action:user.*').clauses[0] // { kind: 'action', value: 'user.', prefix: true, negate: false, position: 0 }
 * @example parseQuery('action:*.deleted').clauses[0] // { kind: 'action', value: '.deleted', prefix: false, suffix: true, negate: false, position: 0 }
 */
export type ActionClause = {
  kind: 'action';
  value: string;
  prefix: boolean;
  /** Matches the actions that end with `value`. */
  suffix?: true;
  negate: boolean;
  position: number;
};

/**
 * `outcome:success` or `outcome:failure`.
 * @example parseQuery('-outcome:success').clauses[0] // { kind: 'outcome', value: 'success', negate: true, position: 0 }
 */
export type OutcomeClause = { kind: 'outcome'; value: Outcome; negate: boolean; position: number };

/**
 * `channel:` with one of the five channels.
 * @example parseQuery('channel:api').clauses[0] // { kind: 'channel', value: 'api', negate: false, position: 0 }
 */
export type ChannelClause = { kind: 'channel'; value: Channel; negate: boolean; position: number };

/**
 * `ip:` with an address or a CIDR; `range` is the inclusive 16-byte key range (see `ip.ts`).
 * @example parseQuery('ip:10.0.0.0/8').clauses[0] // { kind: 'ip', value: '10.0.0.0/8', range: { start, end }, negate: false, position: 0 }
 */
export type IpClause = {
  kind: 'ip';
  value: string;
  range: IpRange;
  negate: boolean;
  position: number;
};

/**
 * `after:` / `before:` with a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 timestamp with
 * offset; `timeMs` is milliseconds since the epoch. Whether the bound is inclusive is the
 * store's decision.
 * @example parseQuery('after:2026-01-01').clauses[0] // { kind: 'after', value: '2026-01-01', timeMs: 1767225600000, negate: false, position: 0 }
 */
export type TimeClause = {
  kind: 'after' | 'before';
  value: string;
  timeMs: number;
  negate: boolean;
  position: number;
};

/**
 * One term of a query; switch on `kind`.
 * @example for (const c of parseQuery(q).clauses) if (c.kind === 'ip') use(c.range);
 */
/**
 * `metadata.<path>:value`: the event's `metadata` member at that dotted path equals the value
 * (numbers and booleans compare by their JSON text, e.g. `metadata.row:2`).
 */
export type MetadataClause = {
  kind: 'metadata';
  /** The path under `metadata`, as dotted keys: `gateway`, `receiver.address`. */
  path: string[];
  value: string;
  negate: boolean;
  position: number;
};

export type QueryClause =
  | TextClause
  | MetadataClause
  | ValueClause
  | ActionClause
  | OutcomeClause
  | ChannelClause
  | IpClause
  | TimeClause;

/**
 * A parsed query: its clauses in the order written, all to be ANDed.
 * @example parseQuery('spam -channel:api') // { clauses: [{ kind: 'text', … }, { kind: 'channel', … }] }
 */
export interface ParsedQuery {
  readonly clauses: readonly QueryClause[];
}

/**
 * A malformed query (HTTP 400 `invalid_query`). `position` is the 0-based offset of the
 * problem; the message says what is wrong there and how to fix it.
 * @example
 * try { parseQuery('colour:red') } catch (e) { if (e instanceof QueryError) e.position } // 0
 */
export class QueryError extends Error {
  readonly code = 'invalid_query';
  readonly position: number;
  override readonly name = 'QueryError';

  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

/** Longest query accepted, in UTF-16 code units. */
const MAX_LENGTH = 1000;
/** Most clauses (terms) in one query. */
const MAX_CLAUSES = 32;

const QUALIFIERS = [
  'actor',
  'action',
  'target',
  'category',
  'outcome',
  'status',
  'channel',
  'ip',
  'after',
  'before',
] as const;
type Qualifier = (typeof QUALIFIERS)[number];

const EXAMPLES: Record<Qualifier, string> = {
  actor: 'actor:alice@acme.test or actor:u-1001',
  action: 'action:user.created, action:user.* or action:*.deleted',
  target: 'target:usr_123',
  category: 'category:logins',
  outcome: 'outcome:failure',
  status: 'status:delivered',
  channel: 'channel:api',
  ip: 'ip:192.168.1.10, ip:10.0.0.0/8 or ip:2001:db8::/32',
  after: 'after:2026-01-31 or after:2026-01-31T10:00:00+02:00',
  before: 'before:2026-01-31 or before:2026-01-31T10:00:00Z',
};

const QUALIFIER_NAME = /^([a-z]+):/;
/** `metadata.` and a dotted path of up to 5 keys, then `:`. */
const METADATA_QUALIFIER = /^metadata((?:\.[A-Za-z0-9_-]{1,64}){1,5}):/;
const SPACE = /\s/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const CATEGORY = new RegExp(CATEGORY_PATTERN);

/** A run of query text: its content, where the content starts, and where the run ends. */
interface Token {
  readonly text: string;
  readonly textAt: number;
  readonly end: number;
}

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && SPACE.test(ch);
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function skipSpace(q: string, from: number): number {
  let pos = from;
  while (isSpace(q[pos])) pos++;
  return pos;
}

/** Reads `"..."` starting at the opening quote; it must be followed by whitespace or the end. */
function readQuoted(q: string, at: number): Token {
  const close = q.indexOf('"', at + 1);
  if (close < 0) {
    throw new QueryError(
      `Unterminated quote at position ${at}; add the closing " or remove the opening one`,
      at,
    );
  }
  const end = close + 1;
  if (end < q.length && !isSpace(q[end])) {
    throw new QueryError(
      `Unexpected "${q[end]}" at position ${end} right after a closing quote; put a space between terms`,
      end,
    );
  }
  return { text: q.slice(at + 1, close), textAt: at + 1, end };
}

/** Reads an unquoted run up to whitespace or the end; a quote inside it is an error. */
function readBare(q: string, at: number): Token {
  let end = at;
  while (end < q.length && !isSpace(q[end])) {
    if (q[end] === '"') {
      throw new QueryError(
        `Unexpected " at position ${end} inside a word; quotes must enclose a whole term ` +
          '("admin rights") or a whole qualifier value (metadata.gateway:"Twilio UK")',
        end,
      );
    }
    end++;
  }
  return { text: q.slice(at, end), textAt: at, end };
}

function readValue(q: string, at: number): Token {
  return q[at] === '"' ? readQuoted(q, at) : readBare(q, at);
}

/** Splits a trailing `*` off; any other `*` is an error at its position. */
function splitStar(token: Token, what: string, example: string): { text: string; prefix: boolean } {
  const star = token.text.indexOf('*');
  if (star >= 0 && star !== token.text.length - 1) {
    throw new QueryError(
      `Unexpected "*" at position ${token.textAt + star} in ${what}; "*" may only end it (${example})`,
      token.textAt + star,
    );
  }
  return star < 0
    ? { text: token.text, prefix: false }
    : { text: token.text.slice(0, -1), prefix: true };
}

/**
 * An `action:` clause: exact, a prefix (`user.*`) or a suffix (`*.deleted`). A suffix names
 * the end of actions, so it may hold only what actions hold (lowercase letters, digits, `_`,
 * `-` and `.`): the stores match it as a pattern of those characters.
 */
function actionClause(
  value: Token,
  negate: boolean,
  position: number,
  valueAt: number,
): ActionClause {
  const suffix = value.text.length > 1 && value.text.startsWith('*');
  const { text, prefix } = suffix
    ? splitStar(
        { ...value, text: value.text.slice(1), textAt: value.textAt + 1 },
        'an action',
        'action:*.deleted',
      )
    : splitStar(value, 'an action', 'action:user.*');
  if (text === '') {
    throw new QueryError(
      `"action:${value.text}" at position ${valueAt} would match every action; remove it or ` +
        'give a prefix or suffix, e.g. action:user.* or action:*.deleted',
      valueAt,
    );
  }
  if (suffix && prefix) {
    throw new QueryError(
      `"*" at both ends of action:${value.text} at position ${valueAt}; an action filter is ` +
        'a prefix (action:user.*) or a suffix (action:*.deleted), not both',
      valueAt,
    );
  }
  if (suffix && !ACTION_CHARACTERS.test(text)) {
    throw new QueryError(
      `Invalid action suffix "${text}" at position ${valueAt + 1}; actions hold only lowercase ` +
        'letters, digits, "_", "-" and ".", e.g. action:*.deleted',
      valueAt + 1,
    );
  }
  return suffix
    ? { kind: 'action', value: text, prefix: false, suffix: true, negate, position }
    : { kind: 'action', value: text, prefix, negate, position };
}

/** What an action is made of (see `ACTION_PATTERN`): a suffix of one holds only these. */
const ACTION_CHARACTERS = /^[a-z0-9_.-]+$/;

function assertSearchable(text: string, shown: string, at: number): void {
  if (searchTokens(text).length === 0) {
    throw new QueryError(
      `Search term ${shown} at position ${at} has no letter or digit, so it cannot match ` +
        'anything; remove it or add letters or digits',
      at,
    );
  }
}

/**
 * A time bound as `after:`/`before:` (and the API's `since`/`until`) accept it: a date
 * (`2026-01-01`, midnight UTC) or an RFC 3339 timestamp with offset; `null` when invalid.
 * @example parseTimeBound('2026-01-01') // 1767225600000
 */
export function parseTimeBound(value: string): number | null {
  return DATE_ONLY.test(value) ? parseRfc3339(`${value}T00:00:00Z`) : parseRfc3339(value);
}

function invalid(what: string, value: string, at: number, qualifier: Qualifier): QueryError {
  return new QueryError(
    `Invalid ${what} "${value}" at position ${at}; write e.g. ${EXAMPLES[qualifier]}`,
    at,
  );
}

/** Builds and checks the clause of a qualifier whose value has been read. */
function qualifierClause(
  name: Qualifier,
  value: Token,
  negate: boolean,
  position: number,
  valueAt: number,
): QueryClause {
  const v = value.text;
  switch (name) {
    case 'actor':
    case 'target':
    case 'status':
      return { kind: name, value: v, negate, position };
    case 'category':
      if (!CATEGORY.test(v)) {
        throw new QueryError(
          `Invalid category "${v}" at position ${valueAt}; a category is 1-64 characters of ` +
            'a-z, 0-9, "_" and "-", e.g. category:logins',
          valueAt,
        );
      }
      return { kind: name, value: v, negate, position };
    case 'action':
      return actionClause(value, negate, position, valueAt);
    case 'outcome':
      if (!isOneOf(OUTCOMES, v)) throw invalid('outcome', v, valueAt, name);
      return { kind: name, value: v, negate, position };
    case 'channel':
      if (!isOneOf(CHANNELS, v)) {
        throw new QueryError(
          `Invalid channel "${v}" at position ${valueAt}; use one of ` +
            `${CHANNELS.map((c) => `channel:${c}`).join(', ')}`,
          valueAt,
        );
      }
      return { kind: name, value: v, negate, position };
    case 'ip': {
      const range = parseIpRange(v);
      if (!range) throw invalid('IP address or CIDR', v, valueAt, name);
      return { kind: name, value: v, range, negate, position };
    }
    case 'after':
    case 'before': {
      const timeMs = parseTimeBound(v);
      if (timeMs === null) {
        throw new QueryError(
          `Invalid date "${v}" at position ${valueAt}; use a real date (YYYY-MM-DD, midnight ` +
            `UTC) or an RFC 3339 timestamp with offset, e.g. ${EXAMPLES[name]}`,
          valueAt,
        );
      }
      return { kind: name, value: v, timeMs, negate, position };
    }
  }
}

/** Parses the term starting at `start` (never whitespace); returns its clause and its end. */
function parseTerm(q: string, start: number): { clause: QueryClause; end: number } {
  const negate = q[start] === '-';
  const at = negate ? start + 1 : start;
  if (negate && (at >= q.length || isSpace(q[at]))) {
    throw new QueryError(
      `Lone "-" at position ${start}; put it directly before the term to exclude ` +
        '(-spam, -outcome:success) or remove it',
      start,
    );
  }
  if (negate && q[at] === '-') {
    throw new QueryError(
      `Unexpected "-" at position ${at}; exclude a term with a single "-" (-spam), or quote ` +
        'text that starts with "-" ("--force")',
      at,
    );
  }

  if (q[at] === '"') {
    const token = readQuoted(q, at);
    assertSearchable(token.text, `"${token.text}"`, at);
    const clause: TextClause = {
      kind: 'text',
      text: token.text,
      phrase: true,
      prefix: false,
      negate,
      position: start,
    };
    return { clause, end: token.end };
  }

  const metadata = METADATA_QUALIFIER.exec(q.slice(at));
  if (metadata?.[1] !== undefined) {
    const valueAt = at + metadata[0].length;
    const token = readValue(q, valueAt);
    if (token.text === '') {
      throw new QueryError(
        `Missing value for "${metadata[0]}" at position ${valueAt}; write e.g. ` +
          'metadata.gateway:"Twilio UK"',
        valueAt,
      );
    }
    const clause: MetadataClause = {
      kind: 'metadata',
      path: metadata[1].slice(1).split('.'),
      value: token.text,
      negate,
      position: start,
    };
    return { clause, end: token.end };
  }
  const name = QUALIFIER_NAME.exec(q.slice(at))?.[1];
  if (name !== undefined && isOneOf(QUALIFIERS, name)) {
    const valueAt = at + name.length + 1;
    const token = readValue(q, valueAt);
    if (token.text.trim() === '') {
      throw new QueryError(
        `Missing value for "${name}:" at position ${valueAt}; write e.g. ${EXAMPLES[name]}`,
        valueAt,
      );
    }
    return { clause: qualifierClause(name, token, negate, start, valueAt), end: token.end };
  }
  if (name !== undefined && !q.startsWith('//', at + name.length + 1)) {
    throw new QueryError(
      `Unknown qualifier "${name}:" at position ${at}; use one of ` +
        `${QUALIFIERS.map((n) => `${n}:`).join(', ')}, metadata.<key>:, or quote the term to ` +
        'search for it as text',
      at,
    );
  }

  const token = readBare(q, at);
  const { text, prefix } = splitStar(token, `"${token.text}"`, 'deliv*');
  assertSearchable(text, `"${token.text}"`, at);
  const clause: TextClause = { kind: 'text', text, phrase: false, prefix, negate, position: start };
  return { clause, end: token.end };
}

/**
 * Parses a search query (SPEC §5) into ANDed clauses; whitespace only gives no clauses.
 * Throws {@link QueryError} for a malformed query: unterminated quote, unknown qualifier,
 * missing or invalid value, `*` anywhere but at the end of a word or action, a lone `-`, a term
 * without letters or digits, more than 1,000 characters or more than 32 terms.
 * @example
 * parseQuery('actor:alice@acme.test -outcome:success "admin rights"').clauses.map((c) => c.kind)
 * // ['actor', 'outcome', 'text']
 */
export function parseQuery(q: string): ParsedQuery {
  if (q.length > MAX_LENGTH) {
    throw new QueryError(
      `Query is ${q.length} characters long, over the limit of ${MAX_LENGTH} from position ` +
        `${MAX_LENGTH}; shorten it`,
      MAX_LENGTH,
    );
  }
  const clauses: QueryClause[] = [];
  let pos = skipSpace(q, 0);
  while (pos < q.length) {
    if (clauses.length === MAX_CLAUSES) {
      throw new QueryError(
        `Too many terms: the term at position ${pos} is number ${MAX_CLAUSES + 1}, over the ` +
          `limit of ${MAX_CLAUSES}; remove some terms`,
        pos,
      );
    }
    const { clause, end } = parseTerm(q, pos);
    clauses.push(clause);
    pos = skipSpace(q, end);
  }
  return { clauses };
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code-unit order:
 * stores turn a prefix (`action:user.*`) into the index range `[prefix, prefixEnd(prefix))`.
 * @example prefixEnd('user.') // 'user/'
 */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
