// Which consumers of a stream a stored subject concerns: those without a filter, and those with a filter
// that matches it. The stream's events go only to them, so a message costs in proportion to the consumers
// it concerns, not to every consumer of the stream (a fleet of hosts each watching a few KV keys is one
// stream with thousands of narrowly filtered consumers).

import { type IndexedSubscription, SubjectIndex } from "../../subjects/subject-index.js";

/** One filter subject of one consumer, as the subject index holds it. */
interface FilterEntry<C> extends IndexedSubscription {
  readonly consumer: C;
}

export class ConsumerFilterIndex<C> {
  private readonly index = new SubjectIndex<FilterEntry<C>>({ cacheSize: 4096 });
  private readonly entries = new Map<C, FilterEntry<C>[]>();
  /** Consumers without a filter: every subject concerns them. */
  private unfiltered: readonly C[] = [];

  /** Index `consumer` under its filters (none, or only `>`: every subject). Replaces an earlier entry. */
  set(consumer: C, filters: readonly string[]): void {
    this.delete(consumer);
    if (filters.length === 0 || filters.includes(">")) {
      this.unfiltered = [...this.unfiltered, consumer];
      this.entries.set(consumer, []);
      return;
    }
    const list = filters.map((subject) => ({ subject, queue: undefined, consumer }));
    for (const e of list) this.index.insert(e);
    this.entries.set(consumer, list);
  }

  delete(consumer: C): void {
    const list = this.entries.get(consumer);
    if (list === undefined) return;
    this.entries.delete(consumer);
    if (list.length === 0) this.unfiltered = this.unfiltered.filter((c) => c !== consumer);
    for (const e of list) this.index.remove(e);
  }

  clear(): void {
    for (const c of [...this.entries.keys()]) this.delete(c);
  }

  /** Call `fn` once for every consumer `subject` concerns. */
  forEach(subject: string, fn: (consumer: C) => void): void {
    const unfiltered = this.unfiltered;
    for (let i = 0; i < unfiltered.length; i++) fn(unfiltered[i]);
    if (this.index.count === 0) return;
    const plain = this.index.match(subject).plain;
    // A consumer's filters never overlap (they are refused at create), so each matches at most once.
    for (let i = 0; i < plain.length; i++) fn(plain[i].consumer);
  }
}
