/**
 * The console: sign-in, then the chosen tenant's logs. The whole screen state lives in the
 * address bar (see `url-state.ts`).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { abilitiesOf } from './abilities.js';
import { createApi } from './api.js';
import {
  type Credentials,
  EMBEDDING,
  type EmbedLook,
  forgetCredentials,
  saveCredentials,
  savedCredentials,
} from './auth.js';
import { Loading, ProblemNotice } from './components/notice.js';
import { SignIn } from './components/sign-in.js';
import { TenantChooser } from './components/tenant-chooser.js';
import { TenantConsole } from './components/tenant-console.js';
import { TopBar } from './components/top-bar.js';
import { timeFormat } from './formats.js';
import { explain } from './problems.js';
import { SignOutContext } from './sign-out-context.js';
import { EMPTY_STATE, parseState } from './url-state.js';
import { useAsync } from './use-async.js';
import { useUrlState } from './use-url-state.js';

function SignedIn({
  credentials,
  onSignOut,
}: {
  readonly credentials: Credentials;
  readonly onSignOut: () => void;
}) {
  const api = useMemo(() => {
    const opened = createApi(credentials);
    // What the console needs to open the address's tenant, asked for all at once.
    opened.prefetch({ session: true, tenant: parseState(window.location.search).tenant });
    return opened;
  }, [credentials]);
  const [state, navigate] = useUrlState();
  const time = useMemo(() => timeFormat(state.utc), [state.utc]);
  const localZone = useMemo(() => timeFormat(false).zone, []);
  const tenants = useAsync('tenants', (signal) => api.tenants(signal));
  // The key's scopes: the console offers only what the key may do.
  const session = useAsync('session', (signal) => api.session(signal));
  const listed = tenants.state === 'done' ? tenants.data : null;
  // A key that can read one tenant only opens it straight away.
  const tenant = state.tenant ?? (listed?.length === 1 ? (listed[0]?.name ?? null) : null);
  const shown = useMemo(
    () => (state.tenant === tenant ? state : { ...state, tenant }),
    [state, tenant],
  );
  const choose = (name: string) =>
    navigate({ ...EMPTY_STATE, tenant: name, view: state.view, utc: state.utc });
  // A link naming a tenant this key has no events of (mistyped, or none recorded yet) says so,
  // rather than showing an empty log the reader would take for a quiet one.
  const unknown = tenant !== null && listed !== null && !listed.some((t) => t.name === tenant);

  return (
    <SignOutContext.Provider value={onSignOut}>
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
        ) : unknown ? (
          <main className="view" id="view-panel">
            <ProblemNotice
              problem={{
                title: `There is no tenant “${tenant}”.`,
                detail:
                  'No events have been recorded for it, or the name in the link is mistyped. ' +
                  'A tenant appears with its first event.',
              }}
            >
              <button
                type="button"
                onClick={() => navigate({ ...EMPTY_STATE, tenant: null, utc: state.utc })}
              >
                Choose a tenant
              </button>
            </ProblemNotice>
          </main>
        ) : session.state !== 'done' ? (
          <main className="view" id="view-panel">
            {session.state === 'loading' ? (
              <Loading what="the logs" />
            ) : (
              <ProblemNotice
                problem={explain(session.error, `open the logs of ${tenant}`)}
                onRetry={session.reload}
              />
            )}
          </main>
        ) : (
          <TenantConsole
            key={tenant}
            api={api}
            tenant={tenant}
            state={shown}
            navigate={navigate}
            time={time}
            signOut={onSignOut}
            {...abilitiesOf(session.data)}
          />
        )}
      </div>
    </SignOutContext.Provider>
  );
}

/**
 * The console embedded in a host page (`/embed?token=…`): the token's tenant only, with the
 * host's look (query options, else the tenant's settings), no tenant picker and no sign-in;
 * the log's signatures checked with the keys the host pinned, when it did.
 */
function Embedded({
  credentials,
  look,
  verifierKeys,
}: {
  readonly credentials: Credentials;
  readonly look: EmbedLook;
  readonly verifierKeys: readonly string[] | null;
}) {
  const api = useMemo(() => createApi(credentials), [credentials]);
  const [state, navigate] = useUrlState();
  const time = useMemo(() => timeFormat(state.utc), [state.utc]);
  const localZone = useMemo(() => timeFormat(false).zone, []);
  const session = useAsync('session', async (signal) => {
    const who = await api.session(signal);
    // The tenant's views, which the log asks for next, along with its settings.
    api.prefetch({ session: false, tenant: who.tenant });
    const settings = who.tenant === null ? null : await api.settings(who.tenant, signal);
    return { who, settings };
  });
  const ended = useCallback(() => undefined, []);
  const accent =
    look.accent ??
    (session.state === 'done' ? session.data.settings?.embed?.accentColor : undefined);
  useEffect(() => {
    // Through the CSS object model, which the console's Content-Security-Policy allows.
    if (accent) document.documentElement.style.setProperty('--accent', accent);
  }, [accent]);
  if (session.state !== 'done') {
    return (
      <main className="view" id="view-panel">
        {session.state === 'loading' ? (
          <Loading what="the audit log" />
        ) : (
          <ProblemNotice
            problem={explain(session.error, 'open the audit log')}
            onRetry={session.reload}
          />
        )}
      </main>
    );
  }
  const { who, settings } = session.data;
  const embed = settings?.embed ?? {};
  const tenant = who.tenant;
  const logo = look.logo ?? embed.logoUrl;
  const title = look.title ?? embed.title;
  const viewer = who.viewer?.name ?? who.viewer?.id;
  return (
    <div className="app">
      <TopBar
        tenants={null}
        tenant={tenant}
        onTenant={() => undefined}
        utc={state.utc}
        zone={localZone}
        onUtc={(utc) => navigate({ ...state, utc })}
        onSignOut={ended}
        embedded={{
          ...(title === undefined ? {} : { title }),
          ...(logo === undefined ? {} : { logo }),
          ...(viewer === undefined ? {} : { viewer }),
        }}
      />
      {tenant !== null && (
        <TenantConsole
          api={api}
          tenant={tenant}
          state={state.tenant === tenant ? state : { ...state, tenant }}
          navigate={navigate}
          time={time}
          signOut={ended}
          {...abilitiesOf(who)}
          pinnedKeys={verifierKeys}
          {...(settings === null ? {} : { settings })}
        />
      )}
    </div>
  );
}

export function App() {
  if (EMBEDDING) {
    return EMBEDDING.credentials ? (
      <Embedded
        credentials={EMBEDDING.credentials}
        look={EMBEDDING.look}
        verifierKeys={EMBEDDING.verifierKeys}
      />
    ) : (
      <main className="view" id="view-panel">
        <ProblemNotice
          problem={{
            title: 'This page needs a viewer token.',
            detail: 'Open the audit log from the application that embeds it.',
          }}
        />
      </main>
    );
  }
  return <Standalone />;
}

function Standalone() {
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
