// An ascending list of sequences (one subject's live messages). Appends go at the tail; removals are
// mostly at the head (limits, age, work queues), which only moves `head`; others shift the tail down.

export class SeqList {
  private buf: Float64Array;
  private head = 0;
  private tail = 0;

  constructor(capacity = 2) {
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.tail - this.head;
  }

  /** Sequence at position i (0 = oldest). */
  at(i: number): number {
    return this.buf[this.head + i];
  }

  first(): number {
    return this.tail > this.head ? this.buf[this.head] : 0;
  }

  last(): number {
    return this.tail > this.head ? this.buf[this.tail - 1] : 0;
  }

  /** Append a sequence greater than every one held. */
  push(seq: number): void {
    if (this.tail === this.buf.length) this.grow();
    this.buf[this.tail++] = seq;
  }

  /** Position of the first sequence >= seq (length when none). */
  lowerBound(seq: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buf[mid] < seq) lo = mid + 1;
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
    if (this.tail === this.head) return false;
    if (this.buf[this.head] === seq) {
      this.head++;
      if (this.head === this.tail) this.head = this.tail = 0;
      return true;
    }
    const i = this.head + this.lowerBound(seq);
    if (i >= this.tail || this.buf[i] !== seq) return false;
    this.buf.copyWithin(i, i + 1, this.tail);
    this.tail--;
    return true;
  }

  private grow(): void {
    const n = this.length;
    if (n * 2 <= this.buf.length) {
      // At least half the buffer is consumed head: reuse it instead of growing.
      this.buf.copyWithin(0, this.head, this.tail);
    } else {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf.subarray(this.head, this.tail));
      this.buf = next;
    }
    this.head = 0;
    this.tail = n;
  }
}
