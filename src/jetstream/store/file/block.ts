// One block file: a header record, then message, tombstone and erased records, appended in order.
// A block owns the tombstones of its own messages, so removing or rewriting a block never depends on
// another one. This file knows bytes and files; which records are live is the store's business.

import * as fs from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import * as path from "node:path";
import type { StoreProblem } from "../types.js";
import {
  BLOCK_HEADER_LENGTH,
  decodeAt,
  encodeBlockHeader,
  RECORD_HEADER,
  RecordType,
  resync,
} from "./record.js";

export const BLOCK_SUFFIX = ".blk";

export function blockFileName(id: number): string {
  return `${String(id).padStart(10, "0")}${BLOCK_SUFFIX}`;
}

export function parseBlockFileName(name: string): number | undefined {
  const m = /^(\d{10})\.blk$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface ScannedMessage {
  seq: number;
  offset: number;
  length: number;
  subject: string;
  headerLen: number;
  hasHeaders: boolean;
  timeNs: bigint;
  ttlMs: number;
}

export type BlockProblem = Omit<StoreProblem, "time" | "file">;

export interface BlockScan {
  /** First sequence the block may hold, from its header record. */
  floor?: number;
  floorTimeNs: bigint;
  /** Intact message records, in file order (ascending seq). */
  messages: ScannedMessage[];
  /** Sequences this block records as deleted (tombstones and erased records). */
  deleted: Set<number>;
  /** Highest seq of any message or erased record, with its time: recovers lastSeq. */
  maxSeq: number;
  maxSeqTimeNs: bigint;
  /** Offset just past the last intact record. */
  validEnd: number;
  /** Damage reaches the end of the file (nothing intact after it). */
  tailDamaged: boolean;
  /** Records at or above the cut were skipped. */
  cut: boolean;
  problems: BlockProblem[];
}

/**
 * Parse a whole block, skipping (and reporting) damaged ranges. Records at or above `cut` (the floor of a
 * later block: a truncate that was not cleaned up) are not part of the stream and are ignored.
 */
export function scanBlock(buf: Buffer, cut = Number.POSITIVE_INFINITY): BlockScan {
  const scan: BlockScan = {
    floorTimeNs: 0n,
    messages: [],
    deleted: new Set(),
    maxSeq: 0,
    maxSeqTimeNs: 0n,
    validEnd: 0,
    tailDamaged: false,
    cut: false,
    problems: [],
  };
  let off = 0;
  let lastMsgSeq = 0;
  while (off < buf.length) {
    const r = decodeAt(buf, off);
    if (typeof r === "string") {
      const next = resync(buf, off);
      const end = next < 0 ? buf.length : next;
      const what = r === "truncated" && next < 0 ? "truncated" : "corrupt";
      scan.problems.push({
        kind: off === 0 ? "bad-header" : what,
        offset: off,
        length: end - off,
        afterSeq: lastMsgSeq || undefined,
        message: `${what} data: ${end - off} bytes at offset ${off} skipped`,
      });
      if (next < 0) {
        scan.tailDamaged = true;
        break;
      }
      off = next;
      continue;
    }
    if (r.type === RecordType.BlockHeader) {
      if (off === 0) {
        scan.floor = r.seq;
        scan.floorTimeNs = r.timeNs;
      }
    } else if (r.seq >= cut) {
      scan.cut = true;
    } else if (r.type === RecordType.Tombstone) {
      scan.deleted.add(r.seq);
    } else if (r.seq <= lastMsgSeq) {
      scan.problems.push({
        kind: "corrupt",
        offset: off,
        length: r.length,
        message: `record for seq ${r.seq} out of order after seq ${lastMsgSeq}; ignored`,
      });
    } else {
      lastMsgSeq = r.seq;
      if (r.seq > scan.maxSeq) {
        scan.maxSeq = r.seq;
        scan.maxSeqTimeNs = r.timeNs;
      }
      if (r.type === RecordType.Erased) {
        scan.deleted.add(r.seq);
      } else {
        const s = off + RECORD_HEADER;
        scan.messages.push({
          seq: r.seq,
          offset: off,
          length: r.length,
          subject: buf.toString("utf8", s, s + r.subjectLen),
          headerLen: r.headerLen,
          hasHeaders: r.hasHeaders,
          timeNs: r.timeNs,
          ttlMs: r.ttlMs,
        });
      }
    }
    off += r.length;
    scan.validEnd = off;
  }
  // Name the first intact message after each damaged range, so the report brackets what was lost.
  for (const p of scan.problems) {
    const after = scan.messages.find((m) => m.offset > (p.offset ?? 0));
    if (after !== undefined) p.beforeSeq = after.seq;
  }
  return scan;
}

/** The floor a block's header names, or undefined when the header cannot be read. */
export function readBlockFloor(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const head = Buffer.alloc(BLOCK_HEADER_LENGTH);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const r = decodeAt(head.subarray(0, n), 0);
    return typeof r !== "string" && r.type === RecordType.BlockHeader ? r.seq : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A block as the file store tracks it. `size` runs ahead of `written` by the bytes not yet written. */
export class Block {
  readonly file: string;
  readonly path: string;
  /** Logical length: written + staged. */
  size = 0;
  /** Bytes written to the file (in the page cache; durable once the commit that wrote them is done). */
  written = 0;
  /** Live messages and their record bytes, for removal/compaction decisions. */
  live = 0;
  liveBytes = 0;
  /** Highest message seq recorded in this block. */
  maxSeq = 0;
  /** The file exists and its directory entry is durable. */
  onDisk: boolean;
  /** Unlink at the next commit (every message removed). */
  doomed = false;
  /** Damage was found at load: kept as evidence even when nothing in it is live. */
  damaged = false;
  /**
   * Records queued for the next commit, back to back: they belong at file offset `written`. One buffer,
   * reused from commit to commit, so appending a message allocates nothing.
   */
  stage: Buffer | undefined;
  stageLen = 0;
  /** Message seqs among the staged bytes (rolled back if the write fails). */
  pendingMsgs: number[] = [];
  /** Tombstones to append at the next commit (encoded then, so a doomed block costs nothing). */
  pendingTombs: number[] = [];
  /** Erased records to scrub in place once their tombstones are durable. */
  erasures: Array<{ seq: number; offset: number; length: number }> = [];
  private fd: number | undefined;
  private readFd: number | undefined;

  constructor(
    readonly dir: string,
    readonly id: number,
    readonly floor: number,
    onDisk: boolean,
  ) {
    this.file = blockFileName(id);
    this.path = path.join(dir, this.file);
    this.onDisk = onDisk;
  }

  /** A new, empty block: its header record is the first staged write. */
  static fresh(dir: string, id: number, floor: number, lastTimeNs: bigint): Block {
    const b = new Block(dir, id, floor, false);
    const header = encodeBlockHeader(floor, lastTimeNs);
    b.stageBytes(header);
    b.size = header.length;
    return b;
  }

  get hasPending(): boolean {
    return this.stageLen > 0 || this.pendingTombs.length > 0;
  }

  /** Room for `len` more staged bytes; returns the stage offset to write them at. */
  reserve(len: number): number {
    const at = this.stageLen;
    const need = at + len;
    let st = this.stage;
    if (st === undefined || st.length < need) {
      let cap = st === undefined ? 16 * 1024 : st.length * 2;
      while (cap < need) cap *= 2;
      const next = Buffer.allocUnsafeSlow(cap);
      if (st !== undefined) st.copy(next, 0, 0, at);
      this.stage = st = next;
    }
    this.stageLen = need;
    return at;
  }

  /** Stage an already encoded record. */
  stageBytes(rec: Uint8Array): void {
    const at = this.reserve(rec.length);
    (this.stage as Buffer).set(rec, at);
  }

  /** Drop everything staged (doomed block, or a rollback). */
  clearStage(keepBuffer: boolean): void {
    this.stageLen = 0;
    if (!keepBuffer) this.stage = undefined;
  }

  /** Where a staged record at file offset `offset` sits in `stage` (valid until the next commit), or -1. */
  stagedAt(offset: number, length: number): number {
    const at = offset - this.written;
    if (at < 0 || this.stage === undefined || at + length > this.stageLen) return -1;
    return at;
  }

  /**
   * Write the staged bytes at `written` (creating the file the first time), synchronously: a page-cache
   * write costs less than a thread-pool round trip. Durable only after `datasync`.
   */
  writeStage(): number {
    const len = this.stageLen;
    if (len === 0) return 0;
    if (this.fd === undefined) this.fd = fs.openSync(this.path, this.onDisk ? "r+" : "w+");
    const st = this.stage as Buffer;
    let done = 0;
    while (done < len) {
      const n = fs.writeSync(this.fd, st, done, len - done, this.written + done);
      if (n <= 0) throw new Error(`short write to ${this.file}: ${done} of ${len}`);
      done += n;
    }
    this.written += len;
    this.stageLen = 0;
    return len;
  }

  /** Write `bufs` at `position` (creating the file the first time). */
  write(bufs: Buffer[], position: number): void {
    if (this.fd === undefined) this.fd = fs.openSync(this.path, this.onDisk ? "r+" : "w+");
    let total = 0;
    for (const b of bufs) total += b.length;
    const n = fs.writevSync(this.fd, bufs, position);
    if (n !== total) throw new Error(`short write to ${this.file}: ${n} of ${total}`);
  }

  /** fdatasync in the thread pool (the only hop a commit makes). */
  datasync(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  truncate(length: number): void {
    if (this.fd !== undefined) fs.ftruncateSync(this.fd, length);
    else if (this.onDisk) fs.truncateSync(this.path, length);
  }

  /** Overwrite bytes in place (erasing a record). */
  async overwrite(buf: Buffer, position: number): Promise<void> {
    this.write([buf], position);
    await this.datasync();
  }

  readSync(offset: number, length: number): Buffer {
    if (this.readFd === undefined) this.readFd = fs.openSync(this.path, "r");
    const buf = Buffer.allocUnsafe(length);
    const n = fs.readSync(this.readFd, buf, 0, length, offset);
    if (n !== length) throw new Error(`short read from ${this.file}: ${n} of ${length} at ${offset}`);
    return buf;
  }

  /** Read `length` bytes at `position` into `buf` at `at`. */
  readInto(buf: Buffer, at: number, length: number, position: number): void {
    if (this.readFd === undefined) this.readFd = fs.openSync(this.path, "r");
    const n = fs.readSync(this.readFd, buf, at, length, position);
    if (n !== length) throw new Error(`short read from ${this.file}: ${n} of ${length} at ${position}`);
  }

  closeWriter(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fs.closeSync(fd);
  }

  closeReader(): void {
    if (this.readFd !== undefined) fs.closeSync(this.readFd);
    this.readFd = undefined;
  }

  close(): void {
    this.closeReader();
    this.closeWriter();
  }

  async unlink(): Promise<void> {
    this.close();
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }

  /**
   * Rewrite the block keeping only `keep` (each the [offset, length] of an intact record) via a temp file
   * and an atomic rename; `onSwap` gets the new offset of each kept record, right after the rename.
   */
  async rewrite(
    header: Buffer,
    keep: Array<[number, number]>,
    onSwap: (offsets: number[]) => void,
  ): Promise<void> {
    const data = await fs.promises.readFile(this.path);
    const bufs = [header];
    const offsets: number[] = [];
    let pos = header.length;
    for (const [off, len] of keep) {
      const rec = data.subarray(off, off + len);
      if (typeof decodeAt(rec, 0) === "string")
        throw new Error(`record at ${off} in ${this.file} is damaged`);
      bufs.push(rec);
      offsets.push(pos);
      pos += len;
    }
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, "w");
    try {
      const { bytesWritten } = await fh.writev([Buffer.concat(bufs, pos)], 0);
      if (bytesWritten !== pos) throw new Error(`short write to ${tmp}: ${bytesWritten} of ${pos}`);
      await fh.datasync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    this.closeWriter();
    await rename(tmp, this.path);
    // Synchronously with the rename's completion: no read may pair the new offsets with the old file.
    this.closeReader();
    this.size = this.written = pos;
    onSwap(offsets);
  }
}
