// The replicated log as one node holds it: the latest snapshot (everything up to its index, compacted),
// the entries after it, and three positions: `stable` (what the driver has made durable), `committed`
// (known to be on a quorum) and `applied` (handed to the state machine). Entries past `stable` are the
// unstable tail the next Ready asks the driver to persist.

import { decodeConfEntry } from "./codec.js";
import type { ClusterConfig, Entry, Snapshot } from "./types.js";

export class RaftLog {
  private snap: Snapshot;
  /** entries[k].index === snapshot index + 1 + k */
  private entries: Entry[];
  stable: number;
  committed: number;
  applied: number;
  /** A snapshot received from the leader that the driver has yet to persist and restore. */
  pendingSnapshot: Snapshot | undefined;

  constructor(snapshot: Snapshot, entries: readonly Entry[], committed: number, applied: number) {
    this.snap = snapshot;
    this.entries = [...entries];
    this.entries.forEach((e, k) => {
      if (e.index !== snapshot.meta.index + 1 + k) throw new Error(`log entry ${e.index} out of sequence`);
    });
    this.stable = this.lastIndex();
    // A log damaged on disk can be shorter than the commit index that was persisted: commit only what is held.
    this.committed = Math.max(snapshot.meta.index, Math.min(committed, this.lastIndex()));
    this.applied = Math.max(snapshot.meta.index, applied);
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  firstIndex(): number {
    return this.snap.meta.index + 1;
  }

  lastIndex(): number {
    return this.snap.meta.index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** The term of entry `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    const snapIndex = this.snap.meta.index;
    if (index === snapIndex) return this.snap.meta.term;
    if (index < snapIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - snapIndex - 1]!.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.snap.meta.index - 1];
  }

  /** Entries [from, to], clipped to what the log holds past the snapshot. */
  slice(from: number, to: number): Entry[] {
    const base = this.snap.meta.index + 1;
    return this.entries.slice(Math.max(from, base) - base, Math.min(to, this.lastIndex()) - base + 1);
  }

  /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends entries that follow on from the log's prefix ending at entries[0].index - 1, replacing what
   * was there. Committed entries are never replaced.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first <= this.committed) {
      throw new Error(`refusing to overwrite committed entry ${first} (committed ${this.committed})`);
    }
    if (first > this.lastIndex() + 1) throw new Error(`gap before entry ${first} (last ${this.lastIndex()})`);
    this.entries.length = first - this.firstIndex();
    for (const e of entries) this.entries.push(e);
    this.stable = Math.min(this.stable, first - 1);
  }

  /**
   * The follower side of AppendEntries: if the log holds (prevIndex, prevTerm), make it match the
   * leader's through prevIndex + entries.length, truncating only entries that provably conflict, and
   * return that last index; otherwise undefined (the caller rejects).
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    const lastNew = prevIndex + entries.length;
    if (prevIndex < this.committed) {
      // The leader's entries up to our commit index are ours (committed entries never differ); skip them.
      const skip = this.committed - prevIndex;
      for (const e of entries.slice(0, skip)) {
        const mine = this.term(e.index);
        if (mine !== undefined && mine !== e.term) {
          throw new Error(`committed entry ${e.index} has term ${mine}, leader sends ${e.term}`);
        }
      }
      if (skip >= entries.length) return lastNew;
      prevIndex = this.committed;
      prevTerm = entries[skip - 1]!.term;
      entries = entries.slice(skip);
    }
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      if (this.term(e.index) !== e.term) {
        // First entry we lack or that conflicts: it is past our commit index (see append), so dropping
        // our tail from here can only drop entries that were never committed.
        this.append(entries.slice(k));
        break;
      }
    }
    return lastNew;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) throw new Error(`commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries the driver must persist. */
  unstableEntries(): Entry[] {
    return this.slice(this.stable + 1, this.lastIndex());
  }

  /** Committed entries not yet applied; only durable ones, so nothing is applied that a crash could lose. */
  committedToApply(): Entry[] {
    return this.slice(this.applied + 1, Math.min(this.committed, this.stable));
  }

  /** The driver persisted a snapshot at `index` and applied through it: drop the entries it covers. */
  compact(index: number, data: Uint8Array): void {
    if (index <= this.snap.meta.index) return;
    if (index > this.applied) throw new Error(`cannot compact to ${index}: only applied ${this.applied}`);
    const meta = { index, term: this.term(index)!, config: this.configAt(index) };
    this.entries = this.entries.slice(index - this.snap.meta.index);
    this.snap = { meta, data };
  }

  /** Replace the whole log with a snapshot from the leader (the caller checked it is ahead of our commit). */
  restore(snapshot: Snapshot): void {
    if (snapshot.meta.index <= this.committed)
      throw new Error("restoring a snapshot behind the commit index");
    this.snap = snapshot;
    this.entries = [];
    this.committed = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.stable = snapshot.meta.index;
    this.pendingSnapshot = snapshot;
  }

  /** Membership in force at `index`: the latest conf entry at or before it, else the snapshot's. */
  configAt(index: number): ClusterConfig {
    for (let i = Math.min(index, this.lastIndex()); i > this.snap.meta.index; i--) {
      const e = this.entry(i)!;
      if (e.type === "conf") return decodeConfEntry(e.data).config;
    }
    return this.snap.meta.config;
  }

  /** The index of the last conf entry in the log (0 when only the snapshot defines membership). */
  lastConfIndex(): number {
    for (let i = this.lastIndex(); i > this.snap.meta.index; i--) {
      if (this.entry(i)!.type === "conf") return i;
    }
    return 0;
  }
}
