/**
 * Group commits planned ahead of their locks (PostgreSQL). A group's seqs, leaf hashes, tree
 * nodes and statement depend on its tenants' sizes and tree frontiers, which are only certain
 * under the tenants' row locks. Planning under the locks, and the round trips between the
 * server and the database that it took, made every other group of those tenants wait.
 *
 * So the store drafts each group beforehand, from the state it expects each tenant to be in:
 * the one its own last commit left, or the one the groups it sent ahead will leave. The draft
 * is one statement that takes the locks itself and commits only if every tenant is still in
 * the expected state: the same size, and the same newest leaf (`tenants.head`). The newest leaf
 * names the whole tree: it is an event this server prepared (its id, salts and receipt time are
 * its own) at that seq, so it was stored by the transaction that planned it, with that
 * transaction's other leaves, on the state that transaction in turn checked. When the state
 * differs (another server wrote, or a group ahead failed), nothing of the draft is stored and
 * the group is planned again under the locks. A draft never decides what is stored; the
 * database's check does.
 */
import type { FrontierCache } from './append-plan.js';

/** A tenant's tree frontier, by level. */
export type Frontier = Map<number, Uint8Array>;

/** What a group commit leaves one tenant: its size, tree frontier and newest leaf. */
export interface Outcome {
  readonly tenantId: number;
  readonly size: number;
  readonly frontier: Frontier;
  readonly head: Uint8Array;
}

/** Where a draft starts, for one tenant. */
export interface Base {
  readonly size: number;
  readonly frontier: Frontier;
  /**
   * The newest leaf the tenant must have; `null` for a state this server saw committed, which
   * its size alone identifies (a committed leaf never changes).
   */
  readonly head: Uint8Array | null;
  /** The planned group that leaves this state; `null` for a committed state. */
  readonly after: Link | null;
}

/**
 * One planned group in the chain. Dropped when it fails: the drafts made after it would fail
 * the database's check, so they are dropped with it and the next ones start from what is known.
 */
export class Link {
  #state: 'planned' | 'committed' | 'dropped' = 'planned';
  readonly #children: Link[] = [];

  get dropped(): boolean {
    return this.#state === 'dropped';
  }

  /** Records a draft made from what this link leaves. */
  follow(child: Link): void {
    if (this.#state === 'dropped') child.drop();
    else if (this.#state === 'planned') this.#children.push(child);
  }

  /** Drops this link, unless it committed, and every draft made after it. */
  drop(): void {
    if (this.#state !== 'planned') return;
    this.#state = 'dropped';
    for (const child of this.#children.splice(0)) child.drop();
  }

  /** Marks the link committed: the drafts made after it no longer depend on it. */
  commit(): void {
    if (this.#state !== 'planned') return;
    this.#state = 'committed';
    this.#children.length = 0;
  }
}

/** The state this server expects each tenant to be in once its planned groups commit. */
export class DraftChain {
  readonly #expected = new Map<number, Base>();
  readonly #committed: FrontierCache;

  constructor(committed: FrontierCache) {
    this.#committed = committed;
  }

  /** Where a draft for the tenant starts, if this server knows; `undefined` otherwise. */
  base(tenantId: number): Base | undefined {
    const expected = this.#expected.get(tenantId);
    if (expected && !expected.after?.dropped) {
      return { ...expected, frontier: new Map(expected.frontier) };
    }
    const latest = this.#committed.latest(tenantId);
    return latest && { ...latest, head: null, after: null };
  }

  /**
   * Records what `link` will leave, planned from `bases`: groups planned after it start from
   * there, and are dropped with it. The frontiers are kept as they are (they are shared with
   * the committed cache, and both hand out copies).
   */
  add(link: Link, bases: Iterable<Base>, outcomes: readonly Outcome[]): void {
    for (const base of bases) base.after?.follow(link);
    for (const { tenantId, size, frontier, head } of outcomes) {
      this.#expected.set(tenantId, { size, frontier, head, after: link });
    }
  }
}
