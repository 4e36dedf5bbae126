/**
 * One tab: the view's title and description, and its events, its activity (counts over time,
 * by weekday and hour, top actions and actors), or, for a log with a derived summary
 * (`summary`), that summary: accounts of the logins log, messages of the communications log,
 * systems of the integrations log.
 */
import { useConsole } from '../console-context.js';
import type { Show } from '../url-state.js';
import { AccountsScreen } from './accounts-screen.js';
import { ActivityScreen } from './activity-screen.js';
import { EventsScreen } from './events-screen.js';
import { IntegrationsScreen } from './integrations-screen.js';
import { MessagesScreen } from './messages-screen.js';
import { PANEL_ID, tabId } from './view-tabs.js';

const SUMMARY_LABELS = { logins: 'Users', messages: 'Messages', integrations: 'Systems' } as const;

export function ViewScreen() {
  const { view, state, navigate } = useConsole();
  const summary = view.summary;
  const show: Show = state.show === 'summary' && summary === undefined ? 'events' : state.show;
  const switchTo = (to: Show) =>
    navigate({ ...state, show: to, pages: [], event: null, message: null });
  const choices: ReadonlyArray<readonly [Show, string]> = [
    ['events', 'Events'],
    ...(summary ? [['summary', SUMMARY_LABELS[summary]] as const] : []),
    ['activity', 'Activity'],
  ];

  return (
    <main id={PANEL_ID} role="tabpanel" aria-labelledby={tabId(view.id)} className="view">
      <header className="view-header">
        <div>
          <h1>{view.label}</h1>
          {view.description && <p className="view-description">{view.description}</p>}
        </div>
        <fieldset className="segmented">
          <legend className="visually-hidden">Show</legend>
          {choices.map(([to, label]) => (
            <button key={to} type="button" aria-pressed={show === to} onClick={() => switchTo(to)}>
              {label}
            </button>
          ))}
        </fieldset>
      </header>
      {show === 'events' && <EventsScreen />}
      {show === 'activity' && <ActivityScreen />}
      {show === 'summary' && summary === 'logins' && <AccountsScreen />}
      {show === 'summary' && summary === 'messages' && <MessagesScreen />}
      {show === 'summary' && summary === 'integrations' && <IntegrationsScreen />}
    </main>
  );
}
