/**
 * The bar above every screen: the product, the tenant picker, the time-zone switch and
 * sign-out.
 */
import { useId } from 'react';
import type { TenantSummary } from '../api-types.js';
import { countText } from '../formats.js';

export function TopBar({
  tenants,
  tenant,
  onTenant,
  utc,
  zone,
  onUtc,
  onSignOut,
  embedded,
}: {
  /** The tenants to choose from; `null` while unknown. */
  readonly tenants: readonly TenantSummary[] | null;
  readonly tenant: string | null;
  readonly onTenant: (tenant: string) => void;
  readonly utc: boolean;
  /** The reader's own time zone. */
  readonly zone: string;
  readonly onUtc: (utc: boolean) => void;
  readonly onSignOut: () => void;
  /** Embedded in a host page: its title and logo, the viewer; no tenant picker or sign-out. */
  readonly embedded?: { readonly title?: string; readonly logo?: string; readonly viewer?: string };
}) {
  const id = useId();
  const names = tenants?.map((t) => t.name) ?? [];
  if (tenant !== null && !names.includes(tenant)) names.unshift(tenant);
  const count = (name: string) => tenants?.find((t) => t.name === name)?.events;
  return (
    <header className="top-bar">
      <a className="skip-link" href="#view-panel">
        Skip to the log
      </a>
      {embedded ? (
        <p className="brand">
          {embedded.logo && <img className="brand-logo" src={embedded.logo} alt="" />}
          {embedded.title ?? 'Audit log'}
          {embedded.viewer && <span className="brand-sub"> · {embedded.viewer}</span>}
        </p>
      ) : (
        <p className="brand">
          Hindsight <span className="brand-sub">Audit trail</span>
        </p>
      )}
      {!embedded && names.length > 0 && (
        <div className="tenant-picker">
          <label htmlFor={`${id}-tenant`}>Tenant</label>
          <select
            id={`${id}-tenant`}
            value={tenant ?? ''}
            onChange={(e) => onTenant(e.currentTarget.value)}
          >
            {tenant === null && <option value="">Choose a tenant…</option>}
            {names.map((name) => {
              const events = count(name);
              return (
                <option key={name} value={name}>
                  {events === undefined ? name : `${name} (${countText(events, 'event')})`}
                </option>
              );
            })}
          </select>
        </div>
      )}
      <div className="top-actions">
        <button
          type="button"
          className="toggle"
          aria-pressed={utc}
          onClick={() => onUtc(!utc)}
          title={utc ? `Show times in ${zone}` : 'Show times in UTC'}
        >
          {utc ? 'Times in UTC' : `Times in ${zone}`}
          {/* A viewer whose own zone is UTC has nothing to switch to. */}
          {!/^(Etc\/)?UTC$/.test(zone) && (
            <span className="toggle-hint"> · switch to {utc ? 'local' : 'UTC'}</span>
          )}
        </button>
        {!embedded && (
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}
