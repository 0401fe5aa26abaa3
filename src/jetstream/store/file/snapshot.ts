// Index snapshot: written at a clean close, so the next open loads the indexes from one file instead of
// scanning every block. It is only trusted when its checksum holds and every block file still has the
// name, size, modification time and checksum it recorded; it is removed as soon as it has been read, so a store that
// changes afterwards (and is then killed) is scanned as usual. Records loaded this way were checksummed
// when written; reads verify each record's CRC, so damage is still detected and never served.
//
// Layout (little-endian): "LTSNAP01", f64 lastSeq, i64 lastTimeNs, u32 blocks, per block 8 × f64
// (id, floor, size, live, liveBytes, maxSeq, mtimeMs, crc of the whole file), u32 subjects, per subject u32 length + UTF-8,
// f64 messages, then the columns seq f64, subject i32, size u32, ms f64, subNs u32, offset u32, then
// u32 TTL entries of (f64 seq, f64 ttl), then u32 CRC32 of everything before it.

import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { crc32 } from "./record.js";

export const SNAPSHOT_FILE = "index.snap";
const MAGIC = Buffer.from("LTSNAP01", "latin1");
const PAD = new Uint8Array(1);

export interface SnapshotBlock {
  id: number;
  floor: number;
  size: number;
  live: number;
  liveBytes: number;
  maxSeq: number;
  mtimeMs: number;
  /** CRC32 of the whole file: any change to it, even within the mtime's granularity, voids the snapshot. */
  crc: number;
}

export interface Snapshot {
  lastSeq: number;
  lastTimeNs: bigint;
  blocks: SnapshotBlock[];
  /** Subject by id; "" for an unused id. */
  subjects: string[];
  count: number;
  seq: Float64Array;
  subj: Int32Array;
  size: Uint32Array;
  ms: Float64Array;
  subNs: Uint32Array;
  off: Uint32Array;
  ttlSeqs: number[];
  ttls: number[];
}

class Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  f64(v: number): void {
    this.room(8);
    this.len = this.buf.writeDoubleLE(v, this.len);
  }
  u32(v: number): void {
    this.room(4);
    this.len = this.buf.writeUInt32LE(v, this.len);
  }
  i64(v: bigint): void {
    this.room(8);
    this.len = this.buf.writeBigInt64LE(v, this.len);
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Buffer {
    const body = this.buf.subarray(0, this.len);
    this.u32(crc32(body));
    return this.buf.subarray(0, this.len);
  }
}

function column(b: ArrayBufferView): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Write the snapshot durably (temp file, fsync, rename, directory fsync). */
export function writeSnapshot(dir: string, s: Snapshot): void {
  const w = new Writer();
  w.bytes(MAGIC);
  w.f64(s.lastSeq);
  w.i64(s.lastTimeNs);
  w.u32(s.blocks.length);
  for (const b of s.blocks) {
    for (const v of [b.id, b.floor, b.size, b.live, b.liveBytes, b.maxSeq, b.mtimeMs, b.crc]) w.f64(v);
  }
  w.u32(s.subjects.length);
  for (const subject of s.subjects) {
    const b = Buffer.from(subject, "utf8");
    w.u32(b.length);
    w.bytes(b);
  }
  const n = s.count;
  w.f64(n);
  // Columns start 8-aligned, so a reader can use them in place.
  while (w.len % 8 !== 0) w.bytes(PAD);
  w.bytes(column(s.seq.subarray(0, n)));
  w.bytes(column(s.subj.subarray(0, n)));
  w.bytes(column(s.size.subarray(0, n)));
  w.bytes(column(s.ms.subarray(0, n)));
  w.bytes(column(s.subNs.subarray(0, n)));
  w.bytes(column(s.off.subarray(0, n)));
  w.u32(s.ttlSeqs.length);
  for (let i = 0; i < s.ttlSeqs.length; i++) {
    w.f64(s.ttlSeqs[i]);
    w.f64(s.ttls[i]);
  }
  const data = w.done();
  const file = path.join(dir, SNAPSHOT_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDirSync(dir);
}

export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const nativeCrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let chunk: Buffer | undefined;

/**
 * CRC32 of a whole file, read through one reused 1 MiB buffer: reading each block whole would leave the
 * process holding freed-but-unreturned memory the size of the store. NaN (never matches) without zlib.crc32.
 */
function fileCrc(file: string): number {
  if (nativeCrc === undefined) return Number.NaN;
  chunk ??= Buffer.allocUnsafeSlow(1 << 20);
  const fd = fs.openSync(file, "r");
  try {
    let crc = 0;
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) return crc;
      crc = nativeCrc(chunk.subarray(0, n), crc);
      pos += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Size, mtime and checksum of a block file, as a snapshot records them. */
export function blockStat(file: string): { size: number; mtimeMs: number; crc: number } {
  const st = fs.statSync(file);
  return { size: st.size, mtimeMs: st.mtimeMs, crc: fileCrc(file) };
}

/**
 * Read and remove the snapshot in `dir`. Returns it only if intact and still describing exactly the block
 * files `ids` (each with the recorded size and modification time).
 */
export function takeSnapshot(dir: string, ids: readonly number[], pathOf: (id: number) => string) {
  const file = path.join(dir, SNAPSHOT_FILE);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  // Whatever happens next, this file must not outlive the state it describes.
  fs.unlinkSync(file);
  syncDirSync(dir);
  try {
    return parse(buf, ids, pathOf);
  } catch {
    return undefined;
  }
}

function parse(buf: Buffer, ids: readonly number[], pathOf: (id: number) => string): Snapshot | undefined {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== buf.readUInt32LE(end)) return undefined;
  let p = MAGIC.length;
  const f64 = () => {
    const v = buf.readDoubleLE(p);
    p += 8;
    return v;
  };
  const u32 = () => {
    const v = buf.readUInt32LE(p);
    p += 4;
    return v;
  };
  const lastSeq = f64();
  const lastTimeNs = buf.readBigInt64LE(p);
  p += 8;
  const nb = u32();
  if (nb !== ids.length) return undefined;
  const blocks: SnapshotBlock[] = [];
  for (let i = 0; i < nb; i++) {
    const b = {
      id: f64(),
      floor: f64(),
      size: f64(),
      live: f64(),
      liveBytes: f64(),
      maxSeq: f64(),
      mtimeMs: f64(),
      crc: f64(),
    };
    if (b.id !== ids[i]) return undefined;
    blocks.push(b);
  }
  // Cheap checks for every block first, then the checksums.
  for (const b of blocks) {
    const st = fs.statSync(pathOf(b.id));
    if (st.size !== b.size || st.mtimeMs !== b.mtimeMs) return undefined;
  }
  for (const b of blocks) {
    if (fileCrc(pathOf(b.id)) !== b.crc) return undefined;
  }
  const ns = u32();
  const subjects: string[] = [];
  for (let i = 0; i < ns; i++) {
    const len = u32();
    subjects.push(buf.toString("utf8", p, p + len));
    p += len;
  }
  const n = f64();
  while (p % 8 !== 0) p++;
  // Views into the file's buffer where aligned (it is, read whole), copies otherwise.
  type Col = Float64Array | Int32Array | Uint32Array;
  const take = <T extends Col>(Kind: {
    new (b: ArrayBuffer, o: number, n: number): T;
    new (n: number): T;
  }) => {
    const width = (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const bytes = n * width;
    if (p + bytes > end) throw new RangeError("snapshot truncated");
    let out: T;
    if ((buf.byteOffset + p) % width === 0) {
      out = new Kind(buf.buffer as ArrayBuffer, buf.byteOffset + p, n);
    } else {
      out = new Kind(n);
      new Uint8Array(out.buffer).set(buf.subarray(p, p + bytes));
    }
    p += bytes;
    return out;
  };
  const s: Snapshot = {
    lastSeq,
    lastTimeNs,
    blocks,
    subjects,
    count: n,
    seq: take(Float64Array),
    subj: take(Int32Array),
    size: take(Uint32Array),
    ms: take(Float64Array),
    subNs: take(Uint32Array),
    off: take(Uint32Array),
    ttlSeqs: [],
    ttls: [],
  };
  const nt = u32();
  for (let i = 0; i < nt; i++) {
    s.ttlSeqs.push(f64());
    s.ttls.push(f64());
  }
  if (p !== end) return undefined;
  for (let i = 0; i < n; i++) if (!s.subjects[s.subj[i]]) return undefined;
  return s;
}
