// What every `lattice bench` run shares: per-client meters and HDR histograms, the summary table and JSON,
// the progress bar, connecting many clients, and the publisher and subscriber loops.

import { createRequire } from "node:module";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Command } from "commander";
import type { Histogram } from "hdr-histogram-js";
import { interrupted } from "../command-kit.js";
import { commandName, connectWith, type ResolvedConnection, resolveConnection } from "../connect-options.js";
import {
  type Cell,
  color,
  humanBytes,
  humanCount,
  humanDuration,
  out,
  printJson,
  renderTable,
} from "../output.js";
import { parsePositive, parseSize } from "../parse.js";
import { progressBar, progressWanted } from "../progress.js";

// ---------------------------------------------------------------- measuring

export interface BenchOptions {
  msgs: number;
  size: number;
  clients: number;
  progress: boolean;
  json?: boolean;
}

/** One client's run: messages, bytes, wall-clock window, and (where meaningful) a latency histogram in µs. */
export class ClientRun {
  msgs = 0;
  bytes = 0;
  start = 0;
  end = 0;
  readonly hist: Histogram | undefined;

  constructor(
    readonly name: string,
    withLatency: boolean,
  ) {
    this.hist = withLatency ? newHistogram() : undefined;
  }

  begin(): void {
    if (this.start === 0) this.start = performance.now();
  }

  finish(): void {
    this.end = performance.now();
  }

  record(latencyMs: number): void {
    this.hist?.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }
}

// Loaded on first use: only benchmarks pay for it, not every `lattice` command.
let hdr: typeof import("hdr-histogram-js") | undefined;

export function newHistogram(): Histogram {
  hdr ??= createRequire(import.meta.url)("hdr-histogram-js") as typeof import("hdr-histogram-js");
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Whole-run progress: one bar over every client's messages, redrawn on a timer, not per message. */
export class Meter {
  done = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly bar;

  constructor(total: number, label: string, enabled: boolean) {
    this.bar = progressBar(total, "items", label, progressWanted(!enabled));
    this.timer = progressWanted(!enabled) ? setInterval(() => this.bar.update(this.done), 100) : undefined;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.bar.update(this.done);
    this.bar.stop();
  }
}

/** Split `total` messages over `n` clients as evenly as possible. */
export function shares(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  return Array.from({ length: n }, (_, i) => base + (i < total % n ? 1 : 0));
}

/** The send time (epoch ms, sub-ms precision) in the first 8 bytes of a payload, for end-to-end latency. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function stamp(payload: Uint8Array): Uint8Array {
  if (payload.length >= 8) new DataView(payload.buffer, payload.byteOffset, 8).setFloat64(0, now());
  return payload;
}

export function latencyOf(data: Uint8Array): number | undefined {
  if (data.length < 8) return undefined;
  const sent = new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
  const d = now() - sent;
  return Number.isFinite(d) && d >= 0 && d < 600_000 ? d : undefined;
}

export interface Summary {
  label: string;
  msgs: number;
  bytes: number;
  durationMs: number;
  hist?: Histogram;
}

export function summarise(label: string, runs: ClientRun[]): Summary {
  const started = runs.filter((r) => r.start > 0);
  const start = Math.min(...started.map((r) => r.start));
  const end = Math.max(...started.map((r) => r.end));
  let hist: Histogram | undefined;
  for (const r of runs) {
    if (r.hist === undefined) continue;
    hist ??= newHistogram();
    hist.add(r.hist);
  }
  return {
    label,
    msgs: runs.reduce((a, r) => a + r.msgs, 0),
    bytes: runs.reduce((a, r) => a + r.bytes, 0),
    durationMs: started.length > 0 ? end - start : 0,
    hist,
  };
}

export const PERCENTILES = [50, 90, 99, 99.9] as const;

/** A percentile, capped at the recorded maximum (HDR reports its bucket's upper edge, which may exceed it). */
export function pct(h: Histogram, p: number): number {
  return Math.min(h.getValueAtPercentile(p), h.maxValue);
}

export function rowOf(s: Summary): Cell[] {
  const secs = s.durationMs / 1000;
  const rate = secs > 0 ? s.msgs / secs : 0;
  const bw = secs > 0 ? s.bytes / secs : 0;
  const lat = (p: number) => (s.hist && s.hist.totalCount > 0 ? humanDuration(pct(s.hist, p) / 1000) : "-");
  return [
    s.label,
    s.msgs,
    humanDuration(s.durationMs),
    Math.round(rate),
    `${humanBytes(Math.round(bw))}/s`,
    ...PERCENTILES.map(lat),
    s.hist && s.hist.totalCount > 0 ? humanDuration(s.hist.maxValue / 1000) : "-",
  ];
}

export function jsonOf(s: Summary): Record<string, unknown> {
  const secs = s.durationMs / 1000;
  const o: Record<string, unknown> = {
    client: s.label,
    msgs: s.msgs,
    bytes: s.bytes,
    duration_ms: Math.round(s.durationMs * 1000) / 1000,
    msgs_per_sec: secs > 0 ? Math.round(s.msgs / secs) : 0,
    bytes_per_sec: secs > 0 ? Math.round(s.bytes / secs) : 0,
  };
  if (s.hist && s.hist.totalCount > 0) {
    o.latency_us = {
      min: s.hist.minNonZeroValue,
      mean: Math.round(s.hist.mean),
      p50: pct(s.hist, 50),
      p90: pct(s.hist, 90),
      p99: pct(s.hist, 99),
      p99_9: pct(s.hist, 99.9),
      max: s.hist.maxValue,
      count: s.hist.totalCount,
    };
  }
  return o;
}

export interface Group {
  title: string;
  runs: ClientRun[];
}

/** Print the summary: per client rows and a total per group (publishers, subscribers ...). */
export function report(name: string, details: string, groups: Group[], opts: BenchOptions): void {
  const used = groups.filter((g) => g.runs.length > 0);
  if (opts.json) {
    printJson({
      benchmark: name,
      details,
      groups: used.map((g) => ({
        name: g.title,
        total: jsonOf(summarise("total", g.runs)),
        clients: g.runs.map((r) => jsonOf(summarise(r.name, [r]))),
      })),
    });
    return;
  }
  out(color.bold(`${name}: ${details}`));
  for (const g of used) {
    const rows: Cell[][] = [];
    if (g.runs.length > 1) for (const r of g.runs) rows.push(rowOf(summarise(r.name, [r])));
    rows.push(rowOf(summarise(g.runs.length > 1 ? "Total" : g.runs[0].name, g.runs)));
    out();
    out(
      renderTable(
        [
          "Client",
          "Messages",
          "Duration",
          "Msgs/sec",
          "Throughput",
          ...PERCENTILES.map((p) => `p${p}`),
          "Max",
        ],
        rows,
        g.title,
      ),
    );
  }
  const withLatency = used.some((g) => g.runs.some((r) => r.hist !== undefined));
  if (withLatency) out(color.dim(latencyNote(name)));
}

export function latencyNote(name: string): string {
  if (name.includes("request")) return "Latency: request to reply round trip.";
  if (name.includes("JetStream publish")) return "Latency: publish to stream acknowledgement.";
  if (name.includes("fetch")) return "Latency: per fetch (pull request to last message of the batch).";
  if (name.includes("KV")) return "Latency: per operation round trip.";
  return "Latency: publish to delivery, end to end (timestamp in the payload).";
}

// ---------------------------------------------------------------- plumbing

export async function connectMany(
  cmd: Command,
  n: number,
  role: string,
): Promise<{ conns: NatsConnection[]; conn: ResolvedConnection }> {
  const conn = resolveConnection(cmd);
  const base = commandName(cmd);
  const conns: NatsConnection[] = [];
  try {
    for (let i = 0; i < n; i++) conns.push(await connectWith(conn, `${base} ${role} ${i + 1}`));
  } catch (err) {
    await closeAll(conns);
    throw err;
  }
  return { conns, conn };
}

export async function closeAll(conns: NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close().catch(() => {})));
}

export function payload(size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 8; i < size; i++) p[i] = 97 + (i % 26);
  return p;
}

export const FLUSH_EVERY = 1000;

export async function publisher(
  nc: NatsConnection,
  subject: string,
  count: number,
  size: number,
  run: ClientRun,
  meter: Meter,
  stop: { stopped: boolean },
): Promise<void> {
  const body = payload(size);
  run.begin();
  for (let i = 0; i < count && !stop.stopped; i++) {
    nc.publish(subject, stamp(body));
    run.msgs++;
    run.bytes += size;
    meter.done++;
    if ((i + 1) % FLUSH_EVERY === 0) await nc.flush();
  }
  await nc.flush();
  run.finish();
}

export function subscriber(
  nc: NatsConnection,
  subject: string,
  expect: number,
  run: ClientRun,
  meter: Meter,
  stop: { stopped: boolean },
): { ready: Promise<void>; done: Promise<void> } {
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const sub = nc.subscribe(subject, {
    callback: (_err, m) => {
      run.begin();
      run.msgs++;
      run.bytes += m.data.length;
      meter.done++;
      const l = latencyOf(m.data);
      if (l !== undefined) run.record(l);
      run.end = performance.now();
      if (run.msgs >= expect) {
        sub.unsubscribe();
        resolveDone();
      }
    },
  });
  const poll = setInterval(() => {
    if (stop.stopped) {
      sub.unsubscribe();
      resolveDone();
    }
  }, 50);
  void done.then(() => clearInterval(poll));
  return { ready: nc.flush(), done };
}

export function benchOptions(cmd: Command, defaults: { msgs?: number; clients?: string } = {}): Command {
  return cmd
    .option("--msgs <n>", "messages (or operations) in total", parsePositive, defaults.msgs ?? 100_000)
    .option("--size <size>", "message size, e.g. 128, 1KiB", parseSize, 128)
    .option(
      "--clients <n>",
      defaults.clients ?? "concurrent clients, each with its own connection",
      parsePositive,
      1,
    )
    .option("--no-progress", "no progress bar")
    .option("--json", "print the results as JSON");
}

export function stopper(): { stopped: boolean } {
  const s = { stopped: false };
  void interrupted().then(() => {
    s.stopped = true;
  });
  return s;
}

export function details(subject: string, o: BenchOptions, extra = ""): string {
  return `subject "${subject}", ${humanCount(o.msgs)} msgs of ${humanBytes(o.size)}, ${o.clients} client${o.clients === 1 ? "" : "s"}${extra}`;
}
