// Go `time.ParseDuration` syntax ("1h30m", "500ms", "1.5s", "-2m"), as nats-server config durations use it.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds for a Go duration string; throws on malformed input. */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new Error(`invalid duration "${text}"`);
  let total = 0;
  while (s.length > 0) {
    const m = PART.exec(s);
    if (m === null) throw new Error(`invalid duration "${text}"`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * total;
}
