/**
 * Under the logs: whether the tenant's log is signed, and whether it still holds every event
 * this browser saw signed before (`log-integrity.ts`). Quiet when all is well; an alert when
 * the log was rewritten or shortened, or is not signed by a key the embedding application
 * pinned.
 */
import { useConsole } from '../console-context.js';
import { browserStore, checkLogIntegrity } from '../log-integrity.js';
import { explain } from '../problems.js';
import { useAsync } from '../use-async.js';

export function LogIntegrityNote() {
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
