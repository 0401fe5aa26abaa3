// The thin layer that runs a Raft core for real: a clock that ticks it, the route transport that carries
// its messages, the storage that makes its state durable, and the state machine its committed entries go
// to. It keeps the core's contract (ready.ts): persist, then send, then apply, then advance; while a batch
// is being made durable, arriving messages, ticks and proposals wait their turn.

import type { Logger } from "../logger.js";
import { CorruptRecordError, decodeMessage, encodeMessage } from "./codec.js";
import { Raft, type RaftStatus } from "./raft.js";
import type { RaftChannel, RaftTransport } from "./route-transport.js";
import { RaftStorage } from "./storage.js";
import type { ClusterConfig, ConfChange, Entry, Message, NodeId } from "./types.js";

/** What the group replicates. Entries arrive in log order, each exactly once per run of the node. */
export interface StateMachine {
  apply(entry: Entry): void;
  /** The whole state as of the last applied entry (for a snapshot). */
  snapshot(): Uint8Array;
  /** Replace the whole state with a snapshot's (a leader's, or this node's own at start). */
  restore(data: Uint8Array): void;
}

export interface RaftNodeOptions {
  /** The group's name: a subject token, the same on every member. */
  readonly group: string;
  /** This server's id (its member id in the group). */
  readonly self: NodeId;
  readonly dir: string;
  readonly transport: RaftTransport;
  readonly machine: StateMachine;
  readonly logger: Logger;
  /** Founding members, for a group that is new on every one of them. */
  readonly initialConfig?: ClusterConfig;
  /** Milliseconds per tick. Heartbeats go every tick, elections after 10–20 ticks without a leader. */
  readonly tickMs?: number;
  /** Take a snapshot and compact the log after this many applied entries (0: never). */
  readonly snapshotEvery?: number;
  readonly random?: () => number;
}

/** A proposal that did not make it: not the leader, or its entry was replaced by another leader's. */
export class ProposalError extends Error {
  constructor(
    message: string,
    /** The leader as this node knows it ("" when none). */
    readonly leader: NodeId,
  ) {
    super(message);
    this.name = "ProposalError";
  }
}

interface Pending {
  readonly index: number;
  readonly term: number;
  resolve(index: number): void;
  reject(err: Error): void;
}

type Input =
  | { readonly kind: "propose"; readonly data: Uint8Array; readonly pending: Omit<Pending, "index" | "term"> }
  | {
      readonly kind: "conf";
      readonly change: ConfChange;
      readonly pending: Omit<Pending, "index" | "term">;
    }
  | { readonly kind: "transfer"; readonly to: NodeId };

export class RaftNode {
  private readonly raft: Raft;
  private readonly storage: RaftStorage;
  private readonly channel: RaftChannel;
  private readonly timer: NodeJS.Timeout;
  private inbox: Message[] = [];
  private inputs: Input[] = [];
  private ticks = 0;
  private busy = false;
  private stopped = false;
  /** Proposals waiting for their entry to be applied, by index. */
  private readonly pending = new Map<number, Pending>();
  private snapshotIndex: number;
  private applied: number;
  /** Messages that could not be decoded (damaged in transit or from an incompatible peer). */
  dropped = 0;

  constructor(private readonly opts: RaftNodeOptions) {
    const { storage, state } = RaftStorage.open(opts.dir);
    for (const p of state.problems) opts.logger.error(`raft ${opts.group}: ${p}`);
    this.storage = storage;
    if (state.snapshot !== undefined) opts.machine.restore(state.snapshot.data);
    this.snapshotIndex = state.snapshot?.meta.index ?? 0;
    this.applied = this.snapshotIndex;
    this.raft = new Raft({
      id: opts.self,
      random: opts.random ?? Math.random,
      preVote: true,
      checkQuorum: true,
      hardState: state.hardState,
      snapshot: state.snapshot,
      entries: state.entries,
      applied: this.applied,
      initialConfig: opts.initialConfig,
      damagedAfter: state.damagedAfter,
    });
    this.channel = opts.transport.join(opts.group, (from, data) => this.arrive(from, data));
    this.timer = setInterval(() => {
      this.ticks++;
      this.pump();
    }, opts.tickMs ?? 100);
    this.timer.unref();
  }

  get group(): string {
    return this.opts.group;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  get isLeader(): boolean {
    return this.raft.currentRole === "leader";
  }

  /** Replicate `data`; resolves with its index once it is committed and applied here. */
  propose(data: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.inputs.push({ kind: "propose", data, pending: { resolve, reject } });
      this.pump();
    });
  }

  /** Change membership by one node; resolves once the change is committed and applied here. */
  changeMembership(change: ConfChange): Promise<number> {
    return new Promise((resolve, reject) => {
      this.inputs.push({ kind: "conf", change, pending: { resolve, reject } });
      this.pump();
    });
  }

  /** Ask the leader (this node) to hand leadership to `to`. */
  transferLeadership(to: NodeId): void {
    this.inputs.push({ kind: "transfer", to });
    this.pump();
  }

  /** Stop taking part: the group goes on without this node; its storage stays for a restart. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.channel.leave();
    const err = new ProposalError("raft node stopped", "");
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const i of this.inputs) if (i.kind !== "transfer") i.pending.reject(err);
    this.inputs = [];
    this.storage.close();
  }

  private arrive(_from: string, data: Uint8Array): void {
    if (this.stopped) return;
    try {
      this.inbox.push(decodeMessage(data));
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      this.dropped++;
      return;
    }
    this.pump();
  }

  /** Feed the core what arrived, then run one Ready through persist, send, apply and advance. */
  private pump(): void {
    if (this.busy || this.stopped) return;
    const raft = this.raft;
    for (const m of this.inbox) raft.step(m);
    this.inbox = [];
    for (; this.ticks > 0; this.ticks--) raft.tick();
    for (const input of this.inputs) this.feed(input);
    this.inputs = [];
    if (!raft.hasReady()) return;
    const rd = raft.ready();
    this.busy = true;
    this.storage.persist({ hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries }).then(
      () => {
        if (this.stopped) return;
        for (const m of rd.messages) this.channel.send(m.to, encodeMessage(m));
        if (rd.snapshot !== undefined) {
          this.opts.machine.restore(rd.snapshot.data);
          this.snapshotIndex = rd.snapshot.meta.index;
          this.applied = rd.snapshot.meta.index;
        }
        for (const e of rd.committedEntries) this.applyEntry(e);
        raft.advance(rd);
        this.maybeSnapshot();
        this.busy = false;
        this.pump();
      },
      (err: Error) => {
        // A write that did not reach the disk: nothing promised can be kept, so this node stops.
        this.opts.logger.error(`raft ${this.opts.group}: storage failed, stopping: ${err.message}`);
        this.busy = false;
        this.stop();
      },
    );
  }

  private feed(input: Input): void {
    if (input.kind === "transfer") {
      this.raft.transferLeadership(input.to);
      return;
    }
    const r =
      input.kind === "propose" ? this.raft.propose(input.data) : this.raft.proposeConfChange(input.change);
    if (!r.ok) {
      input.pending.reject(new ProposalError(r.error, r.leader));
      return;
    }
    this.pending.set(r.index, { index: r.index, term: r.term, ...input.pending });
  }

  private applyEntry(e: Entry): void {
    if (e.type === "normal" && e.data.length > 0) this.opts.machine.apply(e);
    this.applied = e.index;
    const p = this.pending.get(e.index);
    if (p === undefined) return;
    this.pending.delete(e.index);
    if (p.term === e.term) p.resolve(e.index);
    else p.reject(new ProposalError("proposal lost to a leadership change", this.raft.leader));
  }

  private maybeSnapshot(): void {
    const every = this.opts.snapshotEvery ?? 0;
    if (every <= 0 || this.applied - this.snapshotIndex < every) return;
    const index = this.applied;
    const data = this.opts.machine.snapshot();
    this.storage.compact({ meta: this.raft.snapshotMetaAt(index), data });
    this.raft.compact(index, data);
    this.snapshotIndex = index;
  }
}
