// The reply subject of each delivery, `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>
// .<timestamp ns>.<pending>`, written as bytes into one buffer per consumer: no string is built per message.
// The view returned is valid until the next call, which is enough: routing copies it into each receiver's
// output (receivers that keep a reply decode it first).

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

/** Decimal digits of a non-negative safe integer at b[o]; returns the offset after them. */
function writeInt(b: Buffer, o: number, n: number): number {
  if (n < 10) {
    b[o] = 48 + n;
    return o + 1;
  }
  if (n >= 1_000_000_000) {
    // Split so every step stays a small integer: high part, then the low nine digits zero-padded.
    const hi = Math.floor(n / 1_000_000_000);
    o = writeInt(b, o, hi);
    return writeFixed(b, o, n - hi * 1_000_000_000, 9);
  }
  const digits =
    n < 100
      ? 2
      : n < 1000
        ? 3
        : n < 10000
          ? 4
          : n < 100000
            ? 5
            : n < 1000000
              ? 6
              : n < 10000000
                ? 7
                : n < 100000000
                  ? 8
                  : 9;
  return writeFixed(b, o, n, digits);
}

/** Exactly `digits` decimal digits of n < 2^31 (zero-padded) at b[o]. */
function writeFixed(b: Buffer, o: number, n: number, digits: number): number {
  const end = o + digits;
  for (let i = end - 1; i >= o; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}
