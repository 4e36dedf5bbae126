/**
 * The console's state, kept in the address bar: `navigate` pushes a history entry (or
 * replaces the current one), and Back and Forward bring earlier states back.
 */
import { useCallback, useEffect, useState } from 'react';
import { type ConsoleState, parseState, stateToSearch } from './url-state.js';

/** Shows another state; `replace` keeps Back from returning to the current one. */
export type Navigate = (next: ConsoleState, options?: { readonly replace?: boolean }) => void;

/** The state in the address bar, and how to change it. */
export function useUrlState(): [ConsoleState, Navigate] {
  const [state, setState] = useState(() => parseState(window.location.search));

  useEffect(() => {
    const onPop = () => setState(parseState(window.location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback<Navigate>((next, options) => {
    const search = stateToSearch(next);
    const url = `${window.location.pathname}${search}${window.location.hash}`;
    if (options?.replace) window.history.replaceState(null, '', url);
    else if (search !== window.location.search) window.history.pushState(null, '', url);
    setState(parseState(search));
  }, []);

  return [state, navigate];
}
