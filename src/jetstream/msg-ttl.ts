// Per-message TTL (`Nats-TTL`, ADR-43): a Go duration ("30s", "1h") or integer seconds, at least 1 s, or
// "never". Zero means "no TTL".

import { parseGoDuration } from "../auth/duration.js";

/** Milliseconds (> 0), -1 for never, 0 for none; undefined when the value is invalid. */
export function parseMsgTtl(value: string): number | undefined {
  const v = value.trim();
  if (v === "") return 0;
  if (v.toLowerCase() === "never") return -1;
  let ms: number;
  if (/^-?\d+$/.test(v)) {
    ms = Number(v) * 1000;
  } else {
    try {
      ms = parseGoDuration(v);
    } catch {
      return undefined;
    }
  }
  if (ms === 0) return 0;
  if (!Number.isFinite(ms) || ms < 1000) return undefined;
  return Math.floor(ms);
}

/** Marker TTL header value from a nanosecond duration, in whole seconds as nats-server writes it. */
export function ttlHeaderValue(ns: number): string {
  return `${Math.max(1, Math.round(ns / 1e9))}s`;
}
