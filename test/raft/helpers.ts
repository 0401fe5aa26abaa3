// Helpers for the Raft unit tests: nodes with fixed election timeouts, and a synchronous network that
// plays each node's driver (persist, then send, then advance) until everything settles.

import {
  type ClusterConfig,
  type Entry,
  type HardState,
  type Message,
  makeConfig,
  type NodeId,
  Raft,
  type RaftOptions,
  type Snapshot,
} from "../../src/raft/index.js";

export const ELECTION = 10;

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** Entries with the given terms, from index `from` on (normal entries, data "e<index>"). */
export function entriesWithTerms(terms: readonly number[], from = 1): Entry[] {
  return terms.map((term, k) => ({ index: from + k, term, type: "normal", data: bytes(`e${from + k}`) }));
}

export interface NodeSetup extends Partial<Omit<RaftOptions, "id">> {
  readonly terms?: readonly number[];
  readonly hardState?: HardState;
}

/** A node of a cluster founded with `voters`, with a deterministic election timeout of ELECTION ticks. */
export function newRaft(id: NodeId, voters: readonly NodeId[], setup: NodeSetup = {}): Raft {
  const { terms, ...opts } = setup;
  return new Raft({
    id,
    electionTimeout: ELECTION,
    heartbeatTimeout: 1,
    random: () => 0,
    initialConfig: makeConfig(voters),
    entries: terms ? entriesWithTerms(terms) : undefined,
    ...opts,
  });
}

/** What a node's driver has made durable (for checks that nothing is acknowledged before it is). */
export interface Stored {
  hardState: HardState | undefined;
  snapshot: Snapshot | undefined;
  entries: Entry[];
  applied: Entry[];
}

export class TestNet {
  readonly nodes = new Map<NodeId, Raft>();
  readonly stored = new Map<NodeId, Stored>();
  /** Links that drop messages, as "from>to". */
  private readonly cut = new Set<string>();
  /** Messages to drop (return true) or let through. */
  dropIf: (m: Message) => boolean = () => false;
  /** Every message delivered, in order. */
  readonly delivered: Message[] = [];

  constructor(nodes: readonly Raft[]) {
    for (const n of nodes) this.add(n);
  }

  add(node: Raft): void {
    this.nodes.set(node.id, node);
    this.stored.set(node.id, { hardState: undefined, snapshot: undefined, entries: [], applied: [] });
  }

  node(id: NodeId): Raft {
    return this.nodes.get(id)!;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Drive every node's Ready, delivering messages, until nothing more happens. */
  settle(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      const outbox: Message[] = [];
      let busy = false;
      for (const [id, node] of this.nodes) {
        if (!node.hasReady()) continue;
        busy = true;
        const rd = node.ready();
        const s = this.stored.get(id)!;
        if (rd.snapshot) {
          s.snapshot = rd.snapshot;
          s.entries = [];
        }
        if (rd.entries.length > 0) {
          const first = rd.entries[0]!.index;
          s.entries = s.entries.filter((e) => e.index < first).concat(rd.entries);
        }
        if (rd.hardState) s.hardState = rd.hardState;
        outbox.push(...rd.messages);
        s.applied.push(...rd.committedEntries);
        node.advance(rd);
      }
      if (!busy) return;
      for (const m of outbox) this.deliver(m);
    }
    throw new Error("network did not settle");
  }

  deliver(m: Message): void {
    if (this.cut.has(`${m.from}>${m.to}`) || this.dropIf(m)) return;
    const to = this.nodes.get(m.to);
    if (!to) return;
    this.delivered.push(m);
    to.step(m);
  }

  /** Tick every node `n` times, settling after each tick. */
  tick(n = 1, only?: readonly NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (!only || only.includes(id)) node.tick();
      this.settle();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
  }

  propose(id: NodeId, data: string): number {
    const result = this.node(id).propose(bytes(data));
    if (!result.ok) throw new Error(`proposal refused: ${result.error}`);
    this.settle();
    return result.index;
  }

  applied(id: NodeId): string[] {
    return this.stored
      .get(id)!
      .applied.filter((e) => e.data.length > 0 && e.type === "normal")
      .map((e) => text(e.data));
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.currentRole === "leader").map((n) => n.id);
  }
}

/** A cluster of fresh nodes founded with the given voters (and learners). */
export function cluster(
  voters: readonly NodeId[],
  setup: NodeSetup = {},
  learners: readonly NodeId[] = [],
): TestNet {
  const config: ClusterConfig = makeConfig(voters, learners);
  return new TestNet(
    [...voters, ...learners].map((id) => newRaft(id, voters, { initialConfig: config, ...setup })),
  );
}
