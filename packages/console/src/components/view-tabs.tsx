/**
 * The views of the tenant's log as tabs ("All events", then one per log), built from the
 * server's view definitions. Each tab is a link to its own URL, so it can also be opened in a
 * new browser tab; the arrow keys move between tabs.
 */
import type { ViewDefinition } from '@hindsight/core';
import type { KeyboardEvent, MouseEvent } from 'react';

/** The id of the panel the tabs control. */
export const PANEL_ID = 'view-panel';

export const tabId = (view: string) => `tab-${view}`;

export function ViewTabs({
  views,
  current,
  hrefOf,
  onSelect,
}: {
  readonly views: readonly ViewDefinition[];
  /** The view shown; `null` when none is (a link to a view that does not exist). */
  readonly current: string | null;
  readonly hrefOf: (view: string) => string;
  readonly onSelect: (view: string) => void;
}) {
  const onKey = (event: KeyboardEvent<HTMLAnchorElement>, index: number) => {
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    const to =
      event.key === 'Home' ? 0 : event.key === 'End' ? views.length - 1 : step && index + step;
    if (to === undefined) return;
    event.preventDefault();
    const list = event.currentTarget.closest('[role="tablist"]');
    const tabs = list ? [...list.querySelectorAll<HTMLElement>('[role="tab"]')] : [];
    tabs[(to + tabs.length) % tabs.length]?.focus();
  };
  const onClick = (event: MouseEvent<HTMLAnchorElement>, view: string) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: the browser opens the link
    }
    event.preventDefault();
    onSelect(view);
  };
  return (
    <div role="tablist" aria-label="Logs" aria-orientation="vertical" className="tabs">
      {views.map((view, index) => {
        const selected = view.id === current;
        return (
          <a
            key={view.id}
            id={tabId(view.id)}
            role="tab"
            href={hrefOf(view.id)}
            aria-selected={selected}
            aria-controls={PANEL_ID}
            // With no tab selected, the first one takes the focus.
            tabIndex={selected || (index === 0 && !views.some((v) => v.id === current)) ? 0 : -1}
            className={`tab${selected ? ' tab-selected' : ''}${view.builtin ? '' : ' tab-custom'}`}
            onClick={(e) => onClick(e, view.id)}
            onKeyDown={(e) => onKey(e, index)}
            title={view.description}
          >
            {view.label}
          </a>
        );
      })}
    </div>
  );
}
