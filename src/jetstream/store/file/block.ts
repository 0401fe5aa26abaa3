// One block file: a header record, then message, tombstone and erased records, appended in order.
// A block owns the tombstones of its own messages, so removing or rewriting a block never depends on
// another one. This file knows bytes and files; which records are live is the store's business.

import * as fs from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import * as path from "node:path";
import type { StoreProblem } from "../types.js";
import { decodeAt, encodeBlockHeader, RECORD_HEADER, RecordType, resync } from "./record.js";

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
  problems: BlockProblem[];
}

/** Parse a whole block, skipping (and reporting) damaged ranges. */
export function scanBlock(buf: Buffer): BlockScan {
  const scan: BlockScan = {
    floorTimeNs: 0n,
    messages: [],
    deleted: new Set(),
    maxSeq: 0,
    maxSeqTimeNs: 0n,
    validEnd: 0,
    tailDamaged: false,
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

/** A block as the file store tracks it. `size` runs ahead of `written` by the bytes not yet on disk. */
export class Block {
  readonly file: string;
  readonly path: string;
  /** Logical length: written + in flight + queued. */
  size = 0;
  /** Bytes known to be on disk and intact. */
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
  /** Records queued for the next commit. */
  pending: Buffer[] = [];
  /** Message seqs among `pending` (rolled back if the write fails). */
  pendingMsgs: number[] = [];
  /** Tombstones to append at the next commit (encoded then, so a doomed block costs nothing). */
  pendingTombs: number[] = [];
  /** Erased records to scrub in place once their tombstones are durable. */
  erasures: Array<{ seq: number; offset: number; length: number }> = [];
  private fh: FileHandle | undefined;
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

  /** A new, empty block: its header record is the first pending write. */
  static fresh(dir: string, id: number, floor: number, lastTimeNs: bigint): Block {
    const b = new Block(dir, id, floor, false);
    const header = encodeBlockHeader(floor, lastTimeNs);
    b.pending.push(header);
    b.size = header.length;
    return b;
  }

  get hasPending(): boolean {
    return this.pending.length > 0 || this.pendingTombs.length > 0;
  }

  /** Write `bufs` at `position` (creating the file the first time). */
  async write(bufs: Buffer[], position: number): Promise<void> {
    if (this.fh === undefined) this.fh = await open(this.path, this.onDisk ? "r+" : "w+");
    let total = 0;
    for (const b of bufs) total += b.length;
    // Many small records: one copy into a single buffer beats building an iovec per record.
    const out = bufs.length > 8 ? [Buffer.concat(bufs, total)] : bufs;
    const { bytesWritten } = await this.fh.writev(out, position);
    if (bytesWritten !== total) throw new Error(`short write to ${this.file}: ${bytesWritten} of ${total}`);
  }

  async datasync(): Promise<void> {
    await this.fh?.datasync();
  }

  async truncate(length: number): Promise<void> {
    if (this.fh !== undefined) await this.fh.truncate(length);
    else if (this.onDisk) await fs.promises.truncate(this.path, length);
  }

  /** Overwrite bytes in place (erasing a record). */
  async overwrite(buf: Buffer, position: number): Promise<void> {
    await this.write([buf], position);
    await this.datasync();
  }

  readSync(offset: number, length: number): Buffer {
    if (this.readFd === undefined) this.readFd = fs.openSync(this.path, "r");
    const buf = Buffer.allocUnsafe(length);
    const n = fs.readSync(this.readFd, buf, 0, length, offset);
    if (n !== length) throw new Error(`short read from ${this.file}: ${n} of ${length} at ${offset}`);
    return buf;
  }

  async closeWriter(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  closeReader(): void {
    if (this.readFd !== undefined) fs.closeSync(this.readFd);
    this.readFd = undefined;
  }

  async close(): Promise<void> {
    this.closeReader();
    await this.closeWriter();
  }

  async unlink(): Promise<void> {
    await this.close();
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
    await this.closeWriter();
    await rename(tmp, this.path);
    // Synchronously with the rename's completion: no read may pair the new offsets with the old file.
    this.closeReader();
    this.size = this.written = pos;
    onSwap(offsets);
  }
}
