/**
 * The events waiting to be sent, oldest first: a FIFO that hands out batches bounded in count
 * and bytes, and takes a failed batch back at its front.
 */

/** A segment of the outbox, as the queue's entries know it (see `outbox.ts`). */
export interface SegmentRef {
  /** Lines written to it (or loaded from it) and not yet settled. */
  outstanding: number;
}

/** One recorded event on its way. */
export interface Entry {
  /** The event's JSON, exactly as sent and as kept in the outbox. */
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
  /** Order of recording, for `flush()`. */
  readonly n: number;
  /** The outbox file holding it; `null` without an outbox (or when writing it failed). */
  segment: SegmentRef | null;
}

export class EventQueue {
  private items: Entry[] = [];
  private head = 0;
  /** Sum of `bytes` of the waiting entries. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(entry: Entry): void {
    this.items.push(entry);
    this.bytes += entry.bytes;
  }

  /** Puts entries back at the front, in their order (a batch to retry). */
  unshiftAll(entries: readonly Entry[]): void {
    for (const entry of entries) this.bytes += entry.bytes;
    if (this.head >= entries.length) {
      this.head -= entries.length;
      for (let i = 0; i < entries.length; i++) this.items[this.head + i] = entries[i] as Entry;
      return;
    }
    this.items = [...entries, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Removes and returns the oldest entry. */
  shift(): Entry | undefined {
    if (this.length === 0) return undefined;
    const entry = this.items[this.head++] as Entry;
    this.bytes -= entry.bytes;
    this.compact();
    return entry;
  }

  /**
   * Removes and returns the oldest entries: at most `maxCount`, and at most `maxBytes` of them
   * (`bytes` plus a comma each), but always at least one.
   */
  take(maxCount: number, maxBytes: number): Entry[] {
    const batch: Entry[] = [];
    let size = 0;
    while (batch.length < maxCount && this.head < this.items.length) {
      const entry = this.items[this.head] as Entry;
      if (batch.length > 0 && size + entry.bytes + 1 > maxBytes) break;
      batch.push(entry);
      size += entry.bytes + 1;
      this.head++;
    }
    this.bytes -= size - batch.length;
    this.compact();
    return batch;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
