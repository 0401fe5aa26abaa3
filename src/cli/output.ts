// Human output for the `lattice` command line: aligned tables, humanised sizes, counts, durations and ages,
// colour only on a terminal (never with NO_COLOR or --json), and JSON for scripts.

import Table from "cli-table3";

let jsonMode = false;

/** `--json` turns colour off everywhere (the JSON goes to a script, not a person). */
export function setJsonMode(on: boolean): void {
  jsonMode = on;
}

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (jsonMode) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  return stream.isTTY === true;
}

function sgr(code: string, s: string, stream?: NodeJS.WriteStream): string {
  return useColor(stream) ? `\x1b[${code}m${s}\x1b[0m` : s;
}

export const color = {
  bold: (s: string, stream?: NodeJS.WriteStream) => sgr("1", s, stream),
  dim: (s: string, stream?: NodeJS.WriteStream) => sgr("2", s, stream),
  red: (s: string, stream?: NodeJS.WriteStream) => sgr("31", s, stream),
  green: (s: string, stream?: NodeJS.WriteStream) => sgr("32", s, stream),
  yellow: (s: string, stream?: NodeJS.WriteStream) => sgr("33", s, stream),
  cyan: (s: string, stream?: NodeJS.WriteStream) => sgr("36", s, stream),
};

export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** Progress and status notes go to stderr so stdout stays clean for data. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (typeof value === "bigint") return value.toString();
  return value;
}

export type Cell = string | number | boolean | null | undefined;

/** An aligned table with an optional title line; numbers are right-aligned. */
export function renderTable(head: string[], rows: Cell[][], title?: string): string {
  const colorOn = useColor();
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  const table = new Table({
    head: head.map((h) => (colorOn ? `\x1b[1m${h}\x1b[0m` : h)),
    style: { head: [], border: [], "padding-left": 1, "padding-right": 1 },
    colAligns: numeric.map((n) => (n ? "right" : "left")),
  });
  for (const r of rows) {
    table.push(r.map((c, i) => (typeof c === "number" && numeric[i] ? humanCount(c) : (c ?? ""))));
  }
  const body = table.toString();
  return title === undefined ? body : `${color.bold(title)}\n\n${body}`;
}

export function printTable(head: string[], rows: Cell[][], title?: string): void {
  out(renderTable(head, rows, title));
}

/** How a listing command (`stream ls`, `kv ls` ...) shows its items. */
export interface Listing<T> {
  name: (item: T) => string;
  /** The JSON of one item (default: the item itself). */
  json?: (item: T) => unknown;
  /** The line printed when there is nothing to list. */
  empty: string;
  head: string[];
  row: (item: T) => Cell[];
  title: string;
}

/** A listing: JSON with --json (names only with --names too), names with --names, else a table. */
export function printListing<T>(items: T[], opts: { json?: boolean; names?: boolean }, l: Listing<T>): void {
  if (opts.json) {
    const json = l.json;
    printJson(opts.names ? items.map((i) => l.name(i)) : json ? items.map((i) => json(i)) : items);
    return;
  }
  if (opts.names) {
    for (const i of items) out(l.name(i));
    return;
  }
  if (items.length === 0) {
    out(l.empty);
    return;
  }
  printTable(
    l.head,
    items.map((i) => l.row(i)),
    l.title,
  );
}

/**
 * Labelled key/value sections, labels right-aligned, as `stream info` and friends print them:
 *
 *     Configuration:
 *
 *              Subjects: orders.>
 *              Replicas: 1
 */
export type Section = { title?: string; rows: Array<[string, Cell] | undefined> };

export function renderSections(sections: Section[]): string {
  const all = sections.flatMap((s) => s.rows.filter((r): r is [string, Cell] => r !== undefined));
  const width = Math.max(0, ...all.map(([k]) => k.length));
  const parts: string[] = [];
  for (const s of sections) {
    const rows = s.rows.filter((r): r is [string, Cell] => r !== undefined);
    if (rows.length === 0) continue;
    const lines: string[] = [];
    if (s.title !== undefined) lines.push(color.bold(`${s.title}:`), "");
    for (const [k, v] of rows) lines.push(`${k.padStart(width + 2)}: ${v ?? ""}`);
    parts.push(lines.join("\n"));
  }
  return parts.join("\n\n");
}

export function printSections(sections: Section[]): void {
  out(renderSections(sections));
}

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** 1536 -> "1.5 KiB"; -1 or other negatives (NATS' "unlimited") -> "unlimited". */
export function humanBytes(n: number | undefined, unlimitedBelowZero = true): string {
  if (n === undefined || Number.isNaN(n)) return "";
  if (n < 0 && unlimitedBelowZero) return "unlimited";
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < SIZE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? `${v}` : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? "-" : ""}${trim(s)} ${SIZE_UNITS[u]}`;
}

/** 1234567 -> "1,234,567"; negatives (NATS' "unlimited") -> "unlimited" when asked. */
export function humanCount(n: number | undefined, unlimitedBelowZero = false): string {
  if (n === undefined || Number.isNaN(n)) return "";
  if (n < 0 && unlimitedBelowZero) return "unlimited";
  return Number.isInteger(n)
    ? n.toLocaleString("en-US")
    : n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Milliseconds -> "1d2h3m", "4m5s", "1.25s", "12.3ms", "45µs". */
export function humanDuration(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return "";
  if (ms < 0) return `-${humanDuration(-ms)}`;
  if (ms === 0) return "0s";
  if (ms < 1) return `${trim((ms * 1000).toFixed(ms < 0.01 ? 2 : 1))}µs`;
  if (ms < 1000) return `${trim(ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0))}ms`;
  if (ms < 60_000) return `${trim((ms / 1000).toFixed(2))}s`;
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  const units: Array<[string, number]> = [
    ["y", 365 * 86400],
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  for (const [u, size] of units) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${u}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join("");
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Nanoseconds as NATS configs carry them; 0 means "forever" for ages and TTLs. */
export function humanNanos(ns: number | undefined, zero = "unlimited"): string {
  if (ns === undefined) return "";
  if (ns === 0) return zero;
  return humanDuration(ns / 1e6);
}

/** A timestamp as "2024-05-01 12:00:00 (3m4s ago)"; empty for the zero time NATS sends for "never". */
export function humanTime(t: string | Date | undefined, withAgo = true): string {
  if (t === undefined || t === "") return "";
  const d = typeof t === "string" ? new Date(t) : t;
  const ms = d.getTime();
  if (Number.isNaN(ms) || ms <= 0 || d.getUTCFullYear() <= 1) return "never";
  const stamp = d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return withAgo ? `${stamp} (${ago(d)})` : stamp;
}

/** "3m4s ago", "never" for the zero time. */
export function ago(t: string | Date | undefined): string {
  if (t === undefined || t === "") return "never";
  const d = typeof t === "string" ? new Date(t) : t;
  const ms = d.getTime();
  if (Number.isNaN(ms) || d.getUTCFullYear() <= 1) return "never";
  const delta = Date.now() - ms;
  if (delta < 0) return `in ${humanDuration(-delta)}`;
  return `${humanDuration(Math.max(delta, 0))} ago`;
}

/** Shorten a value for a table cell: one line, at most `max` characters. */
export function ellipsis(s: string, max = 40): string {
  const one = s.replace(/\r?\n/g, "\\n");
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Bytes as text for display: UTF-8 when it is text, otherwise a note about binary content. */
export function displayBody(data: Uint8Array): string {
  const text = Buffer.from(data).toString("utf8");
  // Control characters other than whitespace mean binary; show it escaped rather than garbling the terminal.
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(text) || text.includes("\ufffd")) {
    return `<binary data, ${humanBytes(data.length)}>`;
  }
  return text;
}
