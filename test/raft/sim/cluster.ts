// Many Raft nodes in one process, each with a simulated disk and a minimal driver that keeps the
// durability contract: persist and sync a Ready, then send its messages, then apply, then advance.
// A sync may take a few ticks; a crash before it completes loses the unsynced writes (and nothing was
// sent that depended on them).

import {
  type ClusterConfig,
  type Entry,
  type Message,
  type NodeId,
  Raft,
  type Ready,
  type Snapshot,
} from "../../../src/raft/index.js";
import { SimDisk } from "./disk.js";
import { Invariants } from "./invariants.js";
import { SimNetwork } from "./network.js";
import type { Prng } from "./prng.js";

export const ELECTION_TIMEOUT = 10;
export const HEARTBEAT_TIMEOUT = 2;

/** The replicated state machine: how far it got and a hash of everything it applied. */
interface AppState {
  index: number;
  hash: number;
}

function foldEntry(state: AppState, e: Entry): AppState {
  let h = Math.imul(state.hash ^ e.index, 0x01000193);
  for (let i = 0; i < e.data.length; i++) h = Math.imul(h ^ e.data[i]!, 0x01000193);
  return { index: e.index, hash: h >>> 0 };
}

function encodeAppState(s: AppState): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setFloat64(0, s.index);
  view.setUint32(8, s.hash);
  return out;
}

function decodeAppState(data: Uint8Array): AppState {
  if (data.length === 0) return { index: 0, hash: 0 };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { index: view.getFloat64(0), hash: view.getUint32(8) };
}

export class SimNode {
  raft: Raft | undefined;
  readonly disk = new SimDisk();
  app: AppState = { index: 0, hash: 0 };
  /** A Ready written but not yet synced, and the tick its sync completes. */
  pending: { rd: Ready; syncAt: number } | undefined;
  downUntil = 0;
  crashes = 0;

  constructor(
    readonly id: NodeId,
    private readonly initialConfig: ClusterConfig | undefined,
    private readonly rng: Prng,
  ) {}

  get up(): boolean {
    return this.raft !== undefined;
  }

  /** Busy syncing: cannot take input until the sync completes. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  start(): Raft {
    const loaded = this.disk.load();
    const snapshot: Snapshot | undefined = loaded.snapshot;
    this.app = snapshot ? decodeAppState(snapshot.data) : { index: 0, hash: 0 };
    this.raft = new Raft({
      id: this.id,
      electionTimeout: ELECTION_TIMEOUT,
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      random: () => this.rng.float(),
      maxEntriesPerMessage: 16,
      maxInflight: 8,
      hardState: loaded.hardState,
      snapshot,
      entries: loaded.entries,
      applied: this.app.index,
      initialConfig: this.initialConfig,
      damagedAfter: loaded.damagedAfter,
    });
    return this.raft;
  }

  crash(): void {
    this.raft = undefined;
    this.pending = undefined;
    this.disk.crash();
    this.crashes++;
  }
}

export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: SimNetwork;
  readonly invariants = new Invariants();
  now = 0;
  /** Probability that a sync completes only a tick or two later (a window for crashes to lose writes). */
  slowSyncRate = 0.3;
  /** Called for notable events (for traces). */
  log: (event: string) => void = () => {};

  constructor(
    readonly rng: Prng,
    ids: readonly NodeId[],
    founders: ClusterConfig,
  ) {
    this.network = new SimNetwork(rng.fork());
    for (const id of ids) {
      const isFounder = founders.voters.includes(id) || founders.learners.includes(id);
      const node = new SimNode(id, isFounder ? founders : undefined, rng.fork());
      this.nodes.set(id, node);
      this.invariants.nodeStarted(node.start());
    }
  }

  node(id: NodeId): SimNode {
    return this.nodes.get(id)!;
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  leaders(): Raft[] {
    const out: Raft[] = [];
    for (const n of this.nodes.values()) if (n.raft?.currentRole === "leader") out.push(n.raft);
    return out;
  }

  /** The leader of the highest term, if any. */
  leader(): Raft | undefined {
    let best: Raft | undefined;
    for (const r of this.leaders()) if (!best || r.currentTerm > best.currentTerm) best = r;
    return best;
  }

  /** Run something against a node's core, then check invariants and drain its Ready. */
  act(node: SimNode, fn: (raft: Raft) => void): void {
    const raft = node.raft;
    if (!raft || node.busy) return;
    const role = raft.currentRole;
    const term = raft.currentTerm;
    fn(raft);
    if (raft.currentRole !== role || raft.currentTerm !== term) {
      this.log(`${node.id} ${role}@${term} -> ${raft.currentRole}@${raft.currentTerm}`);
    }
    this.invariants.afterAction(raft);
    this.processReady(node);
  }

  private processReady(node: SimNode): void {
    for (let rounds = 0; rounds < 10; rounds++) {
      const raft = node.raft;
      if (!raft || node.busy || !raft.hasReady()) return;
      const rd = raft.ready();
      this.invariants.onReady(raft, rd);
      node.disk.write(rd);
      if (node.disk.hasUnsynced() && this.rng.chance(this.slowSyncRate)) {
        node.pending = { rd, syncAt: this.now + 1 + this.rng.int(2) };
        return;
      }
      this.finishReady(node, rd);
    }
  }

  /** The Ready's writes are durable: send, apply, advance. */
  private finishReady(node: SimNode, rd: Ready): void {
    const raft = node.raft!;
    node.disk.sync();
    for (const m of rd.messages) this.network.send(m, this.now);
    if (rd.snapshot !== undefined) {
      node.app = decodeAppState(rd.snapshot.data);
      this.invariants.onApplied(node.id, node.app.index, node.app.hash);
    }
    for (const e of rd.committedEntries) {
      if (e.index !== node.app.index + 1) {
        throw new Error(`${node.id} applies ${e.index} after ${node.app.index}`);
      }
      node.app = foldEntry(node.app, e);
      this.invariants.onApplied(node.id, e.index, node.app.hash);
    }
    raft.advance(rd);
    this.invariants.afterAction(raft);
  }

  /** One tick of simulated time: finish due syncs, deliver due messages, tick every running node. */
  tick(): void {
    this.now++;
    for (const node of this.nodes.values()) {
      if (node.pending && node.pending.syncAt <= this.now) {
        const { rd } = node.pending;
        node.pending = undefined;
        this.finishReady(node, rd);
        this.processReady(node);
      }
    }
    for (const m of this.network.takeDue(this.now)) this.deliver(m);
    for (const node of this.rng.shuffle([...this.nodes.values()])) {
      if (node.up && !node.busy) this.act(node, (r) => r.tick());
      else if (!node.up && node.downUntil <= this.now) this.restart(node);
    }
  }

  private deliver(m: Message): void {
    const node = this.nodes.get(m.to);
    if (!node?.up) return;
    if (node.busy) {
      this.network.requeue(m, this.now);
      return;
    }
    this.act(node, (r) => r.step(m));
  }

  crash(node: SimNode, downFor: number, corrupt: boolean): void {
    const raft = node.raft;
    if (!raft) return;
    this.invariants.nodeStopped(raft);
    node.crash();
    node.downUntil = this.now + downFor;
    let note = "";
    if (corrupt && node.disk.syncedEntryCount() > 0)
      note = ` (entry ${node.disk.corruptTail(this.rng, 3)} corrupted)`;
    this.log(`${node.id} crashed for ${downFor} ticks${note}`);
  }

  restart(node: SimNode): void {
    if (node.up) return;
    const raft = node.start();
    this.invariants.nodeStarted(raft);
    const s = raft.status();
    this.log(
      `${node.id} restarted at term ${s.term}, last ${s.lastIndex}${s.logDamaged ? ", log damaged" : ""}`,
    );
    this.invariants.afterAction(raft);
    this.processReady(node);
  }

  /** The driver snapshots its state machine where it is and lets Raft drop the entries it covers. */
  compact(node: SimNode): void {
    const raft = node.raft;
    const at = node.app.index;
    if (!raft || node.busy || at <= raft.log.snapshot.meta.index) return;
    const data = encodeAppState(node.app);
    node.disk.saveSnapshot({ meta: raft.snapshotMetaAt(at), data });
    raft.compact(at, data);
    this.log(`${node.id} compacted through ${at}`);
  }
}
