// Units as nats-server's monitoring JSON writes them: Go duration strings, nanosecond config durations,
// RFC 3339 times.

/** `v / 10^digits` with the fraction's trailing zeros dropped (Go prints "1.5ms", not "1.500ms"). */
function fixed(v: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(v / scale);
  const frac = String(v % scale)
    .padStart(digits, "0")
    .replace(/0+$/, "");
  return frac === "" ? String(whole) : `${whole}.${frac}`;
}

/** A duration in Go's `time.Duration.String()` form: "0s", "512µs", "2.5ms", "1m2.000000001s", "3h0m0s". */
export function goDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  ns = Math.abs(ns);
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${fixed(ns, 3)}µs`;
  if (ns < 1e9) return `${sign}${fixed(ns, 6)}ms`;
  const totalSecsNs = ns % 60e9;
  const totalMins = Math.floor(ns / 60e9);
  const secs = `${fixed(totalSecsNs, 9)}s`;
  const hours = Math.floor(totalMins / 60);
  if (hours > 0) return `${sign}${hours}h${totalMins % 60}m${secs}`;
  if (totalMins > 0) return `${sign}${totalMins}m${secs}`;
  return `${sign}${secs}`;
}

/** Whole-second uptime the way nats-server shows uptime and idle: "5s", "1m2s", "3d4h0m1s", "1y2d…". */
export function uptime(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  const mins = Math.floor(secs / 60);
  const hours = Math.floor(mins / 60);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  const hms = `${hours % 24}h${mins % 60}m${secs % 60}s`;
  if (years > 0) return `${years}y${days % 365}d${hms}`;
  if (days > 0) return `${days}d${hms}`;
  if (hours > 0) return hms;
  if (mins > 0) return `${mins}m${secs % 60}s`;
  return `${secs}s`;
}

/** Config durations (ping_interval, write_deadline) are nanoseconds in /varz. */
export function nanos(ms: number): number {
  return Math.round(ms * 1e6);
}

export function iso(t: Date | number): string {
  return (typeof t === "number" ? new Date(t) : t).toISOString();
}
