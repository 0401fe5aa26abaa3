// A connection's pending output: frames are appended here during an event-loop turn and handed to the
// socket once, by the flush queue, instead of one socket write per message.

const MIN_SIZE = 4096;
const CHUNK_SIZE = 64 * 1024;
const MAX_RETAINED = 1024 * 1024;

export class Outbound {
  buf: Buffer;
  len = 0;
  /** Buffers filled earlier this turn, oldest first: growing never copies what is already written. */
  private full: Buffer[] = [];
  private fullBytes = 0;
  private nextSize = MIN_SIZE;

  constructor() {
    this.buf = Buffer.allocUnsafe(MIN_SIZE);
  }

  /** Bytes waiting for this turn's flush. */
  get pending(): number {
    return this.fullBytes + this.len;
  }

  /** Make room for `n` more contiguous bytes. */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.len > 0) {
      this.full.push(this.buf.subarray(0, this.len));
      this.fullBytes += this.len;
    }
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, n));
    this.len = 0;
  }

  appendString(s: string): void {
    const max = s.length * 3;
    this.ensure(max);
    this.len += this.buf.write(s, this.len, "utf8");
  }

  appendBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n <= 64) {
      // Small copies are faster by hand than through the native copy.
      const b = this.buf;
      let o = this.len;
      for (let i = start; i < end; i++) b[o++] = src[i];
    } else {
      this.buf.set(src.subarray(start, end), this.len);
    }
    this.len += n;
  }

  appendCrlf(): void {
    this.ensure(2);
    this.buf[this.len++] = 13;
    this.buf[this.len++] = 10;
  }

  /** Hand over what is pending, oldest first; the next turn writes into a fresh buffer sized from this one. */
  take(): Buffer[] {
    const out = this.full;
    if (this.len > 0) out.push(this.buf.subarray(0, this.len));
    // Size the next buffer for the traffic just seen, so steady streams fit in one buffer.
    this.nextSize = Math.min(MAX_RETAINED, Math.max(MIN_SIZE, this.fullBytes + this.len));
    this.full = [];
    this.fullBytes = 0;
    this.buf = Buffer.allocUnsafe(this.nextSize);
    this.len = 0;
    return out;
  }

  /** Drop everything pending (a slow consumer's backlog). */
  discard(): void {
    this.full = [];
    this.fullBytes = 0;
    this.len = 0;
  }
}

export interface Flushable {
  flushPending: boolean;
  flush(): void;
}

/**
 * Connections with pending output. One microtask after the current read callback flushes them all: every
 * delivery caused by one socket read leaves in one write per connection, and the write starts before the
 * next read instead of after the whole poll phase (measured: fan-out 1:4 went from 4.0M to 6.6M
 * deliveries/s, and request-reply latency dropped).
 */
export class FlushQueue {
  private queue: Flushable[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (let i = 0; i < q.length; i++) {
      const c = q[i];
      c.flushPending = false;
      c.flush();
    }
  };

  add(c: Flushable): void {
    if (c.flushPending) return;
    c.flushPending = true;
    this.queue.push(c);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.run);
    }
  }
}
