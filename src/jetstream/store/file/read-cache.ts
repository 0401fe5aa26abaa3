// A small LRU of fixed windows read from block files, so a consumer walking a stream costs one read per
// window rather than one per message. Windows are only read for sequential access: a random lookup reads
// just its record. Bounded in bytes; payloads are never all held in memory.

import type { Block } from "./block.js";

const WINDOW = 64 * 1024;
/** Window keys are block id * KEY_SPAN + window index (blocks are at most 1 GiB: 16384 windows). */
const KEY_SPAN = 32768;

export class ReadCache {
  private windows = new Map<number, Buffer>();
  private bytes = 0;
  private lastBlock = -1;
  private lastEnd = -1;

  constructor(private readonly maxBytes: number) {}

  /** `length` bytes at `offset` of `block` (which must be on disk that far). */
  read(block: Block, offset: number, length: number): Buffer {
    const w = Math.floor(offset / WINDOW);
    const start = w * WINDOW;
    const sequential =
      block.id === this.lastBlock && offset >= this.lastEnd && offset < this.lastEnd + WINDOW;
    this.lastBlock = block.id;
    this.lastEnd = offset + length;
    if (this.maxBytes < WINDOW || length > WINDOW / 2 || offset + length > start + WINDOW) {
      return block.readSync(offset, length);
    }
    const key = block.id * KEY_SPAN + w;
    let buf = this.windows.get(key);
    if (buf !== undefined) {
      this.windows.delete(key);
      if (buf.length < offset + length - start) {
        this.bytes -= buf.length;
        buf = undefined;
      }
    }
    if (buf === undefined) {
      if (!sequential) return block.readSync(offset, length);
      buf = block.readSync(start, Math.min(WINDOW, block.written - start));
      this.bytes += buf.length;
      while (this.bytes > this.maxBytes && this.windows.size > 0) {
        const [k, old] = this.windows.entries().next().value as [number, Buffer];
        this.windows.delete(k);
        this.bytes -= old.length;
      }
    }
    this.windows.set(key, buf);
    return buf.subarray(offset - start, offset - start + length);
  }

  /** Forget a block's windows (rewritten, truncated, erased or removed). */
  drop(block: Block): void {
    for (const [k, buf] of this.windows) {
      if (Math.floor(k / KEY_SPAN) === block.id) {
        this.windows.delete(k);
        this.bytes -= buf.length;
      }
    }
  }

  clear(): void {
    this.windows.clear();
    this.bytes = 0;
  }
}
