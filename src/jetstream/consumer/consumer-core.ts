// The state every part of a consumer shares, and the parts that only read the stream: where delivery
// starts (deliver policy), how a restored state is made consistent, and the stream's events (appended,
// removed, purged). The rest of a consumer is layered on top, one concern per file:
//   ack-tracking.ts   — pending acks, the ack floor, acks / naks / terms, the redelivery timer
//   pull-requests.ts  — pull requests waiting for messages (CONSUMER.MSG.NEXT)
//   push-delivery.ts  — deliver-subject interest, idle heartbeats, flow control
//   delivery.ts       — the delivery loop: choosing the next message and sending it
//   consumer.ts       — lifecycle (start, update, pause, inactivity, stop) and info
// Fields all live here (subclass field declarations would be reset after this constructor runs).

import type { Logger } from "../../logger.js";
import type { InternalClient } from "../../server/internal-client.js";
import { isSubsetMatch } from "../../subjects/pattern.js";
import type { Stream } from "../stream.js";
import type { StreamConfig } from "../stream-config.js";
import { ACK_PREFIX } from "./ack.js";
import { AckReplyWriter } from "./ack-reply.js";
import type { ConsumerAdvisories } from "./advisories.js";
import { type ConsumerConfig, DEFAULT_ACK_WAIT_NS, filtersOf, isPush, NS_PER_MS } from "./config.js";
import { compileFilter, type SubjectFilter } from "./filter.js";
import { PinnedClient } from "./pinned-client.js";
import { WaitQueue } from "./pull-queue.js";
import type { ConsumerState } from "./state.js";
import type { ConsumerStore } from "./store.js";

export const EMPTY = new Uint8Array(0);

/** What a consumer needs from the set of consumers of its stream. */
export interface ConsumerHost {
  readonly stream: Stream;
  readonly client: InternalClient;
  readonly logger: Logger;
  readonly advisories: ConsumerAdvisories;
  /** Messages this consumer is done with (interest / work-queue retention). */
  retire(c: ConsumerCore, seqs: readonly number[]): void;
  /** The consumer went inactive past its threshold: delete it. */
  expire(c: ConsumerCore): void;
  /** Does anybody listen on `subject`? */
  hasInterest(subject: string, queue?: string): boolean;
}

export interface FlowControl {
  maxpb: number;
  pbytes: number;
  fcid: string;
  fcsz: number;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

export abstract class ConsumerCore {
  readonly name: string;
  config: ConsumerConfig;
  readonly created: bigint;
  state: ConsumerState;
  closed = false;
  /** Messages matching the filter not yet delivered (num_pending). */
  protected npc = 0;
  /** The stream's last sequence when npc was last counted from the store. */
  protected countedThrough = 0;
  protected match: SubjectFilter;
  protected filterArg: string | string[] | undefined;
  protected readonly rdq: number[] = [];
  protected readonly rdqSet = new Set<number>();
  protected lssSet = new Set<number>();
  protected waiting: WaitQueue | undefined;
  protected active = false;
  protected fc: FlowControl | undefined;
  protected runScheduled = false;
  protected runTimer: NodeJS.Timeout | undefined;
  protected redeliverTimer: NodeJS.Timeout | undefined;
  protected redeliverAt = 0;
  protected waitTimer: NodeJS.Timeout | undefined;
  protected hbTimer: NodeJS.Timeout | undefined;
  protected deleteTimer: NodeJS.Timeout | undefined;
  protected pauseTimer: NodeJS.Timeout | undefined;
  /** Delete threshold in ms (0 = never). */
  protected dthresh = 0;
  protected lastActivity = 0;
  /** Last delivery / last ack (ms since the epoch), for info. */
  protected ldt = 0;
  protected lat = 0;
  /** Replay original: hold deliveries until their original spacing, while catching up to this seq. */
  protected replayUpTo = 0;
  /** Replay original: the last delivered message's timestamp in ms (with the sub-ms part as a fraction). */
  protected replayLastMs = 0;
  protected replayHold = 0;
  /** The pinned client of a "pinned_client" priority group. */
  protected readonly pin: PinnedClient;
  /** Writes each delivery's `$JS.ACK.<stream>.<consumer>....` reply subject. */
  protected readonly ackReply: AckReplyWriter;
  /** What nextCandidate found (saves an object per delivery): a CAND_* kind and the delivery count. */
  protected candKind = 0;
  protected candDc = 0;
  /** The stream config `filterCovers` was worked out for, and whether the filter selects every message. */
  private coverFor: StreamConfig | undefined;
  private filterCovers = false;

  constructor(
    protected readonly host: ConsumerHost,
    name: string,
    config: ConsumerConfig,
    created: bigint,
    readonly store: ConsumerStore,
    /** The store holds a state read back from disk (else a fresh one). */
    restored: boolean,
  ) {
    this.name = name;
    this.config = config;
    this.created = created;
    const filters = filtersOf(config);
    this.match = compileFilter(filters);
    this.filterArg = filterArg(filters);
    this.ackReply = new AckReplyWriter(`${ACK_PREFIX}${host.stream.name}.${name}.`);
    this.pin = new PinnedClient(() => {
      const group = this.config.priority_groups?.[0] ?? "";
      this.host.advisories.unpinned(this.stream.name, this.name, group, "timeout");
      this.kick();
    });
    this.state = store.state();
    if (!isPush(config)) this.waiting = new WaitQueue(config.max_waiting ?? 0);
    this.updateInactiveThreshold();
    if (!restored) this.selectStart();
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

  // ---- provided by the layers above ----------------------------------------------------------------

  /** Schedule a run of the delivery loop. */
  abstract kick(): void;
  /** A pull request (CONSUMER.MSG.NEXT, or the request following +NXT). */
  abstract pullRequest(reply: string, data: Uint8Array): void;
  /** Remove a pending entry and move the ack floor past it when possible. */
  protected abstract dropPending(seq: number): void;
  protected abstract updateInactiveThreshold(): void;

  // ---- starting point -------------------------------------------------------------------------------

  protected selectStart(): void {
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
    this.store.update(s);
  }

  /** Make a restored state consistent with what the stream holds now. */
  protected afterRestore(): void {
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

  protected countPending(): number {
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
      this.store.update(s);
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
    this.store.update(s);
    this.kick();
  }

  /**
   * The filter to walk the store with: undefined when the consumer's filter selects every message the
   * stream holds and can get (its subjects all fall under the filter, nothing arrives from mirrors, sources
   * or a subject transform, and every stored message matches), so the walk skips per-subject matching.
   * Worked out again whenever the stream's config or the consumer's filter changes.
   */
  protected storeFilter(): string | string[] | undefined {
    const f = this.filterArg;
    if (f === undefined) return undefined;
    const sc = this.stream.config;
    if (sc !== this.coverFor) {
      this.coverFor = sc;
      this.filterCovers = this.filterCoversStream(sc, Array.isArray(f) ? f : [f]);
    }
    return this.filterCovers ? undefined : f;
  }

  /** Forget the cached filter coverage (the consumer's filter changed). */
  protected filterChanged(): void {
    this.coverFor = undefined;
  }

  private filterCoversStream(sc: StreamConfig, filters: readonly string[]): boolean {
    const subjects = sc.subjects ?? [];
    if (subjects.length === 0 || sc.mirror !== undefined || (sc.sources?.length ?? 0) > 0) return false;
    if (sc.subject_transform !== undefined) return false;
    for (const subject of subjects) if (!filters.some((f) => isSubsetMatch(subject, f))) return false;
    // Messages stored under subjects the stream no longer has (an update) may still be there.
    const store = this.stream.store;
    return store.numPending(1, this.filterArg) === store.state().messages;
  }

  protected atMaxAckPending(): boolean {
    const max = this.config.max_ack_pending ?? 0;
    return max > 0 && this.state.pending.size >= max;
  }

  /** How long a delivery with this count waits for its ack (ms). */
  protected waitFor(dc: number): number {
    const bo = this.config.backoff;
    if (bo !== undefined && bo.length > 0) return bo[Math.min(dc - 1, bo.length - 1)] / NS_PER_MS;
    return (this.config.ack_wait ?? DEFAULT_ACK_WAIT_NS) / NS_PER_MS;
  }

  protected deliveriesOf(seq: number): number {
    return (this.state.rdc.get(seq) ?? 0) + 1;
  }
}

export function filterArg(filters: string[]): string | string[] | undefined {
  if (filters.length === 0) return undefined;
  if (filters.length === 1) return filters[0] === ">" ? undefined : filters[0];
  return filters;
}
