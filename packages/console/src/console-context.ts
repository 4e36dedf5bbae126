/**
 * What every part of a signed-in console shares: the API client, the tenant and view shown,
 * the state in the address bar and how to change it, how times are written, and what the
 * reader may do.
 */
import type { ViewDefinition } from '@hindsight/core';
import { createContext, useContext } from 'react';
import type { Abilities } from './abilities.js';
import type { Api } from './api.js';
import type { TimeFormat } from './formats.js';
import type { ConsoleState } from './url-state.js';
import type { Navigate } from './use-url-state.js';

export interface ConsoleContextValue extends Abilities {
  readonly api: Api;
  readonly tenant: string;
  /** The view (tab) shown. */
  readonly view: ViewDefinition;
  /** Every view, to find the statuses of another log (messages, integrations). */
  readonly views: readonly ViewDefinition[];
  readonly state: ConsoleState;
  readonly navigate: Navigate;
  readonly time: TimeFormat;
  /** Signs out, e.g. when the key stops being accepted. */
  readonly signOut: () => void;
  /**
   * The verifier keys the application embedding the console pinned, which checks of the log's
   * signatures use instead of the key the server serves; `null` when none were given.
   */
  readonly pinnedKeys: readonly string[] | null;
  /**
   * How many days back the events are shown when the reader set no date (the tenant setting
   * `displayWindowDays`); `null` shows everything.
   */
  readonly windowDays: number | null;
}

export const ConsoleContext = createContext<ConsoleContextValue | null>(null);

/** The signed-in console's shared values; only inside a `ConsoleContext` provider. */
export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (value === null) throw new Error('useConsole() outside of the signed-in console');
  return value;
}
