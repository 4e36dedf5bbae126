/**
 * The messages summary of the communications log (`GET /v1/tenants/{t}/messages`): one row per
 * message sent, with its overall delivery status — `mixed` when its receivers' statuses differ
 * (seed: CleanManager communications). A row opens the message's receivers.
 */
import { useRef, useState } from 'react';
import { ApiError } from '../api.js';
import { useConsole } from '../console-context.js';
import { countText, messageTypeText, plainText, receiversOf, receiversText } from '../formats.js';
import { explain } from '../problems.js';
import { MESSAGE_FILTERS, messageListParams } from '../query-params.js';
import { clickedInside, onRowKey, useFocusReturn } from '../row-keys.js';
import { statusInfo } from '../statuses.js';
import type { Filters } from '../url-state.js';
import { useAsync } from '../use-async.js';
import { Badge } from './badge.js';
import { ActorName, Time } from './cell.js';
import { FilterBar } from './filter-bar.js';
import { Empty, Loading, ProblemNotice } from './notice.js';
import { Pager } from './pager.js';

export function MessagesScreen() {
  const { api, tenant, view, state, navigate, time } = useConsole();
  const params = messageListParams(state);
  const result = useAsync(`${tenant}:messages:${JSON.stringify(params)}`, (signal) =>
    api.messages(tenant, params, signal),
  );
  const body = useRef<HTMLTableSectionElement>(null);
  const [active, setActive] = useState(0);
  useFocusReturn(state.message, body);
  // The view's filters that the summary takes, and its own `delivery`, which no view lists.
  const names = MESSAGE_FILTERS.filter((n) => n === 'delivery' || view.filters.includes(n));
  const error = result.state === 'error' ? result.error : null;
  const queryProblem =
    error instanceof ApiError && error.code === 'invalid_query'
      ? { message: error.message, position: error.details[0]?.position }
      : null;
  const open = (id: string) => navigate({ ...state, message: id, event: null });

  return (
    <>
      <FilterBar
        key={`messages:${JSON.stringify(state.filters)}`}
        view={view}
        names={names}
        filters={state.filters}
        onApply={(filters: Filters) => navigate({ ...state, filters, pages: [], message: null })}
        queryProblem={queryProblem}
      />
      <section className="results" aria-label="Messages" aria-busy={result.state === 'loading'}>
        {result.state === 'loading' && <Loading what="messages" />}
        {result.state === 'error' && !queryProblem && (
          <ProblemNotice
            problem={explain(result.error, 'load the messages')}
            onRetry={result.reload}
            onFirstPage={
              state.pages.length > 0 ? () => navigate({ ...state, pages: [] }) : undefined
            }
          />
        )}
        {result.state === 'done' && result.data.messages.length === 0 && (
          <Empty title="No messages match.">
            <p>Messages appear here when the product records a message.sent event.</p>
          </Empty>
        )}
        {result.state === 'done' && result.data.messages.length > 0 && (
          <>
            <p className="result-count" role="status">
              {countText(result.data.messages.length, 'message')}, newest first. Select one to see
              each receiver's status. Times in {time.zone}.
            </p>
            <div className="table-wrap">
              <table className="data-table messages-table">
                <caption className="visually-hidden">
                  Messages sent, with their delivery status. Press Enter on a row to see its
                  receivers.
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Sender</th>
                    <th scope="col">Receivers</th>
                    <th scope="col">Subject</th>
                    <th scope="col">Type</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody ref={body}>
                  {result.data.messages.map((message, index) => {
                    const receivers = receiversOf(message.event.metadata?.['receivers']);
                    return (
                      <tr
                        key={message.id}
                        data-id={message.id}
                        tabIndex={index === active ? 0 : -1}
                        className={`row${message.id === state.message ? ' row-open' : ''}`}
                        onFocus={() => setActive(index)}
                        onKeyDown={(e) => onRowKey(e, body.current, () => open(message.id))}
                        onClick={(e) => {
                          if (!clickedInside(e)) open(message.id);
                        }}
                      >
                        <td>
                          <Time iso={message.event.time} time={time} />
                        </td>
                        <td>
                          <ActorName actor={message.event.actor} />
                        </td>
                        <td>
                          {receiversText(receivers)}
                          <span className="sub">
                            {message.receivers} receiver{message.receivers === 1 ? '' : 's'}
                            {message.failed > 0 ? `, ${message.failed} not reached` : ''}
                          </span>
                        </td>
                        <td>{plainText(message.event.metadata?.['subject'])}</td>
                        <td>{messageTypeText(message.event.metadata)}</td>
                        <td>
                          <Badge info={statusInfo(view, message.status)} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager
              label="Message pages"
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
