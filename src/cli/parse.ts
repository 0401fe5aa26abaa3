// Parsers for flag values: durations ("1h30m", "500ms"), sizes ("1GiB", "512k"), counts, key:value headers.
// They throw commander's InvalidArgumentError so a bad value is reported as a usage error naming the flag.

import { InvalidArgumentError } from "commander";

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** "1h30m", "2.5s", "500ms", "1d" -> milliseconds; a bare number is seconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === "") throw new InvalidArgumentError("empty duration");
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== s.length || pos === 0) {
    throw new InvalidArgumentError(`"${text}" is not a duration (examples: 500ms, 30s, 1h30m, 7d)`);
  }
  return total;
}

/**
 * A point in the past: an RFC 3339 time ("2025-01-01T00:00:00Z", a date alone is midnight UTC) or a duration
 * ago ("1h", "30m"). Throws on anything else.
 */
export function parseSince(text: string): Date {
  const s = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return new Date(t);
    throw new InvalidArgumentError(`"${text}" is not a time (example: 2025-01-01T12:00:00Z)`);
  }
  let ms: number;
  try {
    ms = parseDuration(s);
  } catch {
    throw new InvalidArgumentError(
      `"${text}" is neither a time (2025-01-01T12:00:00Z) nor a duration ago (30s, 1h, 7d)`,
    );
  }
  return new Date(Date.now() - ms);
}

/** A duration as JetStream wants it: nanoseconds, integral. */
export function durationNanos(text: string): number {
  return Math.round(parseDuration(text) * 1e6);
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** "1GiB", "512k", "100MB", "-1" -> bytes (binary units throughout, as the NATS tools do). */
export function parseSize(text: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m === null ? undefined : SIZE_UNITS[m[2].toLowerCase()];
  if (m === null || unit === undefined) {
    throw new InvalidArgumentError(
      `"${text}" is not a size (examples: 1024, 512KiB, 10MB, 1GiB, -1 for unlimited)`,
    );
  }
  const n = Number(m[1]);
  return n < 0 ? -1 : Math.round(n * unit);
}

/** An integer; `-1` allowed where NATS means "unlimited". */
export function parseInteger(text: string): number {
  const n = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`"${text}" is not an integer`);
  }
  return n;
}

export function parsePositive(text: string): number {
  const n = parseInteger(text);
  if (n < 1) throw new InvalidArgumentError(`"${text}" must be at least 1`);
  return n;
}

export function parseNonNegative(text: string): number {
  const n = parseInteger(text);
  if (n < 0) throw new InvalidArgumentError(`"${text}" must not be negative`);
  return n;
}

/** Collects a repeatable flag into an array (`-H a:1 -H b:2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Repeatable and comma-separated (`--subjects a,b --subjects c`). */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return [...(previous ?? []), ...items];
}

/** "key:value" (or "key=value") pairs into [key, value]. */
export function splitPair(text: string, what = "header"): [string, string] {
  const i = text.search(/[:=]/);
  if (i <= 0) throw new InvalidArgumentError(`${what} "${text}" must look like key:value`);
  return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}

export function pairsToRecord(
  pairs: string[] | undefined,
  what = "metadata",
): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const [k, v] = splitPair(p, what);
    out[k] = v;
  }
  return out;
}

/** One of a fixed set of words, case-insensitive. */
export function oneOf<T extends string>(...choices: T[]): (text: string) => T {
  return (text: string) => {
    const v = text.toLowerCase() as T;
    if (!choices.includes(v)) throw new InvalidArgumentError(`must be one of: ${choices.join(", ")}`);
    return v;
  };
}

/** A yes/no flag value for `--flag <bool>` style options that need to turn something off on edit. */
export function parseBool(text: string): boolean {
  const t = text.toLowerCase();
  if (["true", "yes", "on", "1", "y"].includes(t)) return true;
  if (["false", "no", "off", "0", "n"].includes(t)) return false;
  throw new InvalidArgumentError(`"${text}" is not true or false`);
}
