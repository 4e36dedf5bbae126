/**
 * The "Users" summary of the logins log (`GET /v1/tenants/{t}/logins/users`): per account, the
 * last successful and the last failed sign-in with time and place, failures in the last 24
 * hours and the countries sign-in attempts came from (seed: ExpertSender user logins); a last
 * successful sign-in from a country new to the account is marked, and can be filtered for (the
 * seeds' advice: investigate unexpected IP addresses).
 */
import { type FormEvent, useId, useState } from 'react';
import type { LoginAccount, LoginAttempt } from '../api-types.js';
import { useConsole } from '../console-context.js';
import { countText, locationText } from '../formats.js';
import { explain } from '../problems.js';
import { accountListParams } from '../query-params.js';
import { outcomeInfo, type StatusInfo } from '../statuses.js';
import type { AccountFilters } from '../url-state.js';
import { useAsync } from '../use-async.js';
import { Badge } from './badge.js';
import { Time } from './cell.js';
import { Empty, Loading, ProblemNotice } from './notice.js';
import { Pager } from './pager.js';

const NEW_COUNTRY: StatusInfo = {
  value: 'new_country',
  label: 'New country',
  tone: 'warning',
  explanation:
    'The first successful sign-in from this country: the account had signed in only from ' +
    'elsewhere before. Check that it was the account’s owner.',
};

/** The account's name; an attempt for an e-mail without an account has none. */
function accountName(actor: LoginAccount['actor']): string {
  if (actor.name) return actor.name;
  return actor.type === 'anonymous' ? 'Unknown account' : (actor.id ?? actor.email ?? '');
}

function Attempt({
  attempt,
  kind,
  newCountry = false,
  onOpen,
}: {
  readonly attempt: LoginAttempt | null;
  readonly kind: string;
  readonly newCountry?: boolean;
  readonly onOpen: (id: string) => void;
}) {
  const { time } = useConsole();
  if (attempt === null) return <span className="none">Never</span>;
  const place = locationText(attempt.location);
  return (
    <span className="attempt">
      <button
        type="button"
        className="link"
        onClick={() => onOpen(attempt.id)}
        aria-label={`${kind} on ${time(attempt.time)}: show the event`}
      >
        <Time iso={attempt.time} time={time} />
      </button>
      {(place || attempt.ip) && (
        <span className="sub">
          {place}
          {place && attempt.ip ? ' · ' : ''}
          {attempt.ip && <span className="mono">{attempt.ip}</span>}
        </span>
      )}
      {newCountry && (
        <span className="sub">
          <Badge info={NEW_COUNTRY} />
        </span>
      )}
      {attempt.reason && <span className="sub">{attempt.reason.replaceAll('_', ' ')}</span>}
    </span>
  );
}

function AccountFilterForm({
  filters,
  onApply,
}: {
  readonly filters: AccountFilters;
  readonly onApply: (filters: AccountFilters) => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState<AccountFilters>(filters);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const clean: { -readonly [K in keyof AccountFilters]: string } = {};
    for (const [key, value] of Object.entries(draft) as [keyof AccountFilters, string][]) {
      if (value.trim()) clean[key] = value.trim();
    }
    onApply(clean);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter accounts">
      <div className="filter-grid">
        <div className="field">
          <label htmlFor={`${id}-search`}>Name or e-mail</label>
          <input
            id={`${id}-search`}
            type="search"
            value={draft.search ?? ''}
            onChange={(e) => setDraft({ ...draft, search: e.currentTarget.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-last`}>Last attempt</label>
          <select
            id={`${id}-last`}
            value={draft.lastAttempt ?? ''}
            onChange={(e) => setDraft({ ...draft, lastAttempt: e.currentTarget.value })}
          >
            <option value="">Any</option>
            <option value="succeeded">Successful</option>
            <option value="failed">Failed</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-new`}>Last successful login</label>
          <select
            id={`${id}-new`}
            value={draft.newCountry ?? ''}
            onChange={(e) => setDraft({ ...draft, newCountry: e.currentTarget.value })}
          >
            <option value="">From anywhere</option>
            <option value="true">From a new country</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-country`}>Attempts from country</label>
          <input
            id={`${id}-country`}
            value={draft.country ?? ''}
            placeholder="ISO code, e.g. GB"
            maxLength={2}
            onChange={(e) => setDraft({ ...draft, country: e.currentTarget.value })}
          />
        </div>
      </div>
      <div className="filter-actions">
        <button type="submit" className="primary">
          Apply filters
        </button>
        {Object.keys(filters).length > 0 && (
          <button type="button" onClick={() => onApply({})}>
            Clear filters
          </button>
        )}
      </div>
    </form>
  );
}

export function AccountsScreen() {
  const { api, tenant, state, navigate, time } = useConsole();
  const params = accountListParams(state);
  const result = useAsync(`${tenant}:accounts:${JSON.stringify(params)}`, (signal) =>
    api.loginAccounts(tenant, params, signal),
  );
  const open = (id: string) => navigate({ ...state, event: id });
  return (
    <>
      <AccountFilterForm
        key={JSON.stringify(state.accounts)}
        filters={state.accounts}
        onApply={(accounts) => navigate({ ...state, accounts, pages: [] })}
      />
      <section className="results" aria-label="Accounts" aria-busy={result.state === 'loading'}>
        {result.state === 'loading' && <Loading what="accounts" />}
        {result.state === 'error' && (
          <ProblemNotice
            problem={explain(result.error, 'load the accounts')}
            onRetry={result.reload}
            onFirstPage={
              state.pages.length > 0 ? () => navigate({ ...state, pages: [] }) : undefined
            }
          />
        )}
        {result.state === 'done' && result.data.users.length === 0 && (
          <Empty title="No sign-ins match.">
            <p>Accounts appear here after their first sign-in attempt.</p>
          </Empty>
        )}
        {result.state === 'done' && result.data.users.length > 0 && (
          <>
            <p className="result-count" role="status">
              {countText(result.data.users.length, 'account')}, most recent attempt first. Times in{' '}
              {time.zone}.
            </p>
            <div className="table-wrap">
              <table className="data-table accounts-table">
                <caption className="visually-hidden">Sign-ins per account</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">E-mail</th>
                    <th scope="col">Last attempt</th>
                    <th scope="col">Last successful login</th>
                    <th scope="col">Last failed login</th>
                    <th scope="col">Failed in 24 h</th>
                    <th scope="col">Countries of attempts</th>
                  </tr>
                </thead>
                <tbody>
                  {result.data.users.map((user) => (
                    <tr key={user.key} data-id={user.key}>
                      <th scope="row">{accountName(user.actor)}</th>
                      <td>{user.actor.email}</td>
                      <td>
                        <Badge info={outcomeInfo(user.lastAttempt)} />
                      </td>
                      <td data-cell="last-success">
                        <Attempt
                          attempt={user.lastSuccess}
                          kind="Last successful login"
                          newCountry={user.newCountry}
                          onOpen={open}
                        />
                      </td>
                      <td data-cell="last-failure">
                        <Attempt
                          attempt={user.lastFailure}
                          kind="Last failed login"
                          onOpen={open}
                        />
                      </td>
                      <td className="num">{user.failuresLast24h}</td>
                      <td>{user.countries.join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager
              label="Account pages"
              pages={state.pages}
              nextCursor={result.data.nextCursor}
              onPages={(pages) => navigate({ ...state, pages })}
            />
          </>
        )}
      </section>
    </>
  );
}
