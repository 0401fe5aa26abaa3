// Raft's safety properties, checked as the simulation runs:
//  - election safety: at most one leader per term;
//  - log matching: two entries with the same index and term hold the same data and follow entries of
//    the same term (checked as each entry is persisted, and by periodic whole-log comparisons);
//  - leader completeness: every committed entry is in the log of every leader of a later term;
//  - state-machine safety: no two nodes apply different entries at one index (compared through a hash
//    of the whole applied sequence, so snapshots are covered too).

import type { Entry, NodeId, Raft, Ready } from "../../../src/raft/index.js";

export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation";
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

export function entryDigest(e: Entry): number {
  let h = e.type === "conf" ? 0x9747b28c : 0x811c9dc5;
  for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i]!, 0x01000193);
  return h >>> 0;
}

export class Invariants {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** "index:term" -> the previous entry's term and the data digest, for every entry any node persisted. */
  private readonly shapes = new Map<string, { prevTerm: number; digest: number }>();
  /** index -> term of every entry known committed by some node. */
  private readonly committed = new Map<number, number>();
  /** index -> hash of the state machine after applying it. */
  private readonly states = new Map<number, number>();
  /** Per node (incarnation), the commit index already recorded. */
  private readonly seenCommit = new Map<NodeId, number>();
  private readonly leaders = new Set<Raft>();
  checks = 0;

  /** A node (re)started: its commit index starts over from what it loaded. */
  nodeStarted(raft: Raft): void {
    this.seenCommit.set(raft.id, raft.log.snapshot.meta.index);
    this.leaders.delete(raft);
  }

  nodeStopped(raft: Raft): void {
    this.leaders.delete(raft);
  }

  /** After anything happened to `raft`. */
  afterAction(raft: Raft): void {
    this.checks++;
    const term = raft.currentTerm;
    if (raft.currentRole === "leader") {
      const known = this.leaderOfTerm.get(term);
      if (known === undefined) {
        this.leaderOfTerm.set(term, raft.id);
        this.checkHoldsCommitted(raft, term);
      } else if (known !== raft.id) {
        fail(`election safety: ${known} and ${raft.id} both lead term ${term}`);
      }
      this.leaders.add(raft);
    } else {
      this.leaders.delete(raft);
    }
    const from = this.seenCommit.get(raft.id) ?? 0;
    const commit = raft.log.committed;
    if (commit > from) {
      const snapIndex = raft.log.snapshot.meta.index;
      for (let i = Math.max(from + 1, snapIndex); i <= commit; i++) this.noteCommitted(i, raft.log.term(i)!);
      this.seenCommit.set(raft.id, commit);
    }
  }

  private noteCommitted(index: number, term: number): void {
    const known = this.committed.get(index);
    if (known === undefined) {
      this.committed.set(index, term);
      for (const leader of this.leaders) {
        if (leader.currentTerm > term) this.checkHolds(leader, index, term);
      }
    } else if (known !== term) {
      fail(`committed entries differ at index ${index}: terms ${known} and ${term}`);
    }
  }

  private checkHoldsCommitted(leader: Raft, term: number): void {
    for (const [index, t] of this.committed) if (t < term) this.checkHolds(leader, index, t);
  }

  private checkHolds(leader: Raft, index: number, term: number): void {
    if (index <= leader.log.snapshot.meta.index) return; // compacted: only committed entries are
    const mine = leader.log.term(index);
    if (mine !== term) {
      fail(
        `leader completeness: ${leader.id} leads term ${leader.currentTerm} without committed entry ` +
          `${index} (term ${term}); it holds term ${mine}`,
      );
    }
  }

  /** Entries a node is about to persist: same index and term must mean the same entry and history. */
  onReady(raft: Raft, rd: Ready): void {
    if (rd.snapshot !== undefined) {
      const { index, term } = rd.snapshot.meta;
      const known = this.committed.get(index);
      if (known !== undefined && known !== term)
        fail(`snapshot at ${index} has term ${term}, committed ${known}`);
    }
    for (const e of rd.entries) {
      const prevTerm = raft.log.term(e.index - 1) ?? -1;
      const key = `${e.index}:${e.term}`;
      const digest = entryDigest(e);
      const known = this.shapes.get(key);
      if (known === undefined) this.shapes.set(key, { prevTerm, digest });
      else if (known.prevTerm !== prevTerm || known.digest !== digest) {
        fail(`log matching: entry ${key} on ${raft.id} differs from one seen before`);
      }
    }
  }

  /** A node's state machine reached `index` with state `hash`. */
  onApplied(id: NodeId, index: number, hash: number): void {
    const known = this.states.get(index);
    if (known === undefined) this.states.set(index, hash);
    else if (known !== hash) fail(`state-machine safety: ${id} applied a different history through ${index}`);
  }

  /** Compare whole logs pairwise: where two hold the same (index, term), everything before matches. */
  checkLogMatching(nodes: readonly Raft[]): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const x = nodes[a]!.log;
        const y = nodes[b]!.log;
        const low = Math.max(x.snapshot.meta.index, y.snapshot.meta.index) + 1;
        let top = Math.min(x.lastIndex(), y.lastIndex());
        while (top >= low && x.term(top) !== y.term(top)) top--;
        for (let i = low; i <= top; i++) {
          const ex = x.entry(i)!;
          const ey = y.entry(i)!;
          if (ex.term !== ey.term || entryDigest(ex) !== entryDigest(ey)) {
            fail(`log matching: ${nodes[a]!.id} and ${nodes[b]!.id} agree at ${top} but differ at ${i}`);
          }
        }
      }
    }
  }

  get committedCount(): number {
    return this.committed.size;
  }

  get maxTerm(): number {
    return Math.max(0, ...this.leaderOfTerm.keys());
  }
}
