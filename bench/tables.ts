// The printed report: generator ceilings, one table per scenario, memory, and
// the PASS/MISS summary against the product targets.
import type { Ceilings } from "./ceiling.js";
import type { Options, ScenarioId, ServerKey } from "./options.js";
import {
  fmtCores,
  fmtCount,
  fmtMiB,
  fmtRate,
  fmtRatio,
  fmtTarget,
  fmtUs,
  ratio,
  type Target,
  table,
  type Verdict,
  verdict,
} from "./report.js";
import { type Endpoint, type LatencyResult, SCENARIOS, type ThroughputResult } from "./scenarios.js";
import type { ManagedProcess } from "./servers.js";

export const LABEL: Record<ServerKey, string> = { lattice: "Lattice", nats: "nats-server" };

/** Product targets; ratio = Lattice / nats-server. */
export const TARGETS: Record<ScenarioId | "rss", Target> = {
  pub: { kind: "min", bound: 0.5 },
  pubsub: { kind: "min", bound: 0.8 },
  fanout: { kind: "min", bound: 1.0 },
  queue: { kind: "min", bound: 0.8 },
  reqreply: { kind: "max", bound: 1.25 },
  rss: { kind: "max", bound: 2.0 },
};

/** A foreign load above this (in cores) on the benchmark cores makes a run suspect. */
export const NOISY_CORES = 0.15;
/** Generator CPU above this (in cores) means the generator may be what was measured. */
export const GENERATOR_BUSY_CORES = 0.8;

export interface Slot {
  key: ServerKey;
  label: string;
  endpoint: Endpoint | null;
  proc: ManagedProcess | null;
  external: boolean;
  skipped: string | null;
  version: string | null;
  idleRss: number | null;
  rssAfter: number | null;
  peakRss: number | null;
}

export type Outcome =
  | { ok: true; kind: "throughput"; result: ThroughputResult }
  | { ok: true; kind: "latency"; result: LatencyResult }
  | { ok: false; error: string };

export type Results = Map<ScenarioId, Map<ServerKey, Outcome>>;

export interface SummaryRow {
  check: string;
  lattice: string;
  nats: string;
  ratio: number | null;
  /** Same ratio per server CPU-second (throughput only): steadier on a noisy machine. */
  cpuRatio: number | null;
  /** null: reported only, no target. */
  target: Target | null;
  result: Verdict | string;
}

/** The figure a throughput scenario is judged on: published msgs/s for pub-only, else deliveries/s. */
export function headline(id: ScenarioId, r: ThroughputResult): number {
  return id === "pub" ? r.pubRate : r.deliverRate;
}

/** The same figure per second of server CPU (null when the server's CPU time is unknown). */
function perServerCpu(id: ScenarioId, r: ThroughputResult): number | null {
  return r.serverCores && r.serverCores > 0.05 ? headline(id, r) / r.serverCores : null;
}

/**
 * Estimated generator capacity for a scenario's shape: the ceiling run's rate
 * divided by the generator CPU it used (i.e. the rate at one full generator
 * core). Unlike the raw ceiling rate it does not depend on how fast the peer
 * or a busy machine let the ceiling run go.
 */
export function capacityFor(c: Ceilings, id: ScenarioId): number | null {
  const r = c.throughput[id];
  if (!r || r.harnessCores <= 0.01) return null;
  return headline(id, r) / r.harnessCores;
}

export function scenarioTitle(id: ScenarioId): string {
  return SCENARIOS.find((s) => s.id === id)?.title ?? "request-reply (sequential, 1 in flight)";
}

export function ceilingText(c: Ceilings): string {
  const rows = [["generator path", "measured", "generator CPU", "generator cost", "≈ capacity of 1 core"]];
  const add = (name: string, rate: number, cores: number, unit: string): void => {
    const ns = cores > 0 ? (cores / rate) * 1e9 : Number.NaN;
    rows.push([
      name,
      `${fmtRate(rate)} ${unit}`,
      `${fmtCores(cores)} cores`,
      Number.isFinite(ns) ? `${ns.toFixed(0)} ns/msg` : "-",
      Number.isFinite(ns) ? `${fmtRate(1e9 / ns)} ${unit}` : "-",
    ]);
  };
  for (const spec of SCENARIOS) {
    const r = c.throughput[spec.id];
    if (!r) continue;
    const name = spec.id === "pub" ? "pub only → sink" : `${spec.title} via reflector`;
    add(
      name,
      headline(spec.id as ScenarioId, r),
      r.harnessCores,
      spec.id === "pub" ? "pub/s" : "deliveries/s",
    );
  }
  add("MSG blast → 1 subscriber scanner", c.deliver1Rate, c.deliver1HarnessCores, "msgs/s");
  add("MSG blast → 4 subscriber scanners", c.deliver4Rate, c.deliver4HarnessCores, "msgs/s");
  const rr = c.reqReply;
  rows.push([
    "request-reply via minimal JS router",
    `p50 ${fmtUs(rr.p50Us)} p99 ${fmtUs(rr.p99Us)}`,
    `${fmtCores(rr.harnessCores)} cores`,
    "",
    "",
  ]);
  return [
    "\ngenerator ceilings — the same client code against a do-nothing peer process on the server's core",
    "(sink/reflector: counts PUB frames per PING window, answers with pre-encoded MSG frames and PONG;",
    " blast: streams pre-encoded MSG frames; capacity = measured rate / generator CPU, an estimate)",
    table(rows),
  ].join("\n");
}

export function renderReport(
  opts: Options,
  slots: Slot[],
  results: Results,
  ceilings: Ceilings | null,
  /** Further sections (JetStream) printed after the memory table, their rows appended to the summary. */
  extra?: { text: string; summary: SummaryRow[] },
): { text: string; summary: SummaryRow[] } {
  const out: string[] = [];
  const summary: SummaryRow[] = [];
  const slot = (k: ServerKey): Slot | undefined => slots.find((s) => s.key === k);
  const missing =
    slot("lattice")?.endpoint == null ? "Lattice" : slot("nats")?.endpoint == null ? "nats-server" : null;
  const judge = (r: number | null, t: Target): string =>
    r === null ? `n/a${missing ? ` (no ${missing})` : ""}` : verdict(r, t);
  const header = ["metric", "Lattice", "nats-server", "ratio", "target", "result"];

  for (const id of opts.scenarios) {
    const title = scenarioTitle(id);
    const target = TARGETS[id];
    const outcome = (k: ServerKey): Outcome | undefined => results.get(id)?.get(k);
    /** Text of one server's cell: "skipped", "ERROR", or the formatted value. */
    const cell = (k: ServerKey, v: number | null, fmt: (n: number) => string): string => {
      const o = outcome(k);
      if (!o) return slot(k)?.skipped || !slot(k) ? "skipped" : "-";
      if (!o.ok) return "ERROR";
      return v === null || !Number.isFinite(v) ? "-" : fmt(v);
    };
    const rows: string[][] = [header];
    /** A metric row; `judged` rows carry the target and go into the summary. */
    const metric = <R>(
      name: string,
      pickResult: (o: Outcome) => R | null,
      f: (r: R) => number | null,
      fmt: (n: number) => string,
      judged = false,
      withRatio = true,
    ): { l: number | null; n: number | null; r: number | null } => {
      const val = (k: ServerKey): number | null => {
        const o = outcome(k);
        const res = o ? pickResult(o) : null;
        return res === null ? null : f(res);
      };
      const l = val("lattice");
      const n = val("nats");
      const r = withRatio ? ratio(l, n) : null;
      rows.push([
        name,
        cell("lattice", l, fmt),
        cell("nats", n, fmt),
        withRatio ? fmtRatio(r, judged ? target : undefined) : "",
        judged ? fmtTarget(target) : "",
        judged ? judge(r, target) : "",
      ]);
      return { l, n, r };
    };
    const tput = (o: Outcome): ThroughputResult | null => (o.ok && o.kind === "throughput" ? o.result : null);
    const lat = (o: Outcome): LatencyResult | null => (o.ok && o.kind === "latency" ? o.result : null);
    const any = (o: Outcome): ThroughputResult | LatencyResult | null => (o.ok ? o.result : null);
    const rate = (v: number): string => `${fmtRate(v)}/s`;
    const plain = (v: number): string => fmtCount(Math.round(v));

    if (id === "reqreply") {
      const p50 = metric("latency p50", lat, (r) => r.p50Us, fmtUs, true);
      metric("latency p90", lat, (r) => r.p90Us, fmtUs);
      metric("latency p99", lat, (r) => r.p99Us, fmtUs);
      metric("latency mean", lat, (r) => r.meanUs, fmtUs);
      metric("latency max", lat, (r) => r.maxUs, fmtUs);
      metric("round trips/s", lat, (r) => 1e6 / r.meanUs, rate);
      metric("requests measured", lat, (r) => r.requests, plain, false, false);
      summary.push({
        check: "request-reply p50 latency",
        lattice: fmtUs(p50.l),
        nats: fmtUs(p50.n),
        ratio: p50.r,
        cpuRatio: null,
        target,
        result: judge(p50.r, target),
      });
    } else {
      const pub = metric("published msgs/s", tput, (r) => r.pubRate, rate, id === "pub");
      const del =
        id === "pub"
          ? pub
          : metric(
              id === "fanout" ? "deliveries/s (all 4 subs)" : "delivered msgs/s",
              tput,
              (r) => r.deliverRate,
              rate,
              true,
            );
      const eff = metric(
        "  per server CPU-second",
        tput,
        (r) => perServerCpu(id, r),
        (v) => fmtRate(v),
      );
      if (id !== "pub") {
        metric("delivered", tput, (r) => r.delivered, plain, false, false);
        metric("expected", tput, (r) => r.expected, plain, false, false);
      }
      metric("messages published", tput, (r) => r.published, plain, false, false);
      metric(
        "run time (s)",
        tput,
        (r) => Math.max(r.pubSeconds, r.deliverSeconds),
        (v) => v.toFixed(2),
        false,
        false,
      );
      const cap = ceilings ? capacityFor(ceilings, id) : null;
      if (cap !== null) {
        metric(
          `vs generator capacity (≈${fmtRate(cap)}/s)`,
          tput,
          (r) => (headline(id, r) / cap) * 100,
          (v) => `${v.toFixed(0)}%`,
          false,
          false,
        );
      }
      summary.push({
        check: `${title}: ${id === "pub" ? "published" : id === "fanout" ? "deliveries" : "delivered"}/s`,
        lattice: rate(del.l ?? Number.NaN),
        nats: rate(del.n ?? Number.NaN),
        ratio: del.r,
        cpuRatio: eff.r,
        target,
        result: judge(del.r, target),
      });
    }
    metric("server process CPU (cores)", any, (r) => r.serverCores, fmtCores, false, false);
    metric("generator CPU (cores)", any, (r) => r.harnessCores, fmtCores, false, false);
    metric("other load on bench cores", any, (r) => r.foreignCores, fmtCores, false, false);

    const count =
      id === "reqreply" ? `${fmtCount(opts.counts.reqreply)} requests` : `${fmtCount(opts.counts[id])} msgs`;
    out.push(`\n${title} — ${opts.durationS ? `~${opts.durationS} s per run` : count}, 16-byte payload`);
    out.push(table(rows));
    for (const k of ["lattice", "nats"] as const) out.push(...warnings(k, id, outcome(k), ceilings));
  }

  // Memory.
  const rows: string[][] = [header];
  const mem = (name: string, f: (s: Slot) => number | null, t: Target | null): void => {
    const show = (s: Slot | undefined): string =>
      !s || s.skipped ? "skipped" : s.external ? "n/a (external)" : fmtMiB(f(s));
    const l = slot("lattice");
    const n = slot("nats");
    const r = ratio(l ? f(l) : null, n ? f(n) : null);
    rows.push([
      name,
      show(l),
      show(n),
      fmtRatio(r, t ?? undefined),
      t ? fmtTarget(t) : "",
      t ? judge(r, t) : "",
    ]);
    if (t)
      summary.push({
        check: name,
        lattice: show(l),
        nats: show(n),
        ratio: r,
        cpuRatio: null,
        target: t,
        result: judge(r, t),
      });
  };
  mem("idle RSS (after 1 client handshake)", (s) => s.idleRss, TARGETS.rss);
  mem("RSS after the bench", (s) => s.rssAfter, null);
  mem("peak RSS (VmHWM)", (s) => s.peakRss, null);
  out.push("\nmemory (VmRSS from /proc/<pid>/status)");
  out.push(table(rows));
  if (extra) {
    out.push(extra.text);
    summary.push(...extra.summary);
  }

  const srows = [["check", "Lattice", "nats-server", "ratio", "ratio per CPU-s", "target", "result"]];
  for (const s of summary) {
    srows.push([
      s.check,
      s.lattice,
      s.nats,
      fmtRatio(s.ratio, s.target?.unit === undefined ? (s.target ?? undefined) : undefined),
      s.cpuRatio === null ? "" : fmtRatio(s.cpuRatio),
      fmtTarget(s.target),
      s.result,
    ]);
  }
  out.push(
    "\nsummary — ratio = Lattice / nats-server (throughput: higher is better; latency, memory: lower is better)",
  );
  out.push(table(srows));
  const noisy = [...results.values()].some((m) =>
    [...m.values()].some((o) => o.ok && (o.result.foreignCores ?? 0) > NOISY_CORES),
  );
  if (noisy) {
    out.push(
      '  ! other processes loaded the benchmark cores during some runs (see "other load"): raw rates are ' +
        "disturbed; the per-CPU-second ratio is steadier. Rerun on a quiet machine or with --repeat 3.",
    );
  }
  return { text: out.join("\n"), summary };
}

function warnings(k: ServerKey, id: ScenarioId, o: Outcome | undefined, ceilings: Ceilings | null): string[] {
  const w: string[] = [];
  if (!o) return w;
  if (!o.ok) return [`  ! ${LABEL[k]} error: ${o.error}`];
  const r = o.result;
  if (o.kind === "throughput" && o.result.slowPath > 0) {
    w.push(
      `  ! ${LABEL[k]}: ${fmtCount(o.result.slowPath)} MSG frames differed from the expected header and were ` +
        "counted on the slow path (the generator may have been the limit)",
    );
  }
  if (r.capped) w.push(`  ! ${LABEL[k]}: run hit --max-seconds and was cut short`);
  if (r.harnessCores >= GENERATOR_BUSY_CORES) {
    w.push(
      `  ! ${LABEL[k]}: the generator used ${fmtCores(r.harnessCores)} cores — this figure may be generator-bound`,
    );
  }
  const cap = o.kind === "throughput" && ceilings ? capacityFor(ceilings, id) : null;
  if (o.kind === "throughput" && cap !== null && headline(id, o.result) > 0.5 * cap) {
    w.push(
      `  ! ${LABEL[k]}: above half the generator's estimated capacity (${fmtRate(cap)}/s) — check generator CPU`,
    );
  }
  if ((r.foreignCores ?? 0) > NOISY_CORES) {
    w.push(
      `  ! ${LABEL[k]}: ${fmtCores(r.foreignCores)} cores of other load on the benchmark cores during this run`,
    );
  }
  return w;
}
