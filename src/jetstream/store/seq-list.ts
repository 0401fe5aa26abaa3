// An ascending list of sequences (one subject's live messages). Appends go at the tail; removals are
// mostly at the head (limits, age, work queues), which only moves `head`; others shift the tail down.
//
// Most lists are runs of consecutive sequences (a stream with one subject, a KV key with one revision):
// those are held as just their bounds, with no buffer at all, until a gap appears.

export class SeqList {
  /** Array mode: the sequences are buf[head, tail). Run mode (buf undefined): runLo..runHi. */
  private buf: Float64Array | undefined;
  private head = 0;
  private tail = 0;
  private runLo = 0;
  /** runHi < runLo: empty. */
  private runHi = -1;

  get length(): number {
    if (this.buf === undefined) return this.runHi >= this.runLo ? this.runHi - this.runLo + 1 : 0;
    return this.tail - this.head;
  }

  /** Sequence at position i (0 = oldest). */
  at(i: number): number {
    return this.buf === undefined ? this.runLo + i : this.buf[this.head + i];
  }

  first(): number {
    if (this.buf === undefined) return this.runHi >= this.runLo ? this.runLo : 0;
    return this.tail > this.head ? this.buf[this.head] : 0;
  }

  last(): number {
    if (this.buf === undefined) return this.runHi >= this.runLo ? this.runHi : 0;
    return this.tail > this.head ? this.buf[this.tail - 1] : 0;
  }

  /** Append a sequence greater than every one held. */
  push(seq: number): void {
    if (this.buf === undefined) {
      if (this.runHi < this.runLo) {
        this.runLo = seq;
        this.runHi = seq;
        return;
      }
      if (seq === this.runHi + 1) {
        this.runHi = seq;
        return;
      }
      this.toArray(this.length + 1);
    }
    const buf = this.buf as Float64Array;
    if (this.tail === buf.length) this.grow();
    (this.buf as Float64Array)[this.tail++] = seq;
  }

  /** Position of the first sequence >= seq (length when none). */
  lowerBound(seq: number): number {
    if (this.buf === undefined) {
      if (this.runHi < this.runLo || seq <= this.runLo) return 0;
      return seq > this.runHi ? this.runHi - this.runLo + 1 : seq - this.runLo;
    }
    const buf = this.buf;
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buf[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** First sequence >= seq, or 0. */
  nextFrom(seq: number): number {
    const i = this.lowerBound(seq);
    return i < this.length ? this.at(i) : 0;
  }

  /** Last sequence <= seq, or 0. */
  lastUpTo(seq: number): number {
    const i = this.lowerBound(seq + 1);
    return i > 0 ? this.at(i - 1) : 0;
  }

  countFrom(seq: number): number {
    return this.length - this.lowerBound(seq);
  }

  remove(seq: number): boolean {
    if (this.buf === undefined) {
      if (this.runHi < this.runLo || seq < this.runLo || seq > this.runHi) return false;
      if (seq === this.runLo) this.runLo++;
      else if (seq === this.runHi) this.runHi--;
      else {
        this.toArray(this.length);
        return this.remove(seq);
      }
      if (this.runHi < this.runLo) {
        this.runLo = 0;
        this.runHi = -1;
      }
      return true;
    }
    const buf = this.buf;
    if (this.tail === this.head) return false;
    if (buf[this.head] === seq) {
      this.head++;
      if (this.head === this.tail) this.toRun();
      return true;
    }
    const i = this.head + this.lowerBound(seq);
    if (i >= this.tail || buf[i] !== seq) return false;
    buf.copyWithin(i, i + 1, this.tail);
    this.tail--;
    return true;
  }

  /** Leave run mode: the run's sequences into a buffer with room for `want`. */
  private toArray(want: number): void {
    let cap = 2;
    while (cap < want) cap *= 2;
    const buf = new Float64Array(cap);
    const n = this.length;
    for (let i = 0; i < n; i++) buf[i] = this.runLo + i;
    this.buf = buf;
    this.head = 0;
    this.tail = n;
    this.runLo = 0;
    this.runHi = -1;
  }

  /** Empty: back to run mode, releasing the buffer. */
  private toRun(): void {
    this.buf = undefined;
    this.head = 0;
    this.tail = 0;
    this.runLo = 0;
    this.runHi = -1;
  }

  private grow(): void {
    const buf = this.buf as Float64Array;
    const n = this.length;
    if (n * 2 <= buf.length) {
      // At least half the buffer is consumed head: reuse it instead of growing.
      buf.copyWithin(0, this.head, this.tail);
    } else {
      const next = new Float64Array(buf.length * 2);
      next.set(buf.subarray(this.head, this.tail));
      this.buf = next;
    }
    this.head = 0;
    this.tail = n;
  }
}
