// The file store: messages in append-only block files, indexes in memory (rebuilt by scanning the blocks
// at open), payloads read back on demand through a small window cache.
//
// Durability is a group commit (group-commit.ts): the records queued during one event-loop turn are
// written with one writev and one fdatasync per block touched, and every append of that turn resolves
// after it. `syncIntervalMs` > 0 skips the per-commit fdatasync and syncs on a timer instead: UNSAFE —
// acknowledged appends survive a process crash (they are in the OS page cache) but not a power loss or
// kernel crash.
//
// Deletes append a tombstone to the block holding the message. A block whose messages are all gone is
// unlinked; a sealed block that is mostly dead is rewritten (temp file + rename). The newest block is never
// removed, and every block starts with a header naming its first sequence, so the last sequence survives
// purges and restarts without a separate metadata file.

import * as fs from "node:fs";
import { constants } from "node:fs";
import { access, mkdir, open, readdir, rm, unlink } from "node:fs/promises";
import * as path from "node:path";
import { BaseStore, type NewMessage } from "../base-store.js";
import { nowNs, splitNs } from "../clock.js";
import {
  MESSAGE_OVERHEAD,
  type StoredMessage,
  StoreError,
  type StoreLimits,
  type StoreProblem,
} from "../types.js";
import { BLOCK_SUFFIX, Block, blockFileName, parseBlockFileName } from "./block.js";
import { GroupCommit } from "./group-commit.js";
import { loadBlocks } from "./load.js";
import { ReadCache } from "./read-cache.js";
import {
  BLOCK_HEADER_LENGTH,
  encodeBlockHeader,
  encodeErased,
  encodeMessageInto,
  encodeTombstoneInto,
  isMessageRecord,
  isRecordFor,
  RECORD_HEADER,
  RECORD_OVERHEAD,
  recordLength,
} from "./record.js";
import { SNAPSHOT_FILE, type Snapshot, takeSnapshot, writeSnapshot } from "./snapshot.js";
import { captureSnapshot } from "./snapshot-capture.js";

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

const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
const MAX_BLOCK_SIZE = 1024 * 1024 * 1024;
/** Rewrite a sealed block once less than this share of it is live. */
const COMPACT_LIVE_RATIO = 0.5;
const COMPACT_MIN_BYTES = 64 * 1024;
const MAX_OPEN_READERS = 32;
const MAX_PROBLEMS = 1000;
/** Delay before retrying a failed commit's leftovers (tombstones, block headers). */
const RETRY_MS = 1000;

/** One block's share of a commit. */
interface Write {
  block: Block;
  start: number;
  bytes: number;
  msgs: number[];
  tombs: number[];
  erasures: Block["erasures"];
}

/** Wait for every promise, then throw the first failure, if any. */
async function settle(ps: Promise<void>[]): Promise<void> {
  for (const r of await Promise.allSettled(ps)) if (r.status === "rejected") throw r.reason;
}

const noFollowUp = async (): Promise<void> => {};

function ioError(what: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  if (e?.code === "ENOSPC" || e?.code === "EDQUOT") {
    const msg = `insufficient storage resources available: ${what}: ${detail}`;
    return new StoreError("STORAGE_FULL", msg, { cause: err });
  }
  return new StoreError("IO", `${what}: ${detail}`, { cause: err });
}

export class FileStore extends BaseStore<number> {
  readonly kind = "file" as const;
  readonly dir: string;
  private readonly blockSize: number;
  private readonly syncIntervalMs: number;
  private readonly maxBytesOnDisk: number;
  /** Blocks in sequence order; the last one is active (receives appends). */
  private blocks: Block[] = [];
  private nextBlockId = 1;
  /** Blocks with queued writes. */
  private dirty = new Set<Block>();
  /** Blocks to unlink at the next commit (their messages are all gone). */
  private doomed: Block[] = [];
  private compactQueue = new Set<Block>();
  /** Bytes the block files take, queued writes included. */
  private diskBytes = 0;
  private readonly cache: ReadCache;
  private readers = new Set<Block>();
  private lastReader: Block | undefined;
  private readonly group: GroupCommit;
  private syncTimer: NodeJS.Timeout | undefined;
  private unsynced = new Set<Block>();
  private reportedBadSeqs = new Set<number>();

  private constructor(dir: string, opts: FileStoreOptions) {
    super(opts.firstSeq, true);
    this.dir = dir;
    this.blockSize = Math.min(MAX_BLOCK_SIZE, opts.blockSize ?? DEFAULT_BLOCK_SIZE);
    this.syncIntervalMs = opts.syncIntervalMs ?? 0;
    this.maxBytesOnDisk = opts.maxBytesOnDisk ?? 0;
    this.cache = new ReadCache(opts.readCacheBytes ?? 4 * 1024 * 1024);
    this.group = new GroupCommit(
      { hasWork: () => this.dirty.size > 0 || this.doomed.length > 0, commit: () => this.commit() },
      RETRY_MS,
    );
  }

  /** Open (or create) the store in `opts.dir`; damage found while loading is in `problems()`. */
  static async open(opts: FileStoreOptions): Promise<FileStore> {
    const dir = path.resolve(opts.dir);
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      names = await readdir(dir);
      // A temp file is a compaction that never reached its rename: the original block is intact.
      for (const n of names) {
        if (n.endsWith(`${BLOCK_SUFFIX}.tmp`) || n === `${SNAPSHOT_FILE}.tmp`)
          await unlink(path.join(dir, n));
      }
    } catch (err) {
      throw ioError(`cannot use store directory ${dir}`, err);
    }
    const ids = names
      .map(parseBlockFileName)
      .filter((id): id is number => id !== undefined)
      .sort((a, b) => a - b);
    const store = new FileStore(dir, { ...opts, firstSeq: ids.length > 0 ? 1 : opts.firstSeq });
    try {
      const snap = takeSnapshot(dir, ids, (id) => path.join(dir, blockFileName(id)));
      if (snap !== undefined) store.loadSnapshot(snap);
      else store.loadFrom(ids);
      await store.flush();
    } catch (err) {
      await store.close().catch(() => {});
      throw err instanceof StoreError ? err : ioError(`cannot load store in ${dir}`, err);
    }
    if (opts.limits) store.setLimits(opts.limits);
    if (store.syncIntervalMs > 0) {
      store.syncTimer = setInterval(() => void store.syncNow().catch(() => {}), store.syncIntervalMs);
      store.syncTimer.unref();
    }
    return store;
  }

  private loadFrom(ids: number[]): void {
    // Never reuse the name of a file that exists, even one we could not read.
    this.nextBlockId = (ids.at(-1) ?? 0) + 1;
    const r = loadBlocks(this.dir, ids, this.lastSeq, (m) => {
      const { ms, subNs } = splitNs(m.timeNs);
      const size = m.length - RECORD_OVERHEAD + MESSAGE_OVERHEAD;
      this.track(m.seq, m.subject, size, ms, subNs, m.ttlMs, m.offset);
    });
    for (const p of r.problems) this.report(p);
    this.adoptBlocks(r.blocks, r.lastSeq, r.lastTimeNs);
  }

  /** Load the indexes from a clean shutdown's snapshot (see snapshot.ts) instead of scanning. */
  private loadSnapshot(s: Snapshot): void {
    this.nextBlockId = (s.blocks.at(-1)?.id ?? 0) + 1;
    const ttl = new Map<number, number>();
    for (let i = 0; i < s.ttlSeqs.length; i++) ttl.set(s.ttlSeqs[i], s.ttls[i]);
    for (let i = 0; i < s.count; i++) {
      const seq = s.seq[i];
      const t = ttl.size > 0 ? (ttl.get(seq) ?? 0) : 0;
      this.track(seq, s.subjects[s.subj[i]], s.size[i], s.ms[i], s.subNs[i], t, s.off[i]);
    }
    const blocks = s.blocks.map((m) => {
      const b = new Block(this.dir, m.id, m.floor, true);
      b.size = b.written = m.size;
      b.live = m.live;
      b.liveBytes = m.liveBytes;
      b.maxSeq = m.maxSeq;
      return b;
    });
    this.adoptBlocks(blocks, s.lastSeq, s.lastTimeNs);
  }

  private adoptBlocks(blocks: Block[], lastSeq: number, lastTimeNs: bigint): void {
    this.blocks = blocks;
    this.lastSeq = lastSeq;
    this.lastTimeNs = lastTimeNs;
    for (const b of this.blocks) this.diskBytes += b.size;
    if (this.blocks.length === 0) this.addBlock(this.lastSeq + 1);
    // Blocks with nothing live left (an unlink was interrupted) go at the first commit.
    for (const b of this.blocks.slice(0, -1)) if (b.live === 0 && !b.damaged) this.doom(b);
  }

  private report(p: Omit<StoreProblem, "time">): void {
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
        : isMessageRecord(buf.subarray(at, at + len), seq);
      if (!ok) {
        this.reportBad(seq, "corrupt", b, offset, `record for seq ${seq} failed its checksum when read`);
        return undefined;
      }
    }
    const slen = buf.readUInt16LE(at + 8);
    const hlen = buf.readUInt32LE(at + 12);
    const s = at + RECORD_HEADER + slen;
    const ttls = this.ttlEntries();
    return {
      seq,
      // The index holds the subject already (interned): no decode.
      subject: this.subjects.entry(this.index.subjectId(seq)).subject,
      time: this.index.timeMs(seq),
      timeNs: buf.readBigInt64LE(at + 24),
      // Plain views: a Buffer view costs a trip through Buffer's constructor.
      headers: (buf[at + 7] & 1) !== 0 ? new Uint8Array(buf.buffer, buf.byteOffset + s, hlen) : undefined,
      data: new Uint8Array(buf.buffer, buf.byteOffset + s + hlen, at + len - 4 - s - hlen),
      // Only messages that carry a TTL are in the TTL map: most streams have none, so no lookup.
      ttlMs: ttls.size > 0 ? ttls.get(seq) : undefined,
    };
  }

  // ---- blocks ------------------------------------------------------------------------------------

  private get active(): Block {
    return this.blocks[this.blocks.length - 1];
  }

  private queue(b: Block): void {
    this.dirty.add(b);
    this.group.schedule();
  }

  private addBlock(floor: number): Block {
    const b = Block.fresh(this.dir, this.nextBlockId++, floor, this.lastTimeNs);
    this.blocks.push(b);
    this.diskBytes += b.size;
    this.queue(b);
    return b;
  }

  /** The block holding `seq`: the last one whose floor is <= seq. */
  private blockFor(seq: number): Block | undefined {
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
  private doom(b: Block): void {
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

  private touchReader(b: Block): void {
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

  private reportBad(seq: number, kind: "corrupt" | "read-error", b: Block, offset: number, message: string) {
    if (this.reportedBadSeqs.has(seq)) return;
    this.reportedBadSeqs.add(seq);
    this.report({ kind, file: b.file, offset, message });
  }

  // ---- commit ------------------------------------------------------------------------------------

  flush(): Promise<void> {
    return this.group.flush();
  }

  /**
   * Write and sync everything queued, then unlink blocks whose messages are all gone (only now: a purge's
   * new block header must be durable first, and a delete is acknowledged only once its block is gone).
   */
  private async commit(): Promise<() => Promise<void>> {
    const unlinks = this.doomed.splice(0);
    const writes: Write[] = [];
    let now = 0n;
    for (const b of this.dirty) {
      if (b.pendingTombs.length > 0) {
        if (now === 0n) now = nowNs();
        for (const seq of b.pendingTombs) {
          const at = b.reserve(RECORD_OVERHEAD);
          encodeTombstoneInto(b.stage as Buffer, at, seq, now);
        }
        const bytes = b.pendingTombs.length * RECORD_OVERHEAD;
        b.size += bytes;
        this.diskBytes += bytes;
      }
      if (b.stageLen === 0) continue;
      writes.push({
        block: b,
        start: b.written,
        bytes: b.stageLen,
        msgs: b.pendingMsgs,
        tombs: b.pendingTombs,
        erasures: b.erasures,
      });
      b.pendingMsgs = [];
      b.pendingTombs = [];
      b.erasures = [];
    }
    this.dirty.clear();
    try {
      // Page-cache writes synchronously; only the fdatasyncs go to the thread pool (one hop per commit).
      for (const w of writes) w.block.writeStage();
      if (this.syncIntervalMs <= 0) {
        if (writes.length === 1) await writes[0].block.datasync();
        // allSettled: a rollback must not truncate a file while another sync of it is still running.
        else await settle(writes.map((w) => w.block.datasync()));
      }
      let created = false;
      for (const w of writes) created ||= !w.block.onDisk;
      if (created) {
        await this.syncDir();
        for (const w of writes) w.block.onDisk = true;
      }
      for (const b of unlinks) await b.unlink();
      if (unlinks.length > 0) await this.syncDir();
    } catch (err) {
      this.doomed.unshift(...unlinks);
      throw this.rollback(writes, err);
    }
    for (const w of writes) {
      const b = w.block;
      if (this.syncIntervalMs > 0) this.unsynced.add(b);
      if (b !== this.active && !b.doomed) {
        b.closeWriter();
        if (b.stageLen === 0) b.clearStage(false);
      }
    }
    for (const b of unlinks) this.diskBytes -= b.size;
    return writes.length === 0 && this.compactQueue.size === 0 ? noFollowUp : () => this.afterCommit(writes);
  }

  /**
   * A commit failed: put every touched block back to its last durable length and drop the messages that
   * were queued for it (none was acknowledged). Tombstones are kept for the next commit.
   */
  private rollback(writes: Write[], err: unknown): StoreError {
    const error = ioError(`cannot write to ${this.dir}`, err);
    this.report({ kind: "io-error", message: error.message });
    let droppedQueued = false;
    for (const w of writes) {
      const b = w.block;
      this.cache.drop(b);
      if (b.onDisk) {
        try {
          b.truncate(w.start);
        } catch {}
      }
      try {
        b.closeWriter();
      } catch {}
      const dropped = [...w.msgs, ...b.pendingMsgs];
      droppedQueued ||= b.pendingMsgs.length > 0;
      this.diskBytes -= b.size - w.start;
      b.written = w.start;
      b.clearStage(true);
      // A block that never made it to disk starts over with just its header.
      if (!b.onDisk) b.stageBytes(encodeBlockHeader(b.floor, this.lastTimeNs));
      b.size = w.start + b.stageLen;
      this.diskBytes += b.size - w.start;
      b.pendingMsgs = [];
      b.pendingTombs = [...w.tombs, ...b.pendingTombs];
      b.erasures = [...w.erasures, ...b.erasures];
      if (b.hasPending && !b.doomed) this.dirty.add(b);
      for (const seq of dropped) this.removeOne(seq, "io-error");
    }
    // Appends queued behind the failed commit were dropped too: fail their flush as well.
    if (droppedQueued) this.group.failNext(error);
    return error;
  }

  /** Scrub erased records and rewrite sparse blocks. Failures are reported, not thrown. */
  private async afterCommit(writes: Write[]): Promise<void> {
    for (const w of writes) {
      for (const e of w.erasures) {
        if (w.block.doomed) break;
        await this.guard(w.block, () => this.erase(w.block, e));
      }
    }
    for (const b of [...this.compactQueue]) {
      this.compactQueue.delete(b);
      if (b.doomed || b === this.active || b.hasPending || b.written !== b.size) continue;
      await this.guard(b, () => this.compactBlock(b));
    }
  }

  /** Replace a deleted message's record in place by an erased one of the same length and timestamp. */
  private async erase(b: Block, e: Block["erasures"][number]): Promise<void> {
    const head = b.readSync(e.offset, RECORD_HEADER);
    const seq = head.readUInt32LE(16) + head.readUInt32LE(20) * 0x100000000;
    if (head.readUInt32LE(0) !== e.length || seq !== e.seq)
      throw new Error(`seq ${e.seq} not at ${e.offset}`);
    // Keep the original timestamp: the newest record's time is the stream's last time after a restart.
    await b.overwrite(encodeErased(e.seq, e.length, head.readBigInt64LE(24)), e.offset);
    this.cache.drop(b);
  }

  private async guard(b: Block, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.report({ kind: "io-error", file: b.file, message: `maintenance failed: ${String(err)}` });
    }
  }

  /** Rewrite a sealed block with only its live messages. */
  private async compactBlock(b: Block): Promise<void> {
    const next = this.blocks[this.blocks.indexOf(b) + 1];
    const seqs: number[] = [];
    const keep: Array<[number, number]> = [];
    this.index.forEach(b.floor, next.floor - 1, (seq, _id, size, offset) => {
      seqs.push(seq);
      keep.push([offset, recordLength(size)]);
      return true;
    });
    const before = b.size;
    await b.rewrite(encodeBlockHeader(b.floor, 0n), keep, (offsets) => {
      // Runs right after the rename, before any other read: point the index at the new offsets.
      const moved = new Map<number, number>();
      for (let i = 0; i < seqs.length; i++) {
        moved.set(seqs[i], offsets[i]);
        this.index.setRef(seqs[i], offsets[i]);
      }
      b.erasures = b.erasures.flatMap((e) => {
        const off = moved.get(e.seq);
        return off === undefined ? [] : [{ ...e, offset: off }];
      });
      this.cache.drop(b);
      this.readers.delete(b);
      if (this.lastReader === b) this.lastReader = undefined;
    });
    this.diskBytes += b.size - before;
    // The rename must be durable before tombstones land in the new file, or a crash could bring the
    // old file back without them.
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const fh = await open(this.dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** fdatasync blocks written since the last sync (relaxed mode: on a timer, and at close). */
  private async syncNow(): Promise<void> {
    const blocks = [...this.unsynced];
    this.unsynced.clear();
    for (const b of blocks) {
      if (b.doomed) continue;
      try {
        const fh = await fs.promises.open(b.path, "r+");
        await fh.datasync().finally(() => fh.close());
      } catch (err) {
        this.unsynced.add(b);
        throw err;
      }
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  close(): Promise<void> {
    return this.shutdown(true);
  }

  /** Record the indexes for the next open; skipped when anything is off (the next open scans). */
  private saveSnapshot(): void {
    if (this.problemList.length > 0 || this.doomed.length > 0 || this.dirty.size > 0) return;
    const s = captureSnapshot(this.blocks, this.index, this.subjects, this.ttlEntries(), this.lastSeq);
    if (s !== undefined) writeSnapshot(this.dir, { ...s, lastTimeNs: this.lastTimeNs });
  }

  private async shutdown(snapshot: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    let error: unknown;
    await this.flush().catch((err) => {
      error = err;
    });
    await this.group.stop();
    await this.syncNow().catch((err) => {
      error ??= err;
    });
    if (snapshot && error === undefined) {
      try {
        this.saveSnapshot();
      } catch {
        // Only a faster next open is lost: it scans the blocks instead.
      }
    }
    for (const b of [...this.blocks, ...this.doomed]) {
      try {
        b.close();
      } catch {}
    }
    this.cache.clear();
    if (error !== undefined) throw error;
  }

  async delete(): Promise<void> {
    await this.shutdown(false).catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
