// Ack tracking: what was delivered and awaits its ack (pending), the ack floor, the redelivery queue,
// the ack protocol (+ACK, -NAK, +WPI, +NXT, +TERM, ack policies explicit / all / none), max_deliver
// exhaustion, and the timer that queues expired deliveries for redelivery.

import type { AckPayload, AckTarget } from "./ack.js";
import { ConsumerCore, EMPTY } from "./consumer-core.js";
import { deadLetter } from "./dead-letter.js";

export abstract class AckTracking extends ConsumerCore {
  /** A message used up max_deliver: advisory, dead letter, and it leaves the pending list. */
  protected exhausted(seq: number, deliveries: number): void {
    this.host.advisories.maxDeliveries(this.stream.name, this.name, seq, deliveries);
    const dl = this.config.dead_letter_subject;
    if (dl !== undefined) {
      const msg = this.stream.store.get(seq);
      if (msg !== undefined) {
        deadLetter(this.host.client, dl, this.stream.name, this.name, msg, deliveries, "max_deliveries");
      }
    }
    this.dropPending(seq);
    this.store.update(this.state);
  }

  // ---- pending / ack floor bookkeeping -----------------------------------------------------------------

  protected rdqShift(): void {
    const seq = this.rdq.shift();
    if (seq !== undefined) this.rdqSet.delete(seq);
  }

  protected rdqRemove(seq: number): void {
    if (!this.rdqSet.delete(seq)) return;
    const i = this.rdq.indexOf(seq);
    if (i >= 0) this.rdq.splice(i, 1);
  }

  protected rdqAdd(seq: number): void {
    if (this.rdqSet.has(seq)) return;
    this.rdqSet.add(seq);
    this.rdq.push(seq);
  }

  /** Remove a pending entry (acked, terminated, gone); the state moves the ack floor past it when possible. */
  protected override dropPending(seq: number): void {
    if (!this.state.pending.has(seq)) return;
    this.rdqRemove(seq);
    this.state.dropPending(seq);
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

  protected ack(sseq: number, dseq: number): boolean {
    const s = this.state;
    const c = this.config;
    if (c.ack_policy === "explicit") {
      if (!s.pending.has(sseq)) return false;
      const wasFull = this.atMaxAckPending();
      this.rdqRemove(sseq);
      this.store.updateAcks(dseq, sseq);
      this.lat = Date.now();
      if (this.stream.config.retention !== "limits") this.host.retire(this, [sseq]);
      if (wasFull || this.rdq.length > 0) this.kick();
      return true;
    }
    if (c.ack_policy === "all") {
      if (dseq <= s.adflr || sseq <= s.asflr) return false;
      const wasFull = this.atMaxAckPending();
      const from = s.asflr;
      const done: number[] = [];
      if (this.rdq.length > 0) for (const k of s.pending.keys()) if (k <= sseq) this.rdqRemove(k);
      this.store.updateAcks(dseq, sseq);
      this.lat = Date.now();
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

  protected nak(sseq: number, dseq: number, dc: number, delayMs: number | undefined): void {
    const s = this.state;
    if (dseq <= s.adflr || dseq > s.dseq) return;
    const p = s.pending.get(sseq);
    if (p === undefined) return;
    this.host.advisories.nak(this.stream.name, this.name, sseq, dseq, dc);
    if (delayMs !== undefined && delayMs > 0) {
      this.rdqRemove(sseq);
      p.due = Date.now() + delayMs;
      this.armRedelivery(p.due);
      this.store.update(s);
      return;
    }
    this.rdqAdd(sseq);
    this.kick();
  }

  protected progress(sseq: number): void {
    const p = this.state.pending.get(sseq);
    if (p === undefined) return;
    const now = Date.now();
    // A progress ack restarts the ack wait: the same delivery, at a new time.
    this.store.updateDelivered(p.dseq, sseq, this.deliveriesOf(sseq), now);
    p.due = now + this.waitFor(this.deliveriesOf(sseq));
    this.rdqRemove(sseq);
    this.armRedelivery(p.due);
  }

  protected term(sseq: number, dseq: number, dc: number, reason: string | undefined): void {
    const dl = this.config.dead_letter_subject;
    const msg = dl !== undefined && this.state.pending.has(sseq) ? this.stream.store.get(sseq) : undefined;
    if (!this.ack(sseq, dseq) && this.config.ack_policy !== "none") return;
    if (msg !== undefined) {
      deadLetter(this.host.client, dl!, this.stream.name, this.name, msg, dc, "terminated", reason);
    }
    this.host.advisories.terminated(this.stream.name, this.name, sseq, dseq, dc, reason);
  }

  // ---- redelivery timer -------------------------------------------------------------------------------

  protected armRedelivery(due: number): void {
    if (this.closed) return;
    if (this.redeliverTimer !== undefined && this.redeliverAt <= due) return;
    if (this.redeliverTimer !== undefined) clearTimeout(this.redeliverTimer);
    this.redeliverAt = due;
    this.redeliverTimer = setTimeout(() => this.checkPending(), Math.max(0, due - Date.now()) + 1);
  }

  protected rearmRedeliveries(): void {
    let min = Number.MAX_SAFE_INTEGER;
    for (const p of this.state.pending.values()) if (p.due < min) min = p.due;
    if (min !== Number.MAX_SAFE_INTEGER) this.armRedelivery(min);
  }

  /** Queue every pending message whose ack wait is over; arm the timer for the next one. */
  protected checkPending(): void {
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
}
