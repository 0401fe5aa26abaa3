// The delivery loop: stream appends, acks and pull requests only "kick" it; it runs as a microtask, picks
// the next message (redeliveries first, then a last-per-subject list, then new messages), sends it to a
// waiting pull request or the deliver subject, and yields to I/O after a bounded amount of work. Replay
// "original" holds messages back to their original spacing.

import { appendHeaders } from "../headers.js";
import type { StoredMessage } from "../store/index.js";
import { NS_PER_MS } from "./config.js";
import { EMPTY, nowNs } from "./consumer-core.js";
import type { WaitingRequest } from "./pull-queue.js";
import { PushDelivery } from "./push-delivery.js";

/** Messages one run of the delivery loop sends before yielding to I/O. */
const RUN_BUDGET_MSGS = 256;
const RUN_BUDGET_BYTES = 4 * 1024 * 1024;

/** What kind of message nextCandidate found (in `candKind`). */
const CAND_REDELIVER = 1;
const CAND_LSS = 2;
const CAND_NEW = 3;

export abstract class Delivery extends PushDelivery {
  override kick(): void {
    if (this.runScheduled || this.closed) return;
    this.runScheduled = true;
    queueMicrotask(() => this.run());
  }

  protected isPaused(): boolean {
    const pu = this.config.pause_until;
    return pu !== undefined && pu > nowNs();
  }

  protected run(): void {
    this.runScheduled = false;
    if (this.closed || this.runTimer !== undefined) return;
    if (this.isPaused()) {
      if (this.isPull) this.processWaiting(false);
      return;
    }
    const isPull = this.isPull;
    const now = Date.now();
    let msgs = 0;
    let bytes = 0;
    let eos = false;
    try {
      while (true) {
        if (msgs >= RUN_BUDGET_MSGS || bytes >= RUN_BUDGET_BYTES) {
          this.runTimer = setImmediate(() => {
            this.runTimer = undefined;
            this.run();
          }) as unknown as NodeJS.Timeout;
          return;
        }
        if (isPull) {
          if (this.waiting!.length === 0) break;
        } else if (!this.active || (this.fc !== undefined && this.fc.pbytes > this.fc.maxpb)) {
          break;
        }
        const msg = this.nextCandidate();
        if (msg === undefined) {
          eos = !this.atMaxAckPending();
          break;
        }
        if (this.replayUpTo > 0 && !this.replayWait(msg)) return;
        const sent = this.deliver(msg, now);
        if (sent < 0) break;
        msgs++;
        bytes += sent;
      }
      if (isPull) this.processWaiting(eos);
    } finally {
      if (msgs > 0) {
        this.ldt = now;
        this.lastActivity = now;
      }
    }
  }

  /** Replay original: false (and a timer set) when this message must wait for its original spacing. */
  protected replayWait(msg: StoredMessage): boolean {
    if (this.state.sseq > this.replayUpTo && this.candKind === CAND_NEW && msg.seq > this.replayUpTo) {
      this.replayUpTo = 0;
      return true;
    }
    if (this.replayLastMs === 0) return true;
    const now = Date.now();
    if (this.replayHold === 0) {
      const gapMs = msg.time + msg.subNs / NS_PER_MS - this.replayLastMs;
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

  /** The next message to send, without committing to it (its kind and delivery count go to cand*). */
  protected nextCandidate(): StoredMessage | undefined {
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
      this.candKind = CAND_REDELIVER;
      this.candDc = dc;
      return msg;
    }
    if (this.atMaxAckPending()) return undefined;
    const lss = s.lss;
    if (lss !== undefined) {
      while (lss.at < lss.seqs.length) {
        const seq = lss.seqs[lss.at];
        const msg = this.lssSet.has(seq) ? store.get(seq) : undefined;
        if (msg !== undefined) {
          this.candKind = CAND_LSS;
          this.candDc = 1;
          return msg;
        }
        this.lssSet.delete(seq);
        lss.at++;
      }
      s.lss = undefined;
      this.lssSet.clear();
    }
    const filter = this.storeFilter();
    while (true) {
      const seq = store.nextSeq(s.sseq, filter);
      if (seq === 0) {
        const last = store.state().lastSeq;
        if (s.sseq <= last) s.sseq = last + 1;
        return undefined;
      }
      const msg = store.get(seq);
      if (msg !== undefined) {
        this.candKind = CAND_NEW;
        this.candDc = 1;
        return msg;
      }
      s.sseq = seq + 1;
    }
  }

  /** Send what nextCandidate found; returns the bytes sent, or -1 when there was nobody to send it to. */
  protected deliver(msg: StoredMessage, now: number): number {
    const s = this.state;
    const c = this.config;
    const dc = this.candDc;
    const pendingAfter = Math.max(0, dc === 1 ? this.npc - 1 : this.npc);
    const dseq = s.dseq;
    // `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>` (ack.ts)
    const reply = this.ackReply.write(dc, msg.seq, dseq, msg.time, msg.subNs, pendingAfter);
    let hdrs: Uint8Array | undefined;
    let body = msg.end - msg.start;
    if (c.headers_only) {
      hdrs = appendHeaders(msg.headers, [["Nats-Msg-Size", String(msg.end - msg.start - msg.hdrLen)]]);
      body = hdrs.length;
    }
    let target: string;
    let wr: WaitingRequest | undefined;
    if (this.waiting !== undefined) {
      wr = this.nextWaiting(msg.subject.length + reply.length + body, now);
      if (wr === undefined) return -1;
      target = wr.reply;
      if (c.priority_policy === "pinned_client" && this.pin.id !== "") {
        // The pinned client learns (and keeps) its pin id from every message it gets.
        hdrs = appendHeaders(hdrs ?? msg.headers, [["Nats-Pin-Id", this.pin.id]]);
        body = hdrs.length + (c.headers_only ? 0 : msg.end - msg.start - msg.hdrLen);
      }
    } else {
      target = c.deliver_subject!;
    }
    // Commit: the store's delivery operation moves the sequences (and the skip list) on.
    switch (this.candKind) {
      case CAND_REDELIVER:
        this.rdqShift();
        break;
      case CAND_LSS:
        this.lssSet.delete(msg.seq);
        this.npc--;
        break;
      default:
        this.npc--;
        break;
    }
    const pending = this.store.updateDelivered(dseq, msg.seq, dc, now);
    if (this.candKind === CAND_LSS && s.lss === undefined) this.lssSet.clear();
    if (this.replayUpTo > 0) this.replayLastMs = msg.time + msg.subNs / NS_PER_MS;
    if (hdrs === undefined) {
      this.host.client.publishBytes(target, reply, msg.buf, msg.start, msg.hdrLen, msg.end, msg.subject);
    } else {
      this.host.client.publish(target, reply, c.headers_only ? EMPTY : msg.data, hdrs, msg.subject);
    }
    if (pending === undefined) {
      if (this.stream.config.retention !== "limits") this.host.retire(this, [msg.seq]);
    } else {
      const due = now + this.waitFor(dc);
      pending.due = due;
      this.armRedelivery(due);
    }
    if (wr !== undefined) {
      if (wr.n > 0 && wr.heartbeatMs > 0) wr.hbAt = now + wr.heartbeatMs;
      if (wr.n <= 0 && wr.b > 0) {
        this.status(wr.reply, 409, "Batch Completed", wr.n, wr.b);
      }
    }
    const psz = target.length + reply.length + body;
    const fc = this.fc;
    if (fc !== undefined) {
      fc.pbytes += psz;
      if (fc.fcid === "" && fc.pbytes > fc.maxpb / 2) this.sendFlowControl();
      else if (fc.fcid !== "" && fc.pbytes - fc.fcsz >= fc.maxpb) fc.fcsz += psz;
    }
    return psz;
  }
}
