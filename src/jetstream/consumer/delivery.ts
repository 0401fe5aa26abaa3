// The delivery loop: stream appends, acks and pull requests only "kick" it; it runs as a microtask, picks
// the next message (redeliveries first, then a last-per-subject list, then new messages), sends it to a
// waiting pull request or the deliver subject, and yields to I/O after a bounded amount of work. Replay
// "original" holds messages back to their original spacing.

import { appendHeaders } from "../headers.js";
import type { StoredMessage } from "../store/index.js";
import { ackSubject } from "./ack.js";
import { NS_PER_MS } from "./config.js";
import { EMPTY, nowNs } from "./consumer-core.js";
import type { WaitingRequest } from "./pull-queue.js";
import { PushDelivery } from "./push-delivery.js";

/** Messages one run of the delivery loop sends before yielding to I/O. */
const RUN_BUDGET_MSGS = 256;
const RUN_BUDGET_BYTES = 4 * 1024 * 1024;

interface Candidate {
  kind: "redeliver" | "lss" | "new";
  msg: StoredMessage;
  dc: number;
}

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

  /** Replay original: false (and a timer set) when this message must wait for its original spacing. */
  protected replayWait(cand: Candidate): boolean {
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
  protected nextCandidate(): Candidate | undefined {
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
  protected deliver(cand: Candidate): number {
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
}
