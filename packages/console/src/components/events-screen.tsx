/**
 * A view's events: its filters, a page of events with the view's columns, export and bulk
 * selection, and paging (newest first, 50 a page).
 */
import { useMemo, useState } from 'react';
import { useConsole } from '../console-context.js';
import { countText } from '../formats.js';
import { explain } from '../problems.js';
import { eventListParams, viewFilters, windowStart } from '../query-params.js';
import type { FilterName, Filters } from '../url-state.js';
import { useAsync } from '../use-async.js';
import { EventTable } from './event-table.js';
import { queryProblemOf, ViewFilterBar } from './filter-bar.js';
import { Empty, Loading, ProblemNotice } from './notice.js';
import { Pager } from './pager.js';
import { ResultActions } from './result-actions.js';

export function EventsScreen() {
  const { api, tenant, view, state, navigate, time, canExport, canDelete, windowDays } =
    useConsole();
  // Events are ticked to export or to delete them.
  const canSelect = canExport || canDelete;
  // The tenant's display window, unless the reader chose dates; exports are never windowed.
  const since = windowStart(view, state, windowDays, Date.now());
  const params = { ...eventListParams(view, state), ...(since === null ? {} : { since }) };
  const key = `${tenant}:${JSON.stringify(params)}`;
  const page = useAsync(key, (signal) => api.events(tenant, params, signal));
  const filterKey = `${tenant}:${view.id}:${JSON.stringify(viewFilters(view, state.filters))}`;
  const [selection, setSelection] = useState<{ key: string; ids: Set<string> }>({
    key: filterKey,
    ids: new Set(),
  });
  const selected = useMemo(
    () => (selection.key === filterKey ? selection.ids : new Set<string>()),
    [selection, filterKey],
  );
  const select = (ids: readonly string[], on: boolean) => {
    const next = new Set(selected);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    setSelection({ key: filterKey, ids: next });
  };

  const queryProblem = queryProblemOf(page.state === 'error' ? page.error : null);
  const apply = (filters: Filters) =>
    navigate({ ...state, filters, pages: [], event: null, message: null });
  const hasFilters = (view.filters as FilterName[]).some((n) => state.filters[n] !== undefined);
  const pageNumber = state.pages.length + 1;

  return (
    <>
      <ViewFilterBar queryProblem={queryProblem} />
      {since !== null && windowDays !== null && (
        <p className="window-note" role="note">
          Showing the last {countText(windowDays, 'day')} (since {time(since)}). Older events are
          kept: choose dates to see them
          {canExport ? ', or export the log' : ''}.
          {(view.filters as FilterName[]).includes('since') && (
            <>
              {' '}
              <button
                type="button"
                className="link"
                onClick={() => apply({ ...state.filters, since: '1970-01-01' })}
              >
                Show all events
              </button>
            </>
          )}
        </p>
      )}
      {canSelect && (
        <ResultActions
          selected={[...selected]}
          onClearSelection={() => select([...selected], false)}
          onDeleted={() => {
            select([...selected], false);
            page.reload();
          }}
        />
      )}
      <section
        className="results"
        aria-label={`${view.label}: results`}
        aria-busy={page.state === 'loading'}
      >
        {page.state === 'loading' && <Loading what="events" />}
        {page.state === 'error' && !queryProblem && (
          <ProblemNotice
            problem={explain(page.error, 'load these events')}
            onRetry={page.reload}
            onFirstPage={
              state.pages.length > 0 ? () => navigate({ ...state, pages: [] }) : undefined
            }
          />
        )}
        {page.state === 'done' && page.data.events.length === 0 && (
          <Empty
            title={
              hasFilters
                ? 'No events match these filters.'
                : since !== null && windowDays !== null
                  ? `No events in the last ${countText(windowDays, 'day')}.`
                  : 'This log has no events yet.'
            }
          >
            {since !== null && !hasFilters ? (
              <p>Older events are kept: choose dates to see them.</p>
            ) : hasFilters ? (
              <p>
                Widen the date range or remove a filter.{' '}
                <button type="button" className="link" onClick={() => apply({})}>
                  Clear all filters
                </button>
              </p>
            ) : (
              <p>Events appear here as soon as the product records them.</p>
            )}
          </Empty>
        )}
        {page.state === 'done' && page.data.events.length > 0 && (
          <>
            <p className="result-count" role="status">
              Page {pageNumber}: {page.data.events.length} event
              {page.data.events.length === 1 ? '' : 's'}, newest first
              {page.refreshing ? ' (updating…)' : ''}. Times in {time.zone}.
            </p>
            <EventTable
              view={view}
              events={page.data.events}
              time={time}
              openId={state.event}
              onOpen={(id) => navigate({ ...state, event: id, message: null })}
              // Ticking rows is only for exporting them.
              selection={canSelect ? { selected, onSelect: select } : null}
            />
            <Pager
              label="Event pages"
              pages={state.pages}
              nextCursor={page.data.nextCursor}
              onPages={(pages) => navigate({ ...state, pages, event: null })}
            />
          </>
        )}
      </section>
    </>
  );
}
