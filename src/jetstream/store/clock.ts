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

/** What nowParts() returns: integer ms since the epoch and the ns within it. */
export interface TimeParts {
  ms: number;
  subNs: number;
}

const parts: TimeParts = { ms: 0, subNs: 0 };
let anchorMs = 0;
let anchorPerf = 0;
let lastCheck = 0;
reanchor();

/** Pair the wall clock with performance.now() at the moment Date.now() ticks (≤ 1 ms of spinning). */
function reanchor(): void {
  const d0 = Date.now();
  const limit = performance.now() + 2;
  let d = d0;
  let p = 0;
  do {
    p = performance.now();
    d = Date.now();
  } while (d === d0 && p < limit);
  anchorMs = d;
  anchorPerf = p;
  lastCheck = 0;
}

/**
 * Now, without BigInt (the publish path calls this per message). Returns a shared object, overwritten by
 * the next call. performance.now() gives sub-µs steps; it is re-anchored to the wall clock on drift
 * (checked once per elapsed ms, not on every call).
 */
export function nowParts(): TimeParts {
  let el = performance.now() - anchorPerf;
  let whole = Math.floor(el);
  if (whole !== lastCheck) {
    lastCheck = whole;
    if (Math.abs(anchorMs + whole - Date.now()) > DRIFT_LIMIT_MS) {
      reanchor();
      el = performance.now() - anchorPerf;
      whole = Math.floor(el);
    }
  }
  parts.ms = anchorMs + whole;
  parts.subNs = Math.min(999_999, Math.floor((el - whole) * 1_000_000));
  return parts;
}
