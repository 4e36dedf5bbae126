/**
 * The demo tenant that `hindsight serve --demo` loads: three months of the audit trail of
 * "Acme Cleaning Ltd", a London cleaning company with a dozen staff, covering every built-in
 * category of SPEC §4. Every event follows `docs/event-conventions.md`, so the demo doubles as
 * the reference data set for the console's views.
 *
 * Generation is deterministic: the same `now` and `seed` give the same events, with the same
 * ids, in the same order.
 */
import { DELIVERY_ACTIONS, type DeliveryStatus, type EventInput } from '@hindsight/core';

/** The tenant the demo events belong to unless told otherwise. */
export const DEMO_TENANT = 'acme';

type Actor = EventInput['actor'];
type Target = NonNullable<EventInput['targets']>[number];
type Change = NonNullable<EventInput['changes']>[number];
type Context = NonNullable<EventInput['context']>;
/** An event before the tenant, id and time are filled in. */
type Draft = Omit<EventInput, 'tenant' | 'id' | 'time'>;

/**
 * A person's event as event-conventions.md asks: its description does not start with the
 * actor's name ("Alice Hughes changed …" is stored "Changed …"). The console shows the actor
 * beside it, and an erasure reaches the actor's name there, not in a description.
 */
function namingNoActor(draft: Draft): Draft {
  const { actor, description } = draft;
  const person = actor.type === undefined || actor.type === 'user';
  if (!person || !actor.name || !description?.startsWith(`${actor.name} `)) return draft;
  const rest = description.slice(actor.name.length + 1);
  return { ...draft, description: rest.charAt(0).toUpperCase() + rest.slice(1) };
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** The oldest day offset used: every event falls on or after midnight 88 days ago. */
const OLDEST_DAY = 88;
const APP = 'https://app.acme.test';
const SYSTEM: Actor = { type: 'system' };

/** Public addresses from well-known allocations; the comment is the country they geolocate to. */
const IP = {
  office: '81.2.69.142', // GB, London
  aliceHome: '2.125.160.216', // GB, Cornwall
  mobileO2: '82.132.200.1', // GB
  mobileEE: '213.52.128.1', // GB
  stockholm: '89.160.20.112', // SE
  warsaw: '83.0.0.1', // PL
  lagos: '105.112.0.1', // NG
  bookingHost: '88.198.1.1', // DE
  zapier: '216.160.83.56', // US
  hrSync: '2001:480::1', // US
  legacyScript: '90.0.0.1', // FR
  attacker: '175.16.199.0', // CN
  probeRu: '95.24.0.1', // RU
  probeBr: '177.0.0.1', // BR
} as const;

const UA = {
  macSafari:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  macChrome:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  winChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  winEdge:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  winFirefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  android:
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  samsung:
    'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  pythonRequests: 'python-requests/2.31.0',
} as const;

// ---------------------------------------------------------------------------------------------
// The company

interface Person {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly license: string;
  readonly ip: string;
  readonly userAgent: string;
  /** Days ago the account was created, when that happened inside the demo window. */
  readonly joined?: number;
  /** Days ago the account was deleted, when it was. */
  readonly left?: number;
}

function person(
  id: string,
  name: string,
  role: string,
  license: string,
  ip: string,
  userAgent: string,
  window: { joined?: number; left?: number } = {},
): Person {
  const local = (name.split(' ')[0] ?? name)
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
  return { id, name, email: `${local}@acme.test`, role, license, ip, userAgent, ...window };
}

const alice = person('u-1001', 'Alice Hughes', 'owner', 'Office Plus', IP.office, UA.macSafari);
const tomasz = person('u-1002', 'Tomasz Kowalski', 'admin', 'Office Plus', IP.office, UA.winChrome);
const priya = person('u-1003', 'Priya Raman', 'supervisor', 'Office', IP.office, UA.winEdge);
const lars = person('u-1004', 'Lars Eriksson', 'supervisor', 'Office', IP.office, UA.winFirefox);
const hannah = person('u-1005', 'Hannah Schmidt', 'finance', 'Office', IP.office, UA.macChrome);
const maria = person('u-1006', 'María González', 'cleaner', 'Field', IP.mobileO2, UA.android);
const kwame = person('u-1007', 'Kwame Mensah', 'cleaner', 'Field', IP.mobileEE, UA.iphone);
const sofia = person('u-1008', 'Sofia Rossi', 'cleaner', 'Field', IP.mobileO2, UA.iphone);
const jean = person('u-1009', 'Jean Dubois', 'cleaner', 'Field', IP.mobileEE, UA.samsung);
const aiko = person('u-1010', 'Aiko Tanaka', 'cleaner', 'Field', IP.mobileO2, UA.iphone);
const olumide = person('u-1011', 'Olumide Adeyemi', 'cleaner', 'Field', IP.mobileEE, UA.android);
const diego = person('u-1012', 'Diego Fernández', 'cleaner', 'Field', IP.mobileO2, UA.samsung, {
  joined: 84,
});
const mei = person('u-1013', 'Mei Chen', 'cleaner', 'Field', IP.mobileEE, UA.iphone, {
  joined: 70,
});
const rafael = person('u-1014', 'Rafael Costa', 'cleaner', 'Field', IP.mobileO2, UA.android, {
  joined: 70,
  left: 9,
});
const ben = person('u-1015', 'Ben Carter', 'cleaner', 'Field', IP.mobileEE, UA.iphone, {
  joined: 70,
  left: 21,
});
const aisha = person('u-1016', 'Aisha Khan', 'supervisor', 'Field', IP.office, UA.winChrome, {
  joined: 45,
});

const OFFICE_STAFF = [alice, tomasz, priya, lars, hannah, aisha];
const SUPERVISORS = [priya, lars, aisha, tomasz];
const FIELD_STAFF = [maria, kwame, sofia, jean, aiko, olumide, diego, mei, rafael, ben];

interface KeyRing {
  readonly id: string;
  readonly name: string;
  readonly code: string;
}

interface Customer {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly keyRings: readonly KeyRing[];
}

function customer(
  id: string,
  name: string,
  email: string,
  phone: string,
  rings: readonly [string, string, string][],
): Customer {
  const keyRings = rings.map(([ring, label, code]) => ({
    id: ring,
    name: `${name} — ${label}`,
    code,
  }));
  return { id, name, email, phone, keyRings };
}

const harbourView = customer(
  'CUS-104233',
  'Harbour View Dental',
  'reception@harbourviewdental.example',
  '+447700900118',
  [
    ['KR-011', 'main entrance', 'alarm code'],
    ['KR-012', 'back office', 'door code'],
  ],
);
const northgate = customer(
  'CUS-104871',
  'Northgate Apartments',
  'facilities@northgate-apartments.example',
  '+447700900342',
  [
    ['KR-014', 'lobby and bin store', 'key safe code'],
    ['KR-015', 'plant room', 'door code'],
  ],
);
const brightFutures = customer(
  'CUS-105102',
  'Bright Futures Nursery',
  'office@brightfutures.example',
  '+447700900407',
  [['KR-017', 'front gate', 'alarm code']],
);
const kingsleyWebb = customer(
  'CUS-105566',
  'Kingsley & Webb Solicitors',
  'admin@kingsleywebb.example',
  '+447700900561',
  [['KR-019', 'second floor', 'alarm code']],
);
const copperKettle = customer(
  'CUS-106014',
  'The Copper Kettle Café',
  'hello@copperkettle.example',
  '+447700900623',
  [['KR-021', 'kitchen door', 'key safe code']],
);
const riverside = customer(
  'CUS-106390',
  'Riverside Physiotherapy',
  'info@riversidephysio.example',
  '+447700900734',
  [['KR-023', 'clinic', 'alarm code']],
);
const oakwood = customer(
  'CUS-107245',
  'Oakwood Primary School',
  'bursar@oakwood-primary',
  '+447700900809',
  [
    ['KR-025', 'main building', 'alarm code'],
    ['KR-026', 'sports hall', 'door code'],
  ],
);
const patel = customer('CUS-107718', 'Mr & Mrs Patel', 'r.patel@mail.example', '+447700900872', [
  ['KR-028', 'house keys', 'alarm code'],
]);
const greenleaf = customer(
  'CUS-108032',
  'Greenleaf Co-working',
  'ops@greenleaf.example',
  '+447700900915',
  [['KR-030', 'reception', 'door code']],
);
const stAnnes = customer(
  'CUS-108467',
  "St Anne's Medical Centre",
  'practice.manager@stannes-medical.example',
  '+447700900953',
  [['KR-032', 'surgery', 'alarm code']],
);
const fenwick = customer(
  'CUS-109120',
  'Fenwick Logistics',
  'facilities@fenwick-logistics.example',
  '+447700900164',
  [['KR-034', 'warehouse office', 'key safe code']],
);
const larsen = customer(
  'CUS-109584',
  'Ingrid Larsen',
  'ingrid.larsen@mail.example',
  '+447700900286',
  [['KR-036', 'flat 4B', 'key safe code']],
);
const blueDoor = customer(
  'CUS-110203',
  'Blue Door Estate Agents',
  'lettings@bluedoor.example',
  '+447700900377',
  [['KR-038', 'high street office', 'alarm code']],
);
const hotelMarlow = customer(
  'CUS-110759',
  'Hotel Marlow',
  'housekeeping@hotelmarlow.example',
  '+447700900498',
  [['KR-040', 'staff entrance', 'door code']],
);

const CUSTOMERS = [
  harbourView,
  northgate,
  brightFutures,
  kingsleyWebb,
  copperKettle,
  riverside,
  oakwood,
  patel,
  greenleaf,
  stAnnes,
  fenwick,
  larsen,
  blueDoor,
  hotelMarlow,
];
/** Customers whose mail is delivered without trouble. */
const HAPPY_CUSTOMERS = [
  harbourView,
  northgate,
  brightFutures,
  kingsleyWebb,
  copperKettle,
  stAnnes,
  greenleaf,
  hotelMarlow,
];

// ---------------------------------------------------------------------------------------------
// The generator

/**
 * mulberry32: a tiny, fast, well-distributed 32-bit PRNG for reproducible demo and benchmark
 * data (never for anything secret).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Collects drafts with their times, then numbers and stamps them in time order. */
class Demo {
  readonly #random: () => number;
  readonly #now: number;
  readonly #midnight: number;
  readonly #drafts: { ms: number; order: number; draft: Draft }[] = [];
  readonly #counters = new Map<string, number>();

  constructor(now: Date, seed: number) {
    this.#random = mulberry32(seed);
    // Whole seconds, so that rounding a time down never moves it out of the window.
    this.#now = Math.floor(now.getTime() / 1000) * 1000;
    this.#midnight = Math.floor(this.#now / DAY_MS) * DAY_MS;
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.#random() * items.length)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.int(0, 15).toString(16);
    return out;
  }

  /** The next number of a named sequence, starting at `start`. */
  next(name: string, start: number): number {
    const value = this.#counters.get(name) ?? start;
    this.#counters.set(name, value + 1);
    return value;
  }

  /** Epoch ms of a UTC wall-clock time `daysAgo` days before today (yesterday if still ahead). */
  at(daysAgo: number, hour: number, minute = this.int(0, 59), second = this.int(0, 59)): number {
    const ms = this.#midnight - daysAgo * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
    return ms > this.#now ? ms - DAY_MS : ms;
  }

  isWeekend(daysAgo: number): boolean {
    const weekday = new Date(this.#midnight - daysAgo * DAY_MS).getUTCDay();
    return weekday === 0 || weekday === 6;
  }

  /** A random weekday offset in [from, to] (a weekend day only when the range has no other). */
  workday(from = 0, to = OLDEST_DAY): number {
    let day = this.int(from, to);
    for (let tries = 0; tries < 8 && this.isWeekend(day); tries++) day = this.int(from, to);
    return day;
  }

  /** A working day on which `p` had an account. */
  dayFor(p: Person): number {
    return this.workday((p.left ?? -1) + 1, Math.min(OLDEST_DAY, (p.joined ?? OLDEST_DAY + 1) - 1));
  }

  /** Records a draft at `ms`; one that would lie after `now` has not happened yet and is left out. */
  add(ms: number, draft: Draft): void {
    if (ms > this.#now) return;
    this.#drafts.push({
      ms: Math.floor(ms / 1000) * 1000,
      order: this.#drafts.length,
      draft: namingNoActor(draft),
    });
  }

  /** Epoch ms `minutes` before now. */
  ago(minutes: number): number {
    return this.#now - minutes * MINUTE_MS - this.int(0, 59) * 1000;
  }

  /**
   * The events in time order. An acknowledgement covers everything before it: the demo loads
   * into an empty tenant in this order, so the event before it has `seq` = its index.
   */
  events(tenant: string): EventInput[] {
    const sorted = [...this.#drafts].sort((a, b) => a.ms - b.ms || a.order - b.order);
    return sorted.map(({ ms, draft }, i) => ({
      tenant,
      id: `demo-${String(i + 1).padStart(6, '0')}`,
      time: new Date(ms).toISOString().replace('.000Z', 'Z'),
      ...draft,
      ...(draft.action === ACKNOWLEDGED ? { metadata: { ...draft.metadata, upToSeq: i } } : {}),
    }));
  }
}

function actorOf(p: Person): Actor {
  return { id: p.id, name: p.name, email: p.email, role: p.role };
}

function contextOf(p: Person, ip = p.ip, extra: Partial<Context> = {}): Context {
  return { ip, userAgent: p.userAgent, ...extra };
}

function userTarget(p: Person): Target {
  return { type: 'user', id: p.id, name: p.name, url: `${APP}/users/${p.id}` };
}

function customerTarget(c: Customer): Target {
  return { type: 'customer', id: c.id, name: c.name, url: `${APP}/customers/${c.id}` };
}

// ---------------------------------------------------------------------------------------------
// logins, requests and access: office sessions and field shifts

const PAGES: readonly ((d: Demo) => { method: string; url: string; what: string })[] = [
  () => ({ method: 'GET', url: '/dashboard', what: 'opened the dashboard' }),
  () => ({ method: 'GET', url: '/customers', what: 'opened Customers' }),
  (d) => {
    const c = d.pick(CUSTOMERS);
    return { method: 'GET', url: `/customers/${c.id}`, what: `opened the customer ${c.name}` };
  },
  (d) => {
    const c = d.pick(CUSTOMERS);
    return { method: 'POST', url: `/customers/${c.id}/notes`, what: `added a note to ${c.name}` };
  },
  (d) => ({
    method: 'GET',
    url: `/planner?week=${d.int(1, 52)}`,
    what: 'opened the task planner',
  }),
  () => ({ method: 'GET', url: '/keys/overview', what: 'opened Keys › Overview' }),
  () => ({ method: 'GET', url: '/invoices?status=open', what: 'opened Invoices' }),
  (d) => {
    const invoice = `INV-${d.int(10_380, 10_520)}`;
    return { method: 'POST', url: `/invoices/${invoice}/send`, what: `sent invoice ${invoice}` };
  },
  () => ({ method: 'GET', url: '/reports/hours?period=month', what: 'opened the hours report' }),
  () => ({ method: 'GET', url: '/event-log', what: 'opened the event log' }),
  () => ({ method: 'GET', url: '/my-data/company', what: 'opened My data › Company data' }),
];

function loginSucceeded(d: Demo, ms: number, p: Person, ip: string, sessionId: string): void {
  d.add(ms, {
    action: 'login.succeeded',
    category: 'logins',
    actor: actorOf(p),
    channel: 'ui',
    description: `${p.name} signed in`,
    context: contextOf(p, ip, { sessionId }),
    metadata: { method: 'password' },
  });
}

function loginFailed(d: Demo, ms: number, p: Person, ip: string, reason: string): void {
  d.add(ms, {
    action: 'login.failed',
    category: 'logins',
    actor: actorOf(p),
    channel: 'ui',
    outcome: 'failure',
    description: `Failed sign-in: ${reason.replace(/_/g, ' ')}`,
    context: contextOf(p, ip),
    metadata: { reason },
  });
}

function httpRequest(
  d: Demo,
  ms: number,
  p: Person,
  ip: string,
  sessionId: string,
  page: { method: string; url: string; what: string },
  status = page.method === 'POST' ? 303 : 200,
): void {
  d.add(ms, {
    action: 'http.request',
    category: 'requests',
    actor: actorOf(p),
    channel: 'ui',
    ...(status >= 400 ? { outcome: 'failure' as const } : {}),
    description: `${p.name} ${page.what}`,
    context: contextOf(p, ip, {
      sessionId,
      requestId: `req_${d.hex(16)}`,
      http: {
        method: page.method,
        url: page.url,
        status,
        durationMs: d.int(18, 140) * d.int(1, 6),
      },
    }),
  });
}

/** An office user signs in (sometimes after a typo) and clicks through a few pages. */
function officeSession(d: Demo, p: Person, day = d.dayFor(p), ip = p.ip): void {
  let ms = d.at(day, d.int(7, 16));
  const sessionId = `sess_${d.hex(20)}`;
  if (d.chance(0.12)) {
    loginFailed(d, ms, p, ip, 'invalid_password');
    ms += d.int(8, 40) * 1000;
  }
  loginSucceeded(d, ms, p, ip, sessionId);
  const pages = d.int(1, 5);
  for (let i = 0; i < pages; i++) {
    ms += d.int(4, 300) * 1000;
    const page = d.pick(PAGES)(d);
    const status = d.chance(0.04) ? 404 : undefined;
    httpRequest(d, ms, p, ip, sessionId, page, status);
  }
}

function codeAccessed(d: Demo, ms: number, p: Person, c: Customer, ring: KeyRing, ok = true): void {
  d.add(ms, {
    action: 'code.accessed',
    category: 'access',
    actor: actorOf(p),
    channel: 'ui',
    ...(ok ? {} : { outcome: 'failure' as const }),
    description: ok
      ? `${p.name} viewed the ${ring.code} of key ring ${ring.id} (${c.name})`
      : `${p.name} was refused the ${ring.code} of key ring ${ring.id} (${c.name}): no task at this customer today`,
    targets: [
      {
        type: 'key_ring',
        id: ring.id,
        name: ring.name,
        url: `${APP}/keys/overview?keyRing=${ring.id}`,
      },
      customerTarget(c),
    ],
    context: contextOf(p),
    metadata: { code: ring.code },
  });
}

/** A cleaner signs in on the phone in the morning and opens the codes of the day's customers. */
function fieldShift(d: Demo, p: Person, day = d.dayFor(p)): void {
  let ms = d.at(day, d.int(5, 8));
  const sessionId = `sess_${d.hex(20)}`;
  loginSucceeded(d, ms, p, p.ip, sessionId);
  ms += d.int(20, 90) * 1000;
  httpRequest(d, ms, p, p.ip, sessionId, {
    method: 'GET',
    url: '/app/tasks/today',
    what: "opened today's tasks in the mobile app",
  });
  const visits = d.int(1, 3);
  for (let i = 0; i < visits; i++) {
    ms += d.int(25, 150) * MINUTE_MS;
    const c = d.pick(CUSTOMERS);
    codeAccessed(d, ms, p, c, d.pick(c.keyRings));
  }
}

/** A sign-in from a foreign address at 02:00 that tries passwords for known and guessed names. */
function failedLoginBurst(d: Demo, day: number): void {
  let ms = d.at(day, 2, 13, 7);
  const guesses: readonly (Person | string)[] = [
    alice,
    alice,
    'admin@acme.test',
    alice,
    tomasz,
    'info@acme.test',
    alice,
    'admin@acme.test',
    tomasz,
    alice,
  ];
  for (let i = 0; i < 26; i++) {
    const guess = guesses[i % guesses.length] ?? alice;
    const locked = guess === alice && i >= 12;
    const base: Draft =
      typeof guess === 'string'
        ? {
            action: 'login.failed',
            category: 'logins',
            actor: { type: 'anonymous', email: guess },
            channel: 'ui',
            outcome: 'failure',
            description: 'Failed sign-in: unknown user',
            context: { ip: IP.attacker, userAgent: UA.pythonRequests },
            metadata: { reason: 'unknown_user' },
          }
        : {
            action: 'login.failed',
            category: 'logins',
            actor: actorOf(guess),
            channel: 'ui',
            outcome: 'failure',
            description: locked
              ? 'Failed sign-in: account locked after repeated failures'
              : 'Failed sign-in: invalid password',
            context: { ip: IP.attacker, userAgent: UA.pythonRequests },
            metadata: { reason: locked ? 'account_locked' : 'invalid_password' },
          };
    d.add(ms, base);
    ms += d.int(4, 15) * 1000;
  }
}

/** Olumide is on leave, in Lagos, for this many days before the demo is loaded. */
const LEAVE_DAYS = 3;

/** A working day of `p`'s: {@link Demo.dayFor}, moved out of Olumide's leave. */
function workingDay(d: Demo, p: Person): number {
  const day = d.dayFor(p);
  return p === olumide && day < LEAVE_DAYS ? day + LEAVE_DAYS : day;
}

function loginsAndActivity(d: Demo, burstDay: number): void {
  for (let i = 0; i < 44; i++) {
    const p = d.pick(OFFICE_STAFF);
    // Tomasz worked from Warsaw for a few days; Lars spent a week in Stockholm.
    const day = d.dayFor(p);
    const ip =
      p === lars && day >= 40 && day <= 44
        ? IP.stockholm
        : p === tomasz && day >= 29 && day <= 31
          ? IP.warsaw
          : p === alice && d.chance(0.3)
            ? IP.aliceHome
            : p.ip;
    officeSession(d, p, day, ip);
  }
  for (const day of [44, 43, 41]) officeSession(d, lars, day, IP.stockholm);
  officeSession(d, tomasz, 30, IP.warsaw);
  // Lars signs in at the office, then from Stockholm 36 minutes later.
  const lon = d.at(12, 8, 5, 12);
  loginSucceeded(d, lon, lars, IP.office, `sess_${d.hex(20)}`);
  loginSucceeded(d, lon + 36 * MINUTE_MS, lars, IP.stockholm, `sess_${d.hex(20)}`);

  for (let i = 0; i < 42; i++) {
    const p = d.pick(FIELD_STAFF);
    fieldShift(d, p, workingDay(d, p));
  }
  // Olumide checks his schedule from Lagos while on leave: the logins log's users mark his last
  // successful sign-in as from a new country.
  for (const day of [2, 1]) {
    const ms = d.at(day, 18);
    const sessionId = `sess_${d.hex(20)}`;
    loginSucceeded(d, ms, olumide, IP.lagos, sessionId);
    httpRequest(d, ms + 40_000, olumide, IP.lagos, sessionId, {
      method: 'GET',
      url: '/app/schedule?week=next',
      what: 'opened next week’s schedule in the mobile app',
    });
  }
  // A cleaner without a task at that customer is refused the code.
  codeAccessed(d, d.at(d.dayFor(jean), 6), jean, stAnnes, d.pick(stAnnes.keyRings), false);
  codeAccessed(d, d.at(d.dayFor(rafael), 7), rafael, oakwood, d.pick(oakwood.keyRings), false);
  // Forgotten passwords on the phone.
  for (let i = 0; i < 6; i++) {
    const p = d.pick(FIELD_STAFF);
    const ms = d.at(workingDay(d, p), d.int(5, 8));
    loginFailed(d, ms, p, p.ip, 'invalid_password');
    if (d.chance(0.7)) loginSucceeded(d, ms + d.int(20, 90) * 1000, p, p.ip, `sess_${d.hex(20)}`);
  }

  failedLoginBurst(d, burstDay);
  // Stray probes for guessed accounts.
  for (const [ip, email, day] of [
    [IP.probeRu, 'test@acme.test', 63],
    [IP.probeRu, 'administrator@acme.test', 63],
    [IP.probeBr, 'support@acme.test', 27],
  ] as const) {
    d.add(d.at(day, 3), {
      action: 'login.failed',
      category: 'logins',
      actor: { type: 'anonymous', email },
      channel: 'ui',
      outcome: 'failure',
      description: 'Failed sign-in: unknown user',
      context: { ip, userAgent: UA.winChrome },
      metadata: { reason: 'unknown_user' },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// changes

interface ChangeSpec {
  readonly action: string;
  readonly module: string;
  readonly description: string;
  readonly targets: readonly Target[];
  readonly changes?: readonly Change[];
  readonly channel?: NonNullable<EventInput['channel']>;
  readonly metadata?: Record<string, unknown>;
}

/** Who did something: a person, a program with an API key, or the system. */
type By = Person | ApiClient | Actor;

/** The actor, default channel and client context of whoever did something. */
function who(by: By): { actor: Actor; channel: 'ui' | 'api' | 'system'; context?: Context } {
  if ('license' in by) return { actor: actorOf(by), channel: 'ui', context: contextOf(by) };
  if ('key' in by) {
    return { actor: by.key, channel: 'api', context: { ip: by.ip, userAgent: by.userAgent } };
  }
  return { actor: by, channel: 'system' };
}

function change(d: Demo, ms: number, by: By, spec: ChangeSpec): void {
  const { actor, channel, context } = who(by);
  d.add(ms, {
    action: spec.action,
    category: 'changes',
    actor,
    channel: spec.channel ?? channel,
    description: spec.description,
    targets: [...spec.targets],
    ...(spec.changes ? { changes: [...spec.changes] } : {}),
    ...(context ? { context } : {}),
    metadata: { module: spec.module, ...spec.metadata },
  });
}

const company: Target = {
  type: 'company',
  id: 'acme',
  name: 'Acme Cleaning Ltd',
  url: `${APP}/my-data/company`,
};
const accountSettings: Target = {
  type: 'account_settings',
  id: 'account',
  name: 'Account & CRM settings',
  url: `${APP}/settings/account`,
};
const billing: Target = {
  type: 'plan',
  id: 'subscription',
  name: 'Plans and Billing',
  url: `${APP}/settings/billing`,
};
const workflow = (id: string, name: string): Target => ({
  type: 'workflow',
  id,
  name,
  url: `${APP}/settings/workflows/${id}`,
});
const territory = (id: string, name: string): Target => ({
  type: 'territory',
  id,
  name,
  url: `${APP}/settings/territories/${id}`,
});
const sequence = (id: string, name: string): Target => ({
  type: 'sales_sequence',
  id,
  name,
  url: `${APP}/sales/sequences/${id}`,
});

/** A program calling the product's API with its own key. */
interface ApiClient {
  readonly key: { type: 'api_key'; id: string; name: string };
  readonly ip: string;
  readonly userAgent: string;
}

const BOOKING: ApiClient = {
  key: { type: 'api_key', id: 'key_7hq2m', name: 'Website booking form' },
  ip: IP.bookingHost,
  userAgent: 'acme-booking/2.4.1 (+https://www.acme.test/book)',
};
const ZAPIER: ApiClient = {
  key: { type: 'api_key', id: 'key_zp91x', name: 'Zapier' },
  ip: IP.zapier,
  userAgent: 'Zapier',
};
const HR_SYNC: ApiClient = {
  key: { type: 'api_key', id: 'key_hr55b', name: 'BambooHR sync' },
  ip: IP.hrSync,
  userAgent: 'BambooHR-Sync/3.2',
};
const LEGACY_SCRIPT: ApiClient = {
  key: { type: 'api_key', id: 'key_old01', name: 'Legacy reporting script' },
  ip: IP.legacyScript,
  userAgent: 'curl/8.5.0',
};

function configurationChanges(d: Demo, burstDay: number): void {
  const c = (day: number, hour: number, by: Person | Actor, spec: ChangeSpec) =>
    change(d, d.at(day, hour), by, spec);
  c(86, 9, alice, {
    action: 'company.updated',
    module: 'Company data',
    description: 'Alice Hughes changed the system language from English (US) to English (UK)',
    targets: [company],
    changes: [{ field: 'language', before: 'en-US', after: 'en-GB' }],
  });
  c(85, 10, alice, {
    action: 'account_settings.updated',
    module: 'Account & CRM settings',
    description:
      'Alice Hughes set the time zone to Europe/London and the date format to DD/MM/YYYY',
    targets: [accountSettings],
    changes: [
      { field: 'timezone', before: 'UTC', after: 'Europe/London' },
      { field: 'date_format', before: 'MM/DD/YYYY', after: 'DD/MM/YYYY' },
    ],
  });
  c(84, 0, SYSTEM, {
    action: 'plan.updated',
    module: 'Plans and Billing',
    description: 'Trial ended: the account was subscribed to the Growth plan with 12 user licenses',
    targets: [billing],
    changes: [
      { field: 'plan', before: 'Trial', after: 'Growth' },
      { field: 'user_licenses', before: 5, after: 12 },
      { field: 'billing_cycle', before: null, after: 'monthly' },
    ],
  });
  c(80, 11, priya, {
    action: 'workflow.created',
    module: 'Workflows',
    description: 'Priya Raman created the workflow "New booking → notify supervisor"',
    targets: [workflow('WF-1042', 'New booking → notify supervisor')],
    changes: [
      { field: 'name', after: 'New booking → notify supervisor' },
      { field: 'conditions', after: ['source = website', 'service ≠ one-off'] },
      { field: 'actions', after: ['Send e-mail to territory supervisor'] },
      { field: 'enabled', after: true },
    ],
  });
  for (const [id, name] of [
    ['TER-07', 'North London'],
    ['TER-08', 'Docklands & Canary Wharf'],
  ] as const) {
    c(78, 14, tomasz, {
      action: 'territory.created',
      module: 'Territories',
      description: `Tomasz Kowalski created the territory "${name}"`,
      targets: [territory(id, name)],
      changes: [{ field: 'name', after: name }],
    });
  }
  c(76, 15, tomasz, {
    action: 'assignment_rule.created',
    module: 'Auto-assignment',
    description: 'Tomasz Kowalski created the assignment rule "Office contracts round-robin"',
    targets: [
      {
        type: 'assignment_rule',
        id: 'AR-31',
        name: 'Office contracts round-robin',
        url: `${APP}/settings/auto-assignment/AR-31`,
      },
    ],
    changes: [
      { field: 'filters', after: 'AND' },
      { field: 'conditions', after: ['contract type = office', 'territory = North London'] },
      { field: 'round_robin_users', after: ['Priya Raman', 'Lars Eriksson'] },
    ],
  });
  const outreach = sequence('SEQ-215', 'Office cleaning — cold outreach');
  c(74, 10, lars, {
    action: 'sales_sequence.created',
    module: 'Sales Sequence',
    description: 'Lars Eriksson created the sales sequence "Office cleaning — cold outreach"',
    targets: [outreach],
    changes: [
      { field: 'name', after: 'Office cleaning — cold outreach' },
      { field: 'enabled', after: false },
    ],
  });
  c(73, 11, lars, {
    action: 'sales_sequence.updated',
    module: 'Sales Sequence',
    description: 'Lars Eriksson added two steps to "Office cleaning — cold outreach"',
    targets: [outreach],
    changes: [
      {
        field: 'steps',
        before: ['Intro e-mail'],
        after: ['Intro e-mail', 'Follow-up call (day 3)', 'Case study e-mail (day 7)'],
      },
      { field: 'entry_conditions', before: [], after: ['lead source = website', 'employees ≥ 10'] },
    ],
  });
  c(72, 9, alice, {
    action: 'plan.updated',
    module: 'Plans and Billing',
    description: 'Alice Hughes upgraded to the Business plan with 15 user licenses, billed yearly',
    targets: [billing],
    changes: [
      { field: 'plan', before: 'Growth', after: 'Business' },
      { field: 'user_licenses', before: 12, after: 15 },
      { field: 'billing_cycle', before: 'monthly', after: 'yearly' },
    ],
  });
  for (const [row, id, name] of [
    [2, 'CUS-111024', 'Pinewood Care Home'],
    [3, 'CUS-111025', 'Aldgate Studios'],
    [4, 'CUS-111026', 'Marsh Lane Gym'],
  ] as const) {
    c(70, 16, tomasz, {
      action: 'customer.created',
      module: 'Customers',
      channel: 'import',
      description: `Customer ${name} created from the import of spring-contracts.csv (row ${row})`,
      targets: [{ type: 'customer', id, name, url: `${APP}/customers/${id}` }],
      changes: [{ field: 'name', after: name }],
      metadata: { file: 'spring-contracts.csv', row },
    });
  }
  const reminder = workflow('WF-0981', 'Overdue invoice reminder');
  c(66, 4, SYSTEM, {
    action: 'workflow.updated',
    module: 'Workflows',
    description:
      'Workflow "Overdue invoice reminder" was disabled automatically after 5 consecutive delivery failures',
    targets: [reminder],
    changes: [{ field: 'enabled', before: true, after: false }],
  });
  c(65, 9, hannah, {
    action: 'workflow.updated',
    module: 'Workflows',
    description: 'Hannah Schmidt re-enabled "Overdue invoice reminder" and narrowed its condition',
    targets: [reminder],
    changes: [
      { field: 'conditions', before: ['days overdue ≥ 7'], after: ['days overdue ≥ 14'] },
      { field: 'enabled', before: false, after: true },
    ],
  });
  c(64, 10, priya, {
    action: 'customer.updated',
    module: 'Customers',
    description: 'Priya Raman corrected the e-mail address of Oakwood Primary School',
    targets: [customerTarget(oakwood)],
    changes: [
      { field: 'email', before: 'bursar@oakwood-primary', after: 'bursar@oakwood-primary.example' },
    ],
  });
  for (const [day, before] of [
    [58, 40],
    [22, 65],
  ] as const) {
    c(day, 3, SYSTEM, {
      action: 'plan.updated',
      module: 'Plans and Billing',
      description: 'Automatic top-up: 500 phone credits were added',
      targets: [billing],
      changes: [{ field: 'phone_credits', before, after: before + 500 }],
    });
  }
  c(55, 14, hannah, {
    action: 'plan.updated',
    module: 'Plans and Billing',
    description: 'Hannah Schmidt changed the billing currency from EUR to GBP',
    targets: [billing],
    changes: [{ field: 'billing_currency', before: 'EUR', after: 'GBP' }],
  });
  c(50, 13, lars, {
    action: 'workflow.deleted',
    module: 'Workflows',
    description: 'Lars Eriksson deleted the workflow "Legacy: weekly summary e-mail"',
    targets: [workflow('WF-0977', 'Legacy: weekly summary e-mail')],
    changes: [{ field: 'name', before: 'Legacy: weekly summary e-mail' }],
  });
  c(48, 10, alice, {
    action: 'account_settings.updated',
    module: 'Account & CRM settings',
    description: 'Alice Hughes made Hannah Schmidt the primary contact',
    targets: [accountSettings],
    changes: [{ field: 'primary_contact', before: 'Alice Hughes', after: 'Hannah Schmidt' }],
  });
  c(40, 15, priya, {
    action: 'account_settings.updated',
    module: 'Account & CRM settings',
    description:
      'Priya Raman changed lead scoring, profile enrichment and Do-not-disturb e-mail rules',
    targets: [accountSettings],
    changes: [
      { field: 'intelligent_lead_scoring', before: false, after: true },
      { field: 'automatic_profile_enrichment', before: true, after: false },
      { field: 'block_email_to_do_not_disturb', before: false, after: true },
    ],
  });
  c(38, 11, tomasz, {
    action: 'territory.updated',
    module: 'Territories',
    description: 'Tomasz Kowalski renamed the territory "Docklands & Canary Wharf" to "Docklands"',
    targets: [territory('TER-08', 'Docklands')],
    changes: [
      { field: 'name', before: 'Docklands & Canary Wharf', after: 'Docklands' },
      { field: 'description', before: '', after: 'E14 and E16 postcodes' },
    ],
  });
  c(35, 16, tomasz, {
    action: 'assignment_rule.updated',
    module: 'Auto-assignment',
    description:
      'Tomasz Kowalski added Aisha Khan to the round-robin of "Office contracts round-robin"',
    targets: [
      {
        type: 'assignment_rule',
        id: 'AR-31',
        name: 'Office contracts round-robin',
        url: `${APP}/settings/auto-assignment/AR-31`,
      },
    ],
    changes: [
      {
        field: 'round_robin_users',
        before: ['Priya Raman', 'Lars Eriksson'],
        after: ['Priya Raman', 'Lars Eriksson', 'Aisha Khan'],
      },
    ],
  });
  change(d, d.at(33, 10, 4, 31), tomasz, {
    action: 'sms_gateway.updated',
    module: 'SMS gateways',
    description: 'Tomasz Kowalski replaced the API secret of the SMS gateway "Twilio UK"',
    targets: [
      { type: 'sms_gateway', id: 'twilio-uk', name: 'Twilio UK', url: `${APP}/settings/sms` },
    ],
    changes: [{ field: 'api_secret', sensitive: true }],
  });
  c(30, 9, alice, {
    action: 'product.updated',
    module: 'Products',
    description:
      'Alice Hughes raised the price of "Window cleaning (per visit)" from £28.00 to £32.00',
    targets: [
      {
        type: 'product',
        id: 'PRD-006',
        name: 'Window cleaning (per visit)',
        url: `${APP}/products/PRD-006`,
      },
    ],
    changes: [{ field: 'price', before: '28.00 GBP', after: '32.00 GBP' }],
  });
  c(26, 14, priya, {
    action: 'workflow.updated',
    module: 'Workflows',
    description: 'Priya Raman added an SMS action to "New booking → notify supervisor"',
    targets: [workflow('WF-1042', 'New booking → notify supervisor')],
    changes: [
      {
        field: 'actions',
        before: ['Send e-mail to territory supervisor'],
        after: ['Send e-mail to territory supervisor', 'Send SMS to customer'],
      },
    ],
  });
  // The morning after the failed-login burst.
  change(d, d.at(burstDay, 8, 31, 2), alice, {
    action: 'user.password.updated',
    module: 'My data',
    description: 'Alice Hughes changed her password',
    targets: [userTarget(alice)],
    changes: [{ field: 'password', sensitive: true }],
  });
  change(d, d.at(burstDay, 8, 36, 40), alice, {
    action: 'account_settings.updated',
    module: 'Account & CRM settings',
    description: 'Alice Hughes made two-factor sign-in mandatory for all users',
    targets: [accountSettings],
    changes: [{ field: 'require_two_factor', before: false, after: true }],
  });
  c(14, 12, lars, {
    action: 'territory.deleted',
    module: 'Territories',
    description: 'Lars Eriksson deleted the territory "Docklands"',
    targets: [territory('TER-08', 'Docklands')],
    changes: [{ field: 'name', before: 'Docklands' }],
  });
  c(8, 10, hannah, {
    action: 'plan.updated',
    module: 'Plans and Billing',
    description: 'Hannah Schmidt added 2 user licenses (15 → 17)',
    targets: [billing],
    changes: [{ field: 'user_licenses', before: 15, after: 17 }],
  });
  c(5, 15, lars, {
    action: 'sales_sequence.updated',
    module: 'Sales Sequence',
    description: 'Lars Eriksson moved the run time of "Office cleaning — cold outreach" to 10:00',
    targets: [outreach],
    changes: [
      { field: 'run_time', before: '09:00', after: '10:00' },
      { field: 'exit_criteria', before: 'OR', after: 'AND' },
    ],
  });
  c(3, 11, lars, {
    action: 'sales_sequence.deleted',
    module: 'Sales Sequence',
    description: 'Lars Eriksson deleted the sales sequence "Summer promo 2024"',
    targets: [sequence('SEQ-188', 'Summer promo')],
    changes: [{ field: 'name', before: 'Summer promo' }],
  });

  // Weekly recurring tasks, generated by the system every Monday night.
  for (let day = 1; day <= OLDEST_DAY; day++) {
    if (new Date(d.at(day, 1, 0, 0)).getUTCDay() !== 1) continue;
    const count = d.int(38, 52);
    change(d, d.at(day, 1, 0, d.int(5, 40)), SYSTEM, {
      action: 'task.created',
      module: 'Tasks',
      description: `${count} recurring tasks were generated for the week`,
      targets: [{ type: 'task_batch', id: `TB-${d.hex(6)}`, url: `${APP}/planner` }],
      metadata: { count },
    });
  }

  // Day-to-day planning: rescheduled visits and reassigned cleaners.
  for (let i = 0; i < 22; i++) {
    const by = d.pick(SUPERVISORS);
    const c2 = d.pick(CUSTOMERS);
    const task = `T-${d.int(58_000, 61_999)}`;
    const targets = [
      { type: 'task', id: task, name: `Regular clean — ${c2.name}`, url: `${APP}/tasks/${task}` },
      customerTarget(c2),
    ];
    const day = d.dayFor(by);
    if (d.chance(0.5)) {
      const [from, to] = [d.pick(FIELD_STAFF), d.pick(FIELD_STAFF)];
      if (from === to) continue;
      change(d, d.at(day, d.int(8, 17)), by, {
        action: 'task.updated',
        module: 'Tasks',
        description: `${by.name} reassigned the visit at ${c2.name} from ${from.name} to ${to.name}`,
        targets,
        changes: [{ field: 'assignee', before: from.name, after: to.name }],
      });
    } else {
      const days = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
      const [from, to] = [d.pick(days), d.pick(days)];
      if (from === to) continue;
      change(d, d.at(day, d.int(8, 17)), by, {
        action: 'task.updated',
        module: 'Tasks',
        description: `${by.name} moved the visit at ${c2.name} from ${from} to ${to}`,
        targets,
        changes: [{ field: 'weekday', before: from, after: to }],
      });
    }
  }

  // Contact details updated by the booking form and by Zapier.
  for (let i = 0; i < 8; i++) {
    const c2 = d.pick(CUSTOMERS);
    const client = d.chance(0.5) ? BOOKING : ZAPIER;
    const phone = `+447700900${d.int(100, 999)}`;
    change(d, d.at(d.workday(), d.int(6, 21)), client, {
      action: 'customer.updated',
      module: 'Customers',
      description: `${client.key.name} updated the phone number of ${c2.name}`,
      targets: [customerTarget(c2)],
      changes: [{ field: 'phone', before: c2.phone, after: phone }],
    });
  }
}

// ---------------------------------------------------------------------------------------------
// communications

/** What a provider says when a delivery report is not "delivered". */
const REASONS: Partial<Record<DeliveryStatus, string>> = {
  pending: 'Accepted by the gateway',
  deferred: '421 4.7.0 Greylisted, please try again later',
  hard_bounce: '550 5.1.1 The e-mail account that you tried to reach does not exist',
  soft_bounce: '452 4.2.2 Mailbox full',
  spam: 'Complaint via feedback loop',
  blocked: 'Receiver blocked the sender',
  unsubscribed: 'Receiver has unsubscribed from marketing messages',
  invalid_email: 'The address has no valid domain',
  external_error: '30003 Unreachable destination handset',
  internal_error: 'Template variable {visit_time} is missing',
};

interface Receipt {
  readonly customer: Customer;
  /** Delivery reports in order; the last one is the receiver's status. */
  readonly statuses: readonly DeliveryStatus[];
}

interface MessageSpec {
  readonly sender: Person | null;
  readonly type: 'email' | 'sms';
  readonly subject: string;
  readonly receipts: readonly Receipt[];
}

/** A `message.sent` event, then one delivery report per receiver (and retries). */
function message(d: Demo, ms: number, spec: MessageSpec): void {
  const id = `MSG-${d.next('message', 300_101)}`;
  const mode = spec.sender ? 'manual' : 'automated';
  const kind = spec.type === 'email' ? 'e-mail' : 'SMS';
  const messageTarget: Target = {
    type: 'message',
    id,
    name: spec.subject,
    url: `${APP}/event-log/communications/${id}`,
  };
  const address = (c: Customer) => (spec.type === 'email' ? c.email : c.phone);
  const names = spec.receipts.map((r) => r.customer.name);
  const to = names.length === 1 ? names.join('') : `${names.length} receivers`;
  d.add(ms, {
    action: 'message.sent',
    category: 'communications',
    actor: spec.sender ? actorOf(spec.sender) : SYSTEM,
    channel: spec.sender ? 'ui' : 'system',
    status: 'sent',
    description: spec.sender
      ? `${spec.sender.name} sent the ${kind} "${spec.subject}" to ${to}`
      : `Automated ${kind} "${spec.subject}" sent to ${to}`,
    targets: [messageTarget, ...spec.receipts.map((r) => customerTarget(r.customer))],
    ...(spec.sender ? { context: contextOf(spec.sender) } : {}),
    metadata: {
      type: spec.type,
      mode,
      subject: spec.subject,
      receivers: spec.receipts.map((r) => ({
        name: r.customer.name,
        address: address(r.customer),
      })),
    },
  });
  for (const receipt of spec.receipts) {
    let at = ms + d.int(3, 90) * 1000;
    for (const status of receipt.statuses) {
      const rule = DELIVERY_ACTIONS[status];
      const reason = REASONS[status];
      const c = receipt.customer;
      d.add(at, {
        action: rule.action,
        category: 'communications',
        actor: SYSTEM,
        channel: 'system',
        ...(rule.failure ? { outcome: 'failure' as const } : {}),
        status,
        description: `${kind === 'SMS' ? kind : 'E-mail'} "${spec.subject}" to ${c.name}: ${status.replace(/_/g, ' ')}`,
        targets: [messageTarget, customerTarget(c)],
        metadata: {
          type: spec.type,
          mode,
          subject: spec.subject,
          receiver: { name: c.name, address: address(c) },
          ...(reason ? { reason } : {}),
        },
      });
      at += d.int(15, 95) * MINUTE_MS;
    }
  }
}

function communications(d: Demo): void {
  const one = (c: Customer, ...statuses: DeliveryStatus[]): Receipt[] => [
    { customer: c, statuses: statuses.length > 0 ? statuses : ['delivered'] },
  ];
  // Monthly invoice runs.
  for (const [day, customers] of [
    [
      68,
      [harbourView, northgate, kingsleyWebb, oakwood, fenwick, blueDoor, hotelMarlow, riverside],
    ],
    [38, [harbourView, northgate, kingsleyWebb, oakwood, stAnnes, fenwick, greenleaf]],
    [8, [harbourView, northgate, kingsleyWebb, oakwood, stAnnes, copperKettle, fenwick]],
  ] as const) {
    for (const c of customers) {
      const invoice = `INV-${d.next('invoice', 10_401)}`;
      const statuses: DeliveryStatus[] =
        c === oakwood && day > 64
          ? ['invalid_email']
          : c === riverside
            ? ['hard_bounce']
            : c === fenwick
              ? ['deferred', 'delivered']
              : c === blueDoor
                ? ['soft_bounce']
                : ['delivered'];
      message(d, d.at(day, 6, d.int(0, 20)), {
        sender: null,
        type: 'email',
        subject: `Your invoice ${invoice} from Acme Cleaning Ltd`,
        receipts: [{ customer: c, statuses }],
      });
    }
  }
  // Automated visit reminders by SMS and e-mail.
  for (let i = 0; i < 12; i++) {
    const c = d.pick([patel, larsen, brightFutures, copperKettle, greenleaf]);
    const sms = d.chance(0.6);
    const day = d.int(1, OLDEST_DAY);
    message(d, d.at(day, 17, d.int(0, 5)), {
      sender: null,
      type: sms ? 'sms' : 'email',
      subject: sms ? 'Reminder: your cleaner visits tomorrow' : 'Reminder: cleaning visit tomorrow',
      receipts: one(c),
    });
  }
  message(d, d.at(47, 17, 2), {
    sender: null,
    type: 'sms',
    subject: 'Reminder: your cleaner visits tomorrow',
    receipts: one(patel, 'internal_error'),
  });
  // The Patels' number was a landline: the carrier could not deliver the SMS.
  message(d, d.at(73, 17, 4), {
    sender: null,
    type: 'sms',
    subject: 'Reminder: your cleaner visits tomorrow',
    receipts: one(patel, 'external_error'),
  });
  // Ingrid Larsen blocked SMS from Acme after a week of reminders.
  message(d, d.at(57, 17, 1), {
    sender: null,
    type: 'sms',
    subject: 'Reminder: your cleaner visits tomorrow',
    receipts: one(larsen, 'blocked'),
  });
  // A reminder whose handset has not reported back yet.
  message(d, d.at(1, 17, 3), {
    sender: null,
    type: 'sms',
    subject: 'Reminder: your cleaner visits tomorrow',
    receipts: one(larsen, 'pending'),
  });
  // Manual messages from the office.
  const manual: readonly [Person, 'email' | 'sms', string][] = [
    [priya, 'email', 'Quote for a one-off deep clean'],
    [priya, 'email', 'Change of cleaning day from next week'],
    [lars, 'email', 'Key handover for the new contract'],
    [lars, 'email', 'Holiday cover in August'],
    [tomasz, 'email', 'Updated risk assessment'],
    [hannah, 'email', 'Payment reminder'],
    [aisha, 'email', 'Introduction: your new area supervisor'],
    [priya, 'sms', 'Running 15 minutes late'],
    [lars, 'sms', 'Please leave the side gate unlocked'],
    [aisha, 'sms', 'Running 15 minutes late'],
  ];
  for (const [sender, type, subject] of manual) {
    message(d, d.at(d.dayFor(sender), d.int(8, 16)), {
      sender,
      type,
      subject,
      receipts: one(d.pick(HAPPY_CUSTOMERS)),
    });
  }
  // A campaign e-mail to several receivers whose fates differ: the message shows "mixed".
  message(d, d.at(29, 10, 12, 40), {
    sender: priya,
    type: 'email',
    subject: 'This month: 20% off window cleaning',
    receipts: [
      { customer: harbourView, statuses: ['delivered'] },
      { customer: northgate, statuses: ['delivered'] },
      { customer: riverside, statuses: ['hard_bounce'] },
      { customer: hotelMarlow, statuses: ['delivered', 'spam'] },
      { customer: blueDoor, statuses: ['soft_bounce'] },
      { customer: fenwick, statuses: ['deferred', 'delivered'] },
      { customer: greenleaf, statuses: ['unsubscribed'] },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// sms (gateway send log)

const SMS_ERRORS: readonly { status: DeliveryStatus; error: string }[] = [
  { status: 'external_error', error: '30003 Unreachable destination handset' },
  { status: 'external_error', error: '30005 Unknown destination handset' },
  { status: 'external_error', error: '30006 Landline or unreachable carrier' },
  { status: 'unsubscribed', error: '21610 Attempt to send to unsubscribed recipient' },
  { status: 'blocked', error: '30007 Message filtered by the carrier' },
];

function smsCampaign(
  d: Demo,
  start: number,
  campaign: { id: string; name: string; gateway: string; size: number; failureRate: number },
  authFailures = 0,
): void {
  const target: Target = {
    type: 'sms_campaign',
    id: campaign.id,
    name: campaign.name,
    url: `${APP}/sms/campaigns/${campaign.id}`,
  };
  let ms = start;
  for (let i = 0; i < campaign.size; i++) {
    const phone = `+447700900${String(d.int(0, 999)).padStart(3, '0')}`;
    const messageId = `SM${d.hex(32)}`;
    const failure =
      i < authFailures
        ? { status: 'internal_error' as const, error: '20003 Authentication failed at the gateway' }
        : d.chance(campaign.failureRate)
          ? d.pick(SMS_ERRORS)
          : null;
    d.add(ms, {
      action: failure ? 'sms.failed' : 'sms.sent',
      category: 'sms',
      actor: SYSTEM,
      channel: 'system',
      ...(failure ? { outcome: 'failure' as const } : {}),
      status: failure ? failure.status : 'sent',
      description: failure
        ? `SMS for campaign "${campaign.name}" to ${phone} failed: ${failure.error}`
        : `SMS for campaign "${campaign.name}" sent to ${phone} via ${campaign.gateway}`,
      targets: [target],
      metadata: {
        messageId,
        campaign: campaign.name,
        phone,
        gateway: campaign.gateway,
        ...(failure ? { error: failure.error } : {}),
      },
    });
    // After the gateway refuses the old secret, sending resumes once it has been replaced.
    ms += i + 1 === authFailures ? 6 * MINUTE_MS : d.int(1, 6) * 1000;
  }
}

function smsLog(d: Demo): void {
  smsCampaign(d, d.at(62, 10, 0, 0), {
    id: 'CMP-2041',
    name: 'Deep-clean offer: 15% off',
    gateway: 'Twilio UK',
    size: 24,
    failureRate: 0.12,
  });
  smsCampaign(
    d,
    d.at(33, 10, 0, 5),
    {
      id: 'CMP-2057',
      name: 'Appointment reminders',
      gateway: 'Twilio UK',
      size: 18,
      failureRate: 0.05,
    },
    4,
  );
  smsCampaign(d, d.at(12, 11, 30, 0), {
    id: 'CMP-2063',
    name: 'Window cleaning season',
    gateway: 'Vonage (backup)',
    size: 20,
    failureRate: 0.1,
  });
}

// ---------------------------------------------------------------------------------------------
// integrations

const XERO: Actor = { type: 'integration', id: 'xero', name: 'Xero' };
const GCAL: Actor = { type: 'integration', id: 'google-calendar', name: 'Google Calendar' };

function integrationTarget(system: Actor): Target {
  const id = system.id ?? 'unknown';
  return {
    type: 'integration',
    id,
    name: system.name ?? id,
    url: `${APP}/settings/integrations/${id}`,
  };
}

function integration(
  d: Demo,
  ms: number,
  system: Actor,
  by: Person | null,
  spec: {
    action: string;
    status: 'ok' | 'error' | 'notification';
    description: string;
    targets?: readonly Target[];
    changes?: readonly Change[];
    metadata?: Record<string, unknown>;
  },
): void {
  d.add(ms, {
    action: spec.action,
    category: 'integrations',
    actor: by ? actorOf(by) : system,
    channel: by ? 'ui' : 'integration',
    ...(spec.status === 'error' ? { outcome: 'failure' as const } : {}),
    status: spec.status,
    description: spec.description,
    targets: [integrationTarget(system), ...(spec.targets ?? [])],
    ...(spec.changes ? { changes: [...spec.changes] } : {}),
    ...(by ? { context: contextOf(by) } : {}),
    metadata: { system: system.name, ...spec.metadata },
  });
}

function integrations(d: Demo): void {
  integration(d, d.at(87, 10), XERO, hannah, {
    action: 'integration.connected',
    status: 'ok',
    description: 'Hannah Schmidt connected Xero (organisation "Acme Cleaning Ltd")',
  });
  integration(d, d.at(80, 11), GCAL, priya, {
    action: 'integration.connected',
    status: 'ok',
    description: 'Priya Raman connected Google Calendar (calendar "Acme field team")',
  });
  integration(d, d.at(79, 9), GCAL, priya, {
    action: 'integration.settings.updated',
    status: 'ok',
    description: 'Priya Raman switched Google Calendar to two-way sync',
    changes: [{ field: 'sync_direction', before: 'one-way', after: 'two-way' }],
  });
  // Nightly invoice export to Xero, twice a week, with a few rejected invoices; the newest
  // export always rejects one, so that on any day there is an error left to acknowledge.
  const exportDay = (day: number) => [2, 5].includes(new Date(d.at(day, 12, 0, 0)).getUTCDay());
  let newest = 1;
  while (!exportDay(newest)) newest++;
  for (let day = 1; day <= 86; day++) {
    if (!exportDay(day)) continue;
    const count = d.int(3, 14);
    const ms = d.at(day, 2, d.int(0, 10));
    if (d.chance(0.15) || day === newest) {
      const invoice = `INV-${d.int(10_380, 10_520)}`;
      integration(d, ms, XERO, null, {
        action: 'integration.invoice_export_failed',
        status: 'error',
        description: `Xero rejected invoice ${invoice}: account code 200 is archived`,
        targets: [{ type: 'invoice', id: invoice, url: `${APP}/invoices/${invoice}` }],
        metadata: { error: 'ValidationException: Account code 200 is archived' },
      });
    }
    integration(d, ms + 45_000, XERO, null, {
      action: 'integration.invoices_exported',
      status: 'ok',
      description: `${count} invoices exported to Xero`,
      metadata: { count },
    });
  }
  integration(d, d.at(31, 7), XERO, null, {
    action: 'integration.token_expiring',
    status: 'notification',
    description: 'The Xero connection expires in 7 days; reconnect it to keep exporting invoices',
    metadata: { expiresInDays: 7 },
  });
  integration(d, d.at(27, 9), XERO, hannah, {
    action: 'integration.reconnected',
    status: 'ok',
    description: 'Hannah Schmidt reconnected Xero',
  });
  // Weekly calendar sync summaries, and an outage while the calendar was not shared.
  for (let day = 2; day <= 78; day += 7) {
    const count = d.int(40, 75);
    integration(d, d.at(day, 5), GCAL, null, {
      action: 'integration.calendar_synced',
      status: 'ok',
      description: `${count} visits synchronised with Google Calendar`,
      metadata: { count },
    });
  }
  for (const hour of [5, 6, 7]) {
    integration(d, d.at(19, hour, 0), GCAL, null, {
      action: 'integration.sync_failed',
      status: 'error',
      description: 'Google Calendar returned 403: the calendar "Acme field team" is not shared',
      metadata: { error: '403 Forbidden: insufficientPermissions' },
    });
  }
  integration(d, d.at(19, 9, 12), GCAL, lars, {
    action: 'integration.settings.updated',
    status: 'ok',
    description: 'Lars Eriksson re-shared the calendar "Acme field team" with Acme Cleaning',
    changes: [
      { field: 'calendar', before: 'Acme field team (not shared)', after: 'Acme field team' },
    ],
  });
  integration(d, d.at(19, 9, 20), GCAL, null, {
    action: 'integration.sync_resumed',
    status: 'notification',
    description: 'Google Calendar sync resumed; 3 missed runs were caught up',
  });
  // Administrators acknowledge what they have dealt with; later Xero errors still need it.
  acknowledge(d, d.at(19, 9, 25), GCAL, lars);
  acknowledge(d, d.at(27, 9, 5), XERO, hannah);
}

/** The event type an administrator's acknowledgement of a system's errors is recorded as. */
const ACKNOWLEDGED = 'integration.acknowledged';

/** An administrator acknowledges a system's errors and notifications (the integrations view). */
function acknowledge(d: Demo, ms: number, system: Actor, by: Person): void {
  d.add(ms, {
    action: ACKNOWLEDGED,
    category: 'integrations',
    actor: actorOf(by),
    channel: 'ui',
    description: `Acknowledged the errors and notifications of ${system.name}`,
    targets: [integrationTarget(system)],
    context: contextOf(by),
    metadata: { system: system.name },
  });
}

// ---------------------------------------------------------------------------------------------
// api

interface ApiCall {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

function apiRequest(d: Demo, ms: number, client: ApiClient, call: ApiCall): void {
  d.add(ms, {
    action: 'api.request',
    category: 'api',
    actor: client.key,
    channel: 'api',
    ...(call.status >= 400 ? { outcome: 'failure' as const } : {}),
    description: `${client.key.name}: ${call.method} ${call.url.split('?')[0] ?? call.url} → ${call.status}`,
    context: {
      ip: client.ip,
      userAgent: client.userAgent,
      requestId: `req_${d.hex(16)}`,
      http: { ...call, durationMs: d.int(12, 90) * d.int(1, 8) },
    },
  });
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function apiTraffic(d: Demo): void {
  for (let i = 0; i < 46; i++) {
    const ms = d.at(d.int(0, OLDEST_DAY), d.int(6, 22));
    const call: ApiCall = d.chance(0.55)
      ? {
          method: 'GET',
          url: `/api/v1/availability?postcode=E14&date=${isoDate(ms + d.int(1, 14) * DAY_MS)}`,
          status: d.chance(0.05) ? 429 : 200,
        }
      : { method: 'POST', url: '/api/v1/bookings', status: d.chance(0.1) ? 422 : 201 };
    apiRequest(d, ms, BOOKING, call);
  }
  for (let i = 0; i < 44; i++) {
    const ms = d.at(d.int(0, OLDEST_DAY), d.int(0, 23));
    const c = d.pick(CUSTOMERS);
    const roll = d.int(0, 9);
    const call: ApiCall =
      roll < 6
        ? {
            method: 'GET',
            url: `/api/v1/customers?updated_since=${new Date(ms - 3_600_000).toISOString()}`,
            status: 200,
          }
        : roll < 8
          ? { method: 'PUT', url: `/api/v1/customers/${c.id}`, status: 200 }
          : roll < 9
            ? { method: 'POST', url: '/api/v1/customers', status: 201 }
            : { method: 'GET', url: '/api/v1/customers/CUS-099999', status: 404 };
    apiRequest(d, ms, ZAPIER, call);
  }
  for (let day = 1; day <= OLDEST_DAY; day += 7) {
    apiRequest(d, d.at(day, 4, 0), HR_SYNC, {
      method: 'GET',
      url: '/api/v1/users',
      status: 200,
    });
  }
  // The booking form keeps working while the demo runs: the newest events are minutes old.
  for (const minutes of [3, 17, 41, 58, 96, 133, 170, 224]) {
    const ms = d.ago(minutes);
    apiRequest(d, ms, BOOKING, {
      method: 'GET',
      url: `/api/v1/availability?postcode=N1&date=${isoDate(ms + d.int(1, 14) * DAY_MS)}`,
      status: 200,
    });
  }
  // A reporting script still running with a revoked key.
  for (let i = 0; i < 6; i++) {
    apiRequest(d, d.at(d.int(2, 20), 7, 0, d.int(0, 5)), LEGACY_SCRIPT, {
      method: 'GET',
      url: '/api/v1/reports/hours?period=week',
      status: 401,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// users

function userEvent(
  d: Demo,
  ms: number,
  by: Person | ApiClient,
  subject: Person,
  spec: {
    action: string;
    description: string;
    channel: 'ui' | 'api' | 'import';
    changes?: readonly Change[];
    failed?: boolean;
    metadata?: Record<string, unknown>;
  },
): void {
  const { actor, context } = who(by);
  d.add(ms, {
    action: spec.action,
    category: 'users',
    actor,
    channel: spec.channel,
    ...(spec.failed ? { outcome: 'failure' as const } : {}),
    description: spec.description,
    targets: [userTarget(subject)],
    ...(spec.changes ? { changes: [...spec.changes] } : {}),
    ...(context ? { context } : {}),
    ...(spec.metadata ? { metadata: spec.metadata } : {}),
  });
}

function userManagement(d: Demo): void {
  userEvent(d, d.at(84, 9), alice, diego, {
    action: 'user.created',
    channel: 'ui',
    description: 'Created a user',
    changes: [{ field: 'license', after: diego.license }],
  });
  for (const [row, p] of [
    [2, mei],
    [3, rafael],
    [4, ben],
  ] as const) {
    userEvent(d, d.at(70, 15, 42, row), tomasz, p, {
      action: 'user.created',
      channel: 'import',
      description: `Created a user from the import of seasonal-staff.csv (row ${row})`,
      changes: [{ field: 'license', after: 'Field' }],
      metadata: { file: 'seasonal-staff.csv', row },
    });
  }
  const hrCreate = d.at(45, 4, 1, 12);
  apiRequest(d, hrCreate - 300, HR_SYNC, {
    method: 'POST',
    url: '/api/v1/users',
    status: 201,
  });
  userEvent(d, hrCreate, HR_SYNC, aisha, {
    action: 'user.created',
    channel: 'api',
    description: 'Created a user',
    changes: [{ field: 'license', after: 'Field' }],
  });
  userEvent(d, d.at(44, 10), alice, aisha, {
    action: 'user.license.updated',
    channel: 'ui',
    description: 'Changed the license from Field to Office',
    changes: [{ field: 'license', before: 'Field', after: 'Office' }],
  });
  userEvent(d, d.at(43, 11), alice, priya, {
    action: 'user.admin_rights.updated',
    channel: 'ui',
    description: 'Granted admin rights',
    changes: [{ field: 'admin', before: false, after: true }],
  });
  userEvent(d, d.at(42, 16, 5), alice, alice, {
    action: 'user.admin_rights.updated',
    channel: 'ui',
    failed: true,
    description:
      'Could not remove their own admin rights: the account owner must keep admin rights',
    changes: [{ field: 'admin', before: true, after: false }],
  });
  userEvent(d, d.at(36, 15, 40, 3), tomasz, mei, {
    action: 'user.license.updated',
    channel: 'import',
    description: 'License changed from Field to Field Plus by the import of licenses.csv',
    changes: [{ field: 'license', before: 'Field', after: 'Field Plus' }],
    metadata: { file: 'licenses.csv', row: 2 },
  });
  userEvent(d, d.at(25, 4, 1, 40), HR_SYNC, lars, {
    action: 'user.license.updated',
    channel: 'api',
    description: 'Changed the license from Office to Office Plus',
    changes: [{ field: 'license', before: 'Office', after: 'Office Plus' }],
  });
  userEvent(d, d.at(21, 17, 2), tomasz, ben, {
    action: 'user.deleted',
    channel: 'ui',
    description: 'Deleted the user',
  });
  userEvent(d, d.at(15, 12), priya, lars, {
    action: 'user.admin_rights.updated',
    channel: 'ui',
    description: 'Removed the admin rights',
    changes: [{ field: 'admin', before: true, after: false }],
  });
  const hrDelete = d.at(9, 4, 2, 8);
  apiRequest(d, hrDelete - 250, HR_SYNC, {
    method: 'DELETE',
    url: `/api/v1/users/${rafael.id}`,
    status: 204,
  });
  userEvent(d, hrDelete, HR_SYNC, rafael, {
    action: 'user.deleted',
    channel: 'api',
    description: 'Deleted the user (contract ended)',
  });
}

// ---------------------------------------------------------------------------------------------
// audit

function auditTrail(d: Demo, burstDay: number): void {
  const view = (ms: number, p: Person, category: string, extra: Record<string, unknown> = {}) =>
    d.add(ms, {
      action: 'audit_log.viewed',
      category: 'audit',
      actor: actorOf(p),
      channel: 'ui',
      description: `Viewed the ${category} log`,
      targets: [
        {
          type: 'audit_log',
          id: category,
          name: `${category[0]?.toUpperCase() ?? ''}${category.slice(1)} log`,
          url: `${APP}/settings/audit-log/${category}`,
        },
      ],
      context: contextOf(p),
      metadata: { category, ...extra },
    });
  const exported = (ms: number, p: Person, category: string, format: string, events: number) =>
    d.add(ms, {
      action: 'audit_log.exported',
      category: 'audit',
      actor: actorOf(p),
      channel: 'ui',
      description: `Exported ${events} events of the ${category} log as ${format.toUpperCase()}`,
      targets: [
        {
          type: 'audit_log',
          id: category,
          name: `${category[0]?.toUpperCase() ?? ''}${category.slice(1)} log`,
          url: `${APP}/settings/audit-log/${category}`,
        },
      ],
      context: contextOf(p),
      metadata: { category, format, events },
    });
  view(d.at(80, 12), alice, 'changes');
  view(d.at(64, 9), priya, 'communications', { query: 'status:invalid_email' });
  view(d.at(burstDay, 8, 20, 15), alice, 'logins', { query: 'outcome:failure' });
  exported(d.at(burstDay, 8, 24, 51), alice, 'logins', 'csv', 26);
  view(d.at(burstDay, 9, 2, 0), tomasz, 'logins', { query: 'ip:175.16.199.0' });
  view(d.at(21, 17, 10), tomasz, 'users');
  exported(d.at(18, 11), hannah, 'changes', 'pdf', 14);
  view(d.at(19, 9, 30), lars, 'integrations', { query: 'status:error' });
  view(d.at(6, 14), alice, 'api', { query: 'outcome:failure' });
  exported(d.at(2, 10), alice, 'users', 'ndjson', 16);
}

// ---------------------------------------------------------------------------------------------

/**
 * Three months of the audit trail of Acme Cleaning Ltd: several hundred events in every
 * category of SPEC §4, ending at `now`.
 *
 * Deterministic for a given `now` and `seed`: times are offsets from `now`, ids are
 * `demo-000001`… in time order. Every event is valid input for `POST /v1/events`.
 *
 * @example
 * const events = demoEvents(new Date());
 * // events[0] → { tenant: 'acme', id: 'demo-000001', time: '…Z', category: 'integrations', … }
 */
export function demoEvents(
  now: Date,
  options: { tenant?: string; seed?: number } = {},
): EventInput[] {
  const d = new Demo(now, options.seed ?? 20_250_601);
  const burstDay = 17;
  loginsAndActivity(d, burstDay);
  configurationChanges(d, burstDay);
  communications(d);
  smsLog(d);
  integrations(d);
  apiTraffic(d);
  userManagement(d);
  auditTrail(d, burstDay);
  return d.events(options.tenant ?? DEMO_TENANT);
}
