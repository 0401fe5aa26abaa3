// Plain data shared by the Raft core, its driver and the codecs: log entries, hard state, snapshots,
// membership and the messages peers exchange. Everything here is serialisable (no classes, no functions)
// so a transport can carry it as is or through the binary codec in codec.ts.

export type NodeId = string;

/** "No node": no vote cast, no leader known. */
export const NONE: NodeId = "";

export type EntryType = "normal" | "conf";

/** One log entry. A "conf" entry's data is an encoded ConfEntryData (see codec.ts). */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * What must be durable before this node acknowledges anything: its term, the vote it cast in that term,
 * the commit index it knows, and whether its log is under repair (see RaftOptions.damagedAfter).
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly logDamaged: boolean;
}

/** Voters decide elections and commits; learners only receive the log. Both lists are sorted. */
export interface ClusterConfig {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** One membership change per entry: a learner joins, a learner becomes a voter, a node leaves. */
export type ConfChange =
  | { readonly type: "addLearner"; readonly node: NodeId }
  | { readonly type: "promote"; readonly node: NodeId }
  | { readonly type: "remove"; readonly node: NodeId };

/** What a "conf" entry holds: the change, and the configuration it produces (so the latest one is found without replaying). */
export interface ConfEntryData {
  readonly change: ConfChange;
  readonly config: ClusterConfig;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** Membership as of `index`. */
  readonly config: ClusterConfig;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state machine as of meta.index, opaque to Raft. */
  readonly data: Uint8Array;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** Leader -> follower: entries following (prevIndex, prevTerm), and the leader's commit index. */
export interface AppendMessage extends Envelope {
  readonly type: "append";
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /** The leader's last index when it sent this; a node repairing a damaged log is whole once it holds it. */
  readonly leaderLast: number;
}

/**
 * Follower -> leader. Accepted: the follower's log matches the leader's up to `index`. Rejected: the
 * follower has no entry matching `index` (the prevIndex it was sent); `hintIndex`/`hintTerm` are its own
 * entry at min(prevIndex, its last index), so the leader can skip a whole term of mismatches at once.
 */
export interface AppendResponse extends Envelope {
  readonly type: "appendResponse";
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

export interface HeartbeatMessage extends Envelope {
  readonly type: "heartbeat";
  /** min(leader commit, follower's acknowledged match): never more than the follower is known to hold. */
  readonly commit: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: "heartbeatResponse";
}

/** A (pre-)vote request. A pre-vote carries the term the sender would campaign in, without moving to it. */
export interface VoteMessage extends Envelope {
  readonly type: "vote" | "preVote";
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set for a campaign started by a leadership transfer: voters do not hold to their current leader. */
  readonly transfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: "voteResponse" | "preVoteResponse";
  readonly reject: boolean;
}

export interface SnapshotMessage extends Envelope {
  readonly type: "snapshot";
  readonly snapshot: Snapshot;
}

/** Leader -> transfer target: campaign now (the leader has stopped taking proposals and the target is caught up). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: "timeoutNow";
}

export type Message =
  | AppendMessage
  | AppendResponse
  | HeartbeatMessage
  | HeartbeatResponse
  | VoteMessage
  | VoteResponse
  | SnapshotMessage
  | TimeoutNowMessage;

export type MessageType = Message["type"];

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state a driver may want to observe (not persisted). */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId;
}
