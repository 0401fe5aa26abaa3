// On-disk record codec. Every record is self-delimiting and carries a CRC32 over all its other bytes, so a
// reader can tell intact records from damaged ones and resynchronize on the magic after damage.
//
//  off size field
//    0  u32  record length L (whole record, including this field and the CRC)
//    4  u16  magic 0x544C ("LT")
//    6  u8   type: 1 message, 2 tombstone, 3 block header, 4 erased message
//    7  u8   flags: bit 0 = message has a header block
//    8  u16  subject length S (UTF-8 bytes)
//   10  u16  reserved, 0
//   12  u32  header block length H
//   16  u32  seq, low 32 bits
//   20  u32  seq, high bits
//   24  i64  timestamp, ns since the epoch
//   32  f64  TTL ms (0 none, < 0 never)
//   40  S    subject, H header block, then data (L - 44 - S - H bytes)
//  L-4  u32  CRC32 of bytes [0, L-4)

import { randomFillSync } from "node:crypto";
import * as zlib from "node:zlib";
import { MESSAGE_OVERHEAD } from "../types.js";

export const RECORD_HEADER = 40;
export const RECORD_OVERHEAD = RECORD_HEADER + 4;
export const MAGIC = 0x544c;
/** The magic as it appears in the file, for resynchronizing after damage. */
export const MAGIC_BYTES = Buffer.from([MAGIC & 0xff, MAGIC >> 8]);

export const RecordType = {
  Message: 1,
  Tombstone: 2,
  BlockHeader: 3,
  Erased: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const FLAG_HEADERS = 1;
const BLOCK_MARK = Buffer.from("LTSTORE1");
/** Length of the record that starts every block. */
export const BLOCK_HEADER_LENGTH = RECORD_OVERHEAD + BLOCK_MARK.length;

// zlib.crc32 exists from Node 20.15; older 20.x falls back to a table.
const nativeCrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let table: Uint32Array | undefined;

/** Below this many bytes a table loop (slicing by 4) beats the native call and the view it needs. */
const SMALL_CRC = 256;
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T0[i] = c;
}
for (let i = 0; i < 256; i++) {
  T1[i] = T0[T0[i] & 0xff] ^ (T0[i] >>> 8);
  T2[i] = T0[T1[i] & 0xff] ^ (T1[i] >>> 8);
  T3[i] = T0[T2[i] & 0xff] ^ (T2[i] >>> 8);
}

/** CRC32 of b[start, end). */
export function crc32Range(b: Buffer, start: number, end: number): number {
  if (end - start >= SMALL_CRC && nativeCrc !== undefined) return nativeCrc(b.subarray(start, end));
  let c = -1;
  let i = start;
  for (const stop = end - 3; i < stop; i += 4) {
    c ^= b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
    c = T3[c & 0xff] ^ T2[(c >>> 8) & 0xff] ^ T1[(c >>> 16) & 0xff] ^ T0[c >>> 24];
  }
  for (; i < end; i++) c = T0[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function crc32(data: Uint8Array): number {
  if (nativeCrc !== undefined) return nativeCrc(data);
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Record length of a message that counts `size` bytes (see messageSize). */
export function recordLength(size: number): number {
  return size - MESSAGE_OVERHEAD + RECORD_OVERHEAD;
}

/** Everything but the timestamp (bytes 24..32), which callers write. */
function writeHeader(
  b: Buffer,
  at: number,
  length: number,
  type: RecordType,
  flags: number,
  seq: number,
  ttl: number,
) {
  b.writeUInt32LE(length, at);
  b.writeUInt16LE(MAGIC, at + 4);
  b[at + 6] = type;
  b[at + 7] = flags;
  b.writeUInt16LE(0, at + 10);
  b.writeUInt32LE(seq >>> 0, at + 16);
  b.writeUInt32LE(Math.floor(seq / 0x100000000), at + 20);
  b.writeDoubleLE(ttl, at + 32);
}

function sealAt(b: Buffer, at: number, length: number): void {
  const end = at + length - 4;
  b.writeUInt32LE(crc32Range(b, at, end), end);
}

/** Write ms * 1e6 + subNs as a u64 at `at`, exactly, without BigInt. */
function writeTimeParts(b: Buffer, at: number, ms: number, subNs: number): void {
  // ms < 2^41: split so that every product stays below 2^53.
  const aL = ms % 65536;
  const x = ((ms - aL) / 65536) * 1_000_000; // < 2^45
  const y = aL * 1_000_000 + subNs; // < 2^37
  const xL = x % 65536;
  const z = xL * 65536 + y; // < 2^38
  const lo = z % 0x100000000;
  const hi = (x - xL) / 65536 + (z - lo) / 0x100000000;
  b.writeUInt32LE(lo, at);
  b.writeUInt32LE(hi, at + 4);
}

function seal(b: Buffer): Buffer {
  sealAt(b, 0, b.length);
  return b;
}

export function encodeMessage(
  seq: number,
  subject: string,
  subjectBytes: number,
  headers: Uint8Array | undefined,
  data: Uint8Array,
  ms: number,
  subNs: number,
  ttlMs: number,
): Buffer {
  const b = Buffer.allocUnsafe(RECORD_OVERHEAD + subjectBytes + (headers?.length ?? 0) + data.length);
  encodeMessageInto(b, 0, seq, subject, subjectBytes, headers, data, ms, subNs, ttlMs);
  return b;
}

/** Encode a message record into `b` at `at` (room for recordLength bytes must be there). */
export function encodeMessageInto(
  b: Buffer,
  at: number,
  seq: number,
  subject: string,
  subjectBytes: number,
  headers: Uint8Array | undefined,
  data: Uint8Array,
  ms: number,
  subNs: number,
  ttlMs: number,
): void {
  const hlen = headers?.length ?? 0;
  if (subjectBytes > 0xffff) throw new RangeError("subject longer than 65535 bytes");
  const length = RECORD_OVERHEAD + subjectBytes + hlen + data.length;
  writeHeader(b, at, length, RecordType.Message, headers !== undefined ? FLAG_HEADERS : 0, seq, ttlMs);
  writeTimeParts(b, at + 24, ms, subNs);
  b.writeUInt16LE(subjectBytes, at + 8);
  b.writeUInt32LE(hlen, at + 12);
  const s = at + RECORD_HEADER;
  if (subjectBytes > 0) writeSubject(b, s, subject, subjectBytes);
  if (headers !== undefined) copyInto(b, s + subjectBytes, headers);
  copyInto(b, s + subjectBytes + hlen, data);
  sealAt(b, at, length);
}

/** TypedArray#set costs more than a loop for the small payloads typical of streams. */
function copyInto(b: Buffer, at: number, src: Uint8Array): void {
  const n = src.length;
  if (n > 64) {
    b.set(src, at);
    return;
  }
  for (let i = 0; i < n; i++) b[at + i] = src[i];
}

/** Subjects are nearly always ASCII: copy char codes, and let the encoder do the rare rest. */
function writeSubject(b: Buffer, at: number, subject: string, bytes: number): void {
  if (bytes === subject.length) {
    for (let i = 0; i < bytes; i++) b[at + i] = subject.charCodeAt(i);
  } else {
    b.write(subject, at, bytes, "utf8");
  }
}

/** Marks `seq` deleted; lives in the same block as the message it deletes. */
export function encodeTombstone(seq: number, timeNs: bigint): Buffer {
  const b = Buffer.allocUnsafe(RECORD_OVERHEAD);
  const ms = timeNs / 1_000_000n;
  encodeTombstoneInto(b, 0, seq, Number(ms), Number(timeNs - ms * 1_000_000n));
  return b;
}

/** A tombstone at `at`, its time given as ms and the ns within it (no BigInt: one per removal). */
export function encodeTombstoneInto(b: Buffer, at: number, seq: number, ms: number, subNs: number): void {
  writeHeader(b, at, RECORD_OVERHEAD, RecordType.Tombstone, 0, seq, 0);
  writeTimeParts(b, at + 24, ms, subNs);
  b.writeUInt16LE(0, at + 8);
  b.writeUInt32LE(0, at + 12);
  sealAt(b, at, RECORD_OVERHEAD);
}

/** First record of every block: `floor` is the first sequence the block may hold (lastSeq + 1 at creation). */
export function encodeBlockHeader(floor: number, lastTimeNs: bigint): Buffer {
  const b = Buffer.allocUnsafe(BLOCK_HEADER_LENGTH);
  writeHeader(b, 0, b.length, RecordType.BlockHeader, 0, floor, 0);
  b.writeBigInt64LE(lastTimeNs, 24);
  b.writeUInt16LE(0, 8);
  b.writeUInt32LE(0, 12);
  BLOCK_MARK.copy(b, RECORD_HEADER);
  return seal(b);
}

/** Same length as the message it replaces, body scrubbed with random bytes. */
export function encodeErased(seq: number, length: number, timeNs: bigint): Buffer {
  const b = Buffer.allocUnsafe(length);
  writeHeader(b, 0, length, RecordType.Erased, 0, seq, 0);
  b.writeBigInt64LE(timeNs, 24);
  b.writeUInt16LE(0, 8);
  b.writeUInt32LE(0, 12);
  randomFillSync(b, RECORD_HEADER, length - RECORD_OVERHEAD);
  return seal(b);
}

export interface DecodedRecord {
  type: RecordType;
  length: number;
  seq: number;
  timeNs: bigint;
  ttlMs: number;
  hasHeaders: boolean;
  subjectLen: number;
  headerLen: number;
}

/** Why a record at an offset is unusable. */
export type RecordFault = "truncated" | "corrupt";

/** Validate the record at `off`; returns it, or why it cannot be trusted. */
export function decodeAt(buf: Buffer, off: number): DecodedRecord | RecordFault {
  if (buf.length - off < RECORD_OVERHEAD) return "truncated";
  const length = buf.readUInt32LE(off);
  if (buf.readUInt16LE(off + 4) !== MAGIC || length < RECORD_OVERHEAD) return "corrupt";
  if (length > buf.length - off) return "truncated";
  const type = buf[off + 6];
  if (type < RecordType.Message || type > RecordType.Erased) return "corrupt";
  const subjectLen = buf.readUInt16LE(off + 8);
  const headerLen = buf.readUInt32LE(off + 12);
  if (RECORD_OVERHEAD + subjectLen + headerLen > length) return "corrupt";
  const stored = buf.readUInt32LE(off + length - 4);
  if (crc32(buf.subarray(off, off + length - 4)) !== stored) return "corrupt";
  return {
    type: type as RecordType,
    length,
    seq: buf.readUInt32LE(off + 16) + buf.readUInt32LE(off + 20) * 0x100000000,
    timeNs: buf.readBigInt64LE(off + 24),
    ttlMs: buf.readDoubleLE(off + 32),
    hasHeaders: (buf[off + 7] & FLAG_HEADERS) !== 0,
    subjectLen,
    headerLen,
  };
}

/** Is `buf` exactly one intact message record for `seq`? (decodeAt's checks, allocation-free.) */
export function isMessageRecord(buf: Buffer, seq: number): boolean {
  const n = buf.length;
  if (n < RECORD_OVERHEAD || buf.readUInt32LE(0) !== n || buf.readUInt16LE(4) !== MAGIC) return false;
  if (buf[6] !== RecordType.Message) return false;
  if (RECORD_OVERHEAD + buf.readUInt16LE(8) + buf.readUInt32LE(12) > n) return false;
  if (buf.readUInt32LE(16) + buf.readUInt32LE(20) * 0x100000000 !== seq) return false;
  return crc32Range(buf, 0, n - 4) === buf.readUInt32LE(n - 4);
}

// ---- checking a run of records with one CRC pass -------------------------------------------------
//
// The CRC register is linear. Writing g(s, D) for the register after feeding bytes D from state s (so
// crc32(D) = ~g(~0, D)), an intact record R (body then the CRC of the body) always leaves
// g(~0, R) = RESIDUE, and g(s, R) = RESIDUE ^ shift(s ^ ~0, |R|), where shift(a, n) = a * x^(8n) mod P is
// the register advanced over n zero bytes. So the register expected after a run of intact records follows
// from their lengths alone, and one native CRC over the whole run checks it. Damage inside a single
// record is caught exactly as by that record's own CRC (shift is invertible); damage to several records
// goes unnoticed only if the errors cancel out, as unlikely as one damaged record passing its own check.
// When the run does not check out, the records are checked one by one to find the first bad one.

const POLY = 0xedb88320;
const RESIDUE = 0xdebb20e3;

/** a * b modulo the CRC polynomial (bit-reflected, as the register). */
function mulModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(8n) modulo the polynomial: the register change of n zero bytes. */
function xPow8n(n: number): number {
  let p = 0x80000000; // x^0 (bit 31 - k holds x^k)
  let sq = 0x00800000; // x^8: one byte
  while (n > 0) {
    if (n & 1) p = mulModP(sq, p);
    sq = mulModP(sq, sq);
    n = Math.floor(n / 2);
  }
  return p;
}

/** shift(a, n) = a * x^(8n) for a fixed n as four byte tables (linear in a), for the lengths seen recently. */
const shiftTables = new Map<number, Int32Array>();
const MAX_SHIFT_TABLES = 64;

function shiftTable(n: number): Int32Array {
  let t = shiftTables.get(n);
  if (t !== undefined) return t;
  const k = xPow8n(n);
  t = new Int32Array(1024);
  for (let byte = 0; byte < 4; byte++) {
    for (let v = 0; v < 256; v++) t[byte * 256 + v] = mulModP(k, v << (byte * 8));
  }
  if (shiftTables.size >= MAX_SHIFT_TABLES) shiftTables.clear();
  shiftTables.set(n, t);
  return t;
}

/**
 * Check the whole records in buf[from, end), back to back from `from`. Returns the offset just past the
 * last good one; its bitwise complement (a negative number) when the walk stopped at a damaged record
 * rather than at the end of the bytes.
 */
export function verifyRun(buf: Buffer, from: number, end: number): number {
  let at = from;
  let state = -1; // ~0
  let broken = false;
  while (at + RECORD_OVERHEAD <= end) {
    const len = buf.readUInt32LE(at);
    if (len < RECORD_OVERHEAD || buf.readUInt16LE(at + 4) !== MAGIC) {
      broken = true;
      break;
    }
    if (at + len > end) break;
    if (nativeCrc === undefined) {
      if (crc32Range(buf, at, at + len - 4) !== buf.readUInt32LE(at + len - 4)) {
        broken = true;
        break;
      }
    } else {
      const a = ~state;
      const t = shiftTable(len);
      state =
        RESIDUE ^
        t[a & 0xff] ^
        t[256 + ((a >>> 8) & 0xff)] ^
        t[512 + ((a >>> 16) & 0xff)] ^
        t[768 + (a >>> 24)];
    }
    at += len;
  }
  if (nativeCrc !== undefined && at > from && (~nativeCrc(buf.subarray(from, at)) | 0) !== (state | 0)) {
    // Something in the run is damaged: find the first bad record.
    let ok = from;
    while (ok < at) {
      const len = buf.readUInt32LE(ok);
      if (crc32Range(buf, ok, ok + len - 4) !== buf.readUInt32LE(ok + len - 4)) break;
      ok += len;
    }
    return ~ok;
  }
  return broken ? ~at : at;
}

/** Is the already verified record at `buf[at]` the message record for `seq`, `length` bytes long? */
export function isRecordFor(buf: Buffer, at: number, length: number, seq: number): boolean {
  return (
    buf.readUInt32LE(at) === length &&
    buf[at + 6] === RecordType.Message &&
    buf.readUInt32LE(at + 16) + buf.readUInt32LE(at + 20) * 0x100000000 === seq
  );
}

/** Offset of the next position after `from` that starts with the magic and decodes, or -1. */
export function resync(buf: Buffer, from: number): number {
  let i = buf.indexOf(MAGIC_BYTES, from + 4);
  while (i >= 0) {
    const start = i - 4;
    if (start > from && typeof decodeAt(buf, start) !== "string") return start;
    i = buf.indexOf(MAGIC_BYTES, i + 1);
  }
  return -1;
}
