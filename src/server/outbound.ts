// A connection's pending output: frames are appended here during an event-loop turn and handed to the
// socket once, by the flush queue, instead of one socket write per message.

const MIN_SIZE = 4096;
const MAX_RETAINED = 1024 * 1024;

export class Outbound {
  buf: Buffer;
  len = 0;
  private nextSize = MIN_SIZE;

  constructor() {
    this.buf = Buffer.allocUnsafe(MIN_SIZE);
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  appendString(s: string): void {
    const max = s.length * 3;
    this.ensure(max);
    this.len += this.buf.write(s, this.len, "utf8");
  }

  appendBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n < 64) {
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

  /** Hand over what is pending; the next turn writes into a fresh buffer sized from this one. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    // Size the next buffer for the traffic just seen, so steady streams don't regrow every turn.
    this.nextSize = Math.min(MAX_RETAINED, Math.max(MIN_SIZE, this.len));
    this.buf = Buffer.allocUnsafe(this.nextSize);
    this.len = 0;
    return out;
  }
}

export interface Flushable {
  flushPending: boolean;
  flush(): void;
}

/** Connections with output this turn; one setImmediate flushes them all. */
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
      setImmediate(this.run);
    }
  }
}
