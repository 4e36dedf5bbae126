/**
 * One tenant's log: the tabs of its views beside the view shown, and the detail panel of the
 * event or message that is open.
 */
import type { TenantSettings, ViewDefinition } from '@hindsight/core';
import { useEffect, useMemo } from 'react';
import type { Abilities } from '../abilities.js';
import type { Api } from '../api.js';
import { ConsoleContext, type ConsoleContextValue } from '../console-context.js';
import type { TimeFormat } from '../formats.js';
import { explain } from '../problems.js';
import { type ConsoleState, onView, stateToSearch } from '../url-state.js';
import { useAsync } from '../use-async.js';
import type { Navigate } from '../use-url-state.js';
import { EventDetail } from './event-detail.js';
import { LogIntegrityNote } from './log-integrity.js';
import { MessageDetail } from './message-detail.js';
import { Loading, ProblemNotice } from './notice.js';
import { ViewScreen } from './view-screen.js';
import { PANEL_ID, ViewTabs } from './view-tabs.js';

function Ready({
  views,
  context,
}: {
  readonly views: readonly ViewDefinition[];
  readonly context: Omit<ConsoleContextValue, 'view' | 'views'>;
}) {
  const { state, navigate, tenant } = context;
  const first = views[0] as ViewDefinition;
  const named = views.find((v) => v.id === state.view);
  // A link naming a view this tenant does not have (mistyped, or a custom view since removed)
  // says so rather than quietly showing the first view under an address that names another:
  // the reader who followed it would take what they see for what was shared with them.
  const missing = state.view !== null && named === undefined ? state.view : null;
  const view = named ?? first;
  const value = useMemo(() => ({ ...context, view, views }), [context, view, views]);
  useEffect(() => {
    document.title = `${missing === null ? view.label : 'No such view'} · ${tenant} · Hindsight`;
  }, [missing, view.label, tenant]);
  return (
    <ConsoleContext.Provider value={value}>
      <div className="workspace">
        <nav className="sidebar" aria-label={`Logs of ${tenant}`}>
          {/* The tabs and the note under them stay in view together, one sticky column. */}
          <div className="sidebar-content">
            <ViewTabs
              views={views}
              current={missing === null ? view.id : null}
              hrefOf={(id) => stateToSearch(onView(state, id)) || '?'}
              onSelect={(id) => navigate(onView(state, id))}
            />
            {context.canVerify && <LogIntegrityNote />}
          </div>
        </nav>
        {missing === null ? (
          <>
            <ViewScreen key={view.id} />
            {state.event && <EventDetail key={state.event} id={state.event} />}
            {state.message && <MessageDetail key={state.message} id={state.message} />}
          </>
        ) : (
          <main className="view" id={PANEL_ID}>
            <ProblemNotice
              problem={{
                title: `The logs of ${tenant} have no view “${missing}”.`,
                detail:
                  'The link may be mistyped, or the view was removed. Choose a log on the left.',
              }}
            >
              <button type="button" onClick={() => navigate(onView(state, first.id))}>
                Go to {first.label}
              </button>
            </ProblemNotice>
          </main>
        )}
      </div>
    </ConsoleContext.Provider>
  );
}

export function TenantConsole({
  api,
  tenant,
  state,
  navigate,
  time,
  signOut,
  canExport,
  canVerify,
  canAcknowledge,
  canDelete,
  pinnedKeys = null,
  settings: known,
}: Abilities & {
  readonly api: Api;
  readonly tenant: string;
  readonly state: ConsoleState;
  readonly navigate: Navigate;
  readonly time: TimeFormat;
  readonly signOut: () => void;
  readonly pinnedKeys?: readonly string[] | null;
  /** The tenant's settings, when the caller has them already (the embedded console). */
  readonly settings?: TenantSettings;
}) {
  const views = useAsync(`views:${tenant}`, (signal) => api.views(tenant, signal));
  const settings = useAsync(`settings:${tenant}`, (signal) =>
    known === undefined ? api.settings(tenant, signal) : Promise.resolve(known),
  );
  // Without the settings (an older server), everything is shown.
  const windowDays = settings.state === 'done' ? (settings.data.displayWindowDays ?? null) : null;
  // Deleting needs the tenant's consent as well as the reader's permission.
  const deletable =
    canDelete && settings.state === 'done' && settings.data.deletion?.allowed === true;
  const context = useMemo(
    () => ({
      api,
      tenant,
      state,
      navigate,
      time,
      signOut,
      canExport,
      canVerify,
      canAcknowledge,
      canDelete: deletable,
      pinnedKeys,
      windowDays,
    }),
    [
      api,
      tenant,
      state,
      navigate,
      time,
      signOut,
      canExport,
      canVerify,
      canAcknowledge,
      deletable,
      pinnedKeys,
      windowDays,
    ],
  );
  if (views.state === 'loading' || settings.state === 'loading') {
    return (
      <main className="view" id="view-panel">
        <Loading what="the logs" />
      </main>
    );
  }
  if (views.state === 'error') {
    return (
      <main className="view" id="view-panel">
        <ProblemNotice
          problem={explain(views.error, `open the logs of ${tenant}`)}
          onRetry={views.reload}
        />
      </main>
    );
  }
  if (views.data.length === 0) {
    return (
      <main className="view" id="view-panel">
        <ProblemNotice
          problem={{ title: 'This server defines no views.', detail: 'Upgrade the server.' }}
        />
      </main>
    );
  }
  return <Ready views={views.data} context={context} />;
}
