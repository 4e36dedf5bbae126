/**
 * Everything about one event (`GET /v1/tenants/{t}/events/{id}`): who, what, to what (with
 * deep links), before → after, from where, through which channel, with what result, its
 * metadata as a tree, and the record's integrity fields, with a check of them in the browser.
 * The actor, each target and the IP address link to every event sharing them, to follow a
 * person or an address through the logs.
 */
import type { StoredEvent } from '@hindsight/core';
import type { MouseEvent, ReactNode } from 'react';
import { useConsole } from '../console-context.js';
import {
  actorText,
  channelText,
  clientText,
  locationText,
  safeHref,
  type TimeFormat,
} from '../formats.js';
import { explain } from '../problems.js';
import { humanize, outcomeInfo, statusInfo } from '../statuses.js';
import { type ConsoleState, onView, stateToSearch } from '../url-state.js';
import { useAsync } from '../use-async.js';
import { Badge } from './badge.js';
import { actionLabel, Time } from './cell.js';
import { ChangeTable } from './change-list.js';
import { JsonTree } from './json-tree.js';
import { Loading, ProblemNotice } from './notice.js';
import { SidePanel } from './side-panel.js';
import { VerifyEvent } from './verify-event.js';

type Row = readonly [string, ReactNode];

/** An actor's type as the reader says it; another type is shown as written, capitalised. */
const ACTOR_TYPES: Readonly<Record<string, string>> = {
  user: 'User',
  system: 'System',
  api_key: 'API key',
  integration: 'Integration',
  anonymous: 'Anonymous',
};

/** How the link to an actor's events names it, by its type. */
const ACTOR_WORDS: Readonly<Record<string, string>> = {
  user: 'this user',
  api_key: 'this API key',
  integration: 'this integration',
  anonymous: 'this e-mail address',
};

/**
 * A link to the events that share a value with this one: "All events" filtered by it, or the
 * view shown when the reader has no "All events" (a viewer token limited to some logs); none
 * when neither offers the filter.
 */
function EventsWith({
  filter,
  value,
  children,
}: {
  readonly filter: 'actor' | 'target' | 'ip';
  readonly value: string;
  readonly children: ReactNode;
}) {
  const { state, view, views, navigate } = useConsole();
  const into =
    views.find((v) => v.id === 'all' && v.filters.includes(filter)) ??
    (view.filters.includes(filter) ? view : undefined);
  if (into === undefined) return null;
  const next: ConsoleState = { ...onView(state, into.id), filters: { [filter]: value } };
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: the browser opens the link
    }
    event.preventDefault();
    navigate(next);
  };
  return (
    <a className="events-with" href={stateToSearch(next) || '?'} onClick={onClick}>
      {children}
    </a>
  );
}

/** A definition list of the rows that have a value. */
function Facts({ rows }: { readonly rows: readonly Row[] }) {
  const shown = rows.filter(([, value]) => value !== undefined && value !== null && value !== '');
  if (shown.length === 0) return null;
  return (
    <dl className="facts">
      {shown.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Section({ title, children }: { readonly title: string; readonly children: ReactNode }) {
  return (
    <section className="detail-section">
      <h3>{title}</h3>
      {children}
    </section>
  );
}

function Targets({ targets }: { readonly targets: NonNullable<StoredEvent['targets']> }) {
  return (
    <ul className="target-list">
      {targets.map((t, i) => {
        const href = safeHref(t.url);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: the targets of one event, in order
          <li key={i}>
            <span className="target-type">{humanize(t.type)}</span>
            <span className="target-name">{t.name ?? t.id}</span>
            {t.name && <span className="sub mono">{t.id}</span>}
            {href && (
              <a href={href} target="_blank" rel="noopener noreferrer" className="deep-link">
                Open in the product<span className="visually-hidden"> (new tab)</span>
              </a>
            )}
            {!href && t.url && <span className="sub">{t.url}</span>}
            <EventsWith filter="target" value={t.id}>
              Events on this {humanize(t.type).toLowerCase()}
            </EventsWith>
          </li>
        );
      })}
    </ul>
  );
}

function Body({ event, time }: { readonly event: StoredEvent; readonly time: TimeFormat }) {
  // The description is the panel's title; the facts start with what is not said there.
  const { view, views, canVerify } = useConsole();
  const ownView = views.find((v) => v.category === event.category) ?? view;
  const actor = actorText(event.actor);
  // What the actor filter finds the actor by: its id, else its e-mail.
  const actorKey = event.actor.id ?? event.actor.email;
  const http = event.context?.http;
  const client = event.context?.client;
  return (
    <>
      <Section title="What happened">
        <Facts
          rows={[
            [
              'Action',
              <span key="a" className="mono">
                {actionLabel(ownView, event.action)}
              </span>,
            ],
            ['Log', ownView.category === event.category ? ownView.label : event.category],
            ['Time', <Time key="t" iso={event.time} time={time} />],
            ['Outcome', <Badge key="o" info={outcomeInfo(event.outcome)} />],
            [
              'Status',
              event.status ? <Badge key="s" info={statusInfo(ownView, event.status)} /> : null,
            ],
            ['Channel', channelText(event.channel)],
          ]}
        />
      </Section>
      <Section title="Who">
        <Facts
          rows={[
            ['Name', actor.name],
            ['E-mail', event.actor.email],
            ['Role', event.actor.role],
            ['Type', ACTOR_TYPES[event.actor.type] ?? humanize(event.actor.type)],
            [
              'ID',
              event.actor.id ? (
                <span key="i" className="mono">
                  {event.actor.id}
                </span>
              ) : null,
            ],
          ]}
        />
        {actorKey && (
          <EventsWith filter="actor" value={actorKey}>
            Events by {ACTOR_WORDS[event.actor.type ?? 'user'] ?? 'this user'}
          </EventsWith>
        )}
      </Section>
      {event.targets && event.targets.length > 0 && (
        <Section title="Done to">
          <Targets targets={event.targets} />
        </Section>
      )}
      {event.changes && event.changes.length > 0 && (
        <Section title="Before → after">
          <ChangeTable changes={event.changes} erased={event.erased} />
        </Section>
      )}
      {event.context && (
        <Section title="From where">
          <Facts
            rows={[
              [
                'IP address',
                event.context.ip ? (
                  <span key="ip">
                    <span className="mono">{event.context.ip}</span>{' '}
                    <EventsWith filter="ip" value={event.context.ip}>
                      Events from this address
                    </EventsWith>
                  </span>
                ) : null,
              ],
              ['Location', locationText(event.context.location)],
              ['Browser', clientText(client)],
              ['Device', client?.device],
              ['User agent', event.context.userAgent],
              [
                'Request',
                http ? (
                  <span key="r" className="mono">
                    {http.method} {http.url}
                    {http.status === undefined ? '' : ` → ${http.status}`}
                    {http.durationMs === undefined ? '' : ` (${http.durationMs} ms)`}
                  </span>
                ) : null,
              ],
              ['Request ID', event.context.requestId],
              ['Session ID', event.context.sessionId],
            ]}
          />
        </Section>
      )}
      {event.metadata && Object.keys(event.metadata).length > 0 && (
        <Section title="Details">
          <JsonTree value={event.metadata} />
        </Section>
      )}
      <Section title="Record">
        <Facts
          rows={[
            [
              'Number (seq)',
              <span key="s" className="mono">
                {event.seq}
              </span>,
            ],
            [
              'Event ID',
              <span key="i" className="mono">
                {event.id}
              </span>,
            ],
            ['Received', <Time key="r" iso={event.receivedAt} time={time} />],
            [
              'Time (UTC)',
              <span key="u" className="mono">
                {event.time}
              </span>,
            ],
            [
              'Hash',
              <span key="h" className="mono hash">
                {event.hash}
              </span>,
            ],
          ]}
        />
        {canVerify && <VerifyEvent id={event.id} />}
      </Section>
    </>
  );
}

export function EventDetail({ id }: { readonly id: string }) {
  const { api, tenant, state, navigate, time } = useConsole();
  const result = useAsync(`${tenant}:${id}`, (signal) => api.event(tenant, id, signal));
  const close = () => navigate({ ...state, event: null });
  const title =
    result.state === 'done' ? (result.data.description ?? result.data.action) : 'Event details';
  return (
    <SidePanel
      key={id}
      title={title}
      label="event details"
      onClose={close}
      subtitle={result.state === 'done' ? <Time iso={result.data.time} time={time} /> : null}
    >
      {result.state === 'loading' && <Loading what="the event" />}
      {result.state === 'error' && (
        <ProblemNotice problem={explain(result.error, 'load this event')} onRetry={result.reload} />
      )}
      {result.state === 'done' && <Body event={result.data} time={time} />}
    </SidePanel>
  );
}
