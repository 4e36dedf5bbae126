/**
 * One tab: the view's title and description, and either its events or, for a log with a
 * derived summary (`summary`), that summary: accounts of the logins log, messages of the
 * communications log, systems of the integrations log.
 */
import { useConsole } from '../console-context.js';
import { AccountsScreen } from './accounts-screen.js';
import { EventsScreen } from './events-screen.js';
import { IntegrationsScreen } from './integrations-screen.js';
import { MessagesScreen } from './messages-screen.js';
import { PANEL_ID, tabId } from './view-tabs.js';

const SUMMARY_LABELS = { logins: 'Users', messages: 'Messages', integrations: 'Systems' } as const;

export function ViewScreen() {
  const { view, state, navigate } = useConsole();
  const summary = view.summary;
  const showSummary = summary !== undefined && state.summary;
  const switchTo = (on: boolean) =>
    navigate({ ...state, summary: on, pages: [], event: null, message: null });

  return (
    <main id={PANEL_ID} role="tabpanel" aria-labelledby={tabId(view.id)} className="view">
      <header className="view-header">
        <div>
          <h1>{view.label}</h1>
          {view.description && <p className="view-description">{view.description}</p>}
        </div>
        {summary && (
          <fieldset className="segmented">
            <legend className="visually-hidden">Show</legend>
            <button type="button" aria-pressed={!showSummary} onClick={() => switchTo(false)}>
              Events
            </button>
            <button type="button" aria-pressed={showSummary} onClick={() => switchTo(true)}>
              {SUMMARY_LABELS[summary]}
            </button>
          </fieldset>
        )}
      </header>
      {!showSummary && <EventsScreen />}
      {showSummary && summary === 'logins' && <AccountsScreen />}
      {showSummary && summary === 'messages' && <MessagesScreen />}
      {showSummary && summary === 'integrations' && <IntegrationsScreen />}
    </main>
  );
}
