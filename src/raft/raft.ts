// The Raft state machine of one node. It does no I/O and keeps no timers: the driver feeds it messages
// (step), clock ticks (tick) and client requests (propose, proposeConfChange, transferLeadership), and
// collects a Ready with what to persist, send and apply (see ready.ts for the contract).
//
// Beyond the basic protocol (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm"):
//  - PreVote: a node that timed out first asks whether it could win, without raising its term, so a node
//    cut off from the cluster cannot force a healthy leader out when it returns;
//  - CheckQuorum: a leader that has not heard from a quorum for an election timeout steps down, and
//    followers that heard from a leader within that time ignore vote requests (the leader's lease);
//  - leadership transfer: the leader brings the target up to date, stops taking proposals and tells it
//    to campaign at once (TimeoutNow);
//  - membership changes one node at a time, in force as soon as the entry is in a node's log (the
//    dissertation's scheme); a leader proposes one only after committing an entry of its own term and
//    when no other change is uncommitted;
//  - learners, who receive the log but neither vote nor count for quorums, promoted once caught up;
//  - snapshots: the driver compacts the log behind a snapshot it persisted; followers too far behind
//    are sent the snapshot;
//  - a damaged log: a node whose stored log lost entries it may have acknowledged does not vote or
//    campaign until it has copied a leader's whole log again.

import { decodeConfEntry, encodeConfEntry } from "./codec.js";
import {
  applyConfChange,
  confChangeError,
  isVoter,
  makeConfig,
  members,
  quorumIndex,
  voteOutcome,
} from "./config.js";
import { RaftLog } from "./log.js";
import { Progress } from "./progress.js";
import { hardStateEqual, type Ready } from "./ready.js";
import {
  type AppendMessage,
  type AppendResponse,
  type ClusterConfig,
  type ConfChange,
  type Entry,
  type EntryType,
  type HardState,
  type HeartbeatMessage,
  type Message,
  NONE,
  type NodeId,
  type Role,
  type Snapshot,
  type SnapshotMessage,
  type SnapshotMeta,
  type SoftState,
  type VoteMessage,
  type VoteResponse,
} from "./types.js";

export interface RaftOptions {
  readonly id: NodeId;
  /** Ticks without a leader before campaigning; the actual timeout is random in [t, 2t). Default 10. */
  readonly electionTimeout?: number;
  /** Ticks between a leader's heartbeats. Default 1. */
  readonly heartbeatTimeout?: number;
  /** Uniform in [0, 1): the only source of randomness (election timeouts), so runs can be replayed. */
  readonly random: () => number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly maxEntriesPerMessage?: number;
  /** Unanswered appends per follower while replicating. Default 16. */
  readonly maxInflight?: number;
  /** A learner is promoted only if it holds the log to within this many entries of the commit index. Default 0. */
  readonly maxLearnerLag?: number;
  /** Durable state as the driver loaded it (all absent for a brand-new node). */
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  /** The stored entries after the snapshot, in order. */
  readonly entries?: readonly Entry[];
  /** Where the driver's state machine is (at least the snapshot index). */
  readonly applied?: number;
  /** Founding membership of a new cluster, used when there is no snapshot. A joining node passes none. */
  readonly initialConfig?: ClusterConfig;
  /**
   * The driver found the stored log unreadable past this index and passes only the entries up to it.
   * The node may have acknowledged entries it has lost, so it neither votes nor campaigns until repaired.
   */
  readonly damagedAfter?: number;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly error: string; readonly leader: NodeId };

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly config: ClusterConfig;
  readonly logDamaged: boolean;
  readonly transferee: NodeId;
}

const EMPTY = new Uint8Array(0);

export class Raft {
  readonly id: NodeId;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly random: () => number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxEntries: number;
  private readonly maxInflight: number;
  private readonly maxLearnerLag: number;

  private term: number;
  private vote: NodeId;
  private role: Role = "follower";
  private lead: NodeId = NONE;
  private readonly raftLog: RaftLog;
  private config: ClusterConfig;
  /** The conf entry `config` comes from (0: from the snapshot), and that entry, to notice it being replaced. */
  private confIndex = 0;
  private confEntry: Entry | undefined;
  private logDamaged: boolean;
  /** This node copied a leader's whole log while repairing: once that Ready is durable it is whole again. */
  private repairedInReady = false;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  private leadTransferee: NodeId = NONE;
  /** First index of this leader's term (its empty entry): committing it commits everything before. */
  private termStartIndex = 0;

  private msgs: Message[] = [];
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyOut: Ready | undefined;

  constructor(opts: RaftOptions) {
    this.id = opts.id;
    this.electionTimeout = opts.electionTimeout ?? 10;
    this.heartbeatTimeout = opts.heartbeatTimeout ?? 1;
    this.random = opts.random;
    this.preVote = opts.preVote ?? true;
    this.checkQuorum = opts.checkQuorum ?? true;
    this.maxEntries = opts.maxEntriesPerMessage ?? 64;
    this.maxInflight = opts.maxInflight ?? 16;
    this.maxLearnerLag = opts.maxLearnerLag ?? 0;
    const hs = opts.hardState ?? { term: 0, vote: NONE, commit: 0, logDamaged: false };
    const snapshot = opts.snapshot ?? {
      meta: { index: 0, term: 0, config: opts.initialConfig ?? makeConfig([]) },
      data: EMPTY,
    };
    const entries = opts.entries ?? [];
    if (opts.damagedAfter !== undefined && (entries.at(-1)?.index ?? 0) > opts.damagedAfter) {
      throw new Error("pass only the entries before the damage");
    }
    this.raftLog = new RaftLog(snapshot, entries, hs.commit, opts.applied ?? 0);
    this.term = hs.term;
    this.vote = hs.vote;
    this.logDamaged = hs.logDamaged || opts.damagedAfter !== undefined;
    this.config = snapshot.meta.config;
    this.refreshConfig();
    this.prevHardState = hs;
    this.prevSoftState = { role: this.role, leader: this.lead };
    this.resetElectionTimer();
  }

  // ---- observation -------------------------------------------------------------------------------

  get log(): RaftLog {
    return this.raftLog;
  }

  get currentRole(): Role {
    return this.role;
  }

  get currentTerm(): number {
    return this.term;
  }

  get leader(): NodeId {
    return this.lead;
  }

  get isLogDamaged(): boolean {
    return this.logDamaged;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lastIndex: this.raftLog.lastIndex(),
      config: this.config,
      logDamaged: this.logDamaged,
      transferee: this.leadTransferee,
    };
  }

  /** The leader's view of a peer's replication (undefined elsewhere). */
  progressOf(id: NodeId): Progress | undefined {
    return this.role === "leader" ? this.progress.get(id) : undefined;
  }

  // ---- driver inputs -----------------------------------------------------------------------------

  tick(): void {
    this.assertNoReadyOut();
    if (this.role === "leader") this.tickLeader();
    else this.tickElection();
  }

  /** Start an election now (as a timeout would). */
  campaign(): void {
    this.assertNoReadyOut();
    if (this.role !== "leader") this.hup();
  }

  step(m: Message): void {
    this.assertNoReadyOut();
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      const isVoteRequest = m.type === "vote" || m.type === "preVote";
      if (isVoteRequest && !m.transfer && this.inLease()) return; // a leader we trust is still alive
      const keepTerm = m.type === "preVote" || (m.type === "preVoteResponse" && !m.reject);
      if (!keepTerm) {
        const fromLeader = m.type === "append" || m.type === "heartbeat" || m.type === "snapshot";
        this.becomeFollower(m.term, fromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "append" || m.type === "heartbeat")) {
        // A leader from an older term, which may be unable to hear anyone else: tell it our term so it
        // steps down rather than keeping followers that ignore it.
        this.send({ type: "appendResponse", to: m.from, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === "preVote") {
        this.send({ type: "preVoteResponse", to: m.from, reject: true });
      }
      return;
    }
    if (m.type === "vote" || m.type === "preVote") {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case "leader":
        this.stepLeader(m);
        break;
      case "candidate":
      case "preCandidate":
        this.stepCandidate(m);
        break;
      case "follower":
        this.stepFollower(m);
        break;
    }
  }

  propose(data: Uint8Array): ProposeResult {
    this.assertNoReadyOut();
    const refusal = this.proposalRefusal();
    if (refusal !== undefined) return { ok: false, error: refusal, leader: this.lead };
    return this.appendAsLeader("normal", data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    this.assertNoReadyOut();
    const refusal = this.proposalRefusal() ?? this.confChangeRefusal(change);
    if (refusal !== undefined) return { ok: false, error: refusal, leader: this.lead };
    const config = applyConfChange(this.config, change);
    return this.appendAsLeader("conf", encodeConfEntry({ change, config }));
  }

  /** Hand leadership to `to` (a voter): typically before this node is stopped or removed. */
  transferLeadership(to: NodeId): ProposeResult {
    this.assertNoReadyOut();
    if (this.role !== "leader") return { ok: false, error: "not the leader", leader: this.lead };
    if (to === this.id) return { ok: false, error: "already the leader", leader: this.lead };
    if (!isVoter(this.config, to)) return { ok: false, error: `${to} is not a voter`, leader: this.lead };
    const result: ProposeResult = { ok: true, index: this.raftLog.lastIndex(), term: this.term };
    if (this.leadTransferee === to) return result;
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer is abandoned after an election timeout
    const pr = this.progress.get(to)!;
    if (pr.match === this.raftLog.lastIndex()) this.send({ type: "timeoutNow", to });
    else this.sendAppend(to, true);
    return result;
  }

  /** The metadata a snapshot of the state machine as of `index` (applied, not compacted) must carry. */
  snapshotMetaAt(index: number): SnapshotMeta {
    const term = this.raftLog.term(index);
    if (term === undefined || index > this.raftLog.applied)
      throw new Error(`no applied entry ${index} to snapshot`);
    return { index, term, config: this.raftLog.configAt(index) };
  }

  /**
   * The driver persisted a snapshot of its state machine as of `index` (at most the applied index):
   * entries up to it are dropped, and peers that need them are sent the snapshot instead.
   */
  compact(index: number, data: Uint8Array): void {
    this.assertNoReadyOut();
    this.raftLog.compact(index, data);
  }

  // ---- Ready -------------------------------------------------------------------------------------

  hasReady(): boolean {
    const log = this.raftLog;
    const hs = this.prevHardState;
    return (
      this.msgs.length > 0 ||
      log.pendingSnapshot !== undefined ||
      log.stable < log.lastIndex() ||
      log.applied < Math.min(log.committed, log.stable) ||
      hs.term !== this.term ||
      hs.vote !== this.vote ||
      hs.commit !== log.committed ||
      hs.logDamaged !== this.logDamaged ||
      !this.softStateEqual()
    );
  }

  ready(): Ready {
    this.assertNoReadyOut();
    const hs = this.hardState();
    const rd: Ready = {
      hardState: hardStateEqual(hs, this.prevHardState) ? undefined : hs,
      softState: this.softStateEqual() ? undefined : { role: this.role, leader: this.lead },
      snapshot: this.raftLog.pendingSnapshot,
      entries: this.raftLog.unstableEntries(),
      messages: this.msgs,
      committedEntries: this.raftLog.committedToApply(),
    };
    this.msgs = [];
    this.readyOut = rd;
    return rd;
  }

  /** The driver has done everything `rd` asked (see ready.ts). */
  advance(rd: Ready): void {
    if (this.readyOut !== rd) throw new Error("advance() must be given the Ready last returned");
    this.readyOut = undefined;
    if (rd.snapshot !== undefined) this.raftLog.pendingSnapshot = undefined;
    const last = rd.entries.at(-1);
    if (last !== undefined) this.raftLog.stable = last.index;
    const applied = rd.committedEntries.at(-1);
    if (applied !== undefined) this.raftLog.applied = applied.index;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    if (rd.softState !== undefined) this.prevSoftState = rd.softState;
    if (this.repairedInReady) {
      this.repairedInReady = false;
      this.logDamaged = false;
    }
    // The leader's own entries count toward a quorum only once durable.
    if (this.role === "leader" && last !== undefined && this.maybeCommit()) this.broadcastAppend();
  }

  // ---- roles -------------------------------------------------------------------------------------

  private becomeFollower(term: number, lead: NodeId): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.role = "follower";
    this.lead = lead;
    this.resetRoleState();
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.lead = this.id;
    this.resetRoleState();
    for (const id of members(this.config)) {
      if (id !== this.id) this.progress.set(id, new Progress(this.raftLog.lastIndex() + 1, this.maxInflight));
    }
    this.termStartIndex = this.raftLog.lastIndex() + 1;
    this.appendAsLeader("normal", EMPTY);
  }

  private resetRoleState(): void {
    this.resetElectionTimer();
    this.heartbeatElapsed = 0;
    this.votes = new Map();
    this.progress = new Map();
    this.leadTransferee = NONE;
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }

  /** May this node stand for election? */
  private promotable(): boolean {
    return isVoter(this.config, this.id) && !this.logDamaged && this.raftLog.pendingSnapshot === undefined;
  }

  private hup(): void {
    this.campaign2(this.preVote ? "preVote" : "vote");
  }

  private campaign2(kind: "preVote" | "vote" | "transfer"): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    if (kind === "preVote") {
      this.role = "preCandidate";
      this.lead = NONE;
      this.resetRoleState();
      voteTerm = this.term + 1;
    } else {
      this.becomeFollower(this.term + 1, NONE);
      this.role = "candidate";
      this.vote = this.id;
      voteTerm = this.term;
    }
    this.votes.set(this.id, true);
    if (voteOutcome(this.config, this.votes) === "won") {
      this.wonVote();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.config.voters) {
      if (id === this.id) continue;
      this.msgs.push({
        type: kind === "preVote" ? "preVote" : "vote",
        from: this.id,
        to: id,
        term: voteTerm,
        lastIndex,
        lastTerm,
        transfer: kind === "transfer",
      });
    }
  }

  private wonVote(): void {
    if (this.role === "preCandidate") this.campaign2("vote");
    else this.becomeLeader();
  }

  private inLease(): boolean {
    return this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
  }

  // ---- ticks -------------------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    // A node that may not campaign (learner, damaged log) keeps counting: resetting would keep it in
    // its dead leader's lease forever, ignoring the vote requests of the nodes that can replace it.
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, NONE);
        return;
      }
      this.leadTransferee = NONE; // a transfer that has not happened within an election timeout failed
    }
    for (const [id, pr] of this.progress) {
      if (pr.state === "snapshot" && --pr.snapshotTicksLeft <= 0) {
        pr.becomeProbe(); // the snapshot (or its answer) was probably lost: find out where the peer is
        this.sendAppend(id, true);
      }
    }
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      for (const [id, pr] of this.progress) {
        this.send({ type: "heartbeat", to: id, commit: Math.min(pr.match, this.raftLog.committed) });
      }
    }
  }

  /** Has a quorum of voters been heard from since the last check? Resets the record. */
  private quorumActive(): boolean {
    let active = 0;
    for (const id of this.config.voters) {
      const pr = this.progress.get(id);
      if (id === this.id || pr?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active >= Math.floor(this.config.voters.length / 2) + 1;
  }

  // ---- messages by role --------------------------------------------------------------------------

  private handleVoteRequest(m: VoteMessage): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === "preVote" && m.term > this.term);
    const grant = canVote && !this.logDamaged && this.raftLog.isUpToDate(m.lastIndex, m.lastTerm);
    const type = m.type === "vote" ? "voteResponse" : "preVoteResponse";
    if (!grant) {
      this.send({ type, to: m.from, reject: true });
      return;
    }
    // A pre-vote is answered in the term it asks about; a real vote binds this node for the term.
    this.msgs.push({ type, from: this.id, to: m.from, term: m.term, reject: false });
    if (m.type === "vote") {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "append":
      case "heartbeat":
      case "snapshot":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleFromLeader(m);
        break;
      case "timeoutNow":
        this.campaign2("transfer");
        break;
      default:
        break;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case "append":
      case "heartbeat":
      case "snapshot":
        // Someone won this term.
        this.becomeFollower(this.term, m.from);
        this.handleFromLeader(m);
        break;
      case "voteResponse":
      case "preVoteResponse":
        this.handleVoteResponse(m);
        break;
      default:
        break;
    }
  }

  private handleVoteResponse(m: VoteResponse): void {
    const wanted = this.role === "preCandidate" ? "preVoteResponse" : "voteResponse";
    if (m.type !== wanted) return;
    // A granted pre-vote comes back in the term we would campaign in; anything else in ours.
    if (m.type === "preVoteResponse" && !m.reject && m.term !== this.term + 1) return;
    this.votes.set(m.from, !m.reject);
    const outcome = voteOutcome(this.config, this.votes);
    if (outcome === "won") this.wonVote();
    else if (outcome === "lost") this.becomeFollower(this.term, NONE);
  }

  private handleFromLeader(m: AppendMessage | HeartbeatMessage | SnapshotMessage): void {
    if (m.type === "append") this.handleAppend(m);
    else if (m.type === "heartbeat") this.handleHeartbeat(m);
    else this.handleSnapshot(m);
  }

  private handleAppend(m: AppendMessage): void {
    const lastNew = this.raftLog.tryAppend(m.prevIndex, m.prevTerm, m.entries);
    if (lastNew === undefined) {
      const hintIndex = Math.min(m.prevIndex, this.raftLog.lastIndex());
      const hintTerm = this.raftLog.term(hintIndex) ?? 0;
      this.send({
        type: "appendResponse",
        to: m.from,
        index: m.prevIndex,
        reject: true,
        hintIndex,
        hintTerm,
      });
      return;
    }
    this.noteLogChange(m.entries);
    this.raftLog.commitTo(Math.min(m.commit, lastNew));
    if (this.logDamaged && lastNew >= m.leaderLast) this.repairedInReady = true;
    this.send({
      type: "appendResponse",
      to: m.from,
      index: lastNew,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    const last = this.raftLog.lastIndex();
    this.raftLog.commitTo(Math.min(m.commit, last));
    this.send({ type: "heartbeatResponse", to: m.from });
    if (m.commit > last) {
      // The leader believes we hold entries we do not (our log was damaged): say where our log ends.
      const hintTerm = this.raftLog.lastTerm();
      this.send({
        type: "appendResponse",
        to: m.from,
        index: m.commit,
        reject: true,
        hintIndex: last,
        hintTerm,
      });
    }
  }

  private handleSnapshot(m: SnapshotMessage): void {
    const { meta } = m.snapshot;
    if (meta.index > this.raftLog.committed) {
      if (this.raftLog.matchTerm(meta.index, meta.term)) {
        this.raftLog.commitTo(meta.index); // we hold the log it covers: just learn it is committed
      } else {
        this.raftLog.restore(m.snapshot);
        this.refreshConfig();
      }
    }
    this.send({
      type: "appendResponse",
      to: m.from,
      index: this.raftLog.committed,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    if (m.type === "appendResponse") {
      pr.recentActive = true;
      this.handleAppendResponse(m, pr);
    } else if (m.type === "heartbeatResponse") {
      pr.recentActive = true;
      pr.onHeartbeatResponse();
      if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from, true);
    }
  }

  private handleAppendResponse(m: AppendResponse, pr: Progress): void {
    if (m.reject) {
      const guess = m.hintTerm > 0 ? this.lastIndexWithTermAtMost(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrease(m.index, m.hintIndex, guess + 1)) this.sendAppend(m.from, true);
      return;
    }
    const wasPaused = pr.isPaused();
    const updated = pr.maybeUpdate(m.index);
    if (!updated && !(pr.state === "probe" && pr.match === m.index)) return;
    if (pr.state === "probe") pr.becomeReplicate();
    else if (pr.state === "snapshot" && pr.match + 1 >= this.raftLog.firstIndex()) pr.becomeReplicate();
    if (this.maybeCommit()) this.broadcastAppend();
    else if (wasPaused) this.sendAppend(m.from, true); // it may have missed a commit index while paused
    while (this.sendAppend(m.from, false)) {}
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.send({ type: "timeoutNow", to: m.from });
    }
  }

  /** The last index at or below `index` whose term is at most `term`: where a peer's log may match ours. */
  private lastIndexWithTermAtMost(index: number, term: number): number {
    let i = Math.min(index, this.raftLog.lastIndex());
    while (i > this.raftLog.snapshot.meta.index && this.raftLog.term(i)! > term) i--;
    return i;
  }

  // ---- leader replication ------------------------------------------------------------------------

  private proposalRefusal(): string | undefined {
    if (this.role !== "leader") return "not the leader";
    if (this.leadTransferee !== NONE) return "leadership transfer in progress";
    return undefined;
  }

  private confChangeRefusal(change: ConfChange): string | undefined {
    if (this.raftLog.committed < this.termStartIndex)
      return "leader has not committed an entry of its term yet";
    if (this.confIndex > this.raftLog.committed) return "another membership change is not committed yet";
    const invalid = confChangeError(this.config, change);
    if (invalid !== undefined) return invalid;
    if (change.type === "remove" && change.node === this.id)
      return "transfer leadership before removing the leader";
    if (change.type === "promote") {
      const pr = this.progress.get(change.node);
      if (pr === undefined || pr.match + this.maxLearnerLag < this.raftLog.committed) {
        return `learner ${change.node} has not caught up`;
      }
    }
    return undefined;
  }

  private appendAsLeader(type: EntryType, data: Uint8Array): ProposeResult {
    const entry: Entry = { index: this.raftLog.lastIndex() + 1, term: this.term, type, data };
    this.raftLog.append([entry]);
    this.noteLogChange([entry]);
    this.broadcastAppend();
    return { ok: true, index: entry.index, term: entry.term };
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) this.sendAppend(id, true);
  }

  /** Send `to` what it needs next, if its progress allows; returns whether anything was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to)!;
    if (pr.isPaused()) return false;
    const last = this.raftLog.lastIndex();
    if (pr.next > last + 1) pr.next = last + 1;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    if (prevTerm === undefined) {
      // What the peer needs next is compacted: send the snapshot.
      const snapshot = this.raftLog.snapshot;
      pr.becomeSnapshot(snapshot.meta.index, this.electionTimeout);
      this.send({ type: "snapshot", to, snapshot });
      return true;
    }
    const entries = this.raftLog.slice(pr.next, Math.min(last, pr.next + this.maxEntries - 1));
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: "append",
      to,
      prevIndex,
      prevTerm,
      entries,
      commit: this.raftLog.committed,
      leaderLast: last,
    });
    pr.sentAppend(prevIndex + entries.length, entries.length);
    return entries.length > 0;
  }

  /** Commit what a quorum holds durably, but only by counting entries of this term (Raft §5.4.2). */
  private maybeCommit(): boolean {
    const index = quorumIndex(this.config, (id) =>
      id === this.id ? this.raftLog.stable : (this.progress.get(id)?.match ?? 0),
    );
    if (index <= this.raftLog.committed || this.raftLog.term(index) !== this.term) return false;
    this.raftLog.commitTo(index);
    return true;
  }

  // ---- membership --------------------------------------------------------------------------------

  /** Entries were appended (and maybe a tail replaced): follow the latest configuration in the log. */
  private noteLogChange(appended: readonly Entry[]): void {
    const replaced = this.confIndex > 0 && this.raftLog.entry(this.confIndex) !== this.confEntry;
    if (replaced || appended.some((e) => e.type === "conf")) this.refreshConfig();
  }

  private refreshConfig(): void {
    this.confIndex = this.raftLog.lastConfIndex();
    this.confEntry = this.confIndex > 0 ? this.raftLog.entry(this.confIndex) : undefined;
    this.config =
      this.confEntry !== undefined
        ? decodeConfEntry(this.confEntry.data).config
        : this.raftLog.snapshot.meta.config;
    if (this.role !== "leader") return;
    const wanted = new Set(members(this.config));
    for (const id of this.progress.keys()) if (!wanted.has(id)) this.progress.delete(id);
    for (const id of wanted) {
      if (id !== this.id && !this.progress.has(id)) {
        this.progress.set(id, new Progress(this.raftLog.lastIndex() + 1, this.maxInflight));
      }
    }
    if (this.leadTransferee !== NONE && !isVoter(this.config, this.leadTransferee))
      this.leadTransferee = NONE;
    if (this.maybeCommit()) this.broadcastAppend(); // fewer voters can make a quorum already
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private send(m: DistributiveOmit<Message, "from" | "term">): void {
    this.msgs.push({ ...m, from: this.id, term: this.term } as Message);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed, logDamaged: this.logDamaged };
  }

  private softStateEqual(): boolean {
    return this.prevSoftState.role === this.role && this.prevSoftState.leader === this.lead;
  }

  private assertNoReadyOut(): void {
    if (this.readyOut !== undefined) throw new Error("advance() the outstanding Ready first");
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
