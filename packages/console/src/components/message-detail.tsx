/**
 * One message (`GET /v1/tenants/{t}/messages/{id}`): its overall status and, per receiver, the
 * status with the seed's explanation of what it means and the provider's reason.
 */
import { useConsole } from '../console-context.js';
import { messageTypeText, plainText } from '../formats.js';
import { explain } from '../problems.js';
import { statusInfo } from '../statuses.js';
import { useAsync } from '../use-async.js';
import { Badge } from './badge.js';
import { ActorName, Time } from './cell.js';
import { Loading, ProblemNotice } from './notice.js';
import { SidePanel } from './side-panel.js';

export function MessageDetail({ id }: { readonly id: string }) {
  const { api, tenant, views, state, navigate, time } = useConsole();
  const view = views.find((v) => v.summary === 'messages');
  const result = useAsync(`${tenant}:message:${id}`, (signal) => api.message(tenant, id, signal));
  const close = () => navigate({ ...state, message: null });
  const message = result.state === 'done' ? result.data : null;
  const subject = plainText(message?.event?.metadata?.['subject']);
  const overall = message ? statusInfo(view, message.status) : null;

  return (
    <SidePanel
      title={subject || `Message ${id}`}
      label="message details"
      onClose={close}
      subtitle={message?.event ? <Time iso={message.event.time} time={time} /> : null}
    >
      {result.state === 'loading' && <Loading what="the message" />}
      {result.state === 'error' && (
        <ProblemNotice
          problem={explain(result.error, 'load this message')}
          onRetry={result.reload}
        />
      )}
      {message && overall && (
        <>
          <section className="detail-section">
            <h3>Delivery</h3>
            <div className="overall">
              <Badge info={overall} />
              {overall.explanation && <p className="explanation">{overall.explanation}</p>}
            </div>
            <dl className="facts">
              <div>
                <dt>Receivers</dt>
                <dd>
                  {message.receivers}
                  {message.failed > 0 ? `, ${message.failed} not reached` : ''}
                </dd>
              </div>
              {message.event && (
                <>
                  <div>
                    <dt>Sender</dt>
                    <dd>
                      <ActorName actor={message.event.actor} />
                    </dd>
                  </div>
                  <div>
                    <dt>Type</dt>
                    <dd>{messageTypeText(message.event.metadata)}</dd>
                  </div>
                </>
              )}
              <div>
                <dt>Message ID</dt>
                <dd className="mono">{message.id}</dd>
              </div>
            </dl>
            {message.event && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  if (message.event) navigate({ ...state, message: null, event: message.event.id });
                }}
              >
                Show the event that recorded this message
              </button>
            )}
          </section>
          <section className="detail-section">
            <h3>Receivers</h3>
            <table className="data-table receivers-table">
              <caption className="visually-hidden">Each receiver's delivery status</caption>
              <thead>
                <tr>
                  <th scope="col">Receiver</th>
                  <th scope="col">Status and what it means</th>
                </tr>
              </thead>
              <tbody>
                {message.receiverList.map((receiver) => {
                  const info = statusInfo(view, receiver.status);
                  return (
                    <tr key={receiver.address} data-address={receiver.address}>
                      <th scope="row">
                        {receiver.name ?? receiver.address}
                        <span className="sub address">{receiver.address}</span>
                      </th>
                      <td>
                        <Badge info={info} />
                        {receiver.report && (
                          <>
                            {' '}
                            <Time iso={receiver.report.time} time={time} />
                          </>
                        )}
                        {info.explanation && (
                          <span className="explanation">{info.explanation}</span>
                        )}
                        {receiver.report?.reason && (
                          <span className="sub reason">{receiver.report.reason}</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {message.nextCursor !== null && (
              <p className="hint">More receivers than shown; export the log for the full list.</p>
            )}
          </section>
        </>
      )}
    </SidePanel>
  );
}
