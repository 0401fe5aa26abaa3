// Entry point of `npm run bench`: starts Lattice and nats-server side by side,
// measures the generator's ceilings, runs every scenario against each server,
// and prints Lattice vs nats-server with PASS/MISS against the targets.
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Ceilings, measureCeilings } from "./ceiling.js";
import { type ClusterResults, runClusterBench } from "./cluster-bench.js";
import { DEFAULT_CONSUMER_BENCH, runConsumerBench } from "./consumer-bench.js";
import { useCoreAccounting } from "./cpu.js";
import { renderJsReport } from "./js-report.js";
import { type JsResults, runJetStream } from "./js-run.js";
import { latticeNodeArgs } from "./js-servers.js";
import { type Options, parseArgs, parseUrl, type ScenarioId, type ServerKey } from "./options.js";
import { RawConn } from "./raw-client.js";
import { fmtCores, fmtCount, fmtMiB, fmtRate, fmtUs, median } from "./report.js";
import { type RunConfig, runRequestReply, runThroughput, SCENARIOS } from "./scenarios.js";
import {
  allowedCpus,
  freePort,
  installCleanupHandlers,
  pinSelf,
  readRss,
  shuttingDown,
  startProcess,
  stopAll,
  which,
} from "./servers.js";
import {
  ceilingText,
  headline,
  LABEL,
  NOISY_CORES,
  type Outcome,
  type Results,
  renderReport,
  type Slot,
  scenarioTitle,
} from "./tables.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LATTICE_ENTRY = join(ROOT, "dist", "src", "cli", "lattice-server.js");
const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

async function prepare(slot: Slot, opts: Options, serverCpus: string | null): Promise<void> {
  const url = opts.urls[slot.key];
  if (url) {
    const { host, port } = parseUrl(url);
    slot.endpoint = { label: slot.label, host, port, pid: null };
    slot.external = true;
  } else {
    const port = await freePort();
    let cmd: string;
    let args: string[];
    let env: NodeJS.ProcessEnv = {};
    if (slot.key === "lattice") {
      if (!existsSync(LATTICE_ENTRY)) {
        slot.skipped = `${LATTICE_ENTRY} does not exist yet — Lattice skipped (build its entry point, then rerun)`;
        return;
      }
      cmd = process.execPath;
      args = [...latticeNodeArgs(), LATTICE_ENTRY, "-a", "127.0.0.1", "-p", String(port)];
    } else {
      const bin = which("nats-server");
      if (!bin) {
        slot.skipped = "nats-server is not on PATH (Debian: apt-get install nats-server)";
        return;
      }
      cmd = bin;
      args = ["-a", "127.0.0.1", "-p", String(port)];
      if (serverCpus !== null) env = { GOMAXPROCS: "1" };
    }
    try {
      slot.proc = await startProcess({ name: slot.label, cmd, args, port, cpus: serverCpus, env });
    } catch (err) {
      slot.skipped = `failed to start: ${(err as Error).message}`;
      return;
    }
    slot.endpoint = { label: slot.label, host: "127.0.0.1", port, pid: slot.proc.pid };
  }
  // Idle RSS: right after start and one client's handshake.
  const ep = slot.endpoint;
  try {
    const conn = await RawConn.connect(ep.host, ep.port);
    try {
      slot.version = (JSON.parse(conn.info) as { version?: string }).version ?? null;
    } catch {
      slot.version = null;
    }
    await new Promise((r) => setTimeout(r, 250));
    if (slot.proc) slot.idleRss = readRss(slot.proc.pid);
    conn.close();
  } catch (err) {
    slot.skipped = `handshake failed: ${(err as Error).message}`;
    slot.endpoint = null;
  }
}

function summarizeRun(slot: Slot, id: ScenarioId, o: Outcome): string {
  if (!o.ok) return `  ${slot.label}: ERROR ${o.error}`;
  if (o.kind === "latency") {
    const r = o.result;
    return `  ${slot.label}: p50 ${fmtUs(r.p50Us)}  p99 ${fmtUs(r.p99Us)}  mean ${fmtUs(r.meanUs)}  (${fmtCount(r.requests)} requests)`;
  }
  const r = o.result;
  const deliver = id === "pub" ? "" : `  delivered ${fmtRate(r.deliverRate)}/s`;
  const noise = (r.foreignCores ?? 0) > NOISY_CORES ? `, other load ${fmtCores(r.foreignCores)} cores` : "";
  return (
    `  ${slot.label}: pub ${fmtRate(r.pubRate)}/s${deliver}  server ${fmtCores(r.serverCores)} cores, ` +
    `generator ${fmtCores(r.harnessCores)} cores${noise}  (${fmtCount(r.published)} msgs, ` +
    `${Math.max(r.pubSeconds, r.deliverSeconds).toFixed(2)} s)`
  );
}

async function runOne(slot: Slot, id: ScenarioId, opts: Options): Promise<Outcome> {
  const ep = slot.endpoint;
  if (!ep) return { ok: false, error: "no endpoint" };
  if (slot.proc?.exited()) return { ok: false, error: `server process exited:\n${slot.proc.tail()}` };
  try {
    if (id === "reqreply") {
      const n = opts.counts.reqreply;
      const warm = Math.min(Math.ceil(n / 10), 5000);
      const result = await runRequestReply(ep, n, warm, opts.maxSeconds, opts.stallMs);
      return { ok: true, kind: "latency", result };
    }
    const spec = SCENARIOS.find((s) => s.id === id);
    if (!spec) throw new Error(`unknown scenario ${id}`);
    const result = await runThroughput(ep, spec, runConfig(opts, opts.counts[id]));
    return { ok: true, kind: "throughput", result };
  } catch (err) {
    const msg = (err as Error).message;
    const exited = slot.proc?.exited() ? ` (server exited: ${slot.proc.tail().slice(-500)})` : "";
    return { ok: false, error: msg + exited };
  }
}

function runConfig(opts: Options, count: number): RunConfig {
  return {
    count,
    warmup: opts.warmup ?? Math.min(Math.ceil(count / 10), 1_000_000),
    durationS: opts.durationS,
    window: opts.window,
    inflight: opts.inflight,
    lagWindows: opts.lagWindows,
    maxSeconds: opts.maxSeconds,
    stallMs: opts.stallMs,
  };
}

/** Median run of each (scenario, server). */
function pick(outcomes: Outcome[], id: ScenarioId): Outcome | undefined {
  const good = outcomes.filter((o) => o.ok);
  if (good.length === 0) return outcomes[0];
  return median(good, (o) => {
    if (!o.ok) return 0;
    return o.kind === "latency" ? o.result.p50Us : headline(id, o.result);
  });
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${(err as Error).message}`);
    return 2;
  }
  installCleanupHandlers();

  // Fairness: the server under test gets one dedicated core, the generator the other.
  const cpus = allowedCpus();
  let serverCpus: string | null = null;
  let benchCores: number[] | null = null;
  let fairness: string;
  if (opts.pin && cpus.length >= 2 && which("taskset")) {
    const harnessCpu = cpus[0] as number;
    const serverCpu = cpus[cpus.length - 1] as number;
    pinSelf(harnessCpu);
    serverCpus = String(serverCpu);
    benchCores = [serverCpu, harnessCpu];
    useCoreAccounting(benchCores);
    fairness =
      `each server runs alone on CPU ${serverCpu} (taskset; all its threads — Go runtime, or V8/libuv helpers — ` +
      "share that one core, and nats-server gets GOMAXPROCS=1), so both get the same one-core budget; the load " +
      `generator is this single Node thread pinned to CPU ${harnessCpu} (one thread suffices while its CPU stays ` +
      "well under one core — see 'generator CPU' in each table).";
  } else {
    fairness =
      "NOT pinned (--no-pin, <2 CPUs or no taskset): servers and generator share all cores; " +
      "nats-server may use several cores, Lattice one. CPU figures are per-process.";
  }

  const keys: ServerKey[] = opts.only ? [opts.only] : ["lattice", "nats"];
  const slots: Slot[] = keys.map((key) => ({
    key,
    label: LABEL[key],
    endpoint: null,
    proc: null,
    external: false,
    skipped: null,
    version: null,
    idleRss: null,
    rssAfter: null,
    peakRss: null,
  }));

  log(`Lattice bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}`);
  log(`fairness: ${fairness}`);
  if (opts.only) log(`${LABEL[opts.only === "nats" ? "lattice" : "nats"]}: skipped (--only ${opts.only})`);
  for (const slot of slots) {
    await prepare(slot, opts, serverCpus);
    if (slot.skipped) log(`${slot.label}: SKIPPED — ${slot.skipped}`);
    else
      log(
        `${slot.label}${slot.version ? ` ${slot.version}` : ""} at ${slot.endpoint?.host}:${slot.endpoint?.port}` +
          `${slot.proc ? ` (pid ${slot.proc.pid}, idle RSS ${fmtMiB(slot.idleRss)})` : " (external)"}`,
      );
  }
  const active = slots.filter((s) => s.endpoint !== null);
  if (active.length === 0) {
    log("no server to benchmark");
    return 1;
  }

  let ceilings: Ceilings | null = null;
  if (opts.ceiling && opts.scenarios.length > 0 && !shuttingDown()) {
    log("measuring generator ceilings ...");
    try {
      ceilings = await measureCeilings(
        serverCpus,
        // Half the scenario counts: enough for a stable rate, and keeps the total time down.
        (id) => runConfig(opts, Math.ceil((opts.counts[id as ScenarioId] ?? opts.counts.pub) / 2)),
        opts.scenarios,
        5_000_000,
        Math.min(opts.counts.reqreply, 10_000),
        1000,
      );
      log("generator ceilings measured (table in the report below)");
    } catch (err) {
      log(`ceiling measurement failed: ${(err as Error).message}`);
    }
  }

  const results: Results = new Map();
  const allRuns: Record<string, Record<string, Outcome[]>> = {};
  for (const id of opts.scenarios) {
    log(`\n[${scenarioTitle(id)}]`);
    const runs = new Map<ServerKey, Outcome[]>();
    for (let r = 0; r < opts.repeat; r++) {
      // Alternate the order between repeats so neither server always goes first.
      const order = r % 2 === 0 ? active : [...active].reverse();
      for (const slot of order) {
        if (shuttingDown()) return 130;
        const o = await runOne(slot, id, opts);
        log(summarizeRun(slot, id, o));
        runs.set(slot.key, [...(runs.get(slot.key) ?? []), o]);
      }
    }
    const picked = new Map<ServerKey, Outcome>();
    for (const [k, list] of runs) {
      const p = pick(list, id);
      if (p) picked.set(k, p);
    }
    results.set(id, picked);
    allRuns[id] = Object.fromEntries(runs);
  }

  for (const slot of active) {
    if (!slot.proc || slot.proc.exited()) continue;
    slot.rssAfter = readRss(slot.proc.pid);
    slot.peakRss = readRss(slot.proc.pid, "VmHWM");
  }

  // JetStream: separate -js server processes; the core servers above are left as they were.
  let js: JsResults | null = null;
  if (opts.jsScenarios.length > 0 && !shuttingDown()) {
    js = await runJetStream(opts, slots, serverCpus, log);
    if (shuttingDown()) return 130;
  }
  // Consumers and KV through the official clients (LATTICE_BENCH_CONSUMERS=0 skips them; counts from
  // LATTICE_BENCH_CONSUMER_MSGS / LATTICE_BENCH_KV_OPS).
  let consumerText = "";
  if (opts.consumerScenarios.length > 0 && !shuttingDown() && process.env.LATTICE_BENCH_CONSUMERS !== "0") {
    const env = process.env;
    consumerText = await runConsumerBench(
      keys,
      serverCpus,
      {
        messages:
          opts.consumerMsgs || Number(env.LATTICE_BENCH_CONSUMER_MSGS) || DEFAULT_CONSUMER_BENCH.messages,
        kvOps: opts.kvOps || Number(env.LATTICE_BENCH_KV_OPS) || DEFAULT_CONSUMER_BENCH.kvOps,
        repeat: opts.repeat,
        scenarios: opts.consumerScenarios,
      },
      log,
    );
    if (shuttingDown()) return 130;
  }

  // Cluster scenarios: their own multi-process topologies (routes, gateways), after everything else.
  let cluster: ClusterResults | null = null;
  if (opts.clusterScenarios.length > 0 && !shuttingDown()) {
    cluster = await runClusterBench(opts, { keys, serverCpus, benchCores }, log);
    if (shuttingDown()) return 130;
  }

  const jsExtra = js ? renderJsReport(opts, js) : undefined;
  const extra =
    jsExtra && cluster
      ? { text: `${jsExtra.text}\n${cluster.text}`, summary: [...jsExtra.summary, ...cluster.summary] }
      : (jsExtra ?? (cluster ? { text: cluster.text, summary: cluster.summary } : undefined));
  const { text, summary } = renderReport(opts, slots, results, ceilings, extra);
  process.stdout.write(`\nLattice benchmark — fairness: ${fairness}\n`);
  if (ceilings) process.stdout.write(`${ceilingText(ceilings)}\n`);
  for (const s of slots) if (s.skipped) process.stdout.write(`\n${s.label} skipped: ${s.skipped}\n`);
  process.stdout.write(`${text}\n`);
  if (consumerText !== "") process.stdout.write(`${consumerText}\n`);

  if (opts.json) {
    const doc = {
      generatedAt: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? null, node: process.version },
      fairness,
      options: opts,
      servers: Object.fromEntries(
        slots.map((s) => [
          s.key,
          {
            label: s.label,
            version: s.version,
            skipped: s.skipped,
            external: s.external,
            endpoint: s.endpoint,
            idleRssBytes: s.idleRss,
            rssAfterBytes: s.rssAfter,
            peakRssBytes: s.peakRss,
          },
        ]),
      ),
      ceilings,
      scenarios: Object.fromEntries([...results].map(([id, m]) => [id, Object.fromEntries(m)])),
      runs: allRuns,
      jetstream: js && {
        storeFs: js.storeFs,
        fdatasync: js.fdatasync,
        servers: js.servers,
        scenarios: Object.fromEntries([...js.picked].map(([id, m]) => [id, Object.fromEntries(m)])),
        runs: js.runs,
      },
      cluster: cluster?.json ?? null,
      summary,
    };
    writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
    process.stdout.write(`\nJSON written to ${opts.json}\n`);
  }
  const missed = summary.some((s) => s.result === "MISS" || /^(FAIL|ERROR)/.test(s.result));
  return opts.strict && missed ? 1 : 0;
}

main()
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll();
    process.exit(1);
  });
