/**
 * The filters a view offers (`filters`, named by `filterLabels`, actions from `actions`,
 * statuses from `statuses`), applied together when the form is submitted. The search box takes
 * the query language, with inline help and the server's `invalid_query` message.
 */
import type { ViewDefinition } from '@hindsight/core';
import { type FormEvent, useId, useState } from 'react';
import { ApiError } from '../api.js';
import { useConsole } from '../console-context.js';
import { CHANNEL_CHOICES } from '../formats.js';
import { isDay } from '../query-params.js';
import type { FilterName, Filters } from '../url-state.js';
import { QueryError } from './query-error.js';
import { QueryHelp } from './query-help.js';

const LABELS: Record<FilterName, string> = {
  since: 'From',
  until: 'To (inclusive)',
  actor: 'User',
  action: 'Action type',
  target: 'Target',
  outcome: 'Outcome',
  status: 'Status',
  channel: 'Channel',
  ip: 'IP address',
  delivery: 'Delivery status',
  q: 'Search',
};

const PLACEHOLDERS: Partial<Record<FilterName, string>> = {
  actor: 'e-mail or id',
  action: 'user.created, user.* or *.deleted',
  target: 'its id',
  ip: '81.2.69.142 or 81.2.0.0/16',
  status: 'e.g. hard_bounce',
  q: 'words, "a phrase", actor:ann@acme.test, -outcome:success …',
};

/** A malformed search as the server described it. */
export interface QueryProblem {
  readonly message: string;
  readonly position: number | undefined;
}

type Choice = { readonly value: string; readonly label: string };

function choicesOf(view: ViewDefinition, name: FilterName): readonly Choice[] | null {
  switch (name) {
    case 'action':
      return view.actions?.length ? view.actions : null;
    case 'status':
      return view.statuses?.length ? view.statuses : null;
    case 'outcome':
      return [
        { value: 'success', label: 'Success' },
        { value: 'failure', label: 'Failure' },
      ];
    case 'channel':
      return CHANNEL_CHOICES;
    case 'delivery':
      // The messages summary's: `failed`, a receiver the message did not reach (a red status),
      // then a receiver in each status of the view.
      return [{ value: 'failed', label: 'Not delivered' }, ...(view.statuses ?? [])];
    default:
      return null;
  }
}

/** The query the server refused (`invalid_query`) in a failed request, to mark in its field. */
export function queryProblemOf(error: unknown): QueryProblem | null {
  return error instanceof ApiError && error.code === 'invalid_query'
    ? { message: error.message, position: error.details[0]?.position }
    : null;
}

/**
 * The filters of the view shown, over its events or its activity: applying them starts again
 * at the first page, with nothing open.
 */
export function ViewFilterBar({ queryProblem }: { readonly queryProblem: QueryProblem | null }) {
  const { view, state, navigate } = useConsole();
  return (
    <FilterBar
      key={`${view.id}:${JSON.stringify(state.filters)}`}
      view={view}
      names={view.filters as FilterName[]}
      filters={state.filters}
      onApply={(filters) => navigate({ ...state, filters, pages: [], event: null, message: null })}
      queryProblem={queryProblem}
    />
  );
}

export function FilterBar({
  view,
  names,
  filters,
  onApply,
  queryProblem,
}: {
  readonly view: ViewDefinition;
  /** The filters to offer, in order. */
  readonly names: readonly FilterName[];
  readonly filters: Filters;
  readonly onApply: (filters: Filters) => void;
  readonly queryProblem: QueryProblem | null;
}) {
  const [draft, setDraft] = useState<Filters>(filters);
  const id = useId();
  const set = (name: FilterName, value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const label = (name: FilterName) => view.filterLabels?.[name] ?? LABELS[name];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const clean: Filters = {};
    for (const name of names) {
      const value = draft[name]?.trim();
      if (value) clean[name] = value;
    }
    onApply(clean);
  };
  const fields = names.filter((n) => n !== 'q');
  const hasFilters = names.some((n) => filters[n] !== undefined);

  const actions = (
    <div className="filter-actions">
      <button type="submit" className="primary">
        Apply filters
      </button>
      {hasFilters && (
        <button type="button" onClick={() => onApply({})}>
          Clear filters
        </button>
      )}
    </div>
  );

  return (
    <form className="filters" onSubmit={submit} aria-label={`Filter ${view.label}`}>
      {names.includes('q') && (
        <div className="query-row">
          <div className="field field-query">
            <label htmlFor={`${id}-q`}>{label('q')}</label>
            <input
              id={`${id}-q`}
              name="q"
              type="search"
              value={draft.q ?? ''}
              placeholder={PLACEHOLDERS.q}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={queryProblem ? true : undefined}
              aria-describedby={`${id}-help${queryProblem ? ` ${id}-qerror` : ''}`}
              onChange={(e) => set('q', e.currentTarget.value)}
            />
            {queryProblem && filters.q !== undefined && (
              <QueryError
                id={`${id}-qerror`}
                query={filters.q}
                message={queryProblem.message}
                position={queryProblem.position}
              />
            )}
            <QueryHelp id={`${id}-help`} />
          </div>
          {actions}
        </div>
      )}
      <div className="filter-grid">
        {fields.map((name) => {
          const choices = choicesOf(view, name);
          const fieldId = `${id}-${name}`;
          const applied = filters[name];
          // A date input shows nothing for a value that is not a day (a link's `since=2026-02-30`),
          // so such a value is shown as text, marked, until the reader corrects it.
          const notDay =
            (name === 'since' || name === 'until') && applied !== undefined && !isDay(applied);
          return (
            <div className="field" key={name}>
              <label htmlFor={fieldId}>{label(name)}</label>
              {choices ? (
                <select
                  id={fieldId}
                  name={name}
                  value={draft[name] ?? ''}
                  onChange={(e) => set(name, e.currentTarget.value)}
                >
                  <option value="">Any</option>
                  {choices.map((c) => (
                    <option key={c.value} value={c.value}>
                      {c.label}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={fieldId}
                  name={name}
                  type={(name === 'since' || name === 'until') && !notDay ? 'date' : 'text'}
                  value={draft[name] ?? ''}
                  placeholder={notDay ? 'YYYY-MM-DD' : PLACEHOLDERS[name]}
                  spellCheck={false}
                  autoComplete="off"
                  aria-invalid={notDay ? true : undefined}
                  aria-describedby={notDay ? `${fieldId}-error` : undefined}
                  onChange={(e) => set(name, e.currentTarget.value)}
                />
              )}
              {notDay && (
                <p className="field-error" id={`${fieldId}-error`}>
                  Not a day of the calendar: write it as 2026-01-31.
                </p>
              )}
            </div>
          );
        })}
      </div>
      {!names.includes('q') && actions}
    </form>
  );
}
