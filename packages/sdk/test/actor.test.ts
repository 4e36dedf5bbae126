/**
 * withActor against a real Hindsight: the actor set around a piece of async work is the actor
 * of every event recorded in it — after awaits, in timers, in promise chains, in nested and
 * interleaved flows — and the system outside any.
 */
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { currentActor, withActor } from '../src/index.js';
import { uniqueTenant, useHindsight } from './hindsight.js';

const ctx = useHindsight();

const alice = { id: 'u-1', name: 'Alice Martin' };
const bob = { id: 'u-2', name: 'Bob Stone' };

it('carries the actor across await, timers, promise chains, an emit and nesting', async () => {
  const tenant = uniqueTenant();
  const record = (step: string) =>
    ctx.client.record({ tenant, action: 'step.done', description: step, metadata: { step } });
  let lateTimer: Promise<void> = Promise.resolve();

  await withActor(alice, async () => {
    await sleep(2);
    await record('after await');
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        void record('in setTimeout');
        resolve();
      }, 2);
    });
    await new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      record('in setImmediate'),
    );
    await Promise.resolve()
      .then(() => sleep(1))
      .then(() => record('in a promise chain'));
    const emitter = new EventEmitter();
    const heard = once(emitter, 'saved');
    setTimeout(() => emitter.emit('saved'), 1);
    await heard;
    await record('after an event');
    await withActor(bob, async () => {
      await sleep(1);
      await record('nested');
    });
    await record('after nested');
    // A timer set here fires after withActor has returned, and still runs as Alice.
    lateTimer = new Promise((resolve) => {
      setTimeout(() => void record('timer fired later').then(resolve), 30);
    });
    await ctx.client.record({
      tenant,
      action: 'step.done',
      actor: { type: 'api_key', id: 'key-9', name: 'Import script' },
      metadata: { step: 'explicit' },
    });
  });
  expect(currentActor()).toBeUndefined();
  await record('outside');
  await lateTimer;
  await ctx.client.flush();

  const byStep = new Map(
    (await ctx.hindsight.events(tenant)).map((e) => [
      (e.metadata as { step: string }).step,
      e.actor,
    ]),
  );
  const aliceStored = { type: 'user', ...alice };
  expect(Object.fromEntries(byStep)).toEqual({
    'after await': aliceStored,
    'in setTimeout': aliceStored,
    'in setImmediate': aliceStored,
    'in a promise chain': aliceStored,
    'after an event': aliceStored,
    nested: { type: 'user', ...bob },
    'after nested': aliceStored,
    explicit: { type: 'api_key', id: 'key-9', name: 'Import script' },
    'timer fired later': aliceStored,
    outside: { type: 'system' },
  });
});

it('keeps interleaved flows apart', async () => {
  const tenant = uniqueTenant();
  const flow = (actor: typeof alice, pause: number) =>
    withActor(actor, async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(pause);
        await ctx.client.record({ tenant, action: 'step.done', metadata: { who: actor.id, i } });
      }
    });
  await Promise.all([flow(alice, 3), flow(bob, 2)]);
  await ctx.client.flush();
  const stored = await ctx.hindsight.events(tenant);
  expect(stored).toHaveLength(10);
  for (const e of stored) expect(e.actor.id).toBe((e.metadata as { who: string }).who);
});
