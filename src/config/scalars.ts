/**
 * Typing of unquoted value tokens: booleans, integers with size suffixes, floats, ISO-8601 Zulu
 * datetimes; everything else stays a string (IPs, host:port, URLs, words, `3secret`, …).
 *
 * The lexer hands over the whole token (it ends at whitespace or a terminator), so a token is a number
 * only if all of it is. That is how current nats-server versions behave for values that merely start
 * with a digit.
 */

export type Scalar = string | number | boolean | Date;

export type ScalarResult = { ok: true; value: Scalar } | { ok: false; reason: string };

const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["yes", true],
  ["on", true],
  ["false", false],
  ["no", false],
  ["off", false],
]);

const K = 1000n;
const KI = 1024n;

/** Size suffixes, lower-cased. A bare letter is decimal (k = 10^3); `b`, `i` or `ib` make it binary. */
const SUFFIXES: ReadonlyMap<string, bigint> = (() => {
  const table = new Map<string, bigint>();
  ["k", "m", "g", "t", "p", "e"].forEach((letter, i) => {
    const power = BigInt(i + 1);
    table.set(letter, K ** power);
    for (const binary of ["b", "i", "ib"]) table.set(letter + binary, KI ** power);
  });
  return table;
})();

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const INTEGER = /^(-?\d+)([a-z]{0,3})$/i;
// The exponent form is an extension (nats-server rejects `1e3`), kept so JSON files parse.
const FLOAT = /^-?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

export function classifyBare(token: string): ScalarResult {
  const bool = BOOLEANS.get(token.toLowerCase());
  if (bool !== undefined) return { ok: true, value: bool };

  const first = token.charCodeAt(token.charAt(0) === "-" ? 1 : 0);
  if (!(first >= 48 && first <= 57)) return { ok: true, value: token };

  const int = INTEGER.exec(token);
  if (int !== null) {
    const suffix = int[2].toLowerCase();
    const multiplier = suffix === "" ? 1n : SUFFIXES.get(suffix);
    if (multiplier !== undefined) return integer(token, BigInt(int[1]) * multiplier);
  }
  if (FLOAT.test(token)) return { ok: true, value: normalizeZero(Number(token)) };

  const date = DATETIME.exec(token);
  if (date !== null) return datetime(token, date);

  return { ok: true, value: token };
}

function integer(token: string, value: bigint): ScalarResult {
  // Go stores these in an int64; outside that range nats-server fails (or silently wraps for suffixes).
  if (value > INT64_MAX || value < INT64_MIN) {
    return { ok: false, reason: `integer '${token}' is out of the 64-bit range` };
  }
  return { ok: true, value: normalizeZero(Number(value)) };
}

function normalizeZero(n: number): number {
  return n === 0 ? 0 : n; // `-0` would surprise callers comparing with 0
}

function datetime(token: string, m: RegExpExecArray): ScalarResult {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const d = new Date(0);
  // setUTCFullYear rather than Date.UTC: the latter maps years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const roundTrips =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second;
  if (!roundTrips) return { ok: false, reason: `invalid datetime '${token}'` };
  return { ok: true, value: d };
}
