// Everything both stores share: sequencing, the seq and subject indexes, limits, TTL/age expiry, filtered
// lookups and pending counts. A concrete store supplies only persistence (where a message lives and how a
// removal is recorded) through the four hooks at the top, so the two stores cannot drift apart in behaviour.

import { joinNs, nowParts, splitNs } from "./clock.js";
import { encodeStreamState } from "./encoded-state.js";
import { SeqIndex } from "./seq-index.js";
import { type Filter, filterMatches, SubjectIndex, toFilter } from "./subject-index.js";
import { TtlHeap } from "./ttl-heap.js";
import {
  type AppendOptions,
  type AppendResult,
  type MessageStore,
  messageSize,
  type PurgeOptions,
  type RemovalListener,
  type RemovalReason,
  type RemovedMessage,
  type StoredMessage,
  StoreError,
  type StoreLimits,
  type StoreProblem,
  type StreamState,
} from "./types.js";

/** Live slots a wildcard getNext walks before switching to per-subject lookups. */
const SCAN_BUDGET = 64;

export interface NewMessage {
  seq: number;
  subject: string;
  headers: Uint8Array | undefined;
  data: Uint8Array;
  /** Time: integer ms since the epoch and the ns within it. */
  ms: number;
  subNs: number;
  ttlMs: number;
  size: number;
}

/** A live message a truncate removed. */
export interface TruncatedMessage {
  seq: number;
  size: number;
}

/** An append's result; the BigInt time is only made when someone asks for it. */
class Appended implements AppendResult {
  constructor(
    readonly seq: number,
    private readonly ms: number,
    private readonly subNs: number,
  ) {}

  get timeNs(): bigint {
    return joinNs(this.ms, this.subNs);
  }
}

export abstract class BaseStore<R> implements MessageStore {
  abstract readonly kind: "memory" | "file";

  /** Persist a new message and return its reference; throw (before any change) to refuse it. */
  protected abstract persistAppend(msg: NewMessage): R;
  /** Record the removal of a message (of `size` bytes) the indexes have already dropped. */
  protected abstract persistRemove(seq: number, ref: R, size: number, erase: boolean): void;
  /** Every message is gone and the next sequence is `nextSeq`. */
  protected abstract persistReset(nextSeq: number): void;
  /**
   * Everything above `seq` is gone (`removed`: the live messages that were there, already dropped from
   * the indexes) and `seq` is the last sequence; lastSeq and the last time are already set.
   */
  protected abstract persistTruncate(seq: number, removed: readonly TruncatedMessage[]): void;
  /** Materialize a live message. */
  protected abstract load(seq: number, ref: R): StoredMessage | undefined;

  abstract flush(): Promise<void>;
  abstract close(): Promise<void>;
  abstract delete(): Promise<void>;

  protected readonly index: SeqIndex<R>;
  protected readonly subjects = new SubjectIndex();
  protected lastSeq = 0;
  /** Time of the last message (lastTimeNs), as ms + ns so the publish path needs no BigInt. */
  protected lastMs = 0;
  protected lastSubNs = 0;
  protected closed = false;
  protected readonly problemList: StoreProblem[] = [];
  private readonly ttlHeap = new TtlHeap();
  /** seq -> TTL ms for the few messages that carry one. */
  private readonly ttlOf = new Map<number, number>();
  private limits: Required<Omit<StoreLimits, "discard">> & { discard: "old" | "new" } = {
    maxMsgs: 0,
    maxBytes: 0,
    maxAgeMs: 0,
    maxMsgsPerSubject: 0,
    discard: "old",
    discardNewPerSubject: false,
  };
  private readonly listeners = new Set<RemovalListener>();

  /** `numericRefs`: references are integers below 2^32 (see SeqIndex). */
  constructor(firstSeq = 1, numericRefs = false) {
    this.index = new SeqIndex<R>(numericRefs);
    this.lastSeq = Math.max(1, firstSeq) - 1;
  }

  // ---- writing ---------------------------------------------------------------------------------

  async append(
    subject: string,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    opts?: AppendOptions,
  ): Promise<AppendResult> {
    const r = this.appendSync(subject, headers, data, opts);
    await this.flush();
    return r;
  }

  appendSync(
    subject: string,
    headers: Uint8Array | undefined,
    data: Uint8Array,
    opts: AppendOptions = {},
  ): AppendResult {
    this.checkOpen();
    const seq = opts.seq ?? this.lastSeq + 1;
    if (!Number.isSafeInteger(seq) || seq <= this.lastSeq) {
      throw new StoreError("BAD_SEQUENCE", `sequence ${seq} is not above last sequence ${this.lastSeq}`);
    }
    const size = messageSize(Buffer.byteLength(subject), headers?.length ?? 0, data.length);
    this.checkRoom(subject, size);
    let ms: number;
    let subNs: number;
    if (opts.timeNs === undefined) {
      const t = nowParts();
      ms = t.ms;
      subNs = t.subNs;
      if (ms < this.lastMs || (ms === this.lastMs && subNs < this.lastSubNs)) {
        ms = this.lastMs;
        subNs = this.lastSubNs;
      }
    } else {
      ({ ms, subNs } = splitNs(opts.timeNs));
    }
    const ttlMs = opts.ttlMs ?? 0;
    const ref = this.persistAppend({ seq, subject, headers, data, ms, subNs, ttlMs, size });
    this.track(seq, subject, size, ms, subNs, ttlMs, ref);
    this.lastSeq = seq;
    this.lastMs = ms;
    this.lastSubNs = subNs;
    this.enforceAfterAppend(subject);
    return new Appended(seq, ms, subNs);
  }

  /** Index a message that is already persisted (file store load). */
  protected track(
    seq: number,
    subject: string,
    size: number,
    ms: number,
    subNs: number,
    ttl: number,
    ref: R,
  ) {
    const e = this.subjects.add(subject, seq);
    this.index.add(seq, e.id, size, ms, subNs, ref);
    if (ttl !== 0) {
      this.ttlOf.set(seq, ttl);
      if (ttl > 0) this.ttlHeap.push(ms + ttl, seq);
    }
  }

  remove(seq: number, opts?: { erase?: boolean }): boolean {
    this.checkOpen();
    return this.removeOne(seq, "delete", opts?.erase ?? false);
  }

  purge(opts: PurgeOptions = {}): number {
    this.checkOpen();
    if (opts.seq !== undefined && opts.keep !== undefined) {
      throw new StoreError("INVALID_ARGUMENT", "purge seq and keep are mutually exclusive");
    }
    const filter = toFilter(opts.subject);
    if (filter === undefined) {
      if (opts.seq !== undefined) return this.compact(opts.seq);
      if (opts.keep !== undefined && opts.keep > 0) {
        let n = 0;
        while (this.index.count > opts.keep && this.removeOne(this.index.first(), "purge", false, false)) n++;
        return n;
      }
      const n = this.index.count;
      if (n > 0) this.resetTo(this.lastSeq + 1);
      return n;
    }
    return this.purgeFiltered(filter, opts);
  }

  compact(seq: number): number {
    this.checkOpen();
    const n0 = this.index.count;
    if (n0 === 0 || seq > this.index.last()) {
      // Nothing survives: drop everything at once; past lastSeq the sequence moves on too.
      if (n0 === 0 && seq <= this.lastSeq + 1) return 0;
      this.resetTo(Math.max(seq, this.lastSeq + 1));
      return n0;
    }
    let n = 0;
    for (let f = this.index.first(); f > 0 && f < seq; f = this.index.first()) {
      this.removeOne(f, "purge", false, false);
      n++;
    }
    return n;
  }

  truncate(seq: number): number {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new StoreError("INVALID_ARGUMENT", `cannot truncate to sequence ${seq}`);
    }
    if (seq >= this.lastSeq) return 0;
    const removed: Array<TruncatedMessage & { subjectId: number }> = [];
    this.index.forEach(seq + 1, this.lastSeq, (s, subjectId, size) => {
      removed.push({ seq: s, size, subjectId });
      return true;
    });
    this.index.dropAbove(seq);
    const subjects: string[] = [];
    let hadTtl = false;
    // Newest first: each subject list loses its tail, the cheap end.
    for (let i = removed.length - 1; i >= 0; i--) {
      const r = removed[i];
      const e = this.subjects.entry(r.subjectId);
      subjects.push(e.subject);
      this.subjects.removeSeq(e, r.seq);
      if (this.ttlOf.size > 0 && this.ttlOf.delete(r.seq)) hadTtl = true;
    }
    // Their deadlines must go now: the sequences above `seq` will be assigned again.
    if (hadTtl) this.ttlHeap.retain((s) => s <= seq);
    const newest = this.index.prevLive(seq);
    this.lastSeq = seq;
    this.lastMs = newest > 0 ? this.index.timeMs(newest) : 0;
    this.lastSubNs = newest > 0 ? this.index.timeSubNs(newest) : 0;
    this.persistTruncate(seq, removed);
    if (this.listeners.size > 0) {
      for (let i = 0; i < removed.length; i++) {
        this.notify({ seq: removed[i].seq, subject: subjects[removed.length - 1 - i], reason: "truncate" });
      }
    }
    return removed.length;
  }

  setLimits(limits: StoreLimits): number {
    this.checkOpen();
    const pos = (v: number | undefined) => (v !== undefined && v > 0 ? v : 0);
    this.limits = {
      maxMsgs: pos(limits.maxMsgs),
      maxBytes: pos(limits.maxBytes),
      maxAgeMs: pos(limits.maxAgeMs),
      maxMsgsPerSubject: pos(limits.maxMsgsPerSubject),
      discard: limits.discard ?? "old",
      discardNewPerSubject: limits.discardNewPerSubject ?? false,
    };
    let n = 0;
    const perSubject = this.limits.maxMsgsPerSubject;
    if (perSubject > 0 && !(this.limits.discard === "new" && this.limits.discardNewPerSubject)) {
      for (const e of [...this.subjects.all()]) {
        while (e.seqs.length > perSubject) {
          this.removeOne(e.seqs.first(), "limit");
          n++;
        }
      }
    }
    if (this.limits.discard === "old") n += this.evictOldest();
    return n;
  }

  expireDue(
    nowMs: number = Date.now(),
    isMarker?: (headers: Uint8Array | undefined) => boolean,
  ): RemovedMessage[] {
    this.checkOpen();
    const out: RemovedMessage[] = [];
    const expire = (seq: number, reason: RemovalReason) => {
      const subject = this.subjects.entry(this.index.subjectId(seq)).subject;
      if (isMarker === undefined) {
        this.removeOne(seq, reason, false);
        out.push({ seq, subject, reason });
        return;
      }
      const marker = isMarker(this.get(seq)?.headers);
      this.removeOne(seq, reason, false);
      out.push({ seq, subject, reason, marker });
    };
    for (let at = this.ttlHeap.peek(); at !== undefined && at <= nowMs; at = this.ttlHeap.peek()) {
      const seq = this.ttlHeap.peekSeq();
      this.ttlHeap.pop();
      const ttl = this.ttlOf.get(seq);
      // Stale entry: the message was removed for another reason already.
      if (ttl === undefined || ttl <= 0 || !this.index.has(seq)) continue;
      expire(seq, "ttl");
    }
    const maxAge = this.limits.maxAgeMs;
    if (maxAge > 0) {
      const cutoff = nowMs - maxAge;
      let seq = this.index.first();
      while (seq > 0 && this.index.timeMs(seq) <= cutoff) {
        const next = this.index.nextLive(seq + 1);
        // A message with its own TTL (or "never") is governed by that, not by max age.
        if (!this.ttlOf.has(seq)) expire(seq, "max-age");
        seq = next;
      }
    }
    return out;
  }

  nextExpiry(): number | undefined {
    // Drop deadlines of messages already gone, so the answer is exact.
    while (this.ttlHeap.size > 0 && !this.ttlOf.has(this.ttlHeap.peekSeq())) this.ttlHeap.pop();
    let next = this.ttlHeap.peek();
    const maxAge = this.limits.maxAgeMs;
    if (maxAge > 0) {
      let seq = this.index.first();
      while (seq > 0 && this.ttlOf.has(seq)) seq = this.index.nextLive(seq + 1);
      if (seq > 0) {
        const at = this.index.timeMs(seq) + maxAge;
        if (next === undefined || at < next) next = at;
      }
    }
    return next;
  }

  onRemoved(listener: RemovalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- reading ---------------------------------------------------------------------------------

  get(seq: number): StoredMessage | undefined {
    this.checkOpen();
    const ref = this.index.ref(seq);
    return ref === undefined ? undefined : this.load(seq, ref);
  }

  getNext(fromSeq: number, filter?: string | readonly string[]): StoredMessage | undefined {
    const seq = this.nextSeq(fromSeq, filter);
    return seq > 0 ? this.get(seq) : undefined;
  }

  nextSeq(fromSeq: number, filter?: string | readonly string[]): number {
    const from = Math.max(1, fromSeq);
    const f = toFilter(filter);
    if (f === undefined) return this.index.nextLive(from);
    if (!f.literal) {
      // Dense matches are found by walking a few slots; sparse ones by asking each matching subject.
      const memo = new Map<number, boolean>();
      const r = this.index.scan(from, SCAN_BUDGET, (id) => {
        let m = memo.get(id);
        if (m === undefined) {
          m = filterMatches(f, this.subjects.entry(id).subject);
          memo.set(id, m);
        }
        return m;
      });
      if (r >= 0) return r;
      return this.minNext(f, -r);
    }
    return this.minNext(f, from);
  }

  getLastBySubject(subject: string, upToSeq?: number): StoredMessage | undefined {
    if (upToSeq === undefined && subject !== "" && !subject.includes("*") && !subject.includes(">")) {
      // A literal subject (a KV get): one map lookup.
      const last = this.subjects.get(subject)?.seqs.last() ?? 0;
      return last > 0 ? this.get(last) : undefined;
    }
    const f = toFilter(subject);
    const upTo = upToSeq ?? Number.MAX_SAFE_INTEGER;
    let best = 0;
    if (f === undefined) {
      best = this.index.prevLive(Math.min(upTo, this.lastSeq));
    } else {
      for (const e of this.subjects.matching(f)) {
        const s = upToSeq === undefined ? e.seqs.last() : e.seqs.lastUpTo(upTo);
        if (s > best) best = s;
      }
    }
    return best > 0 ? this.get(best) : undefined;
  }

  lastSeqsBySubject(filter?: string | readonly string[], upToSeq?: number): number[] {
    const f = toFilter(filter);
    const out: number[] = [];
    for (const e of f === undefined ? this.subjects.all() : this.subjects.matching(f)) {
      const s = upToSeq === undefined ? e.seqs.last() : e.seqs.lastUpTo(upToSeq);
      if (s > 0) out.push(s);
    }
    return out.sort((a, b) => a - b);
  }

  seqForTime(timeMs: number): number {
    return this.index.firstAtOrAfterTime(timeMs) || this.lastSeq + 1;
  }

  state(opts?: { deletedDetails?: boolean }): StreamState {
    const messages = this.index.count;
    const firstSeq = messages > 0 ? this.index.first() : this.lastSeq === 0 ? 0 : this.lastSeq + 1;
    let firstTimeNs = 0n;
    if (messages > 0) {
      firstTimeNs = BigInt(this.index.timeMs(firstSeq)) * 1_000_000n + BigInt(this.index.timeSubNs(firstSeq));
    }
    const st: StreamState = {
      messages,
      bytes: this.index.bytes,
      firstSeq,
      firstTime: Number(firstTimeNs / 1_000_000n),
      firstTimeNs,
      lastSeq: this.lastSeq,
      lastTime: this.lastMs,
      lastTimeNs: this.lastTimeNs,
      numSubjects: this.subjects.size,
      numDeleted: messages > 0 ? this.lastSeq - firstSeq + 1 - messages : 0,
    };
    if (opts?.deletedDetails) st.deleted = messages > 0 ? this.index.missing(firstSeq, this.lastSeq) : [];
    return st;
  }

  encodedState(): Uint8Array {
    return encodeStreamState(this.state(), (from, to, visit) =>
      this.index.forEach(from, to, (seq) => {
        visit(seq);
        return true;
      }),
    );
  }

  subjectsState(filter?: string): Map<string, number> {
    const f = toFilter(filter);
    const out = new Map<string, number>();
    for (const e of f === undefined ? this.subjects.all() : this.subjects.matching(f)) {
      out.set(e.subject, e.seqs.length);
    }
    return out;
  }

  numPending(fromSeq: number, filter?: string | readonly string[], lastPerSubject = false): number {
    const from = Math.max(1, fromSeq);
    const f = toFilter(filter);
    if (!lastPerSubject && f === undefined) return this.index.countFrom(from);
    let n = 0;
    for (const e of f === undefined ? this.subjects.all() : this.subjects.matching(f)) {
      if (lastPerSubject) {
        if (e.seqs.last() >= from) n++;
      } else {
        n += from <= e.seqs.first() ? e.seqs.length : e.seqs.countFrom(from);
      }
    }
    return n;
  }

  problems(): readonly StoreProblem[] {
    return this.problemList;
  }

  // ---- internals -------------------------------------------------------------------------------

  protected get lastTimeNs(): bigint {
    return joinNs(this.lastMs, this.lastSubNs);
  }

  protected set lastTimeNs(ns: bigint) {
    const t = splitNs(ns);
    this.lastMs = t.ms;
    this.lastSubNs = t.subNs;
  }

  /** seq -> TTL ms of the messages that carry one. */
  protected ttlEntries(): ReadonlyMap<number, number> {
    return this.ttlOf;
  }

  protected checkOpen(): void {
    if (this.closed) throw new StoreError("CLOSED", "store is closed");
  }

  /** Drop one live message from every index and persist the removal. */
  protected removeOne(seq: number, reason: RemovalReason, erase = false, notify = true): boolean {
    const id = this.index.subjectId(seq);
    if (id < 0) return false;
    const ref = this.index.ref(seq) as R;
    const size = this.index.size(seq);
    const e = this.subjects.entry(id);
    this.index.delete(seq);
    this.subjects.removeSeq(e, seq);
    if (this.ttlOf.size > 0) this.ttlOf.delete(seq);
    this.persistRemove(seq, ref, size, erase);
    if (notify && this.listeners.size > 0) this.notify({ seq, subject: e.subject, reason });
    return true;
  }

  private notify(removed: RemovedMessage): void {
    for (const l of this.listeners) {
      try {
        l(removed);
      } catch (err) {
        // A faulty listener must not fail the store operation that is already done; surface it apart.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private resetTo(nextSeq: number): void {
    this.index.clear();
    this.subjects.clear();
    this.ttlOf.clear();
    this.ttlHeap.clear();
    this.lastSeq = nextSeq - 1;
    this.persistReset(nextSeq);
  }

  private purgeFiltered(filter: Filter, opts: PurgeOptions): number {
    const entries = [...this.subjects.matching(filter)];
    let victims: number[] = [];
    for (const e of entries) {
      for (let i = 0; i < e.seqs.length; i++) {
        const s = e.seqs.at(i);
        if (opts.seq !== undefined && s >= opts.seq) break;
        victims.push(s);
      }
    }
    if (opts.keep !== undefined) {
      if (victims.length <= opts.keep) return 0;
      victims.sort((a, b) => a - b);
      victims = victims.slice(0, victims.length - opts.keep);
    }
    for (const s of victims) this.removeOne(s, "purge", false, false);
    return victims.length;
  }

  private minNext(f: Filter, from: number): number {
    let best = 0;
    for (const e of this.subjects.matching(f)) {
      if (best > 0 && e.seqs.first() >= best) continue;
      const s = e.seqs.nextFrom(from);
      if (s > 0 && (best === 0 || s < best)) best = s;
    }
    return best;
  }

  /** Refuse an append that a discard-new limit (or size) forbids. */
  private checkRoom(subject: string, size: number): void {
    const l = this.limits;
    if (l.maxBytes > 0 && size > l.maxBytes) throw new StoreError("MAX_BYTES", "maximum bytes exceeded");
    if (l.discard !== "new") return;
    if (l.maxMsgs > 0 && this.index.count >= l.maxMsgs) {
      throw new StoreError("MAX_MSGS", "maximum messages exceeded");
    }
    if (l.maxBytes > 0 && this.index.bytes + size > l.maxBytes) {
      throw new StoreError("MAX_BYTES", "maximum bytes exceeded");
    }
    if (l.discardNewPerSubject && l.maxMsgsPerSubject > 0) {
      const e = this.subjects.get(subject);
      if (e !== undefined && e.seqs.length >= l.maxMsgsPerSubject) {
        throw new StoreError("MAX_MSGS_PER_SUBJECT", "maximum messages per subject exceeded");
      }
    }
  }

  private enforceAfterAppend(subject: string): void {
    const l = this.limits;
    if (l.maxMsgsPerSubject > 0) {
      const e = this.subjects.get(subject);
      while (e !== undefined && e.seqs.length > l.maxMsgsPerSubject) this.removeOne(e.seqs.first(), "limit");
    }
    if (l.discard === "old") this.evictOldest();
  }

  private evictOldest(): number {
    const l = this.limits;
    let n = 0;
    while (l.maxMsgs > 0 && this.index.count > l.maxMsgs) {
      this.removeOne(this.index.first(), "limit");
      n++;
    }
    while (l.maxBytes > 0 && this.index.bytes > l.maxBytes) {
      this.removeOne(this.index.first(), "limit");
      n++;
    }
    return n;
  }
}
