/**
 * Export of what the view shows (its filters) or of the events the reader ticked, as CSV or
 * NDJSON, through `GET /v1/tenants/{t}/export` with the reader's credentials.
 */
import { useState } from 'react';
import { useConsole } from '../console-context.js';
import { saveDownload } from '../download.js';
import { explain, type Problem } from '../problems.js';
import { type ExportFormat, exportParams } from '../query-params.js';
import { ProblemNotice } from './notice.js';

export function ExportBar({
  selected,
  onClearSelection,
}: {
  readonly selected: readonly string[];
  readonly onClearSelection: () => void;
}) {
  const { api, tenant, view, state } = useConsole();
  const [busy, setBusy] = useState(false);
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

  return (
    <div className="export-bar">
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
      {selected.length > 0 && (
        <fieldset className="button-group selection" disabled={busy}>
          <legend>
            {selected.length} selected{' '}
            <button type="button" className="link" onClick={onClearSelection}>
              Clear selection
            </button>
          </legend>
          <button type="button" onClick={() => run('csv', selected)}>
            Export selected as CSV
          </button>
          <button type="button" onClick={() => run('ndjson', selected)}>
            Export selected as NDJSON
          </button>
          <button type="button" onClick={() => run('pdf', selected)}>
            Export selected as PDF
          </button>
        </fieldset>
      )}
      <p className="export-status" role="status">
        {message}
      </p>
      {problem && <ProblemNotice problem={problem} />}
    </div>
  );
}
