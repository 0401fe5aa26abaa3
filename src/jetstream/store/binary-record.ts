// Small self-checking binary records (encoded stream and consumer states): a 4-byte magic, a version byte,
// a body of unsigned varints and raw bytes, then a CRC32 of everything before it. Varints carry any safe
// integer (up to 2^53) with plain arithmetic, since bitwise operators stop at 32 bits.

import { crc32 } from "./file/record.js";
import { StoreError } from "./types.js";

export class RecordWriter {
  private buf: Buffer;
  private len = 0;

  constructor(magic: string, version: number, capacity = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 16));
    this.raw(Buffer.from(magic, "latin1"));
    this.u8(version);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  /** An unsigned safe integer, 7 bits a byte. */
  uvarint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not an unsigned safe integer: ${v}`);
    this.room(8);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.len++] = v;
  }

  /** A signed safe integer (zigzag: small magnitudes stay small). */
  varint(v: number): void {
    this.uvarint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** The finished record, checksum appended. */
  finish(): Uint8Array {
    const sum = crc32(this.buf.subarray(0, this.len));
    this.room(4);
    this.buf.writeUInt32LE(sum, this.len);
    this.len += 4;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.len);
  }
}

/** Bytes an unsigned varint takes. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

export class RecordReader {
  private at: number;
  private readonly end: number;
  private readonly buf: Buffer;

  /** Check magic, version and checksum; `what` names the record in errors. */
  constructor(
    data: Uint8Array,
    magic: string,
    private readonly what: string,
    supported: readonly number[],
  ) {
    this.buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const head = magic.length + 1;
    if (this.buf.length < head + 4) this.fail(`too short (${this.buf.length} bytes)`);
    if (this.buf.toString("latin1", 0, magic.length) !== magic) this.fail("not one (bad magic)");
    const version = this.buf[magic.length];
    if (!supported.includes(version)) this.fail(`unsupported version ${version}`);
    this.version = version;
    this.end = this.buf.length - 4;
    if (crc32(this.buf.subarray(0, this.end)) !== this.buf.readUInt32LE(this.end)) {
      this.fail("checksum mismatch (damaged)");
    }
    this.at = head;
  }

  readonly version: number;

  fail(why: string): never {
    throw new StoreError("CORRUPT", `${this.what}: ${why}`);
  }

  u8(): number {
    if (this.at >= this.end) this.fail("truncated");
    return this.buf[this.at++];
  }

  uvarint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) this.fail("varint too long");
    }
    if (!Number.isSafeInteger(v)) this.fail("number out of range");
    return v;
  }

  varint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  raw(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.end) this.fail("truncated");
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Everything was read: trailing bytes mean the record is not what it claims. */
  done(): void {
    if (this.at !== this.end) this.fail(`${this.end - this.at} unexpected trailing bytes`);
  }
}
