// The JetStream message store contract. Streams and consumers talk only to `MessageStore`; the memory and
// file stores implement it and pass one conformance suite (test/jetstream/store/conformance.ts).
//
// Mutations are synchronous and visible at once (so a stream can assign sequences, check expectations and
// dedupe in order within one event-loop turn); durability is a separate, batched step: `flush()` resolves
// once every mutation made before the call is on disk. `append()` is `appendSync()` + `flush()`.
// A caller should acknowledge a delete or purge only after `flush()` too.
//
// The store runs no timers of its own: the stream calls `expireDue()` when `nextExpiry()` says so, which
// keeps time-based behaviour testable and lets the stream publish delete markers for what expired.

/** A message as stored. Byte fields are read-only views: never mutate them. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** Stream timestamp, milliseconds since the epoch (floor of `timeNs`). */
  readonly time: number;
  /** Nanoseconds within `time` (0 to 999,999): with it, the exact timestamp without a BigInt. */
  readonly subNs: number;
  /** Stream timestamp, nanoseconds since the epoch (for RFC 3339 nano and `Nats-Time-Stamp`). */
  readonly timeNs: bigint;
  /** The raw header block (`NATS/1.0\r\n...`), if the message has headers. */
  readonly headers?: Uint8Array;
  readonly data: Uint8Array;
  /**
   * The same bytes where they lie: the header block (`hdrLen` bytes, 0 without headers) then the payload,
   * in buf[start, end). Delivery routes them from there without making views.
   */
  readonly buf: Uint8Array;
  readonly start: number;
  readonly hdrLen: number;
  readonly end: number;
  /** Per-message TTL in ms (`Nats-TTL`); negative = never expires (also exempt from max age). */
  readonly ttlMs?: number;
}

export interface AppendOptions {
  /** Per-message TTL in ms; > 0 expires at time + ttl, < 0 never expires (exempt from max age). */
  ttlMs?: number;
  /** Stream timestamp to record (mirrors/sources keep the origin's); default: now, never going backwards. */
  timeNs?: bigint;
  /** Store at this sequence (mirrors keep origin sequences); must be > lastSeq. Skipped ones count as deleted. */
  seq?: number;
}

export interface AppendResult {
  seq: number;
  timeNs: bigint;
}

export interface StreamState {
  messages: number;
  bytes: number;
  /** First live sequence; lastSeq + 1 when empty (0 for a store that never held a message). */
  firstSeq: number;
  /** Milliseconds since the epoch; 0 = zero time. */
  firstTime: number;
  firstTimeNs: bigint;
  /** Highest sequence ever assigned; never goes down (deleting the last message keeps it). */
  lastSeq: number;
  lastTime: number;
  lastTimeNs: bigint;
  numSubjects: number;
  /** Sequences in [firstSeq, lastSeq] without a message. */
  numDeleted: number;
  /** Only when asked for (`state({ deletedDetails: true })`). */
  deleted?: number[];
}

export type DiscardPolicy = "old" | "new";

/** Stream limits the store enforces on append. Missing, 0 or negative = unlimited. */
export interface StoreLimits {
  maxMsgs?: number;
  maxBytes?: number;
  maxAgeMs?: number;
  maxMsgsPerSubject?: number;
  /** "old" (default): evict oldest to make room. "new": reject the append with a StoreError. */
  discard?: DiscardPolicy;
  /** With discard "new": reject when the subject is at `maxMsgsPerSubject` (else its oldest is evicted). */
  discardNewPerSubject?: boolean;
}

export interface PurgeOptions {
  /** Only messages whose subject matches this filter (wildcards allowed). */
  subject?: string;
  /** Only messages with seq < this (exclusive). Mutually exclusive with `keep`. */
  seq?: number;
  /** Keep the newest N (matching) messages. */
  keep?: number;
}

export type RemovalReason = "delete" | "purge" | "limit" | "max-age" | "ttl" | "io-error" | "truncate";

export interface RemovedMessage {
  seq: number;
  subject: string;
  reason: RemovalReason;
  /** Set by `expireDue` when given a marker test: what the test said of the message's headers. */
  marker?: boolean;
}

/** Called synchronously after a message left the store (not for purge/compact, which report a count). */
export type RemovalListener = (removed: RemovedMessage) => void;

/** Damage found in stored data. The damaged records are never served; the rest stays readable. */
export interface StoreProblem {
  kind: "corrupt" | "truncated" | "bad-header" | "read-error" | "io-error";
  /** File the problem is in (file store), relative to the store directory. */
  file?: string;
  offset?: number;
  /** Bytes that could not be used. */
  length?: number;
  /** Last intact message sequence before / first one after the damage, when known. */
  afterSeq?: number;
  beforeSeq?: number;
  message: string;
  /** When it was detected, ms since the epoch. */
  time: number;
}

export type StoreErrorCode =
  | "MAX_MSGS"
  | "MAX_BYTES"
  | "MAX_MSGS_PER_SUBJECT"
  | "STORAGE_FULL"
  | "BAD_SEQUENCE"
  | "INVALID_ARGUMENT"
  | "CORRUPT"
  | "IO"
  | "CLOSED";

/** Every failure a caller can see. Descriptions for limit errors are the JetStream API texts. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}

export interface MessageStore {
  readonly kind: "memory" | "file";

  /** Store a message and resolve once it is durable (file: one fdatasync per event-loop turn). */
  append(
    subject: string,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    opts?: AppendOptions,
  ): Promise<AppendResult>;
  /** Store a message; visible at once, durable when a later `flush()` resolves. Copies the bytes. */
  appendSync(
    subject: string,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    opts?: AppendOptions,
  ): AppendResult;
  /** Resolves when every mutation made before the call is durable; rejects on an I/O failure. */
  flush(): Promise<void>;

  get(seq: number): StoredMessage | undefined;
  /** First message with seq >= fromSeq whose subject matches any filter (none/">" = all). */
  getNext(fromSeq: number, filter?: string | readonly string[]): StoredMessage | undefined;
  /** Like getNext, sequence only (no payload read). 0 when none. */
  nextSeq(fromSeq: number, filter?: string | readonly string[]): number;
  /** Newest message on `subject` (may be a wildcard), optionally at or below `upToSeq`. */
  getLastBySubject(subject: string, upToSeq?: number): StoredMessage | undefined;
  /** Sequences of the newest message of every subject matching the filter(s), ascending. */
  lastSeqsBySubject(filter?: string | readonly string[], upToSeq?: number): number[];
  /** First sequence whose timestamp is >= timeMs; lastSeq + 1 when none. */
  seqForTime(timeMs: number): number;

  /** Delete one message; `erase` also scrubs its bytes. False when not present. */
  remove(seq: number, opts?: { erase?: boolean }): boolean;
  /** Returns the number of messages purged. */
  purge(opts?: PurgeOptions): number;
  /** Remove every message below `seq`; past lastSeq it also moves the sequence on. Returns count. */
  compact(seq: number): number;
  /**
   * Remove every message above `seq` and make `seq` the last sequence: how a replica drops a divergent
   * tail, and the one operation that lowers lastSeq. Returns the number of messages removed; each is
   * reported to the removal listeners (reason "truncate").
   * - seq >= lastSeq: nothing happens (0).
   * - seq below every message (even below firstSeq - 1): the store is emptied and its next sequence is
   *   seq + 1, so a replica can rewind to any point its log names; truncate(0) is a store that never held
   *   a message.
   * - lastTime becomes the time of the newest message left at or below `seq` (zero time when none).
   * Not a number, not an integer, or negative: a StoreError (INVALID_ARGUMENT). Durable once a later
   * `flush()` resolves; a crash before that leaves the old messages or the truncated ones, never a mix
   * with a hole.
   */
  truncate(seq: number): number;

  state(opts?: { deletedDetails?: boolean }): StreamState;
  /**
   * The stream state as a compact, versioned, checksummed binary record (a replica's snapshot): sequences,
   * times, counts and the deleted sequences as runs (or a bitmap when that is smaller). Read it back with
   * `decodeStreamState` (encoded-state.ts).
   */
  encodedState(): Uint8Array;
  /** Subject -> message count for subjects matching the filter (default all). */
  subjectsState(filter?: string): Map<string, number>;
  /**
   * Messages with seq >= fromSeq matching the filter(s); with lastPerSubject, the number of matching
   * subjects whose newest message is >= fromSeq.
   */
  numPending(fromSeq: number, filter?: string | readonly string[], lastPerSubject?: boolean): number;

  /** Replace the limits and enforce them now (evictions are reported to listeners). Returns evicted count. */
  setLimits(limits: StoreLimits): number;
  /**
   * Remove messages past max age or their TTL at `nowMs`; the caller publishes markers if it wants.
   * With `isMarker`, each expiring message's headers are read and the test's answer is its `marker`.
   */
  expireDue(nowMs?: number, isMarker?: (headers: Uint8Array | undefined) => boolean): RemovedMessage[];
  /** When `expireDue` next has work (ms since the epoch), or undefined. */
  nextExpiry(): number | undefined;

  onRemoved(listener: RemovalListener): () => void;
  /** Damage found at load or while reading (file store); empty for a healthy store. */
  problems(): readonly StoreProblem[];

  close(): Promise<void>;
  /** Close and remove all stored data. */
  delete(): Promise<void>;
}

/** Fixed per-message bytes counted on top of subject, headers and data. */
export const MESSAGE_OVERHEAD = 16;

/** Bytes a message counts toward `bytes`/`max_bytes`; the same in both stores so limits agree. */
export function messageSize(subjectBytes: number, headerBytes: number, dataBytes: number): number {
  return subjectBytes + headerBytes + dataBytes + MESSAGE_OVERHEAD;
}
