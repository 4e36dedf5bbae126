/**
 * The workload of the derived-views benchmark (issue #5): one tenant's audit trail of `total`
 * events over `days`, every event shaped as docs/event-conventions.md says, so that each built-in
 * view has realistic data to derive from: sign-ins of ~3,000 accounts (and of unknown e-mails)
 * from several countries, messages to 1–20 receivers with their delivery reports (some before
 * their `message.sent`, some sent twice), a dozen connected systems with the odd
 * acknowledgement, and the other logs around them.
 *
 * Events come out in arrival order: the clock moves by `days / total` per stored event, and
 * follow-ups (delivery reports, late `message.sent` events, webhook retries, acknowledgements)
 * are queued for the time they arrive. Generation is deterministic for a seed and `now`; only
 * the ids the server assigns differ between runs.
 */
import type { EventInput } from '@hindsight/core';
import { prng } from './workload.js';

export const VIEWS_TENANT = 'views-bench';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const APP = 'https://app.vb-cleaning.test';

/** Share of the events per category; follow-ups count with the category that causes them. */
export const VIEWS_MIX = {
  requests: 0.4,
  api: 0.2,
  logins: 0.1,
  changes: 0.1,
  communications: 0.08,
  access: 0.04,
  integrations: 0.03,
  sms: 0.03,
  users: 0.02,
} as const;
type Category = keyof typeof VIEWS_MIX;

type Actor = EventInput['actor'];
type Target = NonNullable<EventInput['targets']>[number];
const SYSTEM: Actor = { type: 'system' };

// ---------------------------------------------------------------------------------------------
// Where people are: /24 networks the bundled DB-IP database places (from the demo's addresses).

const NETWORKS: Record<string, readonly string[]> = {
  GB: ['81.2.69', '82.132.200', '213.52.128', '2.125.160'],
  SE: ['89.160.20'],
  PL: ['83.0.0'],
  NG: ['105.112.0'],
  DE: ['88.198.1'],
  US: ['216.160.83'],
  FR: ['90.0.0'],
  CN: ['175.16.199'],
  RU: ['95.24.0'],
  BR: ['177.0.0'],
};
/** Where employees live: mostly the UK, some abroad. */
const HOME_COUNTRIES: ReadonlyArray<[string, number]> = [
  ['GB', 0.78],
  ['PL', 0.06],
  ['SE', 0.04],
  ['DE', 0.03],
  ['FR', 0.03],
  ['US', 0.02],
  ['NG', 0.02],
  ['BR', 0.02],
];
/** Where password guessers sign in from. */
const ATTACK_COUNTRIES: ReadonlyArray<[string, number]> = [
  ['CN', 0.45],
  ['RU', 0.3],
  ['BR', 0.15],
  ['NG', 0.1],
];
/** Every country the workload's addresses geolocate to. */
export const VIEWS_COUNTRIES = Object.keys(NETWORKS);

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
];
const SCRIPT_AGENT = 'python-requests/2.31.0';

// ---------------------------------------------------------------------------------------------
// The company: 3,000 employees (50 first names × 60 surnames), 20,000 customers.

const FIRST_NAMES =
  'Alice Tomasz Priya Kwame Hannah Mei Oliver Amara Lukas Sofia James Fatima Noah Ingrid Mateo Chloe Daniel Yuki Samuel Elena Omar Grace Henrik Aisha Leo Nadia Felix Zara Ethan Maja Arjun Ruth Victor Ines Marcus Leila Jonas Tara Hugo Esther Kofi Lena Rafael Anya George Selin Ibrahim Clara Piotr Maeve'.split(
    ' ',
  );
const SURNAMES =
  'Hughes Kowalski Raman Mensah Schmidt Chen Walker Okafor Berg Rossi Patel Nowak Silva Jensen Murphy Kim Fischer Adeyemi Novak Larsen Garcia Brown Ivanova Khan Dubois Moreau Lindqvist Osei Wright Taylor Bianchi Nielsen Costa Evans Haddad Yilmaz Andersson Mahmoud Kaur Thompson Lopez Petrov Sato Okonkwo Fernandes Clarke Wojcik Hansen Singh Morgan Zielinski Baker Ahmed Eriksson Turner Romero Johansson Ali Dawson Reid'.split(
    ' ',
  );
export const EMPLOYEES = FIRST_NAMES.length * SURNAMES.length;
/** Parts of names and e-mails that a search for people would type. */
export const NAME_FRAGMENTS = [
  ...SURNAMES.map((s) => s.slice(0, 4).toLowerCase()),
  ...FIRST_NAMES.slice(0, 20).map((f) => f.toLowerCase()),
  'son',
  'sen',
  'ski',
  'ova',
];

const CUSTOMER_A =
  'Harbour Riverside Northgate Kingsway Meadow Oakfield Bridge Victoria Station Willow Castle Elm Granite Lakeside Maple Orchard Park Quay Regent Summit Thames Union Vale Westfield Abbey Beacon Canal Dock Forge Garden Heath Iron Linden Marsh Mill Priory Rose Silver Tower York'.split(
    ' ',
  );
const CUSTOMER_B =
  'View Court House Point Gate Lane Row Square Hall Works Yard Place Wharf Cross Green Rise Mews Corner End Side Field Bank Hill Road Terrace'.split(
    ' ',
  );
const CUSTOMER_KIND = [
  'Dental',
  'Physiotherapy',
  'Apartments',
  'Medical Centre',
  'Veterinary',
  'Bakery',
  'Hotel',
  'Nursery',
  'Offices',
  'Gym',
  'Library',
  'Pharmacy',
  'Studios',
  'Surgery',
  'Care Home',
  'Dental Lab',
  'Opticians',
  'Primary School',
  'Garage',
  'Chambers',
];
const CUSTOMERS = CUSTOMER_A.length * CUSTOMER_B.length * CUSTOMER_KIND.length;

interface Person {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly country: string;
  readonly ip: string;
  readonly userAgent: string;
}

const SYSTEMS: ReadonlyArray<{ id: string; name: string; weight: number }> = [
  { id: 'xero', name: 'Xero', weight: 12 },
  { id: 'quickbooks', name: 'QuickBooks Online', weight: 4 },
  { id: 'hubspot', name: 'HubSpot', weight: 10 },
  { id: 'salesforce', name: 'Salesforce', weight: 6 },
  { id: 'zapier', name: 'Zapier', weight: 16 },
  { id: 'slack', name: 'Slack', weight: 14 },
  { id: 'google-calendar', name: 'Google Calendar', weight: 12 },
  { id: 'microsoft-365', name: 'Microsoft 365', weight: 8 },
  { id: 'mailchimp', name: 'Mailchimp', weight: 5 },
  { id: 'stripe', name: 'Stripe', weight: 7 },
  { id: 'bamboohr', name: 'BambooHR', weight: 3 },
  { id: 'twilio', name: 'Twilio', weight: 3 },
];
export const VIEWS_SYSTEMS = SYSTEMS.map((s) => s.id);

const API_KEYS: ReadonlyArray<{ id: string; name: string; ip: string; ua: string }> = [
  { id: 'key_booking', name: 'Booking site', ip: '88.198.1.17', ua: 'node-fetch/1.0' },
  { id: 'key_zapier', name: 'Zapier', ip: '216.160.83.56', ua: 'Zapier' },
  { id: 'key_hr', name: 'HR sync', ip: '2001:480::1', ua: SCRIPT_AGENT },
  { id: 'key_old01', name: 'Legacy reporting script', ip: '90.0.0.1', ua: 'curl/8.5.0' },
  { id: 'key_mobile', name: 'Mobile app backend', ip: '88.198.1.90', ua: 'okhttp/4.12.0' },
  { id: 'key_bi', name: 'BI warehouse export', ip: '89.160.20.112', ua: 'Go-http-client/2.0' },
];
const API_CALLS: ReadonlyArray<[method: string, path: string]> = [
  ['GET', '/api/v1/customers?page=%n'],
  ['GET', '/api/v1/visits?from=2026-01-01&page=%n'],
  ['POST', '/api/v1/visits'],
  ['PATCH', '/api/v1/customers/CUS-%c'],
  ['GET', '/api/v1/invoices/INV-%n'],
  ['GET', '/api/v1/reports/hours?period=week'],
  ['DELETE', '/api/v1/visits/VIS-%n'],
];

const MODULES: ReadonlyArray<[resource: string, module: string, prefix: string, path: string]> = [
  ['workflow', 'Workflows', 'WF', '/settings/workflows/'],
  ['territory', 'Territories', 'TER', '/settings/territories/'],
  ['sales_sequence', 'Sales sequences', 'SEQ', '/sales/sequences/'],
  ['assignment_rule', 'Auto-assignment', 'AR', '/settings/assignment/'],
  ['plan', 'Plans and Billing', 'PLAN', '/settings/billing/plans/'],
  ['customer', 'Customers', 'CUS', '/customers/'],
  ['task', 'Tasks', 'TSK', '/tasks/'],
  ['product', 'Products', 'PRD', '/products/'],
];
const FIELDS = ['name', 'enabled', 'owner', 'price', 'status', 'region', 'priority', 'schedule'];

const AUTOMATED_SUBJECTS = [
  'Your cleaning visit tomorrow',
  'Your invoice is ready',
  'Payment reminder: invoice overdue',
  'Your monthly service report',
  'This month: 20% off window cleaning',
  'How did we do on your last visit?',
  'We have updated our terms of service',
  'Your visit has been rescheduled',
];
const MANUAL_SUBJECTS = [
  'Quote for a deep clean',
  'Re: access to the plant room',
  'Change of visit time',
  'Key handover next week',
  'Your contract renewal',
  'Follow-up on your complaint',
];
const SMS_CAMPAIGNS = [
  { id: 'CMP-2051', name: 'Appointment reminders' },
  { id: 'CMP-2052', name: 'Running late notices' },
  { id: 'CMP-2057', name: 'Spring offer' },
  { id: 'CMP-2060', name: 'Payment reminders' },
  { id: 'CMP-2063', name: 'Feedback requests' },
];

/** Delivery outcomes per receiver: [status, action, share, failure reason]. */
type Delivery = readonly [status: string, action: string, share: number, reason?: string];
const DELIVERY: readonly Delivery[] = [
  ['delivered', 'message.delivered', 0.885],
  ['deferred', 'message.deferred', 0.04, '421 4.7.0 Try again later'], // then delivered
  ['hard_bounce', 'message.bounced', 0.025, '550 5.1.1 The e-mail account does not exist'],
  ['soft_bounce', 'message.bounced', 0.015, '452 4.2.2 Mailbox full'],
  ['spam', 'message.spam_reported', 0.005, 'The receiver reported the message as spam'],
  ['blocked', 'message.blocked', 0.005, '554 5.7.1 Message rejected by the receiving server'],
  ['unsubscribed', 'message.suppressed', 0.005, 'The receiver unsubscribed'],
  ['invalid_email', 'message.failed', 0.005, 'The address is not a valid e-mail address'],
];
/** Receivers with no report (yet): they stay `sent`. */
const NO_REPORT = 0.015;
const FAILED_STATUSES = new Set([
  'hard_bounce',
  'soft_bounce',
  'spam',
  'blocked',
  'unsubscribed',
  'invalid_email',
]);

/** Options of {@link ViewsWorkload}. */
export interface ViewsWorkloadOptions {
  /** Events stored (webhook retries, which store nothing new, come on top). */
  readonly total: number;
  readonly days: number;
  /** The newest event is a minute before this. */
  readonly now: number;
  readonly seed?: number;
}

/** What the measurements pick their parameters from, filled in as the events are generated. */
export interface ViewsFacts {
  /** Ids of the messages whose `message.sent` was generated. */
  readonly messageIds: string[];
  /** Employees who send messages by hand. */
  readonly senders: string[];
  /** The busiest employees (most requests), for actor filters. */
  readonly busyActors: string[];
  /** Stored events per category. */
  readonly mix: Record<string, number>;
  /** Delivery reports sent twice with the same id (stored once). */
  retries: number;
  /** Messages whose `message.sent` arrived after some of their reports. */
  lateSent: number;
  /** Receivers with two reports (deferred, then delivered). */
  deferred: number;
  acknowledgements: number;
}

/** A follow-up waiting for its arrival time; `build` gets the size of the log so far. */
interface Pending {
  readonly at: number;
  readonly order: number;
  readonly event: EventInput | ((logSize: number) => EventInput);
  /** A webhook retry of an event already sent: stores nothing new. */
  readonly retry: boolean;
  readonly category: Category;
}

/** A binary min-heap of follow-ups by arrival time, then by order of scheduling. */
class Queue {
  readonly #heap: Pending[] = [];
  get size(): number {
    return this.#heap.length;
  }
  #less(a: Pending, b: Pending): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }
  peek(): Pending | undefined {
    return this.#heap[0];
  }
  push(item: Pending): void {
    const h = this.#heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i] as Pending, h[parent] as Pending)) break;
      [h[i], h[parent]] = [h[parent] as Pending, h[i] as Pending];
      i = parent;
    }
  }
  pop(): Pending | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l] as Pending, h[m] as Pending)) m = l;
        if (r < h.length && this.#less(h[r] as Pending, h[m] as Pending)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Pending, h[i] as Pending];
        i = m;
      }
    }
    return top;
  }
}

const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '');

/**
 * The tenant's events.
 * @example const w = new ViewsWorkload({ total: 1e6, days: 90, now: Date.now() });
 * for (const batch of w.batches(1000)) await store.append([prepareEvents({ events: batch }, e)]);
 */
export class ViewsWorkload {
  readonly facts: ViewsFacts;
  readonly #options: ViewsWorkloadOptions;
  readonly #rand: () => number;
  readonly #people: Person[] = [];
  readonly #queue = new Queue();
  #order = 0;
  #messages = 0;
  /** Stored events per message so far (the message and its reports), to keep the mix. */
  #messageEvents = 0;

  constructor(options: ViewsWorkloadOptions) {
    this.#options = options;
    this.#rand = prng(options.seed ?? 5);
    for (let j = 0; j < EMPLOYEES; j++) this.#people.push(this.#person(j));
    this.facts = {
      messageIds: [],
      senders: this.#people.slice(10, 60).map((p) => p.id),
      busyActors: this.#people.slice(0, 20).map((p) => p.id),
      mix: {},
      retries: 0,
      lateSent: 0,
      deferred: 0,
      acknowledgements: 0,
    };
  }

  /** Yields the events in arrival order, `size` at a time. */
  *batches(size: number): Generator<EventInput[]> {
    const { total, days, now } = this.#options;
    const start = now - days * DAY;
    const step = (days * DAY - MINUTE) / total;
    let stored = 0;
    let batch: EventInput[] = [];
    while (stored < total) {
      const clock = start + stored * step;
      const head = this.#queue.peek();
      let event: EventInput | undefined;
      let category: Category | undefined;
      let retry = false;
      if (head && head.at <= clock) {
        this.#queue.pop();
        event = typeof head.event === 'function' ? head.event(stored) : head.event;
        category = head.category;
        retry = head.retry;
      } else {
        category = this.#category();
        event = this.#primary(category, clock);
      }
      if (event === undefined) continue;
      if (!retry) {
        stored++;
        this.facts.mix[category] = (this.facts.mix[category] ?? 0) + 1;
      }
      batch.push(event);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  // --- randomness -------------------------------------------------------------------------

  #int(min: number, max: number): number {
    return min + Math.floor(this.#rand() * (max - min + 1));
  }
  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.#rand() * list.length)] as T;
  }
  #weighted<T>(list: ReadonlyArray<[T, number]>): T {
    let x = this.#rand() * list.reduce((a, [, w]) => a + w, 0);
    for (const [value, w] of list) {
      x -= w;
      if (x < 0) return value;
    }
    return (list[list.length - 1] as [T, number])[0];
  }
  #hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.#rand() * 2 ** 32).toString(16);
    return out.slice(0, length);
  }
  #address(country: string, host?: number): string {
    const network = this.#pick(NETWORKS[country] ?? NETWORKS['GB'] ?? []);
    return `${network}.${host ?? this.#int(1, 254)}`;
  }
  /** An employee, the busiest (managers, office staff) the most often. */
  #employee(): Person {
    return this.#people[Math.floor(EMPLOYEES * this.#rand() ** 2)] as Person;
  }
  #admin(): Person {
    return this.#people[this.#int(0, 9)] as Person;
  }

  // --- the company ------------------------------------------------------------------------

  #person(j: number): Person {
    const first = FIRST_NAMES[j % FIRST_NAMES.length] as string;
    const last = SURNAMES[Math.floor(j / FIRST_NAMES.length)] as string;
    const role = j === 0 ? 'owner' : j < 10 ? 'admin' : j < 60 ? 'supervisor' : 'cleaner';
    const country = this.#weighted(HOME_COUNTRIES);
    return {
      id: `u-${10_000 + j}`,
      name: `${first} ${last}`,
      email: `${first}.${last}@vb-cleaning.test`.toLowerCase(),
      role,
      country,
      ip: this.#address(country, 1 + (j % 254)),
      userAgent: this.#pick(BROWSERS),
    };
  }
  #actor(p: Person): Actor {
    return { id: p.id, name: p.name, email: p.email, role: p.role };
  }
  #customer(i: number): { id: string; name: string; email: string; phone: string } {
    const a = CUSTOMER_A[i % CUSTOMER_A.length] as string;
    const b = CUSTOMER_B[Math.floor(i / CUSTOMER_A.length) % CUSTOMER_B.length] as string;
    const kind =
      CUSTOMER_KIND[Math.floor(i / (CUSTOMER_A.length * CUSTOMER_B.length)) % CUSTOMER_KIND.length];
    const name = `${a} ${b} ${kind}`;
    return {
      id: `CUS-${100_000 + i}`,
      name,
      email: `info@${slug(name)}.example`,
      phone: `+447700${String(900_000 + (i % 100_000)).padStart(6, '0')}`,
    };
  }
  #randomCustomer() {
    return this.#customer(Math.floor(this.#rand() * CUSTOMERS));
  }

  // --- the mix ----------------------------------------------------------------------------

  /** The category of the next new event; a message counts with the reports it brings. */
  #category(): Category {
    const perMessage = this.#messages < 50 ? 4.9 : this.#messageEvents / this.#messages;
    const weights = Object.entries(VIEWS_MIX).map(([c, share]): [Category, number] => [
      c as Category,
      c === 'communications' ? share / perMessage : share,
    ]);
    return this.#weighted(weights);
  }

  #schedule(at: number, category: Category, event: Pending['event'], retry = false): void {
    this.#queue.push({ at, order: this.#order++, event, retry, category });
  }

  #primary(category: Category, ms: number): EventInput | undefined {
    switch (category) {
      case 'logins':
        return this.#login(ms);
      case 'communications':
        return this.#message(ms);
      case 'integrations':
        return this.#integration(ms);
      case 'requests':
        return this.#request(ms);
      case 'api':
        return this.#apiCall(ms);
      case 'changes':
        return this.#change(ms);
      case 'users':
        return this.#userChange(ms);
      case 'access':
        return this.#access(ms);
      case 'sms':
        return this.#sms(ms);
    }
  }

  // --- logins -----------------------------------------------------------------------------

  #login(ms: number): EventInput {
    const base = {
      tenant: VIEWS_TENANT,
      category: 'logins',
      time: iso(ms),
      channel: 'ui',
    } as const;
    if (this.#rand() < 0.03) {
      // Someone tries an e-mail that has no account.
      const email = `${this.#pick(['admin', 'info', 'office', 'it', 'billing', 'test'])}${this.#int(1, 100)}@${this.#pick(['vb-cleaning.test', 'gmail.example', 'mail.example'])}`;
      return {
        ...base,
        action: 'login.failed',
        actor: { type: 'anonymous', email },
        outcome: 'failure',
        description: `Failed sign-in as ${email}: unknown user`,
        context: { ip: this.#address(this.#weighted(ATTACK_COUNTRIES)), userAgent: SCRIPT_AGENT },
        metadata: { reason: 'unknown_user' },
      };
    }
    const p = this.#employee();
    if (this.#rand() < 0.05) {
      const reason = this.#weighted<string>([
        ['invalid_password', 0.75],
        ['mfa_failed', 0.15],
        ['account_locked', 0.1],
      ]);
      const attack = this.#rand() < 0.3;
      return {
        ...base,
        action: 'login.failed',
        actor: this.#actor(p),
        outcome: 'failure',
        description: `Failed sign-in as ${p.email}: ${reason.replace('_', ' ')}`,
        context: attack
          ? { ip: this.#address(this.#weighted(ATTACK_COUNTRIES)), userAgent: SCRIPT_AGENT }
          : { ip: p.ip, userAgent: p.userAgent },
        metadata: { reason },
      };
    }
    // Mostly from home; sometimes from a phone network or abroad.
    const away = this.#rand();
    const ip =
      away < 0.85
        ? p.ip
        : away < 0.95
          ? this.#address(p.country)
          : this.#address(this.#weighted(HOME_COUNTRIES));
    return {
      ...base,
      action: 'login.succeeded',
      actor: this.#actor(p),
      description: `${p.name} signed in`,
      context: { ip, userAgent: p.userAgent, sessionId: `sess_${this.#hex(20)}` },
    };
  }

  // --- communications ---------------------------------------------------------------------

  /** A `message.sent`; its delivery reports (and, now and then, the event itself) are queued. */
  #message(ms: number): EventInput | undefined {
    const m = this.#messages++;
    const id = `MSG-${300_000 + m}`;
    const manual = this.#rand() < 0.4;
    const sms = this.#rand() < 0.15;
    const type = sms ? 'sms' : 'email';
    const mode = manual ? 'manual' : 'automated';
    const subject = this.#pick(manual ? MANUAL_SUBJECTS : AUTOMATED_SUBJECTS);
    // By hand mostly to one customer; automated ones also to a few, or to a whole round.
    const size = this.#rand();
    const count = manual
      ? size < 0.7
        ? 1
        : this.#int(2, 3)
      : size < 0.4
        ? 1
        : size < 0.7
          ? this.#int(2, 5)
          : this.#int(6, 20);
    const receivers = new Map<string, { name: string; address: string; customer?: Target }>();
    while (receivers.size < count) {
      const c = this.#randomCustomer();
      // A few receivers are contacts that are no object of the product.
      const contact = !sms && this.#rand() < 0.1;
      const address = contact ? `accounts@${slug(c.name)}.example` : sms ? c.phone : c.email;
      receivers.set(address, {
        name: contact ? `${c.name} accounts` : c.name,
        address,
        ...(contact ? {} : { customer: { type: 'customer', id: c.id, name: c.name } }),
      });
    }
    const sender = manual ? (this.#people[this.#int(10, 59)] as Person) : undefined;
    const messageTarget: Target = { type: 'message', id, name: subject };
    const list = [...receivers.values()];
    const sent: EventInput = {
      tenant: VIEWS_TENANT,
      action: 'message.sent',
      category: 'communications',
      time: iso(ms),
      actor: sender ? this.#actor(sender) : SYSTEM,
      channel: sender ? 'ui' : 'system',
      status: 'sent',
      description: `${sender ? sender.name : 'Automated'} ${sms ? 'SMS' : 'e-mail'} "${subject}" sent to ${count === 1 ? list[0]?.name : `${count} receivers`}`,
      targets: [
        { ...messageTarget, url: `${APP}/event-log/communications/${id}` },
        ...list.flatMap((r) => (r.customer ? [r.customer] : [])).slice(0, 19),
      ],
      ...(sender ? { context: { ip: sender.ip, userAgent: sender.userAgent } } : {}),
      metadata: {
        type,
        mode,
        subject,
        receivers: list.map((r) => ({ name: r.name, address: r.address })),
      },
    };
    this.facts.messageIds.push(id);
    let events = 1;
    list.forEach((r, index) => {
      if (this.#rand() < NO_REPORT) return;
      const [status, action, , reason] = this.#weighted(
        DELIVERY.map((d): [Delivery, number] => [d, d[2]]),
      );
      const report = (k: number, at: number, st: string, act: string, why?: string) => {
        const failed = FAILED_STATUSES.has(st);
        const event: EventInput = {
          tenant: VIEWS_TENANT,
          id: `dlv-${id}-${index}-${k}`,
          action: act,
          category: 'communications',
          time: iso(at),
          actor: SYSTEM,
          channel: 'system',
          ...(failed ? { outcome: 'failure' as const } : {}),
          status: st,
          description: `${sms ? 'SMS' : 'E-mail'} "${subject}" to ${r.name}: ${st.replace('_', ' ')}`,
          targets: [messageTarget, ...(r.customer ? [r.customer] : [])],
          metadata: {
            type,
            mode,
            subject,
            receiver: { name: r.name, address: r.address },
            ...(why === undefined ? {} : { reason: why }),
          },
        };
        this.#schedule(at, 'communications', event);
        events++;
        // Providers retry a webhook now and then: the same report again, a day or two later.
        if (this.#rand() < 0.01) {
          this.facts.retries++;
          this.#schedule(at + this.#int(1, 2) * DAY, 'communications', event, true);
        }
      };
      const first = ms + this.#int(2, 300) * SECOND;
      if (status === 'deferred') {
        this.facts.deferred++;
        report(0, first, status, action, reason);
        report(1, first + this.#int(20, 180) * MINUTE, 'delivered', 'message.delivered');
      } else {
        report(0, first, status, action, reason);
      }
    });
    this.#messageEvents += events;
    if (this.#rand() < 0.03) {
      // The producer is late: reports arrive before the message they are about.
      this.facts.lateSent++;
      this.#schedule(ms + this.#int(6, 40) * MINUTE, 'communications', sent);
      return undefined;
    }
    return sent;
  }

  // --- integrations -----------------------------------------------------------------------

  #integration(ms: number): EventInput {
    const system = this.#weighted(
      SYSTEMS.map((s): [(typeof SYSTEMS)[number], number] => [s, s.weight]),
    );
    const target: Target = {
      type: 'integration',
      id: system.id,
      name: system.name,
      url: `${APP}/settings/integrations/${system.id}`,
    };
    const base = {
      tenant: VIEWS_TENANT,
      category: 'integrations',
      time: iso(ms),
      actor: { type: 'integration', id: system.id, name: system.name },
      channel: 'integration',
    } as const;
    const kind = this.#rand();
    if (kind < 0.01) {
      const p = this.#admin();
      const field = this.#pick(['sync_interval', 'default_account', 'enabled']);
      return {
        ...base,
        action: 'integration.settings.updated',
        actor: this.#actor(p),
        channel: 'ui',
        description: `${p.name} changed the ${system.name} setting ${field}`,
        targets: [target],
        changes: [{ field, before: this.#int(1, 60), after: this.#int(1, 60) }],
        context: { ip: p.ip, userAgent: p.userAgent },
        metadata: { system: system.name },
      };
    }
    if (kind < 0.1) {
      const invoice = `INV-${this.#int(10_000, 99_999)}`;
      this.#maybeAcknowledge(ms, system, target);
      return {
        ...base,
        action: this.#pick(['integration.sync_failed', 'integration.invoice_export_failed']),
        outcome: 'failure',
        status: 'error',
        description: `${system.name} rejected invoice ${invoice}: account code ${this.#int(100, 900)} is archived`,
        targets: [target, { type: 'invoice', id: invoice, url: `${APP}/invoices/${invoice}` }],
        metadata: { system: system.name, error: 'ValidationException: Account code is archived' },
      };
    }
    if (kind < 0.15) {
      this.#maybeAcknowledge(ms, system, target);
      return {
        ...base,
        action: this.#pick(['integration.token_expiring', 'integration.rate_limited']),
        status: 'notification',
        description: `The ${system.name} connection expires in 7 days; reconnect it to keep syncing`,
        targets: [target],
        metadata: { system: system.name },
      };
    }
    const count = this.#int(1, 400);
    return {
      ...base,
      action: this.#pick([
        'integration.synced',
        'integration.contacts_synced',
        'integration.invoices_exported',
        'integration.webhook_received',
      ]),
      status: 'ok',
      description: `${count} records synced with ${system.name}`,
      targets: [target],
      metadata: { system: system.name, records: count },
    };
  }

  /** After an error or notification, an administrator sometimes acknowledges what is there. */
  #maybeAcknowledge(ms: number, system: { id: string; name: string }, target: Target): void {
    if (this.#rand() >= 0.1) return;
    this.facts.acknowledgements++;
    const p = this.#admin();
    const at = ms + this.#int(1, 8) * HOUR;
    this.#schedule(at, 'integrations', (logSize) => ({
      tenant: VIEWS_TENANT,
      action: 'integration.acknowledged',
      category: 'integrations',
      time: iso(at),
      actor: this.#actor(p),
      channel: 'ui',
      description: `${p.name} acknowledged the errors and notifications of ${system.name}`,
      targets: [{ type: 'integration', id: target.id, name: system.name }],
      context: { ip: p.ip, userAgent: p.userAgent },
      metadata: { system: system.name, upToSeq: Math.max(1, logSize) },
    }));
  }

  // --- the other logs ---------------------------------------------------------------------

  #request(ms: number): EventInput {
    const p = this.#employee();
    const c = this.#randomCustomer();
    const n = this.#int(10_000, 99_999);
    const [method, url, what] = this.#pick<[string, string, string]>([
      ['GET', `/customers/${c.id}`, `opened the customer ${c.name}`],
      ['GET', `/customers/${c.id}`, `opened the customer ${c.name}`],
      ['GET', `/invoices/INV-${n}`, `opened invoice INV-${n}`],
      ['GET', `/schedule?week=${this.#int(1, 52)}`, 'opened the schedule'],
      ['GET', `/schedule?week=${this.#int(1, 52)}`, 'opened the schedule'],
      ['POST', `/visits/VIS-${n}/complete`, `completed visit VIS-${n}`],
      ['GET', '/reports/hours?period=week', 'opened the hours report'],
      ['GET', '/keys/overview', 'opened the key overview'],
      ['POST', `/customers/${c.id}/notes`, `added a note to ${c.name}`],
    ]);
    const status = this.#weighted<number>([
      [200, 0.95],
      [302, 0.03],
      [404, 0.015],
      [500, 0.005],
    ]);
    return {
      tenant: VIEWS_TENANT,
      action: 'http.request',
      category: 'requests',
      time: iso(ms),
      actor: this.#actor(p),
      channel: 'ui',
      ...(status >= 400 ? { outcome: 'failure' as const } : {}),
      description: `${p.name} ${what}`,
      context: {
        ip: p.ip,
        userAgent: p.userAgent,
        sessionId: `sess_${this.#hex(20)}`,
        http: { method, url, status, durationMs: this.#int(20, 900) },
      },
    };
  }

  #apiCall(ms: number): EventInput {
    const key = this.#pick(API_KEYS);
    const [method, template] = this.#pick(API_CALLS);
    const url = template
      .replace('%n', String(this.#int(1, 99_999)))
      .replace('%c', String(this.#int(100_000, 119_999)));
    const status =
      key.id === 'key_old01'
        ? 401
        : this.#weighted<number>([
            [method === 'POST' ? 201 : 200, 0.95],
            [404, 0.025],
            [429, 0.015],
            [500, 0.01],
          ]);
    return {
      tenant: VIEWS_TENANT,
      action: 'api.request',
      category: 'api',
      time: iso(ms),
      actor: { type: 'api_key', id: key.id, name: key.name },
      channel: 'api',
      ...(status >= 400 ? { outcome: 'failure' as const } : {}),
      description: `${key.name}: ${method} ${url.split('?')[0]} → ${status}`,
      context: {
        ip: key.ip,
        userAgent: key.ua,
        requestId: `req_${this.#hex(16)}`,
        http: { method, url, status, durationMs: this.#int(5, 600) },
      },
    };
  }

  #change(ms: number): EventInput {
    const [resource, module, prefix, path] = this.#pick(MODULES);
    const objectId = `${prefix}-${String(this.#int(1, 4000)).padStart(4, '0')}`;
    const objectName = `${module.replace(/s$/, '')} ${objectId}`;
    const verb = this.#weighted<string>([
      ['updated', 0.7],
      ['created', 0.2],
      ['deleted', 0.1],
    ]);
    const field = this.#pick(FIELDS);
    const before = `${field} ${this.#int(1, 50)}`;
    const after = `${field} ${this.#int(1, 50)}`;
    const change =
      verb === 'created'
        ? { field, after }
        : verb === 'deleted'
          ? { field, before }
          : { field, before, after };
    const who = this.#rand();
    const p = this.#employee();
    const actor: Actor = who < 0.15 ? SYSTEM : this.#actor(p);
    const channel = who < 0.15 ? 'system' : who < 0.25 ? 'import' : 'ui';
    const byWhom = who < 0.15 ? 'automatically' : `by ${p.name}`;
    return {
      tenant: VIEWS_TENANT,
      action: `${resource}.${verb}`,
      category: 'changes',
      time: iso(ms),
      actor,
      channel,
      description: `${objectName} was ${verb} ${byWhom}`,
      targets: [
        { type: resource, id: objectId, name: objectName, url: `${APP}${path}${objectId}` },
      ],
      changes: [change],
      ...(who < 0.15 ? {} : { context: { ip: p.ip, userAgent: p.userAgent } }),
      metadata:
        channel === 'import'
          ? { module, file: `${resource}s.csv`, row: this.#int(1, 500) }
          : { module },
    };
  }

  #userChange(ms: number): EventInput {
    const admin = this.#admin();
    const subject = this.#people[this.#int(60, EMPLOYEES - 1)] as Person;
    const channel = this.#weighted<'ui' | 'api' | 'import'>([
      ['ui', 0.7],
      ['api', 0.2],
      ['import', 0.1],
    ]);
    const actor: Actor =
      channel === 'api' ? { type: 'api_key', id: 'key_hr', name: 'HR sync' } : this.#actor(admin);
    const [action, change, words] = this.#pick<
      [string, { field: string; before?: unknown; after?: unknown }, string]
    >([
      ['user.created', { field: 'license', after: 'Field' }, 'was created'],
      ['user.deleted', { field: 'license', before: 'Field' }, 'was deleted'],
      [
        'user.license.updated',
        { field: 'license', before: 'Field', after: 'Field Plus' },
        'got the license Field Plus',
      ],
      [
        'user.admin_rights.updated',
        { field: 'admin', before: false, after: true },
        'got admin rights',
      ],
    ]);
    return {
      tenant: VIEWS_TENANT,
      action,
      category: 'users',
      time: iso(ms),
      actor,
      channel,
      description: `${subject.name} ${words}`,
      targets: [
        { type: 'user', id: subject.id, name: subject.name, url: `${APP}/users/${subject.id}` },
      ],
      changes: [change],
      ...(channel === 'ui' ? { context: { ip: admin.ip, userAgent: admin.userAgent } } : {}),
      ...(channel === 'import' ? { metadata: { file: 'users.csv', row: this.#int(1, 200) } } : {}),
    };
  }

  #access(ms: number): EventInput {
    const p = this.#people[this.#int(60, EMPLOYEES - 1)] as Person;
    const c = this.#randomCustomer();
    const ring = `KR-${String(this.#int(1, 2000)).padStart(4, '0')}`;
    const code = this.#pick(['door code', 'alarm code', 'key safe code']);
    const refused = this.#rand() < 0.02;
    return {
      tenant: VIEWS_TENANT,
      action: 'code.accessed',
      category: 'access',
      time: iso(ms),
      actor: this.#actor(p),
      channel: 'ui',
      ...(refused ? { outcome: 'failure' as const } : {}),
      description: refused
        ? `${p.name} was refused the ${code} of key ring ${ring} (${c.name}): no visit today`
        : `${p.name} viewed the ${code} of key ring ${ring} (${c.name})`,
      targets: [
        {
          type: 'key_ring',
          id: ring,
          name: `${c.name} — main entrance`,
          url: `${APP}/keys/overview?keyRing=${ring}`,
        },
        { type: 'customer', id: c.id, name: c.name, url: `${APP}/customers/${c.id}` },
      ],
      context: { ip: p.ip, userAgent: p.userAgent },
      metadata: { code },
    };
  }

  #sms(ms: number): EventInput {
    const campaign = this.#pick(SMS_CAMPAIGNS);
    const c = this.#randomCustomer();
    const failed = this.#rand() < 0.05;
    const gateway = this.#pick(['Twilio UK', 'MessageBird']);
    const status = failed
      ? this.#pick(['external_error', 'internal_error', 'blocked', 'unsubscribed'])
      : 'sent';
    const error = failed ? `${this.#int(20_000, 30_999)} ${status.replace('_', ' ')}` : undefined;
    return {
      tenant: VIEWS_TENANT,
      action: failed ? 'sms.failed' : 'sms.sent',
      category: 'sms',
      time: iso(ms),
      actor: SYSTEM,
      channel: 'system',
      ...(failed ? { outcome: 'failure' as const } : {}),
      status,
      description: failed
        ? `SMS for campaign "${campaign.name}" to ${c.phone} failed: ${error}`
        : `SMS for campaign "${campaign.name}" sent to ${c.phone}`,
      targets: [
        {
          type: 'sms_campaign',
          id: campaign.id,
          name: campaign.name,
          url: `${APP}/sms/campaigns/${campaign.id}`,
        },
      ],
      metadata: {
        messageId: `SM${this.#hex(32)}`,
        campaign: campaign.name,
        phone: c.phone,
        gateway,
        ...(error === undefined ? {} : { error }),
      },
    };
  }
}
