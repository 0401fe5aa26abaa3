// The file store's blocks and read path: which block holds what, appending records to the active block,
// recording removals, and reading messages back through the window cache. Commits, maintenance and the
// store's lifecycle are in file-store.ts.

import { BaseStore, type NewMessage, type TruncatedMessage } from "../base-store.js";
import { Message } from "../message.js";
import {
  MESSAGE_OVERHEAD,
  type StoredMessage,
  StoreError,
  type StoreLimits,
  type StoreProblem,
} from "../types.js";
import { Block } from "./block.js";
import { GroupCommit } from "./group-commit.js";
import { ReadCache } from "./read-cache.js";
import {
  BLOCK_HEADER_LENGTH,
  encodeMessageInto,
  isMessageRecord,
  isRecordFor,
  RECORD_HEADER,
  RECORD_OVERHEAD,
  recordLength,
} from "./record.js";
import { splitTime, splitTimeAt } from "./record-time.js";

export interface FileStoreOptions {
  dir: string;
  /** Sequence of the first message of a new store (stream `first_seq`); ignored when data exists. */
  firstSeq?: number;
  limits?: StoreLimits;
  /** Target block file size; a block is sealed when the next record would pass it. Default 4 MiB. */
  blockSize?: number;
  /** 0 (default): fdatasync before acknowledging. > 0: UNSAFE, sync every N ms instead (see above). */
  syncIntervalMs?: number;
  /** Refuse appends that would grow the block files past this many bytes (a disk quota). */
  maxBytesOnDisk?: number;
  /** Bytes of recently read block windows kept in memory. Default 4 MiB. */
  readCacheBytes?: number;
}

export const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
export const MAX_BLOCK_SIZE = 1024 * 1024 * 1024;
/** Rewrite a sealed block once less than this share of it is live. */
export const COMPACT_LIVE_RATIO = 0.5;
export const COMPACT_MIN_BYTES = 64 * 1024;
export const MAX_OPEN_READERS = 32;
export const MAX_PROBLEMS = 1000;
/** Delay before retrying a failed commit's leftovers (tombstones, block headers). */
export const RETRY_MS = 1000;

/** One block's share of a commit. */
export interface Write {
  block: Block;
  start: number;
  bytes: number;
  msgs: number[];
  tombs: number[];
  erasures: Block["erasures"];
}

/** Wait for every promise, then throw the first failure, if any. */
export async function settle(ps: Promise<void>[]): Promise<void> {
  for (const r of await Promise.allSettled(ps)) if (r.status === "rejected") throw r.reason;
}

export const noFollowUp = async (): Promise<void> => {};

export function ioError(what: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  if (e?.code === "ENOSPC" || e?.code === "EDQUOT") {
    const msg = `insufficient storage resources available: ${what}: ${detail}`;
    return new StoreError("STORAGE_FULL", msg, { cause: err });
  }
  return new StoreError("IO", `${what}: ${detail}`, { cause: err });
}

/** Blocks, appends, removals and reads; FileStore adds commits, maintenance and the lifecycle. */
export abstract class BlockStore extends BaseStore<number> {
  readonly kind = "file" as const;
  readonly dir: string;
  protected readonly blockSize: number;
  protected readonly syncIntervalMs: number;
  protected readonly maxBytesOnDisk: number;
  /** Blocks in sequence order; the last one is active (receives appends). */
  protected blocks: Block[] = [];
  protected nextBlockId = 1;
  /** Blocks with queued writes. */
  protected dirty = new Set<Block>();
  /** Blocks to unlink at the next commit (their messages are all gone). */
  protected doomed: Block[] = [];
  protected compactQueue = new Set<Block>();
  /**
   * Blocks that still hold records above a truncate point, to rewrite in the commit that makes the
   * truncate durable (before its flush resolves). Until then the block after them, whose floor is just
   * above the truncate point, hides those records from a scan at open (see load.ts).
   */
  protected truncated = new Set<Block>();
  /** Bytes the block files take, queued writes included. */
  protected diskBytes = 0;
  protected readonly cache: ReadCache;
  protected readers = new Set<Block>();
  protected lastReader: Block | undefined;
  protected readonly group: GroupCommit;
  protected syncTimer: NodeJS.Timeout | undefined;
  protected unsynced = new Set<Block>();
  protected reportedBadSeqs = new Set<number>();

  protected constructor(dir: string, opts: FileStoreOptions) {
    super(opts.firstSeq, true);
    this.dir = dir;
    this.blockSize = Math.min(MAX_BLOCK_SIZE, opts.blockSize ?? DEFAULT_BLOCK_SIZE);
    this.syncIntervalMs = opts.syncIntervalMs ?? 0;
    this.maxBytesOnDisk = opts.maxBytesOnDisk ?? 0;
    this.cache = new ReadCache(opts.readCacheBytes ?? 4 * 1024 * 1024);
    this.group = new GroupCommit(
      {
        hasWork: () => this.dirty.size > 0 || this.doomed.length > 0 || this.truncated.size > 0,
        commit: () => this.commit(),
      },
      RETRY_MS,
    );
  }

  /** Write and sync everything queued (see FileStore). */
  protected abstract commit(): Promise<() => Promise<void>>;

  protected report(p: Omit<StoreProblem, "time">): void {
    // Bounded: a failing disk must not turn the problem list into a memory leak.
    if (this.problemList.length > MAX_PROBLEMS) return;
    if (this.problemList.length === MAX_PROBLEMS) {
      p = { kind: p.kind, message: "too many problems; further ones are not recorded" };
    }
    this.problemList.push({ ...p, time: Date.now() });
  }

  // ---- persistence hooks -------------------------------------------------------------------------

  protected persistAppend(m: NewMessage): number {
    const len = recordLength(m.size);
    let b = this.active;
    const rotate = b.maxSeq > 0 && b.size + len > this.blockSize;
    const need = len + (rotate ? BLOCK_HEADER_LENGTH : 0);
    if (this.maxBytesOnDisk > 0 && this.diskBytes + need > this.maxBytesOnDisk) {
      const limit = this.maxBytesOnDisk;
      const msg = `insufficient storage resources available: store would exceed its ${limit} byte limit`;
      throw new StoreError("STORAGE_FULL", msg);
    }
    const subjectBytes = m.size - MESSAGE_OVERHEAD - (m.headers?.length ?? 0) - m.data.length;
    if (subjectBytes > 0xffff) throw new RangeError("subject longer than 65535 bytes");
    if (rotate) b = this.addBlock(m.seq);
    const offset = b.size;
    // Encoded straight into the block's staging buffer: reads of it are served from there until written.
    const at = b.reserve(len);
    encodeMessageInto(
      b.stage as Buffer,
      at,
      m.seq,
      m.subject,
      subjectBytes,
      m.headers,
      m.data,
      m.ms,
      m.subNs,
      m.ttlMs,
    );
    b.pendingMsgs.push(m.seq);
    b.size += len;
    b.live++;
    b.liveBytes += len;
    b.maxSeq = m.seq;
    this.diskBytes += len;
    this.queue(b);
    return offset;
  }

  protected persistRemove(seq: number, offset: number, size: number, erase: boolean): void {
    const b = this.blockFor(seq);
    if (b === undefined) return;
    const len = recordLength(size);
    b.live--;
    b.liveBytes -= len;
    if (b.live === 0 && b !== this.active) {
      this.doom(b);
      return;
    }
    b.pendingTombs.push(seq);
    if (erase) b.erasures.push({ seq, offset, length: len });
    this.queue(b);
    const sparse = b.liveBytes < (b.size - RECORD_OVERHEAD) * COMPACT_LIVE_RATIO;
    if (b !== this.active && sparse && b.size >= Math.min(COMPACT_MIN_BYTES, this.blockSize / 2)) {
      this.compactQueue.add(b);
    }
  }

  protected persistReset(nextSeq: number): void {
    for (const b of [...this.blocks]) this.doom(b);
    this.addBlock(nextSeq);
  }

  /**
   * Blocks wholly above `seq` go; the block holding `seq` is sealed with its records above `seq` left for
   * the commit to rewrite away; a new active block starts at seq + 1. That block's header is what makes
   * the truncate durable: once it is on disk a scan ignores every older record at or above its floor.
   */
  protected persistTruncate(seq: number, removed: readonly TruncatedMessage[]): void {
    const b = this.blockFor(seq);
    const above = b === undefined ? undefined : this.blocks[this.blocks.indexOf(b) + 1];
    const nextFloor = above?.floor ?? Number.POSITIVE_INFINITY;
    for (let i = this.blocks.length - 1; i >= 0 && this.blocks[i].floor > seq; i--) this.doom(this.blocks[i]);
    if (b !== undefined) {
      for (const r of removed) {
        if (r.seq >= nextFloor) continue;
        b.live--;
        b.liveBytes -= recordLength(r.size);
      }
      // Staged records above `seq` are still written (the rewrite drops them), but they are no longer
      // this block's messages: a failed commit must not roll back their successors at the same seqs.
      b.pendingMsgs = b.pendingMsgs.filter((q) => q <= seq);
      b.pendingTombs = b.pendingTombs.filter((q) => q <= seq);
      b.erasures = b.erasures.filter((e) => e.seq <= seq);
      this.compactQueue.delete(b);
      if (b.live === 0) this.doom(b);
      else if (b.maxSeq > seq) this.truncated.add(b);
      b.maxSeq = Math.min(b.maxSeq, seq);
    }
    this.addBlock(seq + 1);
  }

  protected load(seq: number, offset: number): StoredMessage | undefined {
    const b = this.blockFor(seq);
    if (b === undefined) return undefined;
    const len = recordLength(this.index.size(seq));
    // Not written yet: straight from the staging buffer (encoded here, nothing to verify).
    let at = offset >= b.written ? b.stagedAt(offset, len) : -1;
    let buf: Buffer;
    if (at >= 0) {
      buf = b.stage as Buffer;
    } else {
      const cache = this.cache;
      try {
        buf = cache.read(b, offset, len);
        at = cache.at;
        if (this.lastReader !== b) this.touchReader(b);
      } catch (err) {
        this.reportBad(seq, "read-error", b, offset, `cannot read seq ${seq}: ${String(err)}`);
        return undefined;
      }
      // A record checked when its window was read needs only to be the one the index points at.
      const ok = cache.verified
        ? isRecordFor(buf, at, len, seq)
        : isMessageRecord(at === 0 && buf.length === len ? buf : buf.subarray(at, at + len), seq);
      if (!ok) {
        this.reportBad(seq, "corrupt", b, offset, `record for seq ${seq} failed its checksum when read`);
        return undefined;
      }
    }
    const slen = buf.readUInt16LE(at + 8);
    const hlen = buf.readUInt32LE(at + 12);
    const s = at + RECORD_HEADER + slen;
    const ttls = this.ttlEntries();
    splitTimeAt(buf, at + 24);
    const hasHeaders = (buf[at + 7] & 1) !== 0;
    return new Message(
      seq,
      // The index holds the subject already (interned): no decode.
      this.subjects.entry(this.index.subjectId(seq)).subject,
      splitTime.ms,
      splitTime.subNs,
      buf,
      hasHeaders ? s : s + hlen,
      hasHeaders ? hlen : 0,
      at + len - 4,
      // Only messages that carry a TTL are in the TTL map: most streams have none, so no lookup.
      ttls.size > 0 ? ttls.get(seq) : undefined,
    );
  }

  // ---- blocks ------------------------------------------------------------------------------------

  protected get active(): Block {
    return this.blocks[this.blocks.length - 1];
  }

  protected queue(b: Block): void {
    this.dirty.add(b);
    this.group.schedule();
  }

  protected addBlock(floor: number): Block {
    const b = Block.fresh(this.dir, this.nextBlockId++, floor, this.lastTimeNs);
    this.blocks.push(b);
    this.diskBytes += b.size;
    this.queue(b);
    return b;
  }

  /** The block holding `seq`: the last one whose floor is <= seq. */
  protected blockFor(seq: number): Block | undefined {
    const bs = this.blocks;
    if (bs.length === 0 || seq < bs[0].floor) return undefined;
    let lo = 0;
    let hi = bs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (bs[mid].floor <= seq) lo = mid;
      else hi = mid - 1;
    }
    return bs[lo];
  }

  /** Stop using a block with no live messages; its file goes at the next commit. */
  protected doom(b: Block): void {
    const i = this.blocks.indexOf(b);
    if (i >= 0) this.blocks.splice(i, 1);
    b.clearStage(false);
    b.pendingMsgs = [];
    b.pendingTombs = [];
    b.erasures = [];
    b.doomed = true;
    this.dirty.delete(b);
    this.compactQueue.delete(b);
    this.cache.drop(b);
    this.readers.delete(b);
    if (this.lastReader === b) this.lastReader = undefined;
    b.closeReader();
    this.doomed.push(b);
    this.group.schedule();
  }

  protected touchReader(b: Block): void {
    if (this.lastReader === b) return;
    this.lastReader = b;
    this.readers.delete(b);
    this.readers.add(b);
    if (this.readers.size > MAX_OPEN_READERS) {
      const oldest = this.readers.values().next().value as Block;
      this.readers.delete(oldest);
      if (this.lastReader === oldest) this.lastReader = undefined;
      oldest.closeReader();
    }
  }

  protected reportBad(
    seq: number,
    kind: "corrupt" | "read-error",
    b: Block,
    offset: number,
    message: string,
  ) {
    if (this.reportedBadSeqs.has(seq)) return;
    this.reportedBadSeqs.add(seq);
    this.report({ kind, file: b.file, offset, message });
  }
}
