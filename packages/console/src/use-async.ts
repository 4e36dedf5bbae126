/**
 * Loads something for the screen: re-runs when `key` changes, cancels what is no longer
 * wanted, and keeps showing the previous answer while the same thing is reloaded.
 */
import { useCallback, useEffect, useRef, useState } from 'react';

/** Where a load is. */
export type AsyncResult<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'done'; readonly data: T; readonly refreshing: boolean }
  | { readonly state: 'error'; readonly error: unknown; readonly refreshing: boolean };

type Settled<T> =
  | { key: string; version: number; state: 'done'; data: T }
  | { key: string; version: number; state: 'error'; error: unknown };

/**
 * Runs `load` for `key`, and again after `reload()`.
 * @example const events = useAsync(`events:${tenant}`, (signal) => api.events(tenant, {}, signal));
 */
export function useAsync<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
): AsyncResult<T> & { readonly reload: () => void } {
  const latest = useRef(load);
  latest.current = load;
  const [version, setVersion] = useState(0);
  const [settled, setSettled] = useState<Settled<T> | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    latest.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSettled({ key, version, state: 'done', data });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setSettled({ key, version, state: 'error', error });
      },
    );
    return () => controller.abort();
  }, [key, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  if (settled === null || settled.key !== key) return { state: 'loading', reload };
  const refreshing = settled.version !== version;
  return settled.state === 'done'
    ? { state: 'done', data: settled.data, refreshing, reload }
    : { state: 'error', error: settled.error, refreshing, reload };
}
