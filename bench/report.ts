// Formatting: aligned tables, number formatting and the PASS/MISS targets.

export type Cell = string;

/** Renders rows as left-aligned text columns (first row is the header). */
export function table(rows: Cell[][], indent = "  "): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  const line = (row: Cell[]): string =>
    indent +
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length),
      )
      .join("  ")
      .trimEnd();
  const out = [line(rows[0] ?? [])];
  out.push(indent + widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join("\n");
}

export function fmtRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

export function fmtUs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  return v >= 100 ? `${v.toFixed(0)} µs` : `${v.toFixed(1)} µs`;
}

export function fmtMiB(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "-";
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function fmtCores(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  return v.toFixed(2);
}

export function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

export interface Target {
  /** Ratio is Lattice / nats-server; "min" means higher is better, "max" lower is better. */
  kind: "min" | "max";
  bound: number;
  /** Set for an absolute bound on Lattice's own value (in this unit) instead of a ratio. */
  unit?: string;
}

export type Verdict = "PASS" | "MISS" | "n/a";

export function ratio(lattice: number | null | undefined, nats: number | null | undefined): number | null {
  if (lattice == null || nats == null || !Number.isFinite(lattice) || !Number.isFinite(nats) || nats === 0) {
    return null;
  }
  return lattice / nats;
}

export function verdict(r: number | null, target: Target): Verdict {
  if (r === null) return "n/a";
  return (target.kind === "min" ? r >= target.bound : r <= target.bound) ? "PASS" : "MISS";
}

/** Two decimals, or three when two would hide which side of `target`'s bound the ratio is on. */
export function fmtRatio(r: number | null, target?: Target): string {
  if (r === null) return "-";
  const digits = target && Math.abs(r - target.bound) < 0.005 && r !== target.bound ? 3 : 2;
  return `${r.toFixed(digits)}×`;
}

export function fmtTarget(t: Target | null): string {
  if (t === null) return "reported";
  if (t.unit !== undefined) return `${t.kind === "min" ? "≥" : "≤"}${t.bound} ${t.unit} (Lattice)`;
  return `${t.kind === "min" ? "≥" : "≤"}${t.bound.toFixed(2)}×`;
}

/** Median element of `items` ranked by `key` (upper median for even lengths). */
export function median<T>(items: T[], key: (t: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor(sorted.length / 2)];
}
