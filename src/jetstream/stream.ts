// One stream: its config, its message store, the subscriptions that capture its subjects, and the publish
// path (expectation headers, dedupe, rollup, TTL, republish, PubAck). Acks go out only once the store says
// the message is durable, in sequence order. Observers (consumers, mirrors, sources) hear about appends
// and removals through `observe()`.

import type { Logger } from "../logger.js";
import type { InternalClient, InternalMessage } from "../server/internal-client.js";
import type { Subscription } from "../server/subscription.js";
import { type ApiError, type ApiErrorBody, apiError, apiErrorText } from "./api-errors.js";
import { writeInt } from "./ascii-int.js";
import { DedupeWindow } from "./dedupe.js";
import { DurableReplies, type ReplyBody } from "./durable-replies.js";
import { Expiry } from "./expiry.js";
import { appendHeaders, Hdr, type HeaderBlock, headerValue, mayHaveHeader, parseHeaders } from "./headers.js";
import { goJson, rfc3339 } from "./json.js";
import { parseMsgTtl } from "./msg-ttl.js";
import {
  type MessageStore,
  messageSize,
  type RemovalReason,
  type StoredMessage,
  StoreError,
  type StoreLimits,
} from "./store/index.js";
import type { StreamConfig } from "./stream-config.js";
import { emptyEntry, type StreamEntry } from "./stream-entry.js";
import { SubjectTransform } from "./subject-transform.js";

const DUPLICATE_TAIL = ',"duplicate": true';
/** Room after the PubAck prefix: a sequence of up to 16 digits, the duplicate flag and the closing brace. */
const ACK_TAIL_ROOM = 16 + DUPLICATE_TAIL.length + 1;

const MAX_HEADER_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);
const NS_PER_MS = 1_000_000;

/** What a stream needs from the account it lives in. */
export interface StreamHost {
  readonly client: InternalClient;
  readonly logger: Logger;
  readonly domain: string | undefined;
  /** Room for `bytes` more in the account's and server's budgets? Counts them, or returns the refusal. */
  reserve(storage: "file" | "memory", bytes: number): ApiError | undefined;
}

/** Consumers, mirrors and sources follow a stream through these callbacks (all optional, synchronous). */
export interface StreamObserver {
  appended?(seq: number, subject: string): void;
  removed?(seq: number, subject: string, reason: RemovalReason): void;
  /** Many messages left at once (purge, rollup); re-read state rather than track each. */
  purged?(): void;
  /** The stream is gone (deleted or shut down). */
  closed?(): void;
}

/** A purge as the API asks for it. */
export interface PurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}

/** Where a sourced message comes from: a mirror keeps the origin's sequence and time. */
export interface SourcedAppend {
  seq?: number;
  timeNs?: bigint;
}

export function storeLimits(c: StreamConfig): StoreLimits {
  return {
    maxMsgs: c.max_msgs,
    maxBytes: c.max_bytes,
    maxAgeMs: c.max_age / NS_PER_MS,
    maxMsgsPerSubject: c.max_msgs_per_subject,
    discard: c.discard,
    discardNewPerSubject: c.discard_new_per_subject ?? false,
  };
}

export class Stream {
  private subs: Subscription[] = [];
  private readonly dedupe: DedupeWindow;
  /** The entry every check fills and apply stores (one per stream: nothing is allocated per publish). */
  private readonly entry = emptyEntry();
  /** Set after a restart until the duplicate window has been read back (see recover). */
  private dedupePending = false;
  private lastMsgId = "";
  /** Settles once everything stored so far is durable. */
  private durable: Promise<unknown> = Promise.resolve();
  /** PubAcks waiting for their message to be durable, sent in order. */
  private readonly replies = new DurableReplies((reply, body, err) => this.sendReply(reply, body, err));
  /** PubAck bytes up to the sequence (`{"stream":"X", "seq":`), then room for the rest; see sendAck. */
  private ackBuf: Buffer | undefined;
  private ackPrefixLength = 0;
  /** Replaced, never mutated, on (un)observe: the per-message loops walk a plain array. */
  private observers: readonly StreamObserver[] = [];
  private transform: SubjectTransform | undefined;
  private republish: SubjectTransform | undefined;
  private readonly expiry: Expiry;
  private unhookStore: () => void;
  closed = false;
  private isLeader = true;
  /** Consumers attached (none until consumers land). */
  consumerCount = 0;
  /** Set while the stream is being deleted, so late acks don't go out. */
  deleting = false;

  constructor(
    public config: StreamConfig,
    readonly store: MessageStore,
    readonly created: bigint,
    private readonly host: StreamHost,
  ) {
    this.dedupe = new DedupeWindow((config.duplicate_window ?? 0) / NS_PER_MS);
    this.compile();
    this.expiry = new Expiry({
      name: config.name,
      store,
      logger: host.logger,
      markerTtlNs: () => (this.isMirror ? 0 : (this.config.subject_delete_marker_ttl ?? 0)),
      appendMarker: (subject, hdrs, ttlMs) => {
        const seq = this.store.appendSync(subject, hdrs, EMPTY, { ttlMs }).seq;
        this.afterAppend(seq, subject, "", Date.now(), ttlMs, undefined, hdrs, EMPTY, 0);
      },
      removed: () => this.trackDurable(),
    });
    this.unhookStore = store.onRemoved((r) => {
      for (const o of this.observers) o.removed?.(r.seq, r.subject, r.reason);
    });
    this.recover();
  }

  get name(): string {
    return this.config.name;
  }

  get isMirror(): boolean {
    return this.config.mirror !== undefined;
  }

  observe(o: StreamObserver): () => void {
    this.observers = [...this.observers, o];
    return () => {
      this.observers = this.observers.filter((x) => x !== o);
    };
  }

  /** Start capturing the stream's subjects. */
  start(): void {
    this.subscribe();
    this.expiry.arm();
  }

  // ---- config ------------------------------------------------------------------------------------

  private compile(): void {
    const c = this.config;
    this.transform = c.subject_transform
      ? SubjectTransform.create(c.subject_transform.src, c.subject_transform.dest)
      : undefined;
    this.republish = c.republish
      ? SubjectTransform.create(c.republish.src ?? ">", c.republish.dest)
      : undefined;
  }

  /**
   * Whether this replica leads the stream. Only the leader captures publishes on the stream's subjects (a
   * follower gets its messages as entries from the leader); one server always leads its streams.
   */
  get leading(): boolean {
    return this.isLeader;
  }

  setLeader(leading: boolean): void {
    if (this.isLeader === leading) return;
    this.isLeader = leading;
    if (!this.closed) this.subscribe();
  }

  /** (Re)make the capture subscriptions: one per subject while leading, none otherwise. */
  private subscribe(): void {
    for (const s of this.subs) this.host.client.unsubscribe(s);
    this.subs = [];
    if (this.isMirror || !this.isLeader) return;
    for (const subject of this.config.subjects ?? []) {
      const sub = this.host.client.subscribe(subject, (m) => this.ingest(m));
      sub.stream = this.name;
      this.subs.push(sub);
    }
  }

  /** Apply an already validated update. */
  update(next: StreamConfig): void {
    const subjectsChanged =
      JSON.stringify(next.subjects ?? []) !== JSON.stringify(this.config.subjects ?? []);
    this.config = next;
    this.compile();
    this.dedupe.setWindow((next.duplicate_window ?? 0) / NS_PER_MS);
    const evicted = this.store.setLimits(storeLimits(next));
    if (evicted > 0) this.notifyPurged();
    if (subjectsChanged) this.subscribe();
    this.expiry.arm(true);
  }

  // ---- publish path ------------------------------------------------------------------------------

  private ingest(m: InternalMessage): void {
    if (this.closed) return;
    const reply = m.reply !== undefined && m.reply !== "" && !this.config.no_ack ? m.reply : undefined;
    const r = this.accept(m.subject, m.headers, m.data);
    if (reply === undefined) return;
    if (typeof r === "number") this.replies.push(reply, r);
    else this.replies.push(reply, () => this.errorAck(r.body));
  }

  /**
   * Check a publish and store it: the sequence, its negation for a duplicate, or the error to report. One
   * server runs the two halves back to back; replicated, the entry goes through the stream's log between.
   */
  private accept(subject: string, hdrs: Uint8Array | undefined, data: Uint8Array): number | ApiError {
    const checked = this.check(subject, hdrs, data);
    if (typeof checked === "number") return -checked;
    if (checked instanceof Error) return checked;
    try {
      return this.apply(checked);
    } catch (err) {
      return storeFailure(err);
    }
  }

  /**
   * The leader's half of a publish: every expectation header, the duplicate window, rollup and size rules
   * and the account's budget. Returns the entry to apply (one object per stream, reused: apply it before
   * the next check), the sequence of the message it duplicates, or the error to report.
   */
  check(subject: string, hdrs: Uint8Array | undefined, data: Uint8Array): StreamEntry | number | ApiError {
    const c = this.config;
    if (c.sealed) return apiError("StreamSealed");
    let h: HeaderBlock | undefined;
    if (hdrs !== undefined && hdrs.length > 0) {
      if (hdrs.length > MAX_HEADER_BYTES) return apiError("StreamHeaderExceedsMaximum");
      h = parseHeaders(hdrs);
    }
    let msgId = "";
    let ttlMs = 0;
    let rollup: "sub" | "all" | undefined;
    if (h !== undefined) {
      const expStream = headerValue(h, Hdr.ExpectedStream);
      if (expStream !== undefined && expStream !== c.name) return apiError("StreamNotMatch");
      const ttl = headerValue(h, Hdr.TTL);
      if (ttl !== undefined) {
        if (!c.allow_msg_ttl) return apiError("MessageTTLDisabled");
        const v = parseMsgTtl(ttl);
        if (v === undefined) return apiError("MessageTTLInvalid");
        ttlMs = v;
      }
      const subjSeq = headerValue(h, Hdr.ExpectedLastSubjSeq);
      const subjSeqSubj = headerValue(h, Hdr.ExpectedLastSubjSeqSubj);
      if (subjSeqSubj !== undefined && subjSeq === undefined) {
        return apiError("StreamExpectedLastSeqPerSubjectInvalid");
      }
      if (subjSeq !== undefined) {
        const want = parseSeq(subjSeq);
        const filter =
          subjSeqSubj !== undefined && subjSeqSubj !== "" ? subjSeqSubj : this.storedSubject(subject);
        const have = this.store.getLastBySubject(filter)?.seq ?? 0;
        if (want === undefined || want !== have) return apiError("StreamWrongLastSequence", { seq: have });
      }
      const lastSeq = headerValue(h, Hdr.ExpectedLastSeq);
      if (lastSeq !== undefined) {
        const have = this.store.state().lastSeq;
        if (parseSeq(lastSeq) !== have) return apiError("StreamWrongLastSequence", { seq: have });
      }
      msgId = headerValue(h, Hdr.MsgId) ?? "";
      if (msgId !== "") {
        if (this.dedupePending) this.recoverDedupe();
        const dup = this.dedupe.find(msgId, Date.now());
        if (dup !== undefined) return dup;
      }
      const lastId = headerValue(h, Hdr.ExpectedLastMsgId);
      if (lastId !== undefined && lastId !== "" && lastId !== this.lastMsgId) {
        return apiError("StreamWrongLastMsgID", { id: this.lastMsgId });
      }
      const ru = headerValue(h, Hdr.Rollup);
      if (ru !== undefined) {
        if (!c.allow_rollup_hdrs || c.deny_purge)
          return apiErrorText("StreamRollupFailed", "rollup not permitted");
        if (ru === "sub" || ru === "all") rollup = ru;
        else return apiErrorText("StreamRollupFailed", `rollup value invalid: "${ru}"`);
      }
    }
    if (c.max_msg_size > 0 && (hdrs?.length ?? 0) + data.length > c.max_msg_size) {
      return apiError("StreamMessageExceedsMaximum");
    }
    const stored = this.storedSubject(subject);
    const refused = this.host.reserve(
      c.storage,
      messageSize(Buffer.byteLength(stored), hdrs?.length ?? 0, data.length),
    );
    if (refused !== undefined) return refused;
    const e = this.entry;
    e.subject = stored;
    e.hdrs = hdrs;
    e.data = data;
    e.msgId = msgId;
    e.ttlMs = ttlMs;
    e.rollup = rollup;
    e.seq = undefined;
    e.timeNs = undefined;
    return e;
  }

  /**
   * Store an accepted entry and run what follows from it (duplicate window, rollup, republish, observers,
   * expiry). Deterministic given the entry's sequence and time. Returns the sequence; throws a StoreError.
   */
  apply(e: StreamEntry): number {
    const prevLast = this.republish !== undefined ? this.store.state().lastSeq : 0;
    const opts =
      e.ttlMs === 0 && e.seq === undefined && e.timeNs === undefined
        ? undefined
        : { ttlMs: e.ttlMs, seq: e.seq, timeNs: e.timeNs };
    const seq = this.store.appendSync(e.subject, e.hdrs, e.data, opts).seq;
    this.afterAppend(seq, e.subject, e.msgId, Date.now(), e.ttlMs, e.rollup, e.hdrs, e.data, prevLast);
    return seq;
  }

  private storedSubject(subject: string): string {
    return this.transform?.apply(subject) ?? subject;
  }

  private afterAppend(
    seq: number,
    subject: string,
    msgId: string,
    now: number,
    ttlMs: number,
    rollup: "sub" | "all" | undefined,
    hdrs: Uint8Array | undefined,
    data: Uint8Array,
    prevLast: number,
  ): void {
    if (msgId !== "") this.dedupe.add(msgId, seq, now);
    this.lastMsgId = msgId;
    if (rollup === "sub") {
      if (this.store.purge({ subject, seq }) > 0) this.notifyPurged();
    } else if (rollup === "all") {
      if (this.store.compact(seq) > 0) this.notifyPurged();
    }
    this.trackDurable();
    if (this.republish?.matches(subject)) this.doRepublish(seq, subject, hdrs, data, prevLast);
    for (const o of this.observers) o.appended?.(seq, subject);
    if (ttlMs > 0 || this.config.max_age > 0) this.expiry.arm();
  }

  /** Store a message arriving from a mirror or source (no expectation checks; limits still apply). */
  appendSourced(
    subject: string,
    hdrs: Uint8Array | undefined,
    data: Uint8Array,
    opts: SourcedAppend = {},
  ): number {
    const e = this.entry;
    e.subject = subject;
    e.hdrs = hdrs;
    e.data = data;
    e.msgId = "";
    e.ttlMs = 0;
    e.rollup = undefined;
    e.seq = opts.seq;
    e.timeNs = opts.timeNs;
    if (hdrs !== undefined && hdrs.length > 0) {
      const h = parseHeaders(hdrs);
      if (this.config.allow_msg_ttl) e.ttlMs = parseMsgTtl(headerValue(h, Hdr.TTL) ?? "") ?? 0;
      if (!this.isMirror) {
        e.msgId = headerValue(h, Hdr.MsgId) ?? "";
        if (e.msgId !== "" && this.dedupePending) this.recoverDedupe();
        if (e.msgId !== "" && this.dedupe.find(e.msgId, Date.now()) !== undefined) return 0;
      }
      // Rollups (KV purges) carry over when this stream allows them.
      const ru = headerValue(h, Hdr.Rollup);
      if ((ru === "sub" || ru === "all") && this.config.allow_rollup_hdrs && !this.config.deny_purge)
        e.rollup = ru;
    }
    return this.apply(e);
  }

  private trackDurable(): void {
    const p = this.store.flush();
    this.durable = p;
    this.replies.track(p);
  }

  /** Send a reply whose message is durable now (or report the failure to store it). */
  private sendReply(reply: string, body: ReplyBody, err: unknown): void {
    if (this.deleting) return;
    if (err !== undefined)
      this.host.client.respond(reply, Buffer.from(this.errorAck(storeFailure(err).body)));
    else if (typeof body === "number") this.sendAck(reply, Math.abs(body), body < 0);
    else this.host.client.respond(reply, Buffer.from(body()));
  }

  /**
   * A PubAck, written into one buffer per stream (the stream name and domain encoded once): routing copies
   * the bytes into the publisher's output, so nothing is built per message.
   */
  private sendAck(reply: string, seq: number, duplicate: boolean): void {
    let b = this.ackBuf;
    if (b === undefined) {
      const d = this.host.domain;
      const prefix = `{"stream":${JSON.stringify(this.name)},${d ? ` "domain":${JSON.stringify(d)},` : ""} "seq":`;
      this.ackPrefixLength = Buffer.byteLength(prefix);
      b = this.ackBuf = Buffer.alloc(this.ackPrefixLength + ACK_TAIL_ROOM);
      b.write(prefix, 0);
    }
    let at = writeInt(b, this.ackPrefixLength, seq);
    if (duplicate) at += b.write(DUPLICATE_TAIL, at, "latin1");
    b[at++] = 0x7d; // }
    this.host.client.respondBytes(reply, b, 0, 0, at);
  }

  /** Resolves when everything stored so far is durable. */
  whenDurable(): Promise<void> {
    return this.durable.then(() => undefined);
  }

  private errorAck(err: ApiErrorBody): string {
    return goJson({ error: err, stream: this.name, seq: 0 });
  }

  private doRepublish(
    seq: number,
    subject: string,
    hdrs: Uint8Array | undefined,
    data: Uint8Array,
    prevLast: number,
  ): void {
    const rp = this.config.republish;
    const dest = this.republish?.apply(subject);
    if (rp === undefined || dest === undefined) return;
    const msg = this.store.get(seq);
    const entries: [string, string][] = [
      [Hdr.Stream, this.name],
      [Hdr.Subject, subject],
      [Hdr.Sequence, String(seq)],
      [Hdr.TimeStamp, rfc3339(msg?.timeNs ?? BigInt(Date.now()) * 1_000_000n)],
      [Hdr.LastSequence, String(prevLast)],
    ];
    if (rp.headers_only) entries.push([Hdr.MsgSize, String(data.length)]);
    const block = appendHeaders(hdrs, entries);
    const payload = rp.headers_only ? new Uint8Array(0) : Buffer.from(data);
    // After durability, like the ack: a republished message is one a reader can look up.
    this.durable.then(
      () => {
        if (!this.closed) this.host.client.publish(dest, undefined, payload, block);
      },
      () => {},
    );
  }

  // ---- admin operations ---------------------------------------------------------------------------

  /** Purge per the API request (check, then apply); returns the number of messages removed. */
  purge(opts: PurgeRequest): number {
    this.checkPurge();
    return this.applyPurge(opts);
  }

  /** Whether this stream may be purged at all: throws the API error to answer with. */
  checkPurge(): void {
    if (this.config.sealed) throw apiError("StreamSealed");
    if (this.config.deny_purge) throw apiErrorText("StreamPurgeFailed", "stream purge not permitted");
  }

  applyPurge(opts: PurgeRequest): number {
    const subject = opts.filter && opts.filter !== ">" ? opts.filter : undefined;
    const seq = opts.seq ? opts.seq : undefined;
    const keep = opts.keep ? opts.keep : undefined;
    let n: number;
    try {
      n = this.store.purge({ subject, seq, keep });
    } catch (err) {
      throw apiErrorText("StreamPurgeFailed", (err as Error).message);
    }
    this.trackDurable();
    this.notifyPurged();
    return n;
  }

  /** MSG.DELETE (check, then apply): throws the API error to answer with. */
  deleteMessage(seq: number, erase: boolean): void {
    this.checkDelete(seq);
    this.applyDelete(seq, erase);
  }

  checkDelete(seq: number): void {
    if (this.config.sealed) throw apiError("StreamSealed");
    if (this.config.deny_delete) throw apiErrorText("StreamMsgDeleteFailed", "message delete not permitted");
    const state = this.store.state();
    if (seq > state.lastSeq) throw apiErrorText("StreamMsgDeleteFailed", "stream store EOF");
    if (seq <= 0 || seq < state.firstSeq) throw apiErrorText("StreamMsgDeleteFailed", "no message found");
  }

  applyDelete(seq: number, erase: boolean): void {
    // A gap inside the stream (already deleted): nats-server's "sequence N not found".
    if (!this.store.remove(seq, { erase })) throw apiError("SequenceNotFound", { seq });
    this.trackDurable();
  }

  private notifyPurged(): void {
    for (const o of this.observers) o.purged?.();
  }

  // ---- recovery ------------------------------------------------------------------------------------

  /** Rebuild what is not in the store itself: last msg id; dedupe ids when first needed. */
  private recover(): void {
    const st = this.store.state();
    if (st.messages === 0) return;
    const last = this.store.get(st.lastSeq);
    if (last?.headers !== undefined)
      this.lastMsgId = headerValue(parseHeaders(last.headers), Hdr.MsgId) ?? "";
    // Scanning the duplicate window reads every recent message; most streams never use Nats-Msg-Id, so
    // the scan waits for the first publish that carries one instead of slowing every restart.
    this.dedupePending = (this.config.duplicate_window ?? 0) > 0;
  }

  /** The ids of the duplicate window, read back from the store after a restart. */
  private recoverDedupe(): void {
    this.dedupePending = false;
    const windowMs = (this.config.duplicate_window ?? 0) / NS_PER_MS;
    if (windowMs <= 0) return;
    for (
      let m = this.store.getNext(this.store.seqForTime(Date.now() - windowMs));
      m;
      m = this.store.getNext(m.seq + 1)
    ) {
      if (m.headers === undefined || !mayHaveHeader(m.headers, Hdr.MsgId)) continue;
      const id = headerValue(parseHeaders(m.headers), Hdr.MsgId);
      if (id) this.dedupe.add(id, m.seq, m.time);
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  private stopActivity(): void {
    this.closed = true;
    for (const s of this.subs) this.host.client.unsubscribe(s);
    this.subs = [];
    this.expiry.stop();
    this.unhookStore();
    const observers = this.observers;
    this.observers = [];
    for (const o of observers) o.closed?.();
  }

  /** Stop and close the store (data stays). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopActivity();
    await this.durable.catch(() => {});
    await this.store.close();
  }

  /** Stop and remove all data. */
  async destroy(): Promise<void> {
    this.deleting = true;
    if (!this.closed) this.stopActivity();
    await this.store.delete();
  }

  /** First message at or after `seq` (for readers outside the stream). */
  next(seq: number, filter?: string | readonly string[]): StoredMessage | undefined {
    return this.store.getNext(seq, filter);
  }
}

function parseSeq(v: string): number | undefined {
  if (!/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** The API error for a failed store operation. */
export function storeFailure(err: unknown): ApiError {
  if (err instanceof StoreError) {
    if (err.code === "STORAGE_FULL") return apiError("StorageResourcesExceeded");
    return apiErrorText("StreamStoreFailed", err.message);
  }
  return apiErrorText("StreamStoreFailed", err instanceof Error ? err.message : String(err));
}
