// Runs the JetStream scenarios for `npm run bench`: each server is started
// again with `-js -sd <fresh temp dir>` (the core servers stay untouched), the
// sync / async / direct scenarios share that process (a fresh stream each),
// and the restart scenario starts its own process per run. A server whose
// JetStream cannot be started or cannot create a stream is reported as skipped
// with the reason; nothing here ends the run.
import { JsConn } from "./js-client.js";
import { type JsRestartResult, runJsRestart } from "./js-restart.js";
import {
  type JsDirectResult,
  type JsPubResult,
  JsUnavailable,
  probeJetStream,
  runJsDirect,
  runJsPublish,
} from "./js-scenarios.js";
import {
  fsType,
  jsLaunch,
  makeStoreDir,
  measureFdatasync,
  removeStoreDir,
  startJsServer,
} from "./js-servers.js";
import { type JsScenarioId, type Options, parseUrl, type ServerKey } from "./options.js";
import { fmtMiB, fmtRate, fmtUs, median } from "./report.js";
import type { Endpoint } from "./scenarios.js";
import { type ManagedProcess, readRss, shuttingDown, stopProcess } from "./servers.js";
import type { Slot } from "./tables.js";

export type JsOutcome =
  | { ok: true; kind: "pub"; result: JsPubResult }
  | { ok: true; kind: "direct"; result: JsDirectResult }
  | { ok: true; kind: "restart"; result: JsRestartResult }
  | { ok: false; skipped: boolean; error: string };

export interface JsServerInfo {
  label: string;
  /** Why this server's JetStream scenarios did not run (null = they did). */
  skipped: string | null;
  external: boolean;
  version: string | null;
  /** RSS of the -js server used for sync/async/direct: after start, and after those scenarios. */
  rssStart: number | null;
  rssAfter: number | null;
  peakRss: number | null;
}

export interface JsResults {
  scenarios: JsScenarioId[];
  /** Median run per scenario and server. */
  picked: Map<JsScenarioId, Map<ServerKey, JsOutcome>>;
  runs: Record<string, Record<string, JsOutcome[]>>;
  servers: Partial<Record<ServerKey, JsServerInfo>>;
  /** File system the store dirs are on (what an fsync costs there). */
  storeFs: string;
  /** Append + fdatasync latency of that file system, measured by the harness (the floor for a sync publish on Lattice). */
  fdatasync: { p50Us: number; p99Us: number } | null;
}

const SHARED: JsScenarioId[] = ["js-sync", "js-async", "js-direct"];

interface JsTarget {
  key: ServerKey;
  label: string;
  endpoint: Endpoint | null;
  proc: ManagedProcess | null;
  storeDir: string | null;
  info: JsServerInfo;
}

function headlineOf(o: JsOutcome): number {
  if (!o.ok) return 0;
  if (o.kind === "pub") return o.result.rate;
  if (o.kind === "direct") return o.result.rate;
  return o.result.readyMs;
}

function describe(o: JsOutcome): string {
  if (!o.ok) return o.skipped ? `SKIPPED — ${o.error}` : `ERROR ${o.error}`;
  if (o.kind === "pub") {
    const r = o.result;
    const lat = r.latency ? `  p50 ${fmtUs(r.latency.p50Us)}  p99 ${fmtUs(r.latency.p99Us)}` : "";
    const errs = r.errorAcks > 0 ? `  ${r.errorAcks} ERROR ACKS (${r.firstErrors[0]})` : "";
    return `acked ${fmtRate(r.rate)}/s${lat}  (${r.acked} of ${r.sent} acked, ${r.seconds.toFixed(2)} s)${errs}`;
  }
  if (o.kind === "direct") {
    const r = o.result;
    const errs = r.errors + r.seqErrors > 0 ? `  ${r.errors + r.seqErrors} ERRORS (${r.firstErrors[0]})` : "";
    return (
      `pipelined ${fmtRate(r.rate)} gets/s (${r.inflight} in flight)  sequential p50 ${fmtUs(r.latency.p50Us)} ` +
      `p99 ${fmtUs(r.latency.p99Us)}  (stream of ${r.stored} msgs)${errs}`
    );
  }
  const r = o.result;
  return (
    `restart: accepting after ${r.acceptMs.toFixed(0)} ms, stream ready (${r.messagesAfter} msgs) after ` +
    `${r.readyMs.toFixed(0)} ms; RSS ${fmtMiB(r.rssStored)} at ${r.stored} msgs, ${fmtMiB(r.rssReady)} after restart`
  );
}

/** Starts (or connects to) the JetStream server of one slot for the shared scenarios. */
async function prepareShared(t: JsTarget, opts: Options, serverCpus: string | null): Promise<void> {
  const url = opts.urls[t.key];
  try {
    if (url) {
      const { host, port } = parseUrl(url);
      t.endpoint = { label: t.label, host, port, pid: null };
    } else {
      const l = jsLaunch(t.key, serverCpus);
      if (typeof l === "string") throw new JsUnavailable(l);
      t.storeDir = makeStoreDir(opts.js.dir, t.key);
      try {
        t.proc = await startJsServer(l, t.storeDir);
      } catch (err) {
        throw new JsUnavailable(`failed to start with -js: ${(err as Error).message}`);
      }
      t.endpoint = { label: t.label, host: "127.0.0.1", port: t.proc.port, pid: t.proc.pid };
    }
    const conn = await JsConn.connect(t.endpoint.host, t.endpoint.port);
    try {
      try {
        t.info.version = (JSON.parse(conn.info) as { version?: string }).version ?? null;
      } catch {
        t.info.version = null;
      }
      await probeJetStream(conn);
    } finally {
      conn.close();
    }
    await new Promise((r) => setTimeout(r, 250));
    if (t.proc) t.info.rssStart = readRss(t.proc.pid);
  } catch (err) {
    t.info.skipped = (err as Error).message;
    t.endpoint = null;
    await releaseShared(t);
  }
}

async function releaseShared(t: JsTarget): Promise<void> {
  if (t.proc) {
    if (!t.proc.exited()) {
      t.info.rssAfter = readRss(t.proc.pid);
      t.info.peakRss = readRss(t.proc.pid, "VmHWM");
    }
    await stopProcess(t.proc, 10_000);
    t.proc = null;
  }
  if (t.storeDir) {
    removeStoreDir(t.storeDir);
    t.storeDir = null;
  }
}

async function runShared(id: JsScenarioId, t: JsTarget, opts: Options): Promise<JsOutcome> {
  const ep = t.endpoint;
  if (!ep) return { ok: false, skipped: true, error: t.info.skipped ?? "no endpoint" };
  if (t.proc?.exited())
    return { ok: false, skipped: false, error: `server exited:\n${t.proc.tail().slice(-800)}` };
  const cfg = {
    count: opts.js.count,
    inflight: opts.js.inflight,
    maxSeconds: opts.maxSeconds,
    stallMs: opts.stallMs,
  };
  try {
    if (id === "js-sync")
      return {
        ok: true,
        kind: "pub",
        result: await runJsPublish(ep, "sync", { ...cfg, count: opts.js.syncCount }),
      };
    if (id === "js-async") return { ok: true, kind: "pub", result: await runJsPublish(ep, "async", cfg) };
    const result = await runJsDirect(ep, {
      ...cfg,
      inflight: opts.js.directInflight,
      syncCount: opts.js.syncCount,
      fillInflight: opts.js.inflight,
    });
    return { ok: true, kind: "direct", result };
  } catch (err) {
    const exited = t.proc?.exited() ? ` (server exited: ${t.proc.tail().slice(-800)})` : "";
    return { ok: false, skipped: err instanceof JsUnavailable, error: (err as Error).message + exited };
  }
}

async function runRestart(
  t: JsTarget,
  opts: Options,
  serverCpus: string | null,
  log: (m: string) => void,
): Promise<JsOutcome> {
  if (opts.urls[t.key])
    return { ok: false, skipped: true, error: "external server (--*-url): cannot be restarted" };
  const l = jsLaunch(t.key, serverCpus);
  if (typeof l === "string") return { ok: false, skipped: true, error: l };
  try {
    const result = await runJsRestart(
      l,
      {
        count: opts.js.restartCount,
        inflight: opts.js.inflight,
        stallMs: opts.stallMs,
        dir: opts.js.dir,
        key: t.key,
      },
      log,
    );
    return { ok: true, kind: "restart", result };
  } catch (err) {
    const msg = (err as Error).message;
    const skipped = err instanceof JsUnavailable || /failed to start|exited during startup/.test(msg);
    return { ok: false, skipped, error: msg };
  }
}

export async function runJetStream(
  opts: Options,
  slots: Slot[],
  serverCpus: string | null,
  log: (m: string) => void,
): Promise<JsResults> {
  const storeParent = opts.js.dir ?? (await import("node:os")).tmpdir();
  const res: JsResults = {
    scenarios: opts.jsScenarios,
    picked: new Map(),
    runs: {},
    servers: {},
    storeFs: fsType(storeParent),
    fdatasync: measureFdatasync(storeParent),
  };
  log(
    `\nJetStream: file storage under ${storeParent} (${res.storeFs}); Lattice acknowledges after fdatasync ` +
      "(group commit), nats-server (its default) before its data reaches the disk (background sync)",
  );
  if (res.fdatasync)
    log(
      `  append + fdatasync on that file system: p50 ${fmtUs(res.fdatasync.p50Us)}, p99 ${fmtUs(res.fdatasync.p99Us)} ` +
        "(the floor for a synchronous publish on Lattice)",
    );
  const targets: JsTarget[] = slots.map((s) => ({
    key: s.key,
    label: s.label,
    endpoint: null,
    proc: null,
    storeDir: null,
    info: {
      label: s.label,
      skipped: s.skipped,
      external: s.external,
      version: null,
      rssStart: null,
      rssAfter: null,
      peakRss: null,
    },
  }));
  for (const t of targets) res.servers[t.key] = t.info;
  const usable = (t: JsTarget): boolean => t.info.skipped === null;

  const record = (id: JsScenarioId, runs: Map<ServerKey, JsOutcome[]>): void => {
    const picked = new Map<ServerKey, JsOutcome>();
    for (const [k, list] of runs) {
      const good = list.filter((o) => o.ok);
      const p = good.length > 0 ? median(good, headlineOf) : list[0];
      if (p) picked.set(k, p);
    }
    res.picked.set(id, picked);
    res.runs[id] = Object.fromEntries(runs);
  };
  const skippedRuns = (t: JsTarget): JsOutcome[] => [
    { ok: false, skipped: true, error: t.info.skipped ?? "skipped" },
  ];

  const shared = opts.jsScenarios.filter((id) => SHARED.includes(id));
  if (shared.length > 0) {
    for (const t of targets) {
      if (!usable(t)) continue;
      await prepareShared(t, opts, serverCpus);
      if (t.info.skipped) log(`${t.label} JetStream: SKIPPED — ${t.info.skipped}`);
      else
        log(
          `${t.label} JetStream${t.info.version ? ` ${t.info.version}` : ""} at ${t.endpoint?.host}:${t.endpoint?.port}` +
            (t.proc ? ` (pid ${t.proc.pid}, RSS ${fmtMiB(t.info.rssStart)})` : " (external)"),
        );
    }
    try {
      for (const id of shared) {
        log(`\n[${id}]`);
        const runs = new Map<ServerKey, JsOutcome[]>();
        for (const t of targets) if (!usable(t) || !t.endpoint) runs.set(t.key, skippedRuns(t));
        const active = targets.filter((t) => t.endpoint !== null);
        for (let r = 0; r < opts.repeat; r++) {
          const order = r % 2 === 0 ? active : [...active].reverse();
          for (const t of order) {
            if (shuttingDown()) return res;
            const o = await runShared(id, t, opts);
            log(`  ${t.label}: ${describe(o)}`);
            runs.set(t.key, [...(runs.get(t.key) ?? []), o]);
          }
        }
        record(id, runs);
      }
    } finally {
      for (const t of targets) await releaseShared(t);
    }
  }

  if (opts.jsScenarios.includes("js-restart")) {
    log(`\n[js-restart] ${opts.js.restartCount} messages, SIGTERM, restart on the same store dir`);
    const runs = new Map<ServerKey, JsOutcome[]>();
    const active = targets.filter((t) => {
      // A server whose JetStream failed above would fail here too; the restart run still tries a fresh one
      // unless the reason is that there is no server at all.
      const none = t.info.skipped !== null && /does not exist|not on PATH|external/.test(t.info.skipped);
      if (none || (slots.find((s) => s.key === t.key)?.skipped ?? null) !== null)
        runs.set(t.key, skippedRuns(t));
      return !runs.has(t.key);
    });
    for (let r = 0; r < opts.repeat; r++) {
      const order = r % 2 === 0 ? active : [...active].reverse();
      for (const t of order) {
        if (shuttingDown()) return res;
        log(`  ${t.label}: storing ${opts.js.restartCount} messages ...`);
        const o = await runRestart(t, opts, serverCpus, log);
        log(`  ${t.label}: ${describe(o)}`);
        runs.set(t.key, [...(runs.get(t.key) ?? []), o]);
      }
    }
    record("js-restart", runs);
  }
  return res;
}
