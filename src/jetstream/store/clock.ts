// Wall-clock time with nanosecond resolution. Date.now() has only ms; hrtime has ns but no epoch, so we
// anchor hrtime to the wall clock and re-anchor when they drift apart (NTP steps, suspend).

const DRIFT_LIMIT_MS = 20;
let origin = anchor();

function anchor(): bigint {
  return BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
}

/** Nanoseconds since the epoch. */
export function nowNs(): bigint {
  let ns = origin + process.hrtime.bigint();
  if (Math.abs(Number(ns / 1_000_000n) - Date.now()) > DRIFT_LIMIT_MS) {
    origin = anchor();
    ns = origin + process.hrtime.bigint();
  }
  return ns;
}

/** Milliseconds (integer) and the nanoseconds within that millisecond. */
export function splitNs(ns: bigint): { ms: number; subNs: number } {
  const ms = ns / 1_000_000n;
  return { ms: Number(ms), subNs: Number(ns - ms * 1_000_000n) };
}

export function joinNs(ms: number, subNs: number): bigint {
  return BigInt(ms) * 1_000_000n + BigInt(subNs);
}
