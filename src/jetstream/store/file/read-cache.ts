// A small LRU of fixed windows read from block files, so a consumer walking a stream costs one read per
// window rather than one per message. Windows are only read for sequential access: a random lookup reads
// just its record. Bounded in bytes; payloads are never all held in memory.
//
// A window is checked once, as its bytes come in from disk: starting at the record the read that loaded
// it asked for, every whole record is checked (magic, length, CRC) and the checked run is remembered. A
// later read of a record inside that run is served without checking it again: the window is our own
// copy, so what was verified stays verified. Bytes read from the file at any other time (a new window,
// or the growth of the last one) are checked when they arrive, so damage on disk is still caught.

import type { Block } from "./block.js";
import { verifyRun } from "./record.js";

const WINDOW = 64 * 1024;
/** Window keys are block id * KEY_SPAN + window index (blocks are at most 1 GiB: 16384 windows). */
const KEY_SPAN = 32768;

class Window {
  /** Bytes read from the file into `buf` (the window's start onwards). */
  filled = 0;
  /** The verified run of records, [vFrom, vTo) within the window. */
  vFrom = 0;
  vTo = 0;
  /** The run stopped at a record that failed its check: it does not grow any further. */
  broken = false;

  constructor(
    readonly key: number,
    readonly start: number,
    readonly buf: Buffer,
  ) {}

  /** Extend the verified run over the whole records now in the window. */
  verify(): void {
    if (this.broken) return;
    const r = verifyRun(this.buf, this.vTo, this.filled);
    if (r < 0) {
      this.broken = true;
      this.vTo = ~r;
    } else {
      this.vTo = r;
    }
  }
}

export class ReadCache {
  private windows = new Map<number, Window>();
  private bytes = 0;
  private lastBlock = -1;
  private lastEnd = -1;
  /** The window the previous read hit: sequential reads stay in it without touching the LRU order. */
  private last: Window | undefined;
  /** Where the bytes of the last read start in the buffer it returned. */
  at = 0;
  /** The last read's bytes were verified as a whole record when they came from disk. */
  verified = false;

  constructor(private readonly maxBytes: number) {}

  /**
   * `length` bytes at `offset` of `block` (which must be on disk that far): returns a buffer holding them
   * at `this.at`; `this.verified` tells whether they are an already checked record.
   */
  read(block: Block, offset: number, length: number): Buffer {
    const w = Math.floor(offset / WINDOW);
    const start = w * WINDOW;
    const key = block.id * KEY_SPAN + w;
    const end = offset + length - start;
    const sequential =
      block.id === this.lastBlock && offset >= this.lastEnd && offset < this.lastEnd + WINDOW;
    this.lastBlock = block.id;
    this.lastEnd = offset + length;
    let win = this.last;
    if (win === undefined || win.key !== key) {
      if (this.maxBytes < WINDOW || length > WINDOW / 2 || end > WINDOW)
        return this.direct(block, offset, length);
      win = this.windows.get(key);
      if (win !== undefined) {
        this.windows.delete(key);
        this.windows.set(key, win);
      } else {
        if (!sequential) return this.direct(block, offset, length);
        win = this.load(block, key, start, offset - start);
      }
      this.last = win;
    } else if (end > WINDOW) {
      return this.direct(block, offset, length);
    }
    if (win.filled < end) {
      // The block has grown since the window was read: read just the new bytes, and check them.
      const more = Math.min(WINDOW, block.written - start) - win.filled;
      if (more > 0) {
        block.readInto(win.buf, win.filled, more, start + win.filled);
        win.filled += more;
        win.verify();
      }
      if (win.filled < end) return this.direct(block, offset, length);
    }
    const rel = offset - start;
    this.at = rel;
    this.verified = rel >= win.vFrom && end <= win.vTo;
    return win.buf;
  }

  private direct(block: Block, offset: number, length: number): Buffer {
    this.at = 0;
    this.verified = false;
    return block.readSync(offset, length);
  }

  /** Read a new window; the verified run starts at `from`, the record the reader asked for. */
  private load(block: Block, key: number, start: number, from: number): Window {
    const win = new Window(key, start, Buffer.allocUnsafeSlow(WINDOW));
    const n = Math.min(WINDOW, block.written - start);
    block.readInto(win.buf, 0, n, start);
    win.filled = n;
    win.vFrom = win.vTo = from;
    win.verify();
    this.bytes += WINDOW;
    while (this.bytes > this.maxBytes && this.windows.size > 0) {
      const oldest = this.windows.keys().next().value as number;
      this.windows.delete(oldest);
      this.bytes -= WINDOW;
    }
    this.windows.set(key, win);
    return win;
  }

  /** Forget a block's windows (rewritten, truncated, erased or removed). */
  drop(block: Block): void {
    for (const k of [...this.windows.keys()]) {
      if (Math.floor(k / KEY_SPAN) === block.id) {
        this.windows.delete(k);
        this.bytes -= WINDOW;
      }
    }
    if (this.last !== undefined && Math.floor(this.last.key / KEY_SPAN) === block.id) this.last = undefined;
  }

  clear(): void {
    this.windows.clear();
    this.bytes = 0;
    this.last = undefined;
  }
}
