// The batch of work the core hands its driver. The driver must, in this order:
//  1. persist `snapshot` (replacing the whole stored log), `entries` (replacing stored entries from
//     entries[0].index on) and `hardState`, and make them durable (fsync);
//  2. only then send `messages`: votes and acknowledgements in them promise that state is on disk;
//  3. restore the state machine from `snapshot` if set, then apply `committedEntries` in order;
//  4. call advance(ready) before giving the core anything else (step, tick, propose...).

import type { Entry, HardState, Message, Snapshot, SoftState } from "./types.js";

export interface Ready {
  /** Set when it changed since the last Ready. */
  readonly hardState: HardState | undefined;
  /** Set when it changed since the last Ready. */
  readonly softState: SoftState | undefined;
  /** A snapshot received from the leader: it replaces the stored log and the state machine. */
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit && a.logDamaged === b.logDamaged;
}
