/**
 * A view's activity (`GET /v1/tenants/{t}/stats`), under the view's filters: how many events
 * and how many failed, the events per day, the events by weekday and hour in the reader's time
 * zone (night and weekend activity stands out: the seeds' advice to look into off-hours
 * activity), and the most frequent actions and actors, each a way to those events.
 */
import type { CSSProperties } from 'react';
import { byDay, byWeekdayAndHour, defaultSince, statsInterval } from '../activity.js';
import type { Stats } from '../api-types.js';
import { useConsole } from '../console-context.js';
import { actorText, countText } from '../formats.js';
import { explain } from '../problems.js';
import { eventFilterParams } from '../query-params.js';
import type { ConsoleState, FilterName } from '../url-state.js';
import { useAsync } from '../use-async.js';
import { actionLabel } from './cell.js';
import { queryProblemOf, ViewFilterBar } from './filter-bar.js';
import { Empty, Loading, ProblemNotice } from './notice.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const number = new Intl.NumberFormat();

/** Share of the largest count, as a CSS width or an opacity step. */
function share(count: number, max: number): number {
  return max === 0 ? 0 : count / max;
}

/** A count as a bar, as long as its share of the largest, with the number beside it. */
function BarCell({ count, max }: { readonly count: number; readonly max: number }) {
  return (
    <td>
      <span className="bar" style={{ width: `${share(count, max) * 80}%` }} />
      <span className="bar-count">{number.format(count)}</span>
    </td>
  );
}

function DayBars({ stats, zone }: { readonly stats: Stats; readonly zone: string }) {
  const weekly = stats.interval >= 7 * 86_400_000;
  const days = byDay(stats.histogram, zone);
  const max = Math.max(0, ...days.map((d) => d.count));
  const label = new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });
  return (
    <table className="activity-days">
      <caption>{weekly ? 'Events per week' : 'Events per day'}</caption>
      <thead>
        <tr>
          <th scope="col">{weekly ? 'Week from' : 'Day'}</th>
          <th scope="col">Events</th>
        </tr>
      </thead>
      <tbody>
        {days.map((d) => (
          <tr key={d.day} data-day={d.day}>
            <th scope="row">{label.format(new Date(`${d.day}T00:00:00Z`))}</th>
            <BarCell count={d.count} max={max} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WeekHours({ stats, zone }: { readonly stats: Stats; readonly zone: string }) {
  const grid = byWeekdayAndHour(stats.histogram, zone);
  const max = Math.max(0, ...grid.flat());
  return (
    <div className="table-wrap">
      <table className="activity-hours">
        <caption>
          Events by weekday and hour, in {zone}: activity at night or at the weekend stands out
        </caption>
        <thead>
          <tr>
            <td />
            {grid[0]?.map((_, hour) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the 24 hours of a day, in order
              <th scope="col" key={hour}>
                {String(hour).padStart(2, '0')}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.map((row, weekday) => (
            <tr key={WEEKDAYS[weekday]}>
              <th scope="row">{WEEKDAYS[weekday]?.slice(0, 3)}</th>
              {row.map((count, hour) => (
                <td
                  // biome-ignore lint/suspicious/noArrayIndexKey: the 24 hours of a day, in order
                  key={hour}
                  data-count={count}
                  data-hot={share(count, max) > 0.55 ? '' : undefined}
                  title={`${WEEKDAYS[weekday]}, ${String(hour).padStart(2, '0')}:00–${String(hour + 1).padStart(2, '0')}:00: ${countText(count, 'event')}`}
                  style={{ '--heat': share(count, max).toFixed(3) } as CSSProperties}
                >
                  {count > 0 ? number.format(count) : ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TopList({
  caption,
  rows,
  onPick,
}: {
  readonly caption: string;
  /** `value`: what the filter takes to show the row's events; none when it cannot. */
  readonly rows: ReadonlyArray<{
    readonly key: string;
    readonly label: string;
    readonly count: number;
    readonly value?: string | undefined;
  }>;
  readonly onPick: ((value: string) => void) | null;
}) {
  const max = Math.max(0, ...rows.map((r) => r.count));
  return (
    <table className="activity-top">
      <caption>{caption}</caption>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-key={r.key}>
            <th scope="row">
              {onPick && r.value !== undefined ? (
                <button
                  type="button"
                  className="link"
                  onClick={() => onPick(r.value as string)}
                  aria-label={`${r.label}: show these events`}
                >
                  {r.label}
                </button>
              ) : (
                r.label
              )}
            </th>
            <BarCell count={r.count} max={max} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ActivityScreen() {
  const { api, tenant, view, state, navigate, time } = useConsole();
  const filters = eventFilterParams(view, state);
  const since = filters['since'] ?? defaultSince(Date.now(), state.utc);
  const until = filters['until'] ?? new Date().toISOString();
  const interval = statsInterval(since, until);
  const params = { ...filters, since, until, interval, top: '10' };
  // The default range moves with the clock: key the request by the day it starts.
  const result = useAsync(
    `${tenant}:activity:${JSON.stringify({ ...params, until: filters['until'] ?? '' })}`,
    (signal) => api.stats(tenant, params, signal),
  );
  /** The view's events under one more filter, if the view offers it. */
  const showEvents = (name: FilterName) =>
    (view.filters as FilterName[]).includes(name)
      ? (value: string) =>
          navigate({
            ...state,
            show: 'events',
            filters: { ...state.filters, [name]: value },
            pages: [],
          } satisfies ConsoleState)
      : null;
  const zone = time.zone;
  return (
    <>
      <ViewFilterBar
        queryProblem={queryProblemOf(result.state === 'error' ? result.error : null)}
      />
      <section
        className="results activity"
        aria-label={`${view.label}: activity`}
        aria-busy={result.state === 'loading'}
      >
        {result.state === 'loading' && <Loading what="activity" />}
        {result.state === 'error' && (
          <ProblemNotice
            problem={explain(result.error, 'count these events')}
            onRetry={result.reload}
          />
        )}
        {result.state === 'done' && result.data.total === 0 && (
          <Empty title="No events in this range.">
            <p>Choose other dates or filters.</p>
          </Empty>
        )}
        {result.state === 'done' && result.data.total > 0 && (
          <Activity
            stats={result.data}
            zone={zone}
            since={time(result.data.from)}
            until={time(result.data.to)}
            showEvents={showEvents}
          />
        )}
      </section>
    </>
  );
}

function Activity({
  stats,
  zone,
  since,
  until,
  showEvents,
}: {
  readonly stats: Stats;
  readonly zone: string;
  readonly since: string;
  readonly until: string;
  readonly showEvents: (name: FilterName) => ((value: string) => void) | null;
}) {
  const { view } = useConsole();
  const failed = stats.outcomes.failure;
  const percent = stats.total === 0 ? 0 : (failed / stats.total) * 100;
  const hourly = stats.interval === 3_600_000;
  return (
    <>
      <p className="result-count" role="status">
        {countText(stats.total, 'event')} from {since} to {until} ({zone}),{' '}
        {countText(failed, 'failure')} ({percent < 0.1 && failed > 0 ? '< 0.1' : percent.toFixed(1)}{' '}
        %).
        {!stats.exact &&
          ` Counted from the newest ${number.format(stats.scanned ?? 0)} matching events: narrow the dates or filters for exact figures.`}
      </p>
      {hourly ? (
        <WeekHours stats={stats} zone={zone} />
      ) : (
        <p className="window-note" role="note">
          Choose at most 80 days to see the events by weekday and hour.
        </p>
      )}
      <div className="activity-grid">
        <DayBars stats={stats} zone={hourly ? zone : 'UTC'} />
        <div className="activity-tops">
          <TopList
            caption="Most frequent actions"
            rows={stats.byAction.map((a) => ({
              key: a.action,
              label: actionLabel(view, a.action),
              count: a.count,
              value: a.action,
            }))}
            onPick={showEvents('action')}
          />
          <TopList
            caption="Most active"
            rows={stats.byActor.map((a) => ({
              key: a.actor.id ?? a.actor.email ?? a.actor.type ?? 'user',
              label: actorText(a.actor).name,
              count: a.count,
              // The actor filter takes an id or an e-mail; the system has neither.
              value: a.actor.id ?? a.actor.email,
            }))}
            onPick={showEvents('actor')}
          />
        </div>
      </div>
    </>
  );
}
