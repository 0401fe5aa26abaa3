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
import { nowParts, splitNs } from "../clock.js";
import { MESSAGE_OVERHEAD, StoreError } from "../types.js";
import { BLOCK_SUFFIX, Block, blockFileName, parseBlockFileName } from "./block.js";
import { BlockStore, type FileStoreOptions, ioError, noFollowUp, settle, type Write } from "./block-store.js";
import { loadBlocks } from "./load.js";
import {
  encodeBlockHeader,
  encodeErased,
  encodeTombstoneInto,
  RECORD_HEADER,
  RECORD_OVERHEAD,
  recordLength,
} from "./record.js";
import { SNAPSHOT_FILE, type Snapshot, takeSnapshot, writeSnapshot } from "./snapshot.js";
import { captureSnapshot } from "./snapshot-capture.js";

export type { FileStoreOptions } from "./block-store.js";

export class FileStore extends BlockStore {
  private constructor(dir: string, opts: FileStoreOptions) {
    super(dir, opts);
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
    for (const b of r.trimmed) if (!b.doomed) this.truncated.add(b);
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

  // ---- commit ------------------------------------------------------------------------------------

  flush(): Promise<void> {
    return this.group.flush();
  }

  /**
   * Write and sync everything queued, then unlink blocks whose messages are all gone (only now: a purge's
   * new block header must be durable first, and a delete is acknowledged only once its block is gone).
   */
  protected async commit(): Promise<() => Promise<void>> {
    const unlinks = this.doomed.splice(0);
    const writes: Write[] = [];
    let ms = 0;
    let subNs = 0;
    for (const b of this.dirty) {
      if (b.pendingTombs.length > 0) {
        if (ms === 0) ({ ms, subNs } = nowParts());
        for (const seq of b.pendingTombs) {
          const at = b.reserve(RECORD_OVERHEAD);
          encodeTombstoneInto(b.stage as Buffer, at, seq, ms, subNs);
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
    await this.rewriteTruncated();
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
   * Rewrite blocks that still hold records above a truncate point. The truncate is already durable (the
   * new block's floor hides them); this keeps it so once that block is gone too. A block with writes
   * queued meanwhile waits for the next commit; a failure is reported and left to compaction.
   */
  private async rewriteTruncated(): Promise<void> {
    for (const b of [...this.truncated]) {
      if (b.doomed) {
        this.truncated.delete(b);
        continue;
      }
      if (b.hasPending || b.written !== b.size) continue;
      this.truncated.delete(b);
      try {
        await this.compactBlock(b);
      } catch (err) {
        this.report({ kind: "io-error", file: b.file, message: `truncate rewrite failed: ${String(err)}` });
        this.compactQueue.add(b);
      }
    }
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
