// A consumer's delivery state: the next consumer and stream sequences, the ack floors, the messages
// delivered but not yet acknowledged (pending, with their consumer sequence and delivery time), the
// redelivery counts and, for deliver last-per-subject, the list of messages still to send first. It is
// encoded as JSON for the consumer's state file (see store.ts).

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

  encode(): string {
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

  /** Restore from `encode()` output; `due` is rebuilt by the caller. Throws on malformed input. */
  static decode(text: string): ConsumerState {
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
