// The reply subject of each delivery, `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>
// .<timestamp ns>.<pending>`, written as bytes into one buffer per consumer: no string is built per message.
// The view returned is valid until the next call, which is enough: routing copies it into each receiver's
// output (receivers that keep a reply decode it first).

import { writeFixed, writeInt } from "../ascii-int.js";

/** Room for the five numbers: the timestamp has up to 19 digits, the others up to 16, plus the dots. */
const NUMBERS_ROOM = 19 + 4 * 16 + 4;

export class AckReplyWriter {
  private readonly buf: Buffer;
  private readonly prefixLength: number;
  /** One view per length seen: lengths vary over a handful of values, so nothing is allocated per message. */
  private readonly views: Array<Uint8Array | undefined> = [];
  /** The digits of the last timestamp's milliseconds: messages stored in the same ms share them. */
  private lastMs = -1;
  private readonly msDigits = Buffer.alloc(20);
  private msLength = 0;

  constructor(prefix: string) {
    const p = Buffer.from(prefix, "utf8");
    this.buf = Buffer.allocUnsafe(p.length + NUMBERS_ROOM);
    p.copy(this.buf);
    this.prefixLength = p.length;
  }

  /** The reply for one delivery; `ms` and `subNs` are the stored timestamp's parts. */
  write(
    delivered: number,
    sseq: number,
    dseq: number,
    ms: number,
    subNs: number,
    pending: number,
  ): Uint8Array {
    const b = this.buf;
    let o = writeInt(b, this.prefixLength, delivered);
    b[o++] = 0x2e;
    o = writeInt(b, o, sseq);
    b[o++] = 0x2e;
    o = writeInt(b, o, dseq);
    b[o++] = 0x2e;
    if (ms > 0) {
      if (ms !== this.lastMs) {
        this.lastMs = ms;
        this.msLength = writeInt(this.msDigits, 0, ms);
      }
      const d = this.msDigits;
      for (let i = 0; i < this.msLength; i++) b[o + i] = d[i];
      o = writeFixed(b, o + this.msLength, subNs, 6);
    } else {
      o = writeInt(b, o, subNs);
    }
    b[o++] = 0x2e;
    o = writeInt(b, o, pending);
    let v = this.views[o];
    if (v === undefined) this.views[o] = v = new Uint8Array(b.buffer, b.byteOffset, o);
    return v;
  }
}
