/**
 * Keyboard use of a list of rows: the arrow keys, Home and End move between rows, Enter opens
 * the row's details, Space ticks the row for bulk export; only one row is in the Tab order at a
 * time. When the details close, focus
 * returns to the row they were opened from.
 */
import { type KeyboardEvent, type RefObject, useEffect, useRef } from 'react';

const INTERACTIVE = 'a, button, input, select, textarea, summary, label';

/** The rows of a table body. */
function rows(body: HTMLTableSectionElement | null): HTMLTableRowElement[] {
  return body ? [...body.rows] : [];
}

/**
 * Handles the keys of a row: moves focus to another row, or opens this one.
 * @example <tr tabIndex={0} onKeyDown={(e) => onRowKey(e, body.current, () => open(id))}>
 */
export function onRowKey(
  event: KeyboardEvent<HTMLTableRowElement>,
  body: HTMLTableSectionElement | null,
  open: () => void,
  toggle?: () => void,
): void {
  if (event.target !== event.currentTarget) return; // keys of a checkbox or link in the row
  const all = rows(body);
  const index = all.indexOf(event.currentTarget);
  const go = (to: number) => {
    event.preventDefault();
    all[Math.max(0, Math.min(all.length - 1, to))]?.focus();
  };
  const moves: Record<string, number> = {
    ArrowDown: index + 1,
    ArrowUp: index - 1,
    Home: 0,
    End: all.length - 1,
  };
  const to = moves[event.key];
  if (to !== undefined) {
    go(to);
  } else if (event.key === 'Enter') {
    event.preventDefault();
    open();
  } else if (event.key === ' ' && toggle) {
    event.preventDefault();
    toggle();
  }
}

/** Whether a click on a row was meant for something inside it (a link, a checkbox). */
export function clickedInside(event: {
  target: EventTarget | null;
  currentTarget: Element;
}): boolean {
  const target = event.target as Element | null;
  const hit = target?.closest?.(INTERACTIVE);
  return hit !== null && hit !== undefined && event.currentTarget.contains(hit);
}

/** Puts focus back on the row whose details were open when they close. */
export function useFocusReturn(
  openId: string | null,
  body: RefObject<HTMLTableSectionElement | null>,
): void {
  const previous = useRef(openId);
  useEffect(() => {
    const closed = previous.current;
    previous.current = openId;
    if (openId === null && closed !== null) {
      rows(body.current)
        .find((row) => row.dataset['id'] === closed)
        ?.focus();
    }
  }, [openId, body]);
}
