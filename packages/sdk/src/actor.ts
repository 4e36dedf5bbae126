/**
 * The current actor, carried through async code (awaits, timers, promise chains, event
 * emitters) by `AsyncLocalStorage`, so that events recorded deep inside a request or a
 * background job name who caused them without passing the actor down by hand.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Actor } from '@hindsight/core';
import { isFields, refuse } from './arguments.js';

/** The actor of work done by the product itself (SPEC §2; views show it as "System"). */
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system' });

// One store per process, also when both the ESM and the CommonJS build of the SDK are loaded:
// an actor set through one is seen by events recorded through the other.
const KEY = Symbol.for('@hindsight/sdk/actor');
const registry = globalThis as unknown as Record<symbol, AsyncLocalStorage<Actor> | undefined>;
const storage = registry[KEY] ?? new AsyncLocalStorage<Actor>();
registry[KEY] = storage;

/**
 * Runs `fn` with `actor` as the current actor: every event recorded inside it, however deep
 * and however asynchronous, gets this actor unless it names one itself.
 * @example
 * await withActor({ id: 'u-17', name: 'Alice Martin' }, async () => {
 *   await saveSettings();            // records `settings.updated` by Alice
 *   setTimeout(() => client.record({ tenant, action: 'report.sent' }), 1000); // still Alice
 * });
 */
export function withActor<T>(actor: Actor, fn: () => T): T {
  if (!isFields(actor)) {
    refuse(
      'withActor()',
      'actor',
      "an actor object ({ id, name?, … }, or { type: 'anonymous' } when no one is signed in)",
      actor,
    );
  }
  if (typeof fn !== 'function') refuse('withActor()', 'fn', 'a function', fn);
  return storage.run(actor, fn);
}

/**
 * The actor set by the innermost {@link withActor}, or `undefined` outside any.
 * @example currentActor() ?? SYSTEM_ACTOR
 */
export function currentActor(): Actor | undefined {
  return storage.getStore();
}
