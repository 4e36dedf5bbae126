/**
 * The first screen after sign-in when the key can read several tenants: which customer's log
 * to open. Against a server without a tenant list the reader types the tenant's name.
 */
import { type FormEvent, useId, useState } from 'react';
import { ApiError } from '../api.js';
import type { TenantSummary } from '../api-types.js';
import { countText } from '../formats.js';
import { explain } from '../problems.js';
import type { AsyncResult } from '../use-async.js';
import { Empty, Loading, ProblemNotice } from './notice.js';

function TypeTenant({ onChoose }: { readonly onChoose: (tenant: string) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) onChoose(name.trim());
  };
  return (
    <form onSubmit={submit} className="inline-form">
      <label htmlFor={id}>Tenant name</label>
      <input id={id} value={name} onChange={(e) => setName(e.currentTarget.value)} />
      <button type="submit" className="primary">
        Open
      </button>
    </form>
  );
}

export function TenantChooser({
  tenants,
  onChoose,
}: {
  readonly tenants: AsyncResult<TenantSummary[]> & { readonly reload: () => void };
  readonly onChoose: (tenant: string) => void;
}) {
  return (
    <main className="chooser" id="view-panel">
      <h1>Choose a tenant</h1>
      {tenants.state === 'loading' && <Loading what="tenants" />}
      {tenants.state === 'error' &&
        (tenants.error instanceof ApiError && tenants.error.code === 'not_found' ? (
          <>
            <p>This server does not list its tenants. Type the name of the one to open.</p>
            <TypeTenant onChoose={onChoose} />
          </>
        ) : (
          <ProblemNotice
            problem={explain(tenants.error, 'list the tenants')}
            onRetry={tenants.reload}
          >
            <TypeTenant onChoose={onChoose} />
          </ProblemNotice>
        ))}
      {tenants.state === 'done' && tenants.data.length === 0 && (
        <Empty title="No tenant has any events yet.">
          <p>
            A tenant appears here with its first event. Send events with{' '}
            <code>POST /v1/events</code>.
          </p>
        </Empty>
      )}
      {tenants.state === 'done' && tenants.data.length > 0 && (
        <ul className="tenant-list">
          {tenants.data.map((t) => (
            <li key={t.name}>
              <button type="button" onClick={() => onChoose(t.name)}>
                <span className="tenant-name">{t.name}</span>
                <span className="sub">{countText(t.events, 'event')}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
