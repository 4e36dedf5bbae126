/**
 * Under the logs: the server's own verdict on the stored log when its integrity check found it
 * changed; whether the tenant's log is signed, and whether it still holds every event this
 * browser saw signed before (`log-integrity.ts`). Quiet when all is well; an alert when
 * the log was rewritten or shortened, or is not signed by a key the embedding application
 * pinned.
 */
import { useConsole } from '../console-context.js';
import { browserStore, checkLogIntegrity } from '../log-integrity.js';
import { explain } from '../problems.js';
import { useAsync } from '../use-async.js';

export function LogIntegrityNote() {
  return (
    <>
      <ServerVerdict />
      <BrowserCheck />
    </>
  );
}

/**
 * The server's own integrity scrub (`GET …/integrity`): nothing while it never found a problem
 * in the log, or after it verified again; an alert while its newest verdict is a failure — the
 * browser's check of the checkpoints cannot see an event changed under an unchanged tree.
 */
function ServerVerdict() {
  const { api, tenant, time } = useConsole();
  const result = useAsync(`server-integrity:${tenant}`, (signal) =>
    // A server without the scrub (an older one) has nothing to say.
    api.integrity(tenant, signal).catch(() => null),
  );
  if (result.state !== 'done' || result.data === null || result.data.ok) return null;
  const verdict = result.data;
  return (
    <div className="integrity integrity-broken" data-server-integrity="failed" role="alert">
      <p className="integrity-title">The server found this log changed.</p>
      <p>{verdict.description}</p>
      {verdict.problems.length > 1 && (
        <ul>
          {verdict.problems.slice(1, 4).map((p) => (
            <li key={`${p.kind}:${p.seq}:${p.message}`}>{p.message}</li>
          ))}
        </ul>
      )}
      <p className="sub">
        Found by its integrity check on {time(verdict.at)}. Export the log and check it with{' '}
        <span className="mono">hindsight verify</span> to see everything that differs.
      </p>
    </div>
  );
}

function BrowserCheck() {
  const { api, tenant, time, pinnedKeys } = useConsole();
  const result = useAsync(`integrity:${tenant}`, (signal) =>
    checkLogIntegrity(api, tenant, pinnedKeys, browserStore(), new Date(), signal),
  );
  if (result.state === 'loading') {
    return (
      <p className="integrity" data-integrity="checking" role="status">
        Checking the log’s signature…
      </p>
    );
  }
  if (result.state === 'error') {
    const problem = explain(result.error, 'check the log’s signature');
    return (
      <p className="integrity" data-integrity="unknown" role="status">
        {problem.title}{' '}
        <button type="button" className="link" onClick={result.reload}>
          Check again
        </button>
      </p>
    );
  }
  const integrity = result.data;
  if (integrity.kind === 'empty') return null;
  if (integrity.kind === 'ok') {
    const { size, seen } = integrity;
    return (
      <p className="integrity integrity-ok" data-integrity="ok" role="status">
        <span aria-hidden="true">✓ </span>
        Signed log of {size.toLocaleString('en')} {size === 1 ? 'event' : 'events'}.{' '}
        {seen === null
          ? 'This browser will check on each visit that it only grows.'
          : `The ${seen.size.toLocaleString('en')} this browser saw on ${time(seen.at)} are unchanged.`}
      </p>
    );
  }
  const alarm = integrity.kind !== 'other-key';
  return (
    <div
      className={`integrity integrity-${alarm ? 'broken' : integrity.kind}`}
      data-integrity={integrity.kind}
      role={alarm ? 'alert' : 'status'}
    >
      <p className="integrity-title">
        {integrity.kind === 'broken'
          ? 'The log does not verify.'
          : integrity.kind === 'untrusted'
            ? 'Not signed by a key this application trusts.'
            : 'Signed by another key.'}
      </p>
      <p>{integrity.problem}</p>
      {integrity.kind === 'untrusted' && (
        <p>
          The log may have been re-signed by someone else. If the signing key was rotated, the
          application must trust the new key too; ask its administrator.
        </p>
      )}
      <button type="button" className="link" onClick={result.reload}>
        Check again
      </button>
    </div>
  );
}
