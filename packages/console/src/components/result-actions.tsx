/**
 * What the reader may do with the results: export what the view shows (its filters) or the
 * events they ticked, as CSV, NDJSON or PDF, through `GET /v1/tenants/{t}/export`; and, where
 * the tenant allows it and the reader may, delete the ticked events (`POST …/deletions`: the
 * log keeps their place, id and hash, and records who deleted them), after asking on the page.
 */
import { useState } from 'react';
import { useConsole } from '../console-context.js';
import { saveDownload } from '../download.js';
import { countText } from '../formats.js';
import { explain, type Problem } from '../problems.js';
import { type ExportFormat, exportParams } from '../query-params.js';
import { ConfirmButton } from './confirm-button.js';
import { ProblemNotice } from './notice.js';

export function ResultActions({
  selected,
  onClearSelection,
  onDeleted,
}: {
  readonly selected: readonly string[];
  readonly onClearSelection: () => void;
  /** The ticked events were deleted: the page is read again. */
  readonly onDeleted: () => void;
}) {
  const { api, tenant, view, state, canExport, canDelete } = useConsole();
  const [busy, setBusy] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [message, setMessage] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);

  const run = async (format: ExportFormat, ids: readonly string[]) => {
    setBusy(true);
    setProblem(null);
    setMessage(`Preparing the ${format.toUpperCase()} export…`);
    try {
      const file = await api.exportFile(tenant, exportParams(view, state, format, ids));
      saveDownload(file);
      setMessage(`Downloaded ${file.filename}.`);
    } catch (error) {
      setMessage('');
      setProblem(explain(error, 'export events'));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (ids: readonly string[]) => {
    setBusy(true);
    setDeleting(true);
    setProblem(null);
    setMessage('');
    try {
      const done = await api.deleteEvents(tenant, ids);
      const gone = done.deleted.length + done.alreadyDeleted.length;
      setMessage(
        `Deleted ${countText(gone, 'event')}.` +
          (done.notFound.length > 0
            ? ` ${countText(done.notFound.length, 'event')} could not be found.`
            : ''),
      );
      onDeleted();
    } catch (error) {
      setProblem(explain(error, 'delete these events'));
    } finally {
      setBusy(false);
      setDeleting(false);
    }
  };

  return (
    <div className="export-bar">
      {canExport && (
        <fieldset className="button-group" disabled={busy}>
          <legend>Export these results</legend>
          <button type="button" onClick={() => run('csv', [])}>
            CSV
          </button>
          <button type="button" onClick={() => run('ndjson', [])}>
            NDJSON
          </button>
          <button type="button" onClick={() => run('pdf', [])}>
            PDF
          </button>
        </fieldset>
      )}
      {selected.length > 0 && (
        <fieldset className="button-group selection" disabled={busy}>
          <legend>
            {selected.length} selected{' '}
            <button type="button" className="link" onClick={onClearSelection}>
              Clear selection
            </button>
          </legend>
          {canExport && (
            <>
              <button type="button" onClick={() => run('csv', selected)}>
                Export selected as CSV
              </button>
              <button type="button" onClick={() => run('ndjson', selected)}>
                Export selected as NDJSON
              </button>
              <button type="button" onClick={() => run('pdf', selected)}>
                Export selected as PDF
              </button>
            </>
          )}
          {canDelete && (
            <ConfirmButton
              label="Delete selected"
              busyLabel="Deleting…"
              busy={deleting}
              question={`Delete the ${countText(selected.length, 'selected event')}? They disappear from every view, search and export of this log, for good. The log keeps their number, id and hash, and records that you deleted them.`}
              yes="Yes, delete"
              onConfirm={() => void remove(selected)}
            />
          )}
        </fieldset>
      )}
      <p className="export-status" role="status">
        {message}
      </p>
      {problem && <ProblemNotice problem={problem} />}
    </div>
  );
}
