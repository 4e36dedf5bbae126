/**
 * Verify, on an event: checks in the reader's browser, with Web Crypto, that the event's
 * content gives its hash, that the event is in the log the newest signed checkpoint covers,
 * and that the checkpoint is signed by the server's key — or by one the application embedding
 * the console pinned (`trust.ts`) — with `@hindsight/core/event-proof`. Says plainly what
 * passed, what did not, and what the check cannot prove.
 */
import {
  type EventProofReport,
  signedByOthersOnly,
  verifyEventProof,
} from '@hindsight/core/event-proof';
import { useState } from 'react';
import { useConsole } from '../console-context.js';
import { countText } from '../formats.js';
import { explain } from '../problems.js';
import { logTrust } from '../trust.js';
import { ProblemNotice } from './notice.js';

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'checking' }
  | { readonly kind: 'checked'; readonly report: EventProofReport; readonly pinned: boolean }
  | { readonly kind: 'failed'; readonly error: unknown };

export function VerifyEvent({ id }: { readonly id: string }) {
  const { api, tenant, pinnedKeys } = useConsole();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const verify = async () => {
    setState({ kind: 'checking' });
    try {
      const [proof, trust] = await Promise.all([
        api.eventProof(tenant, id),
        logTrust(api, tenant, pinnedKeys),
      ]);
      const report = await verifyEventProof(proof, trust);
      setState({ kind: 'checked', report, pinned: trust.pinned });
    } catch (error) {
      setState({ kind: 'failed', error });
    }
  };
  return (
    <div className="verify" data-state={state.kind}>
      <button
        type="button"
        onClick={() => void verify()}
        disabled={state.kind === 'checking'}
        aria-describedby="verify-what"
      >
        {state.kind === 'checking' ? 'Verifying…' : 'Verify this event'}
      </button>
      <p id="verify-what" className="sub">
        Checks in your browser that this event is exactly as it was recorded, and that it is in the
        log the server has signed.
      </p>
      {state.kind === 'failed' && (
        <ProblemNotice problem={explain(state.error, 'verify this event')} />
      )}
      {state.kind === 'checked' && <Outcome report={state.report} pinned={state.pinned} />}
    </div>
  );
}

function Outcome({
  report,
  pinned,
}: {
  readonly report: EventProofReport;
  /** Whether the key was pinned by the application embedding the console. */
  readonly pinned: boolean;
}) {
  if (report.ok) {
    return (
      <div className="notice notice-good" role="status" data-verified="true">
        <p className="notice-title">Verified: unchanged since it was recorded.</p>
        <ul className="verify-steps">
          <li>Its content gives its hash.</li>
          <li>
            It is in the log of {countText(report.size ?? 0, 'event')} signed in the newest
            checkpoint.
          </li>
          <li>
            The checkpoint is signed by the key <span className="mono">{report.signer}</span>.
          </li>
        </ul>
        <p className="sub">
          {pinned
            ? 'The key was given by the application that shows this log, not read from this server.'
            : 'The key was read from this server.'}{' '}
          An auditor checks an export with a copy of the key kept elsewhere (
          <span className="mono">hindsight verify</span>).
        </p>
      </div>
    );
  }
  const pending = report.content && report.signed && report.included === null;
  // The checkpoint carries only keys other than the server's: a log not signed since the signing
  // key was rotated, which the server could not cosign at start (docs/operations.md), so a
  // warning rather than an alarm. Against keys the embedding application pinned, it is an
  // alarm: the application vouches for its keys, and the server signs with none of them.
  const otherKey = report.content && !report.signed && signedByOthersOnly(report);
  const [kind, title] = pending
    ? ['info', 'Not signed yet.']
    : otherKey && pinned
      ? ['error', 'Not signed by a key this application trusts.']
      : otherKey
        ? ['warning', 'Signed by another key.']
        : ['error', 'This event does not verify.'];
  return (
    <div
      className={`notice notice-${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
      data-verified="false"
    >
      <p className="notice-title">{title}</p>
      <ul className="verify-steps">
        {report.problems.map((problem) => (
          <li key={problem}>{problem}</li>
        ))}
      </ul>
      {kind === 'warning' && (
        <p className="sub">
          Ask your administrator for the previous key:{' '}
          <span className="mono">hindsight verify</span> checks an export with both.
        </p>
      )}
      {kind === 'error' && otherKey && (
        <p className="sub">
          The log may have been re-signed by someone else. If the signing key was rotated, the
          application must trust the new key too; ask its administrator.
        </p>
      )}
      {kind === 'error' && !otherKey && (
        <p className="sub">
          The record or the log was changed after it was written. Export the log and check it with{' '}
          <span className="mono">hindsight verify</span> to see everything that differs.
        </p>
      )}
    </div>
  );
}
