// One consumer: it walks its stream from a starting point chosen by the deliver policy, hands messages to
// pull requests or to its deliver subject, tracks what is awaiting an ack, redelivers after ack_wait /
// backoff up to max_deliver, and keeps its state in its store. Everything runs on the event loop: stream
// appends, acks and pull requests only "kick" the delivery loop, which runs as a microtask and yields to
// I/O after a bounded amount of work.

import type { Logger } from "../../logger.js";
import type { InternalClient } from "../../server/internal-client.js";
import { appendHeaders, statusHeaders } from "../headers.js";
import { rfc3339 } from "../json.js";
import type { StoredMessage } from "../store/index.js";
import type { Stream } from "../stream.js";
import { type AckPayload, type AckTarget, ackSubject } from "./ack.js";
import type { ConsumerAdvisories } from "./advisories.js";
import {
  type ConsumerConfig,
  configJson,
  DEFAULT_ACK_WAIT_NS,
  DEFAULT_INACTIVE_THRESHOLD_NS,
  filtersOf,
  goDuration,
  isDurable,
  isPush,
  NS_PER_MS,
} from "./config.js";
import { deadLetter } from "./dead-letter.js";
import { compileFilter, type SubjectFilter } from "./filter.js";
import { PullRequestError, parsePullRequest, type WaitingRequest, WaitQueue } from "./pull-queue.js";
import { ConsumerState } from "./state.js";
import type { ConsumerStore } from "./store.js";

const EMPTY = new Uint8Array(0);
/** Messages one run of the delivery loop sends before yielding to I/O. */
const RUN_BUDGET_MSGS = 256;
const RUN_BUDGET_BYTES = 4 * 1024 * 1024;
/** Flow control window: starts at 1/16 of the limit and doubles with every answered request. */
const FC_LIMIT = 32 * 1024 * 1024;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** What a consumer needs from the set of consumers of its stream. */
export interface ConsumerHost {
  readonly stream: Stream;
  readonly client: InternalClient;
  readonly logger: Logger;
  readonly advisories: ConsumerAdvisories;
  /** Messages this consumer is done with (interest / work-queue retention). */
  retire(c: Consumer, seqs: readonly number[]): void;
  /** The consumer went inactive past its threshold: delete it. */
  expire(c: Consumer): void;
  /** Does anybody listen on `subject`? */
  hasInterest(subject: string, queue?: string): boolean;
}

interface Candidate {
  kind: "redeliver" | "lss" | "new";
  msg: StoredMessage;
  dc: number;
}

interface FlowControl {
  maxpb: number;
  pbytes: number;
  fcid: string;
  fcsz: number;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export class Consumer {
  readonly name: string;
  config: ConsumerConfig;
  readonly created: bigint;
  state: ConsumerState;
  closed = false;
  /** Messages matching the filter not yet delivered (num_pending). */
  private npc = 0;
  /** The stream's last sequence when npc was last counted from the store. */
  private countedThrough = 0;
  private match: SubjectFilter;
  private filterArg: string | string[] | undefined;
  private readonly rdq: number[] = [];
  private readonly rdqSet = new Set<number>();
  private lssSet = new Set<number>();
  private waiting: WaitQueue | undefined;
  private active = false;
  private fc: FlowControl | undefined;
  private runScheduled = false;
  private runTimer: NodeJS.Timeout | undefined;
  private redeliverTimer: NodeJS.Timeout | undefined;
  private redeliverAt = 0;
  private waitTimer: NodeJS.Timeout | undefined;
  private hbTimer: NodeJS.Timeout | undefined;
  private deleteTimer: NodeJS.Timeout | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  /** Delete threshold in ms (0 = never). */
  private dthresh = 0;
  private lastActivity = 0;
  /** Last delivery / last ack (ms since the epoch), for info. */
  private ldt = 0;
  private lat = 0;
  /** Replay original: hold deliveries until their original spacing, while catching up to this seq. */
  private replayUpTo = 0;
  private replayLastNs = 0n;
  private replayHold = 0;

  constructor(
    private readonly host: ConsumerHost,
    name: string,
    config: ConsumerConfig,
    created: bigint,
    readonly store: ConsumerStore,
    restored: ConsumerState | undefined,
  ) {
    this.name = name;
    this.config = config;
    this.created = created;
    const filters = filtersOf(config);
    this.match = compileFilter(filters);
    this.filterArg = filterArg(filters);
    this.state = restored ?? new ConsumerState();
    if (!isPush(config)) this.waiting = new WaitQueue(config.max_waiting ?? 0);
    this.updateInactiveThreshold();
    if (restored === undefined) this.selectStart();
    else this.afterRestore();
    this.npc = this.countPending();
    if (config.replay_policy === "original") this.replayUpTo = this.stream.store.state().lastSeq;
  }

  get stream(): Stream {
    return this.host.stream;
  }

  get isPull(): boolean {
    return this.waiting !== undefined;
  }

  /** Begin: interest tracking, timers, first delivery run. */
  start(): void {
    if (isPush(this.config)) {
      this.fc = this.config.flow_control ? { maxpb: FC_LIMIT / 16, pbytes: 0, fcid: "", fcsz: 0 } : undefined;
      this.active = this.host.hasInterest(this.config.deliver_subject!, this.config.deliver_group);
      if (!this.active) this.armDelete();
      this.armHeartbeat();
    } else if (this.dthresh > 0) {
      this.armDelete();
    }
    this.armPause();
    this.rearmRedeliveries();
    this.kick();
  }

  // ---- starting point -------------------------------------------------------------------------------

  private selectStart(): void {
    const st = this.stream.store.state();
    const c = this.config;
    const s = this.state;
    let sseq: number;
    if ((c.opt_start_seq ?? 0) > 0) {
      sseq = c.opt_start_seq!;
    } else {
      switch (c.deliver_policy) {
        case "all":
          sseq = st.firstSeq;
          break;
        case "last":
          sseq = st.lastSeq;
          if (this.filterArg !== undefined) {
            sseq = 0;
            for (const f of Array.isArray(this.filterArg) ? this.filterArg : [this.filterArg]) {
              const l = this.stream.store.getLastBySubject(f)?.seq ?? 0;
              if (l > sseq) sseq = l;
            }
            if (sseq === 0) sseq = st.lastSeq + 1;
          }
          break;
        case "last_per_subject": {
          const seqs = this.stream.store.lastSeqsBySubject(this.filterArg);
          if (seqs.length > 0) {
            s.lss = { seqs, at: 0, resume: st.lastSeq };
            this.lssSet = new Set(seqs);
          }
          sseq = st.lastSeq + 1;
          break;
        }
        case "by_start_time":
          sseq = this.stream.store.seqForTime(Number((c.opt_start_time ?? 0n) / 1_000_000n));
          break;
        default:
          sseq = st.lastSeq + 1;
      }
    }
    if (st.firstSeq === 0 && st.lastSeq === 0) sseq = Math.max(1, s.lss === undefined ? 1 : sseq);
    else if (sseq < st.firstSeq) sseq = st.firstSeq;
    else if (sseq > st.lastSeq) sseq = st.lastSeq + 1;
    s.sseq = Math.max(1, sseq);
    s.dseq = 1;
    s.adflr = 0;
    s.asflr = s.sseq - 1;
    this.store.markDirty();
  }

  /** Make a restored state consistent with what the stream holds now. */
  private afterRestore(): void {
    const s = this.state;
    const st = this.stream.store.state();
    if (st.messages > 0 && s.sseq < st.firstSeq) s.sseq = st.firstSeq;
    if (s.sseq > st.lastSeq + 1) s.sseq = st.lastSeq + 1;
    if (s.lss !== undefined) {
      s.lss.seqs = s.lss.seqs.filter((q) => this.stream.store.get(q) !== undefined);
      if (s.lss.seqs.length === 0) s.lss = undefined;
      else this.lssSet = new Set(s.lss.seqs);
    }
    for (const [seq, p] of s.pending) p.due = p.ts + this.waitFor(this.deliveriesOf(seq));
    for (const seq of [...s.rdc.keys()]) if (!s.pending.has(seq)) s.rdc.delete(seq);
  }

  private countPending(): number {
    const s = this.state;
    this.countedThrough = this.stream.store.state().lastSeq;
    let n = s.lss !== undefined ? this.lssSet.size : 0;
    n += this.stream.store.numPending(s.sseq, this.filterArg);
    return n;
  }

  // ---- stream events -----------------------------------------------------------------------------

  /** A message was stored: count it; true when this consumer should run (the caller kicks it). */
  appended(seq: number, subject: string): boolean {
    if (this.closed || seq < this.state.sseq || !this.match(subject)) return false;
    // A recount (after a purge or rollup that happened while storing it) may already include it.
    if (seq > this.countedThrough) this.npc++;
    return true;
  }

  removed(seq: number, subject: string): void {
    if (this.closed) return;
    const s = this.state;
    if (this.lssSet.has(seq)) {
      this.lssSet.delete(seq);
      this.npc--;
    } else if (seq >= s.sseq && this.match(subject)) {
      this.npc--;
    }
    if (s.pending.has(seq)) {
      this.dropPending(seq);
      this.store.markDirty();
    }
  }

  /** Many messages left (purge, rollup, limits): re-read what matters. */
  purged(): void {
    if (this.closed) return;
    const s = this.state;
    const st = this.stream.store.state();
    const first = st.messages > 0 ? st.firstSeq : st.lastSeq + 1;
    if (s.sseq < first) s.sseq = first;
    if (s.lss !== undefined) {
      const kept = s.lss.seqs.slice(s.lss.at).filter((q) => this.stream.store.get(q) !== undefined);
      if (kept.length === 0) s.lss = undefined;
      else s.lss = { seqs: kept, at: 0, resume: s.lss.resume };
      this.lssSet = new Set(kept);
    }
    for (const seq of [...s.pending.keys()]) {
      if (this.stream.store.nextSeq(seq) !== seq) this.dropPending(seq);
    }
    if (s.pending.size === 0) {
      s.asflr = Math.max(s.asflr, s.sseq - 1);
      s.adflr = s.dseq - 1;
    } else if (s.asflr < first - 1) {
      s.asflr = first - 1;
    }
    this.npc = this.countPending();
    this.store.markDirty();
    this.kick();
  }

  // ---- delivery loop -------------------------------------------------------------------------------

  kick(): void {
    if (this.runScheduled || this.closed) return;
    this.runScheduled = true;
    queueMicrotask(() => this.run());
  }

  private isPaused(): boolean {
    const pu = this.config.pause_until;
    return pu !== undefined && pu > nowNs();
  }

  private run(): void {
    this.runScheduled = false;
    if (this.closed || this.runTimer !== undefined) return;
    if (this.isPaused()) {
      if (this.isPull) this.processWaiting(false);
      return;
    }
    let msgs = 0;
    let bytes = 0;
    let eos = false;
    let stalled = false;
    while (true) {
      if (msgs >= RUN_BUDGET_MSGS || bytes >= RUN_BUDGET_BYTES) {
        this.runTimer = setImmediate(() => {
          this.runTimer = undefined;
          this.run();
        }) as unknown as NodeJS.Timeout;
        return;
      }
      if (this.isPull) {
        if (this.waiting!.length === 0) break;
      } else if (!this.active || (this.fc !== undefined && this.fc.pbytes > this.fc.maxpb)) {
        break;
      }
      const cand = this.nextCandidate();
      if (cand === undefined) {
        stalled = this.atMaxAckPending();
        eos = !stalled;
        break;
      }
      if (this.replayUpTo > 0 && !this.replayWait(cand)) return;
      const sent = this.deliver(cand);
      if (sent < 0) break;
      msgs++;
      bytes += sent;
    }
    if (this.isPull) this.processWaiting(eos);
  }

  private atMaxAckPending(): boolean {
    const max = this.config.max_ack_pending ?? 0;
    return max > 0 && this.state.pending.size >= max;
  }

  /** Replay original: false (and a timer set) when this message must wait for its original spacing. */
  private replayWait(cand: Candidate): boolean {
    if (this.state.sseq > this.replayUpTo && cand.kind === "new" && cand.msg.seq > this.replayUpTo) {
      this.replayUpTo = 0;
      return true;
    }
    if (this.replayLastNs === 0n) return true;
    const now = Date.now();
    if (this.replayHold === 0) {
      const gapMs = Number(cand.msg.timeNs - this.replayLastNs) / NS_PER_MS;
      if (gapMs <= 1) return true;
      this.replayHold = now + gapMs;
    }
    if (now >= this.replayHold) {
      this.replayHold = 0;
      return true;
    }
    this.runTimer = setTimeout(() => {
      this.runTimer = undefined;
      this.run();
    }, this.replayHold - now);
    return false;
  }

  /** The next message to send, without committing to it. */
  private nextCandidate(): Candidate | undefined {
    const s = this.state;
    const store = this.stream.store;
    while (this.rdq.length > 0) {
      const seq = this.rdq[0];
      const p = s.pending.get(seq);
      if (p === undefined) {
        this.rdqShift();
        continue;
      }
      const dc = (s.rdc.get(seq) ?? 0) + 2;
      const max = this.config.max_deliver ?? -1;
      if (max > 0 && dc > max) {
        this.rdqShift();
        this.exhausted(seq, dc - 1);
        continue;
      }
      const msg = store.get(seq);
      if (msg === undefined) {
        this.rdqShift();
        this.dropPending(seq);
        continue;
      }
      return { kind: "redeliver", msg, dc };
    }
    if (this.atMaxAckPending()) return undefined;
    const lss = s.lss;
    if (lss !== undefined) {
      while (lss.at < lss.seqs.length) {
        const seq = lss.seqs[lss.at];
        const msg = this.lssSet.has(seq) ? store.get(seq) : undefined;
        if (msg !== undefined) return { kind: "lss", msg, dc: 1 };
        this.lssSet.delete(seq);
        lss.at++;
      }
      s.lss = undefined;
      this.lssSet.clear();
    }
    while (true) {
      const seq = store.nextSeq(s.sseq, this.filterArg);
      if (seq === 0) {
        const last = store.state().lastSeq;
        if (s.sseq <= last) s.sseq = last + 1;
        return undefined;
      }
      const msg = store.get(seq);
      if (msg !== undefined) return { kind: "new", msg, dc: 1 };
      s.sseq = seq + 1;
    }
  }

  /** Send a candidate; returns the bytes sent, or -1 when there was nobody to send it to. */
  private deliver(cand: Candidate): number {
    const s = this.state;
    const c = this.config;
    const msg = cand.msg;
    const pendingAfter = Math.max(0, cand.dc === 1 ? this.npc - 1 : this.npc);
    const dseq = s.dseq;
    const reply = ackSubject(this.stream.name, this.name, cand.dc, msg.seq, dseq, msg.timeNs, pendingAfter);
    let hdrs = msg.headers;
    let data = msg.data;
    if (c.headers_only) {
      hdrs = appendHeaders(hdrs, [["Nats-Msg-Size", String(data.length)]]);
      data = EMPTY;
    }
    const size = msg.subject.length + reply.length + (hdrs?.length ?? 0) + data.length;
    let target: string;
    let wr: WaitingRequest | undefined;
    if (this.isPull) {
      wr = this.nextWaiting(size);
      if (wr === undefined) return -1;
      target = wr.reply;
    } else {
      target = c.deliver_subject!;
    }
    // Commit.
    switch (cand.kind) {
      case "redeliver":
        this.rdqShift();
        s.rdc.set(msg.seq, cand.dc - 1);
        break;
      case "lss": {
        const lss = s.lss!;
        lss.at++;
        this.lssSet.delete(msg.seq);
        this.npc--;
        if (lss.at >= lss.seqs.length) {
          s.lss = undefined;
          this.lssSet.clear();
        }
        break;
      }
      case "new":
        s.sseq = msg.seq + 1;
        this.npc--;
        break;
    }
    s.dseq++;
    s.lastDelivered = msg.seq;
    const now = Date.now();
    this.ldt = now;
    this.lastActivity = now;
    this.replayLastNs = msg.timeNs;
    this.host.client.publish(target, reply, data, hdrs, msg.subject);
    if (c.ack_policy === "none") {
      s.adflr = dseq;
      s.asflr = msg.seq;
      if (this.stream.config.retention !== "limits") this.host.retire(this, [msg.seq]);
    } else {
      const prev = s.pending.get(msg.seq);
      const due = now + this.waitFor(cand.dc);
      if (prev !== undefined) {
        prev.dseq = dseq;
        prev.ts = now;
        prev.due = due;
      } else {
        s.pending.set(msg.seq, { dseq, ts: now, due });
      }
      this.armRedelivery(due);
    }
    if (wr !== undefined) {
      if (wr.n > 0 && wr.heartbeatMs > 0) wr.hbAt = now + wr.heartbeatMs;
      if (wr.n <= 0 && wr.b > 0) {
        this.status(wr.reply, 409, "Batch Completed", wr.n, wr.b);
      }
    }
    const psz = target.length + reply.length + (hdrs?.length ?? 0) + data.length;
    if (this.fc !== undefined) {
      this.fc.pbytes += psz;
      if (this.fc.fcid === "" && this.fc.pbytes > this.fc.maxpb / 2) this.sendFlowControl();
      else if (this.fc.fcid !== "" && this.fc.pbytes - this.fc.fcsz >= this.fc.maxpb) this.fc.fcsz += psz;
    }
    this.store.markDirty();
    return psz;
  }

  /** How long a delivery with this count waits for its ack (ms). */
  private waitFor(dc: number): number {
    const bo = this.config.backoff;
    if (bo !== undefined && bo.length > 0) return bo[Math.min(dc - 1, bo.length - 1)] / NS_PER_MS;
    return (this.config.ack_wait ?? DEFAULT_ACK_WAIT_NS) / NS_PER_MS;
  }

  private deliveriesOf(seq: number): number {
    return (this.state.rdc.get(seq) ?? 0) + 1;
  }

  /** A message used up max_deliver: advisory, dead letter, and it leaves the pending list. */
  private exhausted(seq: number, deliveries: number): void {
    this.host.advisories.maxDeliveries(this.stream.name, this.name, seq, deliveries);
    const dl = this.config.dead_letter_subject;
    if (dl !== undefined) {
      const msg = this.stream.store.get(seq);
      if (msg !== undefined) {
        deadLetter(this.host.client, dl, this.stream.name, this.name, msg, deliveries, "max_deliveries");
      }
    }
    this.dropPending(seq);
    this.store.markDirty();
  }

  // ---- pending / ack floor bookkeeping -----------------------------------------------------------------

  private rdqShift(): void {
    const seq = this.rdq.shift();
    if (seq !== undefined) this.rdqSet.delete(seq);
  }

  private rdqRemove(seq: number): void {
    if (!this.rdqSet.delete(seq)) return;
    const i = this.rdq.indexOf(seq);
    if (i >= 0) this.rdq.splice(i, 1);
  }

  private rdqAdd(seq: number): void {
    if (this.rdqSet.has(seq)) return;
    this.rdqSet.add(seq);
    this.rdq.push(seq);
  }

  /** Remove a pending entry (acked, terminated, gone) and move the ack floor past it when possible. */
  private dropPending(seq: number): void {
    const s = this.state;
    const p = s.pending.get(seq);
    if (p === undefined) return;
    s.pending.delete(seq);
    s.rdc.delete(seq);
    this.rdqRemove(seq);
    this.advanceFloor(seq, p.dseq);
  }

  private advanceFloor(sseq: number, _dseq: number): void {
    const s = this.state;
    if (s.pending.size === 0) {
      s.adflr = s.dseq - 1;
      s.asflr = s.lss !== undefined ? Math.max(s.asflr, sseq) : Math.max(s.asflr, s.sseq - 1);
      return;
    }
    if (sseq <= s.asflr) return;
    // Only when the lowest pending message left does the floor move: up to just below the next one.
    if (this.lowestPending(s.asflr + 1, sseq) !== 0) return;
    const low = this.lowestPending(sseq + 1, Number.MAX_SAFE_INTEGER);
    const lp = s.pending.get(low);
    if (lp === undefined) return;
    if (low - 1 > s.asflr) s.asflr = low - 1;
    if (lp.dseq - 1 > s.adflr) s.adflr = lp.dseq - 1;
  }

  /** Lowest pending stream sequence in [from, to), 0 when none (walks the range or the map, whichever is shorter). */
  private lowestPending(from: number, to: number): number {
    const pending = this.state.pending;
    const end = Math.min(to, this.state.sseq);
    if (end - from <= pending.size) {
      for (let q = from; q < end; q++) if (pending.has(q)) return q;
      return 0;
    }
    let low = 0;
    for (const k of pending.keys()) if (k >= from && k < to && (low === 0 || k < low)) low = k;
    return low;
  }

  // ---- acks -----------------------------------------------------------------------------------------

  /** An ack arrived on this consumer's ack subject; answers `reply` (double ack) once it is stored. */
  processAck(t: AckTarget, p: AckPayload, reply: string | undefined): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    let answer = reply !== undefined && reply !== "";
    switch (p.kind) {
      case "ack":
        this.ack(t.sseq, t.dseq);
        break;
      case "next":
        this.ack(t.sseq, t.dseq);
        if (answer) this.pullRequest(reply!, p.request ?? EMPTY);
        answer = false;
        break;
      case "nak":
        this.nak(t.sseq, t.dseq, t.deliveries, p.delayMs);
        break;
      case "progress":
        this.progress(t.sseq);
        break;
      case "term":
        this.term(t.sseq, t.dseq, t.deliveries, p.reason);
        break;
    }
    if (answer) {
      void this.store.saved().then(() => {
        this.host.client.publish(reply!, undefined, EMPTY);
      });
    }
  }

  private ack(sseq: number, dseq: number): boolean {
    const s = this.state;
    const c = this.config;
    if (c.ack_policy === "explicit") {
      const p = s.pending.get(sseq);
      if (p === undefined) return false;
      const wasFull = this.atMaxAckPending();
      s.pending.delete(sseq);
      s.rdc.delete(sseq);
      this.rdqRemove(sseq);
      this.advanceFloor(sseq, p.dseq);
      this.lat = Date.now();
      this.store.markDirty();
      if (this.stream.config.retention !== "limits") this.host.retire(this, [sseq]);
      if (wasFull || this.rdq.length > 0) this.kick();
      return true;
    }
    if (c.ack_policy === "all") {
      if (dseq <= s.adflr || sseq <= s.asflr) return false;
      const wasFull = this.atMaxAckPending();
      const from = s.asflr;
      const done: number[] = [];
      for (const k of [...s.pending.keys()]) {
        if (k <= sseq) {
          s.pending.delete(k);
          s.rdc.delete(k);
          this.rdqRemove(k);
        }
      }
      s.adflr = dseq;
      s.asflr = sseq;
      if (s.pending.size === 0 && s.lss === undefined) {
        s.adflr = s.dseq - 1;
        s.asflr = Math.max(sseq, s.sseq - 1);
      }
      this.lat = Date.now();
      this.store.markDirty();
      if (this.stream.config.retention !== "limits") {
        for (
          let q = this.stream.store.nextSeq(from + 1);
          q > 0 && q <= sseq;
          q = this.stream.store.nextSeq(q + 1)
        ) {
          done.push(q);
        }
        if (done.length > 0) this.host.retire(this, done);
      }
      if (wasFull) this.kick();
      return true;
    }
    return false;
  }

  private nak(sseq: number, dseq: number, dc: number, delayMs: number | undefined): void {
    const s = this.state;
    if (dseq <= s.adflr || dseq > s.dseq) return;
    const p = s.pending.get(sseq);
    if (p === undefined) return;
    this.host.advisories.nak(this.stream.name, this.name, sseq, dseq, dc);
    if (delayMs !== undefined && delayMs > 0) {
      this.rdqRemove(sseq);
      p.due = Date.now() + delayMs;
      this.armRedelivery(p.due);
      this.store.markDirty();
      return;
    }
    this.rdqAdd(sseq);
    this.kick();
  }

  private progress(sseq: number): void {
    const p = this.state.pending.get(sseq);
    if (p === undefined) return;
    const now = Date.now();
    p.ts = now;
    p.due = now + this.waitFor(this.deliveriesOf(sseq));
    this.rdqRemove(sseq);
    this.armRedelivery(p.due);
    this.store.markDirty();
  }

  private term(sseq: number, dseq: number, dc: number, reason: string | undefined): void {
    const dl = this.config.dead_letter_subject;
    const msg = dl !== undefined && this.state.pending.has(sseq) ? this.stream.store.get(sseq) : undefined;
    if (!this.ack(sseq, dseq) && this.config.ack_policy !== "none") return;
    if (msg !== undefined) {
      deadLetter(this.host.client, dl!, this.stream.name, this.name, msg, dc, "terminated", reason);
    }
    this.host.advisories.terminated(this.stream.name, this.name, sseq, dseq, dc, reason);
  }

  // ---- redelivery timer -------------------------------------------------------------------------------

  private armRedelivery(due: number): void {
    if (this.closed) return;
    if (this.redeliverTimer !== undefined && this.redeliverAt <= due) return;
    if (this.redeliverTimer !== undefined) clearTimeout(this.redeliverTimer);
    this.redeliverAt = due;
    this.redeliverTimer = setTimeout(() => this.checkPending(), Math.max(0, due - Date.now()) + 1);
  }

  private rearmRedeliveries(): void {
    let min = Number.MAX_SAFE_INTEGER;
    for (const p of this.state.pending.values()) if (p.due < min) min = p.due;
    if (min !== Number.MAX_SAFE_INTEGER) this.armRedelivery(min);
  }

  /** Queue every pending message whose ack wait is over; arm the timer for the next one. */
  private checkPending(): void {
    this.redeliverTimer = undefined;
    this.redeliverAt = 0;
    if (this.closed) return;
    const now = Date.now();
    const expired: number[] = [];
    const exhausted: number[] = [];
    const max = this.config.max_deliver ?? -1;
    let next = Number.MAX_SAFE_INTEGER;
    for (const [seq, p] of this.state.pending) {
      if (p.due <= now) {
        // Its last allowed delivery went unacknowledged: done with it now rather than at the next pull.
        if (max > 0 && this.deliveriesOf(seq) >= max) exhausted.push(seq);
        else if (!this.rdqSet.has(seq)) expired.push(seq);
      } else if (p.due < next) {
        next = p.due;
      }
    }
    for (const seq of exhausted.sort((a, b) => a - b)) this.exhausted(seq, this.deliveriesOf(seq));
    if (exhausted.length > 0) this.kick();
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      for (const seq of expired) this.rdqAdd(seq);
      this.kick();
    }
    if (next !== Number.MAX_SAFE_INTEGER) this.armRedelivery(next);
  }

  // ---- pull requests ----------------------------------------------------------------------------------

  private status(reply: string, code: number, desc: string, msgs?: number, bytes?: number): void {
    const entries: [string, string][] =
      msgs === undefined
        ? []
        : [
            ["Nats-Pending-Messages", String(msgs)],
            ["Nats-Pending-Bytes", String(bytes ?? 0)],
          ];
    this.host.client.publish(reply, undefined, EMPTY, statusHeaders(code, desc, entries));
  }

  /** CONSUMER.MSG.NEXT (or +NXT): queue the request, or answer with the status that ends it. */
  pullRequest(reply: string, data: Uint8Array): void {
    if (this.closed) return;
    const wq = this.waiting;
    if (wq === undefined) {
      this.status(reply, 409, "Consumer is push based");
      return;
    }
    let req: ReturnType<typeof parsePullRequest>;
    try {
      req = parsePullRequest(data);
    } catch (err) {
      if (!(err instanceof PullRequestError)) throw err;
      this.status(reply, 400, `Bad Request - ${err.message}`);
      return;
    }
    const c = this.config;
    if ((c.max_batch ?? 0) > 0 && req.batch > c.max_batch!) {
      this.status(reply, 409, `Exceeded MaxRequestBatch of ${c.max_batch}`);
      return;
    }
    if (req.expiresNs > 0 && (c.max_expires ?? 0) > 0 && req.expiresNs > c.max_expires!) {
      this.status(reply, 409, `Exceeded MaxRequestExpires of ${goDuration(c.max_expires!)}`);
      return;
    }
    if (req.maxBytes > 0 && (c.max_bytes ?? 0) > 0 && req.maxBytes > c.max_bytes!) {
      this.status(reply, 409, `Exceeded MaxRequestMaxBytes of ${c.max_bytes}`);
      return;
    }
    const now = Date.now();
    this.lastActivity = now;
    if (wq.isFull()) this.processWaiting(false);
    if (req.noWait) {
      const available = Math.max(0, this.npc) + this.rdq.length;
      if (available === 0 && req.expires === 0) {
        this.status(reply, 404, "No Messages");
        return;
      }
      if (available > 0) {
        const brp = this.processWaiting(false);
        if (available < brp) {
          this.status(reply, 408, "Requests Pending");
          return;
        }
      }
    }
    const wr: WaitingRequest = {
      reply,
      n: req.batch,
      d: 0,
      b: req.maxBytes,
      noWait: req.noWait,
      expires: req.expires,
      heartbeatMs: req.heartbeatMs,
      hbAt: req.heartbeatMs > 0 ? now + req.heartbeatMs : 0,
      received: now,
    };
    if (!wq.add(wr)) {
      this.status(reply, 409, "Exceeded MaxWaiting");
      return;
    }
    this.armWaitTimer();
    this.kick();
  }

  /** The request the next message (of `size` bytes) goes to; drops requests that can no longer take any. */
  private nextWaiting(size: number): WaitingRequest | undefined {
    const wq = this.waiting!;
    const now = Date.now();
    for (let wr = wq.peek(); wr !== undefined; wr = wq.peek()) {
      if (wr.b > 0) {
        if (size <= wr.b) {
          wr.b -= size;
          if (wr.b === 0) wr.n = 1;
        } else {
          this.status(wr.reply, 409, "Message Size Exceeds MaxBytes", wr.n, wr.b);
          wq.removeHead();
          continue;
        }
      }
      if ((wr.expires === 0 || now < wr.expires) && this.host.hasInterest(wr.reply)) return wq.pop();
      wq.removeHead();
    }
    return undefined;
  }

  /**
   * Expire requests (and, at the end of the stream, finish no-wait ones that got something), drop those
   * nobody listens for, send due heartbeats. Returns the messages the remaining requests still want.
   */
  private processWaiting(eos: boolean): number {
    const wq = this.waiting;
    if (wq === undefined || wq.length === 0) {
      this.clearWaitTimer();
      return 0;
    }
    const now = Date.now();
    let brp = 0;
    wq.filter((wr) => {
      if ((eos && wr.noWait && wr.d > 0) || (wr.expires > 0 && now >= wr.expires)) {
        this.status(wr.reply, 408, "Request Timeout", wr.n, wr.b);
        return false;
      }
      if (!this.host.hasInterest(wr.reply)) return false;
      brp += wr.n;
      if (wr.hbAt > 0 && now >= wr.hbAt) {
        this.sendHeartbeat(wr.reply);
        wr.hbAt = now + wr.heartbeatMs;
      }
      return true;
    });
    this.armWaitTimer();
    return brp;
  }

  private armWaitTimer(): void {
    const wq = this.waiting;
    if (wq === undefined || this.closed) return;
    let next = Number.MAX_SAFE_INTEGER;
    for (const wr of wq.all()) {
      if (wr.expires > 0 && wr.expires < next) next = wr.expires;
      if (wr.hbAt > 0 && wr.hbAt < next) next = wr.hbAt;
    }
    this.clearWaitTimer();
    if (next === Number.MAX_SAFE_INTEGER) return;
    this.waitTimer = setTimeout(
      () => {
        this.waitTimer = undefined;
        this.processWaiting(true);
        this.kick();
      },
      Math.max(1, next - Date.now()),
    );
  }

  private clearWaitTimer(): void {
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }

  private sendHeartbeat(subject: string): void {
    const entries: [string, string][] = [
      ["Nats-Last-Consumer", String(this.state.dseq - 1)],
      ["Nats-Last-Stream", String(this.state.sseq - 1)],
    ];
    if (this.fc !== undefined && this.fc.fcid !== "") entries.push(["Nats-Consumer-Stalled", this.fc.fcid]);
    this.host.client.publish(subject, undefined, EMPTY, statusHeaders(100, "Idle Heartbeat", entries));
  }

  // ---- push: interest, heartbeats, flow control ---------------------------------------------------------

  /** Interest on the deliver subject may have changed. */
  interestChanged(): void {
    if (this.closed || !isPush(this.config)) return;
    const now = this.host.hasInterest(this.config.deliver_subject!, this.config.deliver_group);
    if (now === this.active) return;
    this.active = now;
    if (now) {
      this.clearDelete();
      this.kick();
    } else {
      this.armDelete();
    }
  }

  get pushBound(): boolean {
    return isPush(this.config) && this.active;
  }

  /** Push idle heartbeat: sent once nothing was delivered for idle_heartbeat (checked when the timer fires). */
  private armHeartbeat(delay?: number): void {
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.hbTimer = undefined;
    const hb = (this.config.idle_heartbeat ?? 0) / NS_PER_MS;
    if (!isPush(this.config) || hb <= 0 || this.closed) return;
    this.hbTimer = setTimeout(() => {
      this.hbTimer = undefined;
      const idle = Date.now() - this.ldt;
      if (idle < hb) {
        this.armHeartbeat(hb - idle);
        return;
      }
      if (this.active) this.sendHeartbeat(this.config.deliver_subject!);
      this.armHeartbeat();
    }, delay ?? hb);
  }

  private sendFlowControl(): void {
    const fc = this.fc!;
    let id = "";
    for (let i = 0; i < 4; i++) id += BASE62[Math.floor(Math.random() * 62)];
    const subject = `$JS.FC.${this.stream.name}.${this.name}.${id}`;
    fc.fcid = subject;
    fc.fcsz = fc.pbytes;
    this.host.client.publish(
      this.config.deliver_subject!,
      subject,
      EMPTY,
      statusHeaders(100, "FlowControl Request"),
    );
  }

  flowControlReply(subject: string): void {
    const fc = this.fc;
    if (fc === undefined || subject !== fc.fcid) return;
    if (fc.maxpb < FC_LIMIT) fc.maxpb = Math.min(fc.maxpb * 2, FC_LIMIT);
    fc.pbytes = Math.max(0, fc.pbytes - fc.fcsz);
    fc.fcid = "";
    fc.fcsz = 0;
    this.kick();
  }

  // ---- inactivity ------------------------------------------------------------------------------------

  private updateInactiveThreshold(): void {
    const c = this.config;
    const jitter = () => 100 + Math.floor(Math.random() * 900);
    if (!isDurable(c) && (c.inactive_threshold ?? 0) <= 0) {
      this.dthresh = DEFAULT_INACTIVE_THRESHOLD_NS / NS_PER_MS + jitter();
      c.inactive_threshold = DEFAULT_INACTIVE_THRESHOLD_NS;
    } else if ((c.inactive_threshold ?? 0) > 0) {
      this.dthresh = c.inactive_threshold! / NS_PER_MS + (this.isPull || !isPush(c) ? jitter() : 0);
    } else {
      this.dthresh = 0;
    }
  }

  private armDelete(delay = this.dthresh): void {
    if (this.dthresh <= 0 || this.closed) return;
    if (this.deleteTimer !== undefined && delay === this.dthresh) return;
    this.clearDelete();
    this.deleteTimer = setTimeout(() => this.deleteIfInactive(), delay);
  }

  private clearDelete(): void {
    if (this.deleteTimer !== undefined) clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
  }

  private deleteIfInactive(): void {
    this.deleteTimer = undefined;
    if (this.closed) return;
    if (isPush(this.config)) {
      if (this.active) return;
    } else {
      const elapsed = Date.now() - this.lastActivity;
      const threshold = (this.config.inactive_threshold ?? 0) / NS_PER_MS;
      if (elapsed <= threshold) {
        this.armDelete(Math.max(1, this.dthresh - elapsed));
        return;
      }
      this.processWaiting(true);
      if ((this.waiting?.length ?? 0) > 0) {
        this.armDelete();
        return;
      }
    }
    this.host.expire(this);
  }

  // ---- pause --------------------------------------------------------------------------------------

  private armPause(): void {
    if (this.pauseTimer !== undefined) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    const pu = this.config.pause_until;
    if (pu === undefined) return;
    const ms = Number((pu - nowNs()) / 1_000_000n);
    if (ms <= 0) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.kick();
    }, ms + 1);
  }

  /** CONSUMER.PAUSE: 0 / past = resume. */
  pause(untilNs: bigint): void {
    if (untilNs > nowNs()) this.config.pause_until = untilNs;
    else delete this.config.pause_until;
    this.armPause();
    this.kick();
  }

  pauseInfo(): { paused: boolean; pauseUntil: bigint; remainingNs: number } {
    const pu = this.config.pause_until ?? 0n;
    const now = nowNs();
    const paused = pu > now;
    return { paused, pauseUntil: pu, remainingNs: paused ? Number(pu - now) : 0 };
  }

  // ---- config updates --------------------------------------------------------------------------------

  /** Apply an already validated update. */
  update(next: ConsumerConfig): void {
    const old = this.config;
    const oldFilters = filtersOf(old).join("\n");
    if (isDurable(old) && next.durable_name === undefined) next.durable_name = old.durable_name;
    if (old.name !== undefined && next.name === undefined) next.name = old.name;
    this.config = next;
    this.updateInactiveThreshold();
    if (filtersOf(next).join("\n") !== oldFilters) {
      const filters = filtersOf(next);
      this.match = compileFilter(filters);
      this.filterArg = filterArg(filters);
    }
    this.npc = this.countPending();
    if (isPush(next) && old.deliver_subject !== next.deliver_subject) {
      for (const seq of [...this.state.pending.keys()].sort((a, b) => a - b)) this.rdqAdd(seq);
      this.active = false;
      this.interestChanged();
    }
    if (this.waiting !== undefined) this.waiting.max = next.max_waiting ?? 0;
    if (isPush(next)) {
      if (!this.active) this.armDelete();
      else this.clearDelete();
    } else if (this.dthresh > 0) {
      this.armDelete();
    } else {
      this.clearDelete();
    }
    this.armPause();
    this.rearmRedeliveries();
    this.kick();
  }

  // ---- info -------------------------------------------------------------------------------------------

  numPending(): number {
    if (this.npc < 0 || this.npc > this.stream.store.state().messages) this.npc = this.countPending();
    return this.npc;
  }

  info(): Record<string, unknown> {
    const s = this.state;
    if (this.isPull) this.processWaiting(false);
    const delivered: Record<string, unknown> = {
      consumer_seq: s.dseq - 1,
      stream_seq: s.lss !== undefined ? s.lastDelivered : s.sseq - 1,
    };
    if (this.ldt > 0) delivered.last_active = rfc3339(BigInt(this.ldt) * 1_000_000n);
    const ackFloor: Record<string, unknown> = { consumer_seq: s.adflr, stream_seq: s.asflr };
    if (this.lat > 0) ackFloor.last_active = rfc3339(BigInt(this.lat) * 1_000_000n);
    const out: Record<string, unknown> = {
      stream_name: this.stream.name,
      name: this.name,
      created: rfc3339(this.created),
      config: configJson(this.config),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: s.pending.size,
      num_redelivered: s.rdc.size,
      num_waiting: this.waiting?.length ?? 0,
      num_pending: this.numPending(),
    };
    if (this.pushBound) out.push_bound = true;
    const p = this.pauseInfo();
    if (p.paused) {
      out.paused = true;
      out.pause_remaining = p.remainingNs;
    }
    out.ts = rfc3339(nowNs());
    return out;
  }

  // ---- shutdown -------------------------------------------------------------------------------------

  /** Stop all activity; `notify` tells waiting pull requests the consumer is gone. */
  stop(opts: { notify: boolean; saveState: boolean }): void {
    if (this.closed) return;
    if (opts.notify && this.waiting !== undefined) {
      for (const wr of this.waiting.all()) this.status(wr.reply, 409, "Consumer Deleted");
    }
    this.closed = true;
    this.waiting?.clear();
    for (const t of [this.redeliverTimer, this.waitTimer, this.deleteTimer, this.pauseTimer, this.runTimer]) {
      if (t !== undefined) clearTimeout(t);
    }
    if (this.hbTimer !== undefined) clearTimeout(this.hbTimer);
    this.store.close(opts.saveState ? this.state.encode() : undefined);
  }

  /** Does this consumer still need `seq` (interest retention)? */
  needs(seq: number, subject: string): boolean {
    if (this.closed || !this.match(subject)) return false;
    const s = this.state;
    if (seq <= s.asflr && !this.lssSet.has(seq)) return false;
    if (this.config.ack_policy !== "explicit") return true;
    return seq >= s.sseq || s.pending.has(seq) || this.lssSet.has(seq);
  }

  matches(subject: string): boolean {
    return this.match(subject);
  }

  get filters(): string[] {
    return filtersOf(this.config);
  }
}

function filterArg(filters: string[]): string | string[] | undefined {
  if (filters.length === 0) return undefined;
  if (filters.length === 1) return filters[0] === ">" ? undefined : filters[0];
  return filters;
}
