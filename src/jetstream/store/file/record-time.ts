// A record keeps its timestamp as one little-endian 64-bit count of nanoseconds. This splits it into
// milliseconds and the nanoseconds within them with plain numbers: 2^32 = 4294 * 10^6 + 967296, so
// hi * 2^32 + lo = hi * 4294 ms + (hi * 967296 + lo) ns, and every step stays exact in a double.

const HI_MS = 4294;
const HI_REM = 967_296;

/** Where splitTimeAt leaves the two parts (one call, no object). */
export const splitTime = { ms: 0, subNs: 0 };

/** Split the nanosecond count at buf[at] into `splitTime.ms` and `splitTime.subNs`. */
export function splitTimeAt(buf: Buffer, at: number): void {
  const hi = buf.readUInt32LE(at + 4);
  const rest = hi * HI_REM + buf.readUInt32LE(at);
  const q = Math.floor(rest / 1_000_000);
  splitTime.ms = hi * HI_MS + q;
  splitTime.subNs = rest - q * 1_000_000;
}
