/**
 * The shapes of the API's answers that `@hindsight/core` has no type for: the derived views of
 * docs/views.md and the tenant list.
 */
import type { StoredEvent } from '@hindsight/core';

/** `GET /v1/tenants` */
export interface TenantSummary {
  readonly name: string;
  readonly events: number;
}

/** `GET /v1/session`: who the console acts as. */
export interface Session {
  readonly kind: 'key' | 'viewer';
  /** The one tenant the key or token may read; `null` for all. */
  readonly tenant: string | null;
  readonly viewer?: { readonly id: string; readonly name?: string; readonly role: string };
  /** A viewer's permissions (`view`, `export`, …), or a key's scopes. */
  readonly permissions: readonly string[];
  /** The categories a viewer may read; `null` for all. */
  readonly categories: readonly string[] | null;
  readonly expiresAt?: string;
}

/** A page of a list. */
export interface Page {
  readonly nextCursor: string | null;
}

/** `GET /v1/tenants/{t}/events` */
export interface EventPage extends Page {
  readonly events: StoredEvent[];
}

/** One sign-in attempt of an account. */
export interface LoginAttempt {
  readonly id: string;
  readonly seq: number;
  readonly time: string;
  readonly ip?: string;
  readonly location?: Record<string, string>;
  readonly client?: Record<string, string>;
  readonly reason?: string;
}

/** `POST /v1/tenants/{t}/deletions` (docs/erasure.md#permitted-deletion). */
export interface Deletion {
  readonly deleted: ReadonlyArray<{ readonly id: string; readonly seq: number }>;
  readonly alreadyDeleted: ReadonlyArray<{ readonly id: string; readonly seq: number }>;
  readonly notFound: readonly string[];
  /** Background exports withdrawn because they held deleted events. */
  readonly exports: number;
}

/** `GET /v1/tenants/{t}/stats` (docs/views.md#stats). */
export interface Stats {
  readonly from: string;
  readonly to: string;
  /** Bucket width in milliseconds. */
  readonly interval: number;
  readonly total: number;
  readonly outcomes: { readonly success: number; readonly failure: number };
  readonly byAction: ReadonlyArray<{ readonly action: string; readonly count: number }>;
  readonly byActor: ReadonlyArray<{ readonly actor: StoredEvent['actor']; readonly count: number }>;
  readonly histogram: ReadonlyArray<{ readonly start: string; readonly count: number }>;
  /** `false` when the counts come from the newest `scanned` matching events only. */
  readonly exact: boolean;
  readonly scanned?: number;
}

/** `GET /v1/tenants/{t}/logins/users`: one account. */
export interface LoginAccount {
  readonly key: string;
  readonly actor: StoredEvent['actor'];
  readonly lastAttempt: 'succeeded' | 'failed';
  readonly lastSuccess: LoginAttempt | null;
  readonly lastFailure: LoginAttempt | null;
  /** The last successful sign-in came from a country the account had not signed in from before. */
  readonly newCountry: boolean;
  readonly successes: number;
  readonly failures: number;
  readonly failuresLast24h: number;
  readonly countries: string[];
}

export interface LoginAccountPage extends Page {
  readonly users: LoginAccount[];
}

/** A message's delivery: its overall status (`mixed` when receivers differ) and counts. */
export interface Delivery {
  readonly status: string;
  readonly receivers: number;
  readonly failed: number;
  readonly deliveries: Record<string, number>;
}

/** `GET /v1/tenants/{t}/messages`: one message. */
export interface MessageSummary extends Delivery {
  readonly id: string;
  readonly event: StoredEvent;
}

export interface MessagePage extends Page {
  readonly messages: MessageSummary[];
}

/** One receiver of a message and the report its status comes from. */
export interface MessageReceiver {
  readonly address: string;
  readonly name?: string;
  readonly status: string;
  readonly report?: {
    readonly id: string;
    readonly seq: number;
    readonly time: string;
    readonly reason?: string;
  };
}

/** `GET /v1/tenants/{t}/messages/{id}` */
export interface MessageDetail extends Delivery, Page {
  readonly id: string;
  readonly event: StoredEvent | null;
  readonly receiverList: MessageReceiver[];
  readonly reports: StoredEvent[];
}

/** The newest event of a system, or its acknowledgement. */
export interface EventBrief {
  readonly id: string;
  readonly seq: number;
  readonly time: string;
  readonly action: string;
  readonly outcome: string;
  readonly status?: string;
  readonly description?: string;
  readonly actor: StoredEvent['actor'];
}

/** `GET /v1/tenants/{t}/integrations`: one connected system. */
export interface Integration {
  readonly system: string;
  readonly name: string;
  readonly lastEvent: EventBrief;
  readonly lastStatus: string | null;
  readonly unacknowledged: { readonly errors: number; readonly notifications: number };
  readonly acknowledged: (EventBrief & { readonly upToSeq: number }) | null;
}

/** `GET /v1/tenants/{t}/integrations`: the systems, and the log's size when they were read. */
export interface IntegrationList {
  readonly integrations: readonly Integration[];
  readonly upToSeq: number;
}
