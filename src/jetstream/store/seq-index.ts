// Sequence -> message slot, for both stores. Sequences are dense and increasing, so slots live in
// fixed-span chunks of parallel typed arrays (subject id, size, time) plus one store-specific reference
// (the message itself, or where it is on disk). Filters, limits and expiry read only these arrays, never
// the payloads. A chunk is dropped as soon as it holds no live message, so gaps cost nothing.

const SPAN = 4096;
const EMPTY = -1;

class Chunk<R> {
  live = 0;
  /** No live slot below this offset. */
  lo = 0;
  /** One past the highest offset ever set. */
  hi = 0;
  subj: Int32Array;
  size: Uint32Array;
  ms: Float64Array;
  subNs: Uint32Array;
  /** Object references (memory store), or... */
  refs: (R | undefined)[] | undefined;
  /** ...numeric ones below 2^32 (file offsets), kept out of the JS heap. */
  nums: Uint32Array | undefined;

  constructor(
    readonly base: number,
    capacity: number,
    numeric: boolean,
  ) {
    this.subj = new Int32Array(capacity).fill(EMPTY);
    this.size = new Uint32Array(capacity);
    this.ms = new Float64Array(capacity);
    this.subNs = new Uint32Array(capacity);
    if (numeric) this.nums = new Uint32Array(capacity);
    else this.refs = [];
  }

  ref(off: number): R | undefined {
    return this.nums !== undefined ? (this.nums[off] as R) : (this.refs as (R | undefined)[])[off];
  }

  setRef(off: number, ref: R | undefined): void {
    if (this.nums !== undefined) this.nums[off] = ref === undefined ? 0 : (ref as number);
    else (this.refs as (R | undefined)[])[off] = ref;
  }

  ensure(off: number): void {
    const cap = this.subj.length;
    if (off < cap) return;
    let next = cap * 2;
    while (next <= off) next *= 2;
    next = Math.min(next, SPAN);
    const subj = new Int32Array(next).fill(EMPTY);
    subj.set(this.subj);
    this.subj = subj;
    this.size = grow(this.size, new Uint32Array(next));
    this.ms = grow(this.ms, new Float64Array(next));
    this.subNs = grow(this.subNs, new Uint32Array(next));
    if (this.nums !== undefined) this.nums = grow(this.nums, new Uint32Array(next));
  }
}

function grow<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Visitor for live slots; return false to stop. */
export type SlotVisitor<R> = (seq: number, subjectId: number, size: number, ref: R) => boolean | undefined;

export class SeqIndex<R> {
  /** `numericRefs`: every reference is an integer in [0, 2^32) (stored in a typed array). */
  constructor(private readonly numericRefs = false) {}

  private chunks: Chunk<R>[] = [];
  private byBase = new Map<number, Chunk<R>>();
  /** The chunk the last lookup found: readers walk a stream in order, so it is nearly always the next one. */
  private hot: Chunk<R> | undefined;
  /** Live messages. */
  count = 0;
  /** Sum of live message sizes. */
  bytes = 0;

  add(seq: number, subjectId: number, size: number, ms: number, subNs: number, ref: R): void {
    const base = seq - (seq % SPAN);
    let c = this.chunks[this.chunks.length - 1];
    if (c === undefined || c.base !== base) {
      if (c !== undefined && c.base > base) throw new Error(`sequence ${seq} added out of order`);
      // Past the first span a stream is big enough to fill spans: allocate each at once, not by doubling.
      c = new Chunk<R>(base, c === undefined && this.chunks.length === 0 ? 64 : SPAN, this.numericRefs);
      c.lo = seq - base;
      this.chunks.push(c);
      this.byBase.set(base, c);
    }
    const off = seq - base;
    if (off < c.hi) throw new Error(`sequence ${seq} added out of order`);
    c.ensure(off);
    c.subj[off] = subjectId;
    c.size[off] = size;
    c.ms[off] = ms;
    c.subNs[off] = subNs;
    c.setRef(off, ref);
    c.hi = off + 1;
    c.live++;
    this.count++;
    this.bytes += size;
  }

  has(seq: number): boolean {
    return this.subjectId(seq) !== EMPTY;
  }

  /** Subject id of a live message, or -1. */
  subjectId(seq: number): number {
    const c = this.lookup(seq);
    if (c === undefined) return EMPTY;
    const off = seq - c.base;
    return off < c.hi ? c.subj[off] : EMPTY;
  }

  size(seq: number): number {
    const c = this.chunkOf(seq);
    return c === undefined ? 0 : c.size[seq - c.base];
  }

  timeMs(seq: number): number {
    const c = this.chunkOf(seq);
    return c === undefined ? 0 : c.ms[seq - c.base];
  }

  timeSubNs(seq: number): number {
    const c = this.chunkOf(seq);
    return c === undefined ? 0 : c.subNs[seq - c.base];
  }

  ref(seq: number): R | undefined {
    const c = this.chunkOf(seq);
    return c === undefined ? undefined : c.ref(seq - c.base);
  }

  setRef(seq: number, ref: R): void {
    const c = this.chunkOf(seq);
    if (c !== undefined) c.setRef(seq - c.base, ref);
  }

  /** Forget a live message. Returns false if it was not there. */
  delete(seq: number): boolean {
    const c = this.chunkOf(seq);
    if (c === undefined) return false;
    const off = seq - c.base;
    this.count--;
    this.bytes -= c.size[off];
    c.subj[off] = EMPTY;
    c.setRef(off, undefined);
    if (--c.live === 0) {
      this.chunks.splice(this.chunkIndex(c.base), 1);
      this.byBase.delete(c.base);
      if (this.hot === c) this.hot = undefined;
    } else if (off === c.lo) {
      while (c.subj[c.lo] === EMPTY) c.lo++;
    }
    return true;
  }

  /**
   * Forget every slot above `seq` (a truncate), so sequences past it can be added again. The caller has
   * already read whatever it needs of the dropped slots.
   */
  dropAbove(seq: number): void {
    while (this.chunks.length > 0) {
      const c = this.chunks[this.chunks.length - 1];
      const keepHi = Math.max(0, Math.min(c.hi, seq - c.base + 1));
      for (let off = keepHi; off < c.hi; off++) {
        if (c.subj[off] === EMPTY) continue;
        this.count--;
        this.bytes -= c.size[off];
        c.live--;
        c.subj[off] = EMPTY;
        c.setRef(off, undefined);
      }
      c.hi = keepHi;
      if (c.live > 0) return;
      this.chunks.pop();
      this.byBase.delete(c.base);
      if (this.hot === c) this.hot = undefined;
    }
  }

  clear(): void {
    this.chunks = [];
    this.byBase.clear();
    this.hot = undefined;
    this.count = 0;
    this.bytes = 0;
  }

  /** Lowest live sequence, or 0. */
  first(): number {
    const c = this.chunks[0];
    return c === undefined ? 0 : c.base + c.lo;
  }

  /** Highest live sequence, or 0. */
  last(): number {
    const c = this.chunks[this.chunks.length - 1];
    if (c === undefined) return 0;
    let off = c.hi - 1;
    while (c.subj[off] === EMPTY) off--;
    return c.base + off;
  }

  /** First live sequence >= from, or 0. */
  nextLive(from: number): number {
    for (let i = this.firstChunkFor(from); i < this.chunks.length; i++) {
      const c = this.chunks[i];
      for (let off = Math.max(from - c.base, c.lo); off < c.hi; off++) {
        if (c.subj[off] !== EMPTY) return c.base + off;
      }
    }
    return 0;
  }

  /** Last live sequence <= to, or 0. */
  prevLive(to: number): number {
    for (let i = this.firstChunkFor(to); i >= 0; i--) {
      const c = this.chunks[i];
      if (c === undefined) continue;
      for (let off = Math.min(to - c.base, c.hi - 1); off >= c.lo; off--) {
        if (c.subj[off] !== EMPTY) return c.base + off;
      }
    }
    return 0;
  }

  /** Live messages with seq >= from. */
  countFrom(from: number): number {
    let i = this.firstChunkFor(from);
    const c = this.chunks[i];
    if (c === undefined) return 0;
    let n = 0;
    const start = from - c.base;
    if (start > c.lo) {
      for (let off = start; off < c.hi; off++) if (c.subj[off] !== EMPTY) n++;
      i++;
    }
    for (; i < this.chunks.length; i++) n += this.chunks[i].live;
    return n;
  }

  /**
   * Walk live slots from `from`, at most `budget` of them, until `match(subjectId)` is true.
   * Returns the matching seq, 0 when the end was reached, or -(next seq to look at) when out of budget.
   */
  scan(from: number, budget: number, match: (subjectId: number) => boolean): number {
    for (let i = this.firstChunkFor(from); i < this.chunks.length; i++) {
      const c = this.chunks[i];
      for (let off = Math.max(from - c.base, c.lo); off < c.hi; off++) {
        const id = c.subj[off];
        if (id === EMPTY) continue;
        if (match(id)) return c.base + off;
        if (--budget <= 0) return -(c.base + off + 1);
      }
    }
    return 0;
  }

  /** Visit live slots with from <= seq <= to, in order. */
  forEach(from: number, to: number, visit: SlotVisitor<R>): void {
    for (let i = this.firstChunkFor(from); i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.base > to) return;
      const end = Math.min(c.hi, to - c.base + 1);
      for (let off = Math.max(from - c.base, c.lo); off < end; off++) {
        const id = c.subj[off];
        if (id === EMPTY) continue;
        if (visit(c.base + off, id, c.size[off], c.ref(off) as R) === false) return;
      }
    }
  }

  /** Sequences in [from, to] without a live message. */
  missing(from: number, to: number): number[] {
    const out: number[] = [];
    let expect = from;
    this.forEach(from, to, (seq) => {
      while (expect < seq) out.push(expect++);
      expect = seq + 1;
      return true;
    });
    while (expect <= to) out.push(expect++);
    return out;
  }

  /** First live sequence whose time is >= ms (times rise with seq), or 0. */
  firstAtOrAfterTime(ms: number): number {
    for (const c of this.chunks) {
      let top = c.hi - 1;
      while (c.subj[top] === EMPTY) top--;
      if (c.ms[top] < ms) continue;
      for (let off = c.lo; off <= top; off++) {
        if (c.subj[off] !== EMPTY && c.ms[off] >= ms) return c.base + off;
      }
    }
    return 0;
  }

  /** The chunk whose span holds `seq`, if there is one. */
  private lookup(seq: number): Chunk<R> | undefined {
    const h = this.hot;
    if (h !== undefined && seq >= h.base && seq - h.base < SPAN) return h;
    const c = this.byBase.get(seq - (seq % SPAN));
    if (c !== undefined) this.hot = c;
    return c;
  }

  private chunkOf(seq: number): Chunk<R> | undefined {
    const c = this.lookup(seq);
    if (c === undefined) return undefined;
    const off = seq - c.base;
    return off < c.hi && c.subj[off] !== EMPTY ? c : undefined;
  }

  /** Index of the chunk with this base (it must exist). */
  private chunkIndex(base: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid].base < base) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first chunk that may hold a seq >= from. */
  private firstChunkFor(from: number): number {
    const cs = this.chunks;
    if (cs.length === 0 || from <= cs[0].base) return 0;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cs[mid].base + SPAN <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
