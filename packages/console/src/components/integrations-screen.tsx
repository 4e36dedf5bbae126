/**
 * The systems summary of the integrations log (`GET /v1/tenants/{t}/integrations`): each
 * connected system with its newest event, its status, the errors and notifications nobody has
 * acknowledged yet, and who acknowledged last. "Acknowledge" records that someone dealt with
 * those shown (an event; offered to keys with `events:write` only).
 */
import { useState } from 'react';
import type { Integration } from '../api-types.js';
import { useConsole } from '../console-context.js';
import { explain, type Problem } from '../problems.js';
import { statusInfo } from '../statuses.js';
import { useAsync } from '../use-async.js';
import { AcknowledgeButton } from './acknowledge-button.js';
import { Badge } from './badge.js';
import { ActorName, Time } from './cell.js';
import { Empty, Loading, ProblemNotice } from './notice.js';

function Attention({ integration }: { readonly integration: Integration }) {
  const { errors, notifications } = integration.unacknowledged;
  if (errors === 0 && notifications === 0) return <span className="none">Nothing</span>;
  return (
    <span className="attention">
      {errors > 0 && (
        <Badge
          info={{ value: 'error', label: `${errors} error${errors === 1 ? '' : 's'}`, tone: 'bad' }}
        />
      )}
      {notifications > 0 && (
        <Badge
          info={{
            value: 'notification',
            label: `${notifications} notification${notifications === 1 ? '' : 's'}`,
            tone: 'warning',
          }}
        />
      )}
    </span>
  );
}

export function IntegrationsScreen() {
  const { api, tenant, view, time, canAcknowledge } = useConsole();
  // The server reads the log's size before the summary, so every event up to it is in what the
  // screen shows: acknowledging up to it never covers an error recorded after the screen loaded.
  const result = useAsync(`${tenant}:integrations`, async (signal) => {
    const { integrations, upToSeq } = await api.integrations(tenant, signal);
    return { systems: integrations, shownUpTo: upToSeq };
  });
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);

  const acknowledge = async (integration: Integration, upToSeq: number) => {
    setBusy(integration.system);
    setProblem(null);
    setDone('');
    try {
      await api.acknowledge(tenant, integration.system, upToSeq);
      setDone(`Acknowledged the errors and notifications of ${integration.name}.`);
      result.reload();
    } catch (error) {
      setProblem(explain(error, `acknowledge ${integration.name}`));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section
      className="results"
      aria-label="Connected systems"
      aria-busy={result.state === 'loading'}
    >
      <p className="export-status" role="status">
        {done}
      </p>
      {problem && <ProblemNotice problem={problem} />}
      {result.state === 'loading' && <Loading what="connected systems" />}
      {result.state === 'error' && (
        <ProblemNotice
          problem={explain(result.error, 'load the connected systems')}
          onRetry={result.reload}
        />
      )}
      {result.state === 'done' && result.data.systems.length === 0 && (
        <Empty title="No connected systems yet.">
          <p>Systems appear here with their first integration event.</p>
        </Empty>
      )}
      {result.state === 'done' && result.data.systems.length > 0 && !canAcknowledge && (
        <p className="hint">Acknowledging needs an API key with the events:write scope.</p>
      )}
      {result.state === 'done' && result.data.systems.length > 0 && (
        <div className="table-wrap">
          <table className="data-table integrations-table">
            <caption className="visually-hidden">
              Connected systems and what needs attention
            </caption>
            <thead>
              <tr>
                <th scope="col">System</th>
                <th scope="col">Last event</th>
                <th scope="col">Status</th>
                <th scope="col">Needs attention</th>
                <th scope="col">Last acknowledged</th>
                {canAcknowledge && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {result.data.systems.map((integration) => (
                <tr key={integration.system} data-id={integration.system}>
                  <th scope="row">{integration.name}</th>
                  <td>
                    <Time iso={integration.lastEvent.time} time={time} />
                    <span className="sub">{integration.lastEvent.description}</span>
                  </td>
                  <td>
                    {integration.lastStatus && (
                      <Badge info={statusInfo(view, integration.lastStatus)} />
                    )}
                  </td>
                  <td>
                    <Attention integration={integration} />
                  </td>
                  <td>
                    {integration.acknowledged ? (
                      <>
                        <ActorName actor={integration.acknowledged.actor} />
                        <span className="sub">
                          <Time iso={integration.acknowledged.time} time={time} />
                        </span>
                      </>
                    ) : (
                      <span className="none">Never</span>
                    )}
                  </td>
                  {canAcknowledge && (
                    <td>
                      <AcknowledgeButton
                        integration={integration}
                        busy={busy === integration.system}
                        disabled={busy !== null}
                        onConfirm={() => acknowledge(integration, result.data.shownUpTo)}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
