/**
 * The console: sign-in, then the chosen tenant's logs. The whole screen state lives in the
 * address bar (see `url-state.ts`).
 */
import { useCallback, useMemo, useState } from 'react';
import { createApi } from './api.js';
import { type Credentials, forgetCredentials, saveCredentials, savedCredentials } from './auth.js';
import { SignIn } from './components/sign-in.js';
import { TenantChooser } from './components/tenant-chooser.js';
import { TenantConsole } from './components/tenant-console.js';
import { TopBar } from './components/top-bar.js';
import { timeFormat } from './formats.js';
import { EMPTY_STATE } from './url-state.js';
import { useAsync } from './use-async.js';
import { useUrlState } from './use-url-state.js';

function SignedIn({
  credentials,
  onSignOut,
}: {
  readonly credentials: Credentials;
  readonly onSignOut: () => void;
}) {
  const api = useMemo(() => createApi(credentials), [credentials]);
  const [state, navigate] = useUrlState();
  const time = useMemo(() => timeFormat(state.utc), [state.utc]);
  const localZone = useMemo(() => timeFormat(false).zone, []);
  const tenants = useAsync('tenants', (signal) => api.tenants(signal));
  const listed = tenants.state === 'done' ? tenants.data : null;
  // A key that can read one tenant only opens it straight away.
  const tenant = state.tenant ?? (listed?.length === 1 ? (listed[0]?.name ?? null) : null);
  const shown = useMemo(
    () => (state.tenant === tenant ? state : { ...state, tenant }),
    [state, tenant],
  );
  const choose = (name: string) =>
    navigate({ ...EMPTY_STATE, tenant: name, view: state.view, utc: state.utc });

  return (
    <div className="app">
      <TopBar
        tenants={listed}
        tenant={tenant}
        onTenant={choose}
        utc={state.utc}
        zone={localZone}
        onUtc={(utc) => navigate({ ...state, utc })}
        onSignOut={onSignOut}
      />
      {tenant === null ? (
        <TenantChooser tenants={tenants} onChoose={choose} />
      ) : (
        <TenantConsole
          key={tenant}
          api={api}
          tenant={tenant}
          state={shown}
          navigate={navigate}
          time={time}
          signOut={onSignOut}
        />
      )}
    </div>
  );
}

export function App() {
  const [credentials, setCredentials] = useState<Credentials | null>(savedCredentials);
  const [notice, setNotice] = useState<string>();
  const signOut = useCallback(() => {
    forgetCredentials();
    setNotice('You have signed out. The key was removed from this browser tab.');
    setCredentials(null);
  }, []);
  if (credentials === null) {
    return (
      <SignIn
        {...(notice === undefined ? {} : { notice })}
        onSignedIn={(c) => {
          saveCredentials(c);
          setNotice(undefined);
          setCredentials(c);
        }}
      />
    );
  }
  return <SignedIn credentials={credentials} onSignOut={signOut} />;
}
