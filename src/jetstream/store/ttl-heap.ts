// Min-heap of (deadline, seq) for per-message TTLs. Entries of messages removed for other reasons stay
// until they surface; the store checks the message is still there with the same deadline.

export class TtlHeap {
  private at: number[] = [];
  private seqs: number[] = [];

  get size(): number {
    return this.at.length;
  }

  push(deadline: number, seq: number): void {
    let i = this.at.length;
    this.at.push(deadline);
    this.seqs.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.at[parent] <= deadline) break;
      this.move(parent, i);
      i = parent;
    }
    this.at[i] = deadline;
    this.seqs[i] = seq;
  }

  /** Earliest deadline, or undefined. */
  peek(): number | undefined {
    return this.at[0];
  }

  peekSeq(): number {
    return this.seqs[0];
  }

  pop(): void {
    const lastAt = this.at.pop() as number;
    const lastSeq = this.seqs.pop() as number;
    const n = this.at.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.at[child + 1] < this.at[child]) child++;
      if (this.at[child] >= lastAt) break;
      this.move(child, i);
      i = child;
    }
    this.at[i] = lastAt;
    this.seqs[i] = lastSeq;
  }

  /** Keep only the entries whose seq passes `keep` (a truncate: sequences above it may be reused). */
  retain(keep: (seq: number) => boolean): void {
    const at = this.at;
    const seqs = this.seqs;
    this.clear();
    for (let i = 0; i < at.length; i++) if (keep(seqs[i])) this.push(at[i], seqs[i]);
  }

  clear(): void {
    this.at = [];
    this.seqs = [];
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from];
    this.seqs[to] = this.seqs[from];
  }
}
