// A simulated disk for one node. Writes land in an unsynced buffer; sync() makes them durable; a crash
// throws the unsynced buffer away. What is durable is kept as encoded, checksummed records (the codec
// the real driver will use), so corruption is detected the way it would be on a real disk.

import {
  decodeEntryRecords,
  decodeHardState,
  decodeSnapshot,
  type Entry,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  type HardState,
  type Ready,
  type Snapshot,
} from "../../../src/raft/index.js";
import type { Prng } from "./prng.js";

type Write =
  | { readonly kind: "snapshot"; readonly snapshot: Snapshot }
  | { readonly kind: "entries"; readonly entries: readonly Entry[] }
  | { readonly kind: "hardState"; readonly hardState: HardState };

export interface LoadedState {
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly entries: Entry[];
  /** Set when the stored log stops being readable: the index of the last good entry. */
  readonly damagedAfter: number | undefined;
}

export class SimDisk {
  private hardStateRecord: Uint8Array | undefined;
  private snapshotRecord: Uint8Array | undefined;
  /** Index of the entry whose record is entryRecords[0]. */
  private firstIndex = 1;
  private entryRecords: Uint8Array[] = [];
  private unsynced: Write[] = [];

  /** Buffer what a Ready asks to persist (not yet durable). */
  write(rd: Ready): void {
    if (rd.snapshot !== undefined) this.unsynced.push({ kind: "snapshot", snapshot: rd.snapshot });
    if (rd.entries.length > 0) this.unsynced.push({ kind: "entries", entries: rd.entries });
    if (rd.hardState !== undefined) this.unsynced.push({ kind: "hardState", hardState: rd.hardState });
  }

  hasUnsynced(): boolean {
    return this.unsynced.length > 0;
  }

  sync(): void {
    for (const w of this.unsynced) {
      if (w.kind === "hardState") {
        this.hardStateRecord = encodeHardState(w.hardState);
      } else if (w.kind === "snapshot") {
        // A snapshot from the leader replaces the whole log.
        this.snapshotRecord = encodeSnapshot(w.snapshot);
        this.firstIndex = w.snapshot.meta.index + 1;
        this.entryRecords = [];
      } else {
        const start = w.entries[0]!.index - this.firstIndex;
        if (start < 0 || start > this.entryRecords.length) throw new Error("disk: entries do not follow on");
        this.entryRecords.length = start;
        for (const e of w.entries) this.entryRecords.push(encodeEntry(e));
      }
    }
    this.unsynced = [];
  }

  /** The driver made a snapshot of its own state machine (written and synced atomically). */
  saveSnapshot(snapshot: Snapshot): void {
    if (this.unsynced.length > 0) throw new Error("disk: compacting with unsynced writes");
    this.snapshotRecord = encodeSnapshot(snapshot);
    const drop = Math.max(0, snapshot.meta.index + 1 - this.firstIndex);
    this.entryRecords = this.entryRecords.slice(drop);
    this.firstIndex = snapshot.meta.index + 1;
  }

  crash(): void {
    this.unsynced = [];
  }

  syncedEntryCount(): number {
    return this.entryRecords.length;
  }

  /** Flip one byte in one of the last `tail` durable entry records (a torn or rotten write). */
  corruptTail(rng: Prng, tail: number): number {
    const k = this.entryRecords.length - 1 - rng.int(Math.min(tail, this.entryRecords.length));
    const record = this.entryRecords[k]!.slice();
    const at = rng.int(record.length);
    record[at] = record[at]! ^ (1 + rng.int(255));
    this.entryRecords[k] = record;
    return this.firstIndex + k;
  }

  /** What a restarting node reads back: everything durable up to the first unreadable record. */
  load(): LoadedState {
    let hardState = this.hardStateRecord && decodeHardState(this.hardStateRecord);
    const snapshot = this.snapshotRecord && decodeSnapshot(this.snapshotRecord);
    const all = new Uint8Array(this.entryRecords.reduce((n, r) => n + r.length, 0));
    let offset = 0;
    for (const r of this.entryRecords) {
      all.set(r, offset);
      offset += r.length;
    }
    const { entries, damagedAt } = decodeEntryRecords(all);
    entries.forEach((e, k) => {
      if (e.index !== this.firstIndex + k) throw new Error("disk: entry records out of sequence");
    });
    const damagedAfter = damagedAt === undefined ? undefined : this.firstIndex - 1 + entries.length;
    if (damagedAt !== undefined) {
      // Record that the log is under repair before dropping the unreadable tail, so a crash in between
      // cannot make the node forget it lost entries; the node then refetches them from the leader.
      hardState = { ...(hardState ?? { term: 0, vote: "", commit: 0 }), logDamaged: true };
      this.hardStateRecord = encodeHardState(hardState);
      this.entryRecords.length = entries.length;
    }
    return { hardState, snapshot, entries, damagedAfter };
  }
}
