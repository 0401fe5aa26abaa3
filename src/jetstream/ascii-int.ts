// Decimal integers written as ASCII straight into a byte buffer: the hot reply paths (ack subjects,
// PubAcks) build their bytes in place instead of formatting a string and encoding it per message.

/** Decimal digits of a non-negative safe integer at b[o]; returns the offset after them. */
export function writeInt(b: Buffer, o: number, n: number): number {
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
export function writeFixed(b: Buffer, o: number, n: number, digits: number): number {
  const end = o + digits;
  for (let i = end - 1; i >= o; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}
