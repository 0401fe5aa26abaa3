// The JetStream part of the printed report: one table per scenario, the
// durability note, and the summary rows (targets: sync and async publish
// ≥1.0× nats-server, restart ≤2 s absolute for Lattice, RSS reported).

import type { JsRestartResult } from "./js-restart.js";
import type { JsOutcome, JsResults } from "./js-run.js";
import type { JsDirectResult, JsPubResult } from "./js-scenarios.js";
import type { Options, ServerKey } from "./options.js";
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
  verdict,
} from "./report.js";
import { GENERATOR_BUSY_CORES, LABEL, NOISY_CORES, type SummaryRow } from "./tables.js";

export const JS_TARGETS: Record<"js-sync" | "js-async" | "js-restart", Target> = {
  "js-sync": { kind: "min", bound: 1.0 },
  "js-async": { kind: "min", bound: 1.0 },
  "js-restart": { kind: "max", bound: 2, unit: "s" },
};

const KEYS: ServerKey[] = ["lattice", "nats"];

/** Problems in a successful run that make its figures untrustworthy (error acks, missing messages ...). */
function faults(o: JsOutcome | undefined): string[] {
  if (!o?.ok) return [];
  const f: string[] = [];
  if (o.kind === "pub") {
    const r = o.result;
    if (r.errorAcks > 0) f.push(`${fmtCount(r.errorAcks)} error acks (first: ${r.firstErrors[0]})`);
    if (r.streamMessages !== null && r.streamMessages !== r.expectedMessages)
      f.push(
        `stream holds ${fmtCount(r.streamMessages)} messages, PubAcks say ${fmtCount(r.expectedMessages)}`,
      );
    if (r.streamMessages === null) f.push("STREAM.INFO failed after the run");
  } else if (o.kind === "direct") {
    const r = o.result;
    if (r.errors + r.seqErrors > 0)
      f.push(`${fmtCount(r.errors + r.seqErrors)} failed gets (first: ${r.firstErrors[0]})`);
  } else {
    const r = o.result;
    if (r.publishErrors > 0)
      f.push(`${fmtCount(r.publishErrors)} error acks while storing (first: ${r.firstErrors[0]})`);
    if (r.messagesAfter !== r.stored)
      f.push(`${fmtCount(r.messagesAfter)} messages after restart, ${fmtCount(r.stored)} before`);
    if (r.lastMsgCheck !== null) f.push(`last message not readable after restart: ${r.lastMsgCheck}`);
    if (r.stop.killed) f.push("did not exit within 30 s of SIGTERM (SIGKILLed): not a clean shutdown");
  }
  return f;
}

export function renderJsReport(opts: Options, js: JsResults): { text: string; summary: SummaryRow[] } {
  const out: string[] = [];
  const summary: SummaryRow[] = [];
  const header = ["metric", "Lattice", "nats-server", "ratio", "target", "result"];
  out.push(
    "\nJetStream — file storage, 16-byte payloads, raw-TCP generator (PUB with a reply inbox per message, " +
      'PubAcks counted only when they carry "seq")',
  );
  out.push(
    `  store dirs on ${js.storeFs}. Durability differs: Lattice acknowledges a publish only after fdatasync ` +
      "(group commit: one sync per event-loop turn);\n  nats-server acknowledges once the message is written " +
      "to the OS page cache and syncs its blocks in the background (its default; newer releases call this\n  sync_interval, 2 min), i.e. before it is on disk. A sync publish on Lattice cannot beat one fdatasync of this disk.",
  );
  if (js.fdatasync) {
    out.push(
      `  measured on that file system: append + fdatasync p50 ${fmtUs(js.fdatasync.p50Us)}, p99 ` +
        `${fmtUs(js.fdatasync.p99Us)} (harness, 300 × 64 B) — Lattice's floor per synchronous publish.`,
    );
  }
  for (const k of KEYS) {
    const s = js.servers[k];
    if (s?.skipped) out.push(`  ${LABEL[k]}: JetStream scenarios skipped — ${s.skipped}`);
  }

  for (const id of js.scenarios) {
    const picked = js.picked.get(id);
    if (!picked) continue;
    const outcome = (k: ServerKey): JsOutcome | undefined => picked.get(k);
    const rows: string[][] = [header];
    const cell = (k: ServerKey, v: number | null, fmt: (n: number) => string): string => {
      const o = outcome(k);
      if (!o) return js.servers[k] ? "-" : "skipped";
      if (!o.ok) return o.skipped ? "skipped" : "ERROR";
      return v === null || !Number.isFinite(v) ? "-" : fmt(v);
    };
    /** One metric row; `target` rows are judged (ratio, or Lattice's absolute value with a unit). */
    const metric = <R>(
      name: string,
      pickR: (o: JsOutcome) => R | null,
      f: (r: R) => number | null,
      fmt: (n: number) => string,
      opt: { target?: Target; ratio?: boolean } = {},
    ): { l: number | null; n: number | null; r: number | null; verdict: string } => {
      const val = (k: ServerKey): number | null => {
        const o = outcome(k);
        const res = o ? pickR(o) : null;
        return res === null ? null : f(res);
      };
      const l = val("lattice");
      const n = val("nats");
      const showRatio = opt.ratio ?? true;
      const r = showRatio ? ratio(l, n) : null;
      const t = opt.target;
      let v = "";
      if (t) {
        const fl = faults(outcome("lattice"));
        const fn = faults(outcome("nats"));
        const judged = t.unit !== undefined ? l : r;
        const lo = outcome("lattice");
        if (lo && !lo.ok) v = lo.skipped ? "skipped (Lattice)" : "ERROR (Lattice: see below)";
        else if (fl.length > 0) v = "FAIL (Lattice: see below)";
        else if (t.unit === undefined && fn.length > 0) v = "n/a (nats-server run faulty)";
        else if (judged === null) v = l === null ? "n/a (no Lattice result)" : "n/a (no nats-server result)";
        else v = verdict(judged, t);
      }
      rows.push([
        name,
        cell("lattice", l, fmt),
        cell("nats", n, fmt),
        showRatio ? fmtRatio(r, t && t.unit === undefined ? t : undefined) : "",
        t ? fmtTarget(t) : "",
        v,
      ]);
      return { l, n, r, verdict: v };
    };
    const pub = (o: JsOutcome): JsPubResult | null => (o.ok && o.kind === "pub" ? o.result : null);
    const dir = (o: JsOutcome): JsDirectResult | null => (o.ok && o.kind === "direct" ? o.result : null);
    const rst = (o: JsOutcome): JsRestartResult | null => (o.ok && o.kind === "restart" ? o.result : null);
    const rate = (v: number): string => `${fmtRate(v)}/s`;
    const plain = (v: number): string => fmtCount(Math.round(v));
    const ms = (v: number): string => `${v.toFixed(0)} ms`;
    const bytes = (v: number): string => `${v.toFixed(0)} B`;
    const perCpu = (v: number | null, cores: number | null): number | null =>
      v !== null && cores !== null && cores > 0.05 ? v / cores : null;
    const cpuRows = (
      pickR: (
        o: JsOutcome,
      ) => { serverCores: number | null; harnessCores: number; foreignCores: number | null } | null,
    ): void => {
      metric("server process CPU (cores)", pickR, (r) => r.serverCores, fmtCores, { ratio: false });
      metric("generator CPU (cores)", pickR, (r) => r.harnessCores, fmtCores, { ratio: false });
      metric("other load on bench cores", pickR, (r) => r.foreignCores, fmtCores, { ratio: false });
    };
    const row = (
      check: string,
      m: { l: number | null; n: number | null; r: number | null; verdict: string },
      fmt: (n: number) => string,
      target: Target | null,
      cpuRatio: number | null = null,
    ): void => {
      summary.push({
        check,
        lattice: cell("lattice", m.l, fmt),
        nats: cell("nats", m.n, fmt),
        ratio: m.r,
        cpuRatio,
        target,
        result: target ? m.verdict : "reported",
      });
    };

    let title: string;
    if (id === "js-sync" || id === "js-async") {
      const sync = id === "js-sync";
      const count = sync ? opts.js.syncCount : opts.js.count;
      title = sync
        ? `JetStream publish, synchronous (1 in flight) — ${fmtCount(count)} msgs`
        : `JetStream publish, asynchronous (${fmtCount(opts.js.inflight)} in flight) — ${fmtCount(count)} msgs`;
      const t = JS_TARGETS[id];
      const main = metric("acked msgs/s", pub, (r) => r.rate, rate, { target: t });
      const eff = metric("  per server CPU-second", pub, (r) => perCpu(r.rate, r.serverCores), fmtRate);
      if (sync) {
        metric("latency p50", pub, (r) => r.latency?.p50Us ?? null, fmtUs);
        metric("latency p90", pub, (r) => r.latency?.p90Us ?? null, fmtUs);
        metric("latency p99", pub, (r) => r.latency?.p99Us ?? null, fmtUs);
        metric("latency mean", pub, (r) => r.latency?.meanUs ?? null, fmtUs);
        metric("latency max", pub, (r) => r.latency?.maxUs ?? null, fmtUs);
      }
      metric("published (measured)", pub, (r) => r.sent, plain, { ratio: false });
      metric("PubAcks with seq", pub, (r) => r.acked, plain, { ratio: false });
      metric('error acks ({"error"} / status)', pub, (r) => r.errorAcks, plain, { ratio: false });
      metric("acks out of sequence", pub, (r) => r.seqGaps, plain, { ratio: false });
      metric("stream messages after run", pub, (r) => r.streamMessages, plain, { ratio: false });
      metric("  expected (warm-up + acked)", pub, (r) => r.expectedMessages, plain, { ratio: false });
      metric(
        "run time (s)",
        pub,
        (r) => r.seconds,
        (v) => v.toFixed(2),
        { ratio: false },
      );
      cpuRows(pub);
      row(
        sync
          ? "JetStream sync publish (1 in flight): acks/s"
          : `JetStream async publish (${opts.js.inflight} in flight): acks/s`,
        main,
        rate,
        t,
        eff.r,
      );
      if (sync) {
        const p50 = (k: ServerKey): number | null => {
          const o = outcome(k);
          const r = o ? pub(o) : null;
          return r?.latency?.p50Us ?? null;
        };
        const m = { l: p50("lattice"), n: p50("nats"), r: ratio(p50("lattice"), p50("nats")), verdict: "" };
        row("JetStream sync publish: latency p50", m, fmtUs, null);
      }
    } else if (id === "js-direct") {
      title =
        `JetStream DIRECT.GET by sequence — random sequences over a stream of ` +
        `${fmtCount(Math.min(opts.js.count, 100_000))} msgs (allow_direct)`;
      const main = metric(`pipelined gets/s (${opts.js.directInflight} in flight)`, dir, (r) => r.rate, rate);
      const eff = metric("  per server CPU-second", dir, (r) => perCpu(r.rate, r.serverCores), fmtRate);
      const p50 = metric("sequential get latency p50", dir, (r) => r.latency.p50Us, fmtUs);
      metric("sequential get latency p90", dir, (r) => r.latency.p90Us, fmtUs);
      metric("sequential get latency p99", dir, (r) => r.latency.p99Us, fmtUs);
      metric("sequential get latency mean", dir, (r) => r.latency.meanUs, fmtUs);
      metric("pipelined gets (measured)", dir, (r) => r.requests, plain, { ratio: false });
      metric("sequential gets (measured)", dir, (r) => r.seqRequests, plain, { ratio: false });
      metric("failed gets (status, wrong seq/body)", dir, (r) => r.errors + r.seqErrors, plain, {
        ratio: false,
      });
      metric(`stream fill, async (${opts.js.inflight} in flight)`, dir, (r) => r.fillRate, rate);
      metric(
        "pipelined run time (s)",
        dir,
        (r) => r.seconds,
        (v) => v.toFixed(2),
        { ratio: false },
      );
      cpuRows(dir);
      row(`JetStream direct get (${opts.js.directInflight} in flight): gets/s`, main, rate, null, eff.r);
      row("JetStream direct get: sequential p50", p50, fmtUs, null);
    } else {
      title = `JetStream restart — ${fmtCount(opts.js.restartCount)} msgs stored (async), SIGTERM, start on the same store dir`;
      metric("messages stored", rst, (r) => r.stored, plain, { ratio: false });
      metric(`store rate (async, ${opts.js.inflight} in flight)`, rst, (r) => r.publishRate, rate);
      metric("RSS, empty stream", rst, (r) => r.rssEmpty, fmtMiB);
      const rssAt = metric("RSS at all messages stored (+1 s)", rst, (r) => r.rssStored, fmtMiB);
      const perMsg = metric("  RSS growth per stored message", rst, (r) => r.rssBytesPerMsg, bytes);
      metric("  peak RSS while storing (VmHWM)", rst, (r) => r.hwmStored, fmtMiB);
      metric("store on disk (allocated)", rst, (r) => r.disk.allocated, fmtMiB);
      metric("  on disk per message", rst, (r) => (r.stored > 0 ? r.disk.allocated / r.stored : null), bytes);
      metric("  files in the store dir", rst, (r) => r.disk.files, plain, { ratio: false });
      metric("SIGTERM → exit", rst, (r) => r.stop.ms, ms);
      metric("restart → accepting clients", rst, (r) => r.acceptMs, ms);
      const ready = metric(
        "restart → STREAM.INFO has all msgs",
        rst,
        (r) => r.readyMs / 1000,
        (v) => `${v.toFixed(3)} s`,
        {
          target: JS_TARGETS["js-restart"],
        },
      );
      metric("messages after restart", rst, (r) => r.messagesAfter, plain, { ratio: false });
      metric("STREAM.INFO polls until ready", rst, (r) => r.polls, plain, { ratio: false });
      metric("RSS when ready", rst, (r) => r.rssReady, fmtMiB);
      metric("  peak RSS during recovery (VmHWM)", rst, (r) => r.hwmReady, fmtMiB);
      const settled = metric("RSS 1 s after ready", rst, (r) => r.rssSettled, fmtMiB);
      row(
        `JetStream restart with ${fmtCount(opts.js.restartCount)} msgs: ready after`,
        ready,
        (v) => `${v.toFixed(3)} s`,
        JS_TARGETS["js-restart"],
      );
      row(`JetStream RSS at ${fmtCount(opts.js.restartCount)} stored msgs`, rssAt, fmtMiB, null);
      row("JetStream RSS growth per stored msg", perMsg, bytes, null);
      row("JetStream RSS after restart (+1 s)", settled, fmtMiB, null);
    }
    out.push(`\n${title}`);
    out.push(table(rows));
    for (const k of KEYS) out.push(...jsWarnings(k, outcome(k)));
  }
  return { text: out.join("\n"), summary };
}

function jsWarnings(k: ServerKey, o: JsOutcome | undefined): string[] {
  if (!o) return [];
  if (!o.ok) return [`  ! ${LABEL[k]} ${o.skipped ? "skipped" : "error"}: ${o.error}`];
  const w = faults(o).map((f) => `  ! ${LABEL[k]}: ${f}`);
  const r = o.result;
  if (r.capped) w.push(`  ! ${LABEL[k]}: run hit its time cap (--max-seconds) and was cut short`);
  if ("harnessCores" in r && r.harnessCores >= GENERATOR_BUSY_CORES)
    w.push(
      `  ! ${LABEL[k]}: the generator used ${fmtCores(r.harnessCores)} cores — this figure may be generator-bound`,
    );
  if ("foreignCores" in r && (r.foreignCores ?? 0) > NOISY_CORES)
    w.push(
      `  ! ${LABEL[k]}: ${fmtCores(r.foreignCores)} cores of other load on the benchmark cores during this run`,
    );
  return w;
}
