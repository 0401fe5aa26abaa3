/**
 * Option-value units shared by the option readers: Go-style durations (config input and monitoring
 * output) and JetStream storage sizes.
 *
 * Durations are returned in milliseconds (fractional below 1 ms: "10us" is 0.01). Every function that
 * reads a config value takes the option name and, optionally, its position (from `keyPosition`) so the
 * ConfigError it throws points at the offending line.
 */
import { ConfigError, type SourcePosition } from "./errors.js";

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // micro sign
  ["\u03bcs", 1_000n], // Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const NUMBER_PART = /^(\d*)(?:\.(\d*))?/;
const UNIT_PART = /^[^\d.]*/;

/**
 * Parses a Go duration string ("300ms", "-1.5h", "2h45m", "0") into nanoseconds. Throws an Error whose
 * message matches Go's `time.ParseDuration` wording.
 */
export function parseGoDuration(input: string): bigint {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(input)}`);
  let rest = input;
  let negative = false;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    negative = rest.startsWith("-");
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") throw invalid();
  let total = 0n;
  while (rest !== "") {
    const num = NUMBER_PART.exec(rest);
    const whole = num?.[1] ?? "";
    const fraction = num?.[2] ?? "";
    if (num === null || (whole === "" && fraction === "")) throw invalid();
    rest = rest.slice(num[0].length);
    const unitText = UNIT_PART.exec(rest)?.[0] ?? "";
    if (unitText === "") throw new Error(`time: missing unit in duration ${JSON.stringify(input)}`);
    const unit = NS_PER_UNIT.get(unitText);
    if (unit === undefined) {
      throw new Error(`time: unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(input)}`);
    }
    rest = rest.slice(unitText.length);
    total += BigInt(whole === "" ? "0" : whole) * unit;
    if (fraction !== "") total += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    if (total > INT64_MAX + (negative ? 1n : 0n)) throw invalid();
  }
  return negative ? -total : total;
}

/**
 * A config duration in milliseconds: a Go duration string, or a bare number meaning seconds (the old
 * format; use `durationFromConfig` to also get nats-server's deprecation warning).
 */
export function parseDuration(value: unknown, field: string, pos?: SourcePosition): number {
  return durationFromConfig(value, field, pos).ms;
}

export function durationFromConfig(
  value: unknown,
  field: string,
  pos?: SourcePosition,
): { ms: number; warning?: string } {
  if (typeof value === "string") {
    try {
      return { ms: Number(parseGoDuration(value)) / 1e6 };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`error parsing ${field}: ${detail}`, pos);
    }
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    // Same wording as nats-server, which accepts the number as seconds but asks for a string.
    return {
      ms: value * 1000,
      warning: `invalid use of field "${field}": ${field} should be converted to a duration`,
    };
  }
  throw new ConfigError(
    `${field} must be a duration string such as "2m" or "500ms" (got ${describeValue(value)})`,
    pos,
  );
}

const SIZE_STRING = /^(\d+(?:\.\d+)?)\s*(?:([kmgtpe])(i)?)?b?$/i;
const BINARY_POWER: Readonly<Record<string, number>> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * JetStream `max_mem` / `max_file` style sizes, in bytes: an integer (already suffix-expanded by the
 * parser, so `1G` unquoted is 10^9 and `1GB` is 2^30), or a string with a binary multiple
 * ("1G" = 2^30, "512MB", "10GiB", "1024"). An empty string is 0, as in nats-server.
 */
export function parseStorageSize(value: unknown, field: string, pos?: SourcePosition): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return value;
    throw new ConfigError(`${field} must be an integer number of bytes (got ${value})`, pos);
  }
  if (typeof value === "string") {
    const text = value.trim();
    if (text === "") return 0;
    const m = SIZE_STRING.exec(text);
    // A fraction needs a unit: "1.5G" is meaningful, "1.5" bytes is not.
    if (m !== null && (m[2] !== undefined || !m[1].includes("."))) {
      const power = m[2] === undefined ? 0 : BINARY_POWER[m[2].toLowerCase()];
      const bytes = Math.floor(Number(m[1]) * 1024 ** power);
      if (bytes < 2 ** 63) return bytes;
    }
    throw new ConfigError(
      `${field}: invalid size ${JSON.stringify(value)}; sizes given as strings must look like "512M" or "1G" ` +
        "(K, M, G, T, P = binary multiples)",
      pos,
    );
  }
  throw new ConfigError(`${field} must be an integer or a size string (got ${describeValue(value)})`, pos);
}

/** Formats like Go's `time.Duration.String()`: "1h2m3.5s", "1.5s", "500ms", "10µs", "0s". */
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms)) return Number.isNaN(ms) ? "0s" : formatNanos(ms > 0 ? INT64_MAX : INT64_MIN);
  // Split so that fractions of a millisecond survive the conversion to whole nanoseconds.
  const whole = Math.trunc(ms);
  let ns = BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
  if (ns > INT64_MAX) ns = INT64_MAX;
  if (ns < INT64_MIN) ns = INT64_MIN;
  return formatNanos(ns);
}

function formatNanos(ns: bigint): string {
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  const u = ns < 0n ? -ns : ns;
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) return `${sign}${fixedPoint(u, 3)}\u00b5s`;
  if (u < 1_000_000_000n) return `${sign}${fixedPoint(u, 6)}ms`;
  const totalSeconds = u / 1_000_000_000n;
  const seconds = `${fixedPoint((totalSeconds % 60n) * 1_000_000_000n + (u % 1_000_000_000n), 9)}s`;
  const totalMinutes = totalSeconds / 60n;
  if (totalMinutes === 0n) return sign + seconds;
  const hours = totalMinutes / 60n;
  const minutes = `${totalMinutes % 60n}m`;
  return sign + (hours === 0n ? "" : `${hours}h`) + minutes + seconds;
}

/** `value / 10^digits` in decimal, without trailing zeros in the fraction. */
function fixedPoint(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const fraction = (value % scale).toString().padStart(digits, "0").replace(/0+$/, "");
  return `${value / scale}${fraction === "" ? "" : `.${fraction}`}`;
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return `date ${value.toISOString()}`;
  if (Array.isArray(value)) return "an array";
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return "a map";
  return `${typeof value} ${JSON.stringify(value)}`;
}
