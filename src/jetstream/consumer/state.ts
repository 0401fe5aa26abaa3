// A consumer's delivery state: the next consumer and stream sequences, the ack floors, the messages
// delivered but not yet acknowledged (pending, with their consumer sequence and delivery time), the
// redelivery counts and, for deliver last-per-subject, the list of messages still to send first.
//
// It changes through two operations, a delivery and an ack (`delivered`, `acked`), so that a replica that
// applies the same operations in the same order ends with the same state; other changes (where delivery
// resumes after a purge, a dropped pending entry) are whole-state updates. Its stored form is the binary
// record of state-codec.ts; `decodeLegacy` reads the JSON that older versions wrote.

export interface PendingEntry {
  /** Consumer sequence of the latest delivery. */
  dseq: number;
  /** Time of the latest delivery (ms since the epoch). */
  ts: number;
  /** When this delivery is due for redelivery (ms since the epoch). */
  due: number;
}

export interface SkipList {
  /** Stream sequences still to deliver, ascending, from index `at`. */
  seqs: number[];
  at: number;
  /** The stream's last sequence when the list was made: new messages start after it. */
  resume: number;
}

export class ConsumerState {
  /** Next consumer (delivery) sequence. */
  dseq = 1;
  /** Next stream sequence to look at. */
  sseq = 1;
  /** Ack floors: everything at or below is acknowledged. */
  adflr = 0;
  asflr = 0;
  readonly pending = new Map<number, PendingEntry>();
  /** Stream seq -> redeliveries so far. */
  readonly rdc = new Map<number, number>();
  lss: SkipList | undefined;
  /** Last stream sequence delivered (for info while a skip list is being sent). */
  lastDelivered = 0;

  /**
   * A message was delivered as consumer sequence `dseq` (its `dc`-th delivery) at `ts` (ms). A new
   * delivery (dseq at or past the next one) moves the delivered sequences on; an older one (progress)
   * only refreshes its pending entry. Returns the pending entry (undefined with ack policy none, where a
   * delivery is its own ack); its `due` is the caller's to set.
   */
  delivered(dseq: number, sseq: number, dc: number, ts: number, ackNone: boolean): PendingEntry | undefined {
    if (dseq >= this.dseq) {
      this.dseq = dseq + 1;
      this.lastDelivered = sseq;
      const lss = this.lss;
      if (lss !== undefined && lss.seqs[lss.at] === sseq) {
        if (++lss.at >= lss.seqs.length) this.lss = undefined;
      } else if (sseq >= this.sseq) {
        this.sseq = sseq + 1;
      }
    }
    if (ackNone) {
      this.adflr = dseq;
      this.asflr = sseq;
      return undefined;
    }
    if (dc > 1) this.rdc.set(sseq, dc - 1);
    const p = this.pending.get(sseq);
    if (p !== undefined) {
      p.dseq = dseq;
      p.ts = ts;
      return p;
    }
    const entry = { dseq, ts, due: 0 };
    this.pending.set(sseq, entry);
    return entry;
  }

  /**
   * An ack of stream sequence `sseq` (consumer sequence `dseq`): with policy "explicit" that one message,
   * with "all" everything up to it. False when it acknowledged nothing.
   */
  acked(dseq: number, sseq: number, policy: "explicit" | "all"): boolean {
    if (policy === "explicit") return this.dropPending(sseq);
    if (dseq <= this.adflr || sseq <= this.asflr) return false;
    for (const k of [...this.pending.keys()]) {
      if (k <= sseq) {
        this.pending.delete(k);
        this.rdc.delete(k);
      }
    }
    this.adflr = dseq;
    this.asflr = sseq;
    if (this.pending.size === 0 && this.lss === undefined) {
      this.adflr = this.dseq - 1;
      this.asflr = Math.max(sseq, this.sseq - 1);
    }
    return true;
  }

  /** Remove a pending entry (acked, terminated, gone) and move the ack floor past it when possible. */
  dropPending(sseq: number): boolean {
    const p = this.pending.get(sseq);
    if (p === undefined) return false;
    this.pending.delete(sseq);
    this.rdc.delete(sseq);
    this.advanceFloor(sseq);
    return true;
  }

  private advanceFloor(sseq: number): void {
    if (this.pending.size === 0) {
      this.adflr = this.dseq - 1;
      this.asflr = this.lss !== undefined ? Math.max(this.asflr, sseq) : Math.max(this.asflr, this.sseq - 1);
      return;
    }
    if (sseq <= this.asflr) return;
    // Only when the lowest pending message left does the floor move: up to just below the next one.
    if (this.lowestPending(this.asflr + 1, sseq) !== 0) return;
    const low = this.lowestPending(sseq + 1, Number.MAX_SAFE_INTEGER);
    const lp = this.pending.get(low);
    if (lp === undefined) return;
    if (low - 1 > this.asflr) this.asflr = low - 1;
    if (lp.dseq - 1 > this.adflr) this.adflr = lp.dseq - 1;
  }

  /** Lowest pending stream sequence in [from, to), 0 when none (walks the range or the map, whichever is shorter). */
  private lowestPending(from: number, to: number): number {
    const pending = this.pending;
    const end = Math.min(to, this.sseq);
    if (end - from <= pending.size) {
      for (let q = from; q < end; q++) if (pending.has(q)) return q;
      return 0;
    }
    let low = 0;
    for (const k of pending.keys()) if (k >= from && k < to && (low === 0 || k < low)) low = k;
    return low;
  }

  /** A deep copy (a store hands out copies of what it keeps, so callers cannot change it behind its back). */
  clone(): ConsumerState {
    const c = new ConsumerState();
    c.dseq = this.dseq;
    c.sseq = this.sseq;
    c.adflr = this.adflr;
    c.asflr = this.asflr;
    for (const [k, p] of this.pending) c.pending.set(k, { ...p });
    for (const [k, n] of this.rdc) c.rdc.set(k, n);
    if (this.lss !== undefined)
      c.lss = { seqs: [...this.lss.seqs], at: this.lss.at, resume: this.lss.resume };
    c.lastDelivered = this.lastDelivered;
    return c;
  }

  /** The JSON form older versions stored (kept for tests of reading it back). */
  encodeLegacy(): string {
    const p: number[] = [];
    for (const [s, e] of this.pending) p.push(s, e.dseq, e.ts);
    const r: number[] = [];
    for (const [s, n] of this.rdc) r.push(s, n);
    const o: Record<string, unknown> = {
      v: 1,
      dseq: this.dseq,
      sseq: this.sseq,
      adflr: this.adflr,
      asflr: this.asflr,
      p,
      r,
    };
    if (this.lss !== undefined && this.lss.at < this.lss.seqs.length) {
      o.lss = { r: this.lss.resume, s: this.lss.seqs.slice(this.lss.at) };
    }
    if (this.lastDelivered > 0) o.ld = this.lastDelivered;
    return JSON.stringify(o);
  }

  /** Restore from the JSON older versions stored; `due` is rebuilt by the caller. Throws on malformed input. */
  static decodeLegacy(text: string): ConsumerState {
    const o = JSON.parse(text) as Record<string, unknown>;
    const num = (v: unknown): number => {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new Error("bad consumer state");
      return v;
    };
    if (o.v !== 1) throw new Error("unknown consumer state version");
    const st = new ConsumerState();
    st.dseq = Math.max(1, num(o.dseq));
    st.sseq = Math.max(1, num(o.sseq));
    st.adflr = num(o.adflr);
    st.asflr = num(o.asflr);
    const p = Array.isArray(o.p) ? o.p : [];
    for (let i = 0; i + 2 < p.length; i += 3) {
      st.pending.set(num(p[i]), { dseq: num(p[i + 1]), ts: num(p[i + 2]), due: 0 });
    }
    const r = Array.isArray(o.r) ? o.r : [];
    for (let i = 0; i + 1 < r.length; i += 2) st.rdc.set(num(r[i]), num(r[i + 1]));
    const lss = o.lss as { r?: unknown; s?: unknown } | undefined;
    if (lss !== undefined && Array.isArray(lss.s) && lss.s.length > 0) {
      st.lss = { seqs: lss.s.map(num), at: 0, resume: num(lss.r) };
    }
    if (o.ld !== undefined) st.lastDelivered = num(o.ld);
    return st;
  }
}
