// Cluster scenarios for `npm run bench`: the same raw-TCP load against a Lattice topology and the same
// nats-server topology, each server a separate process (cluster-servers.ts), runs alternating between them:
//   route-pubsub          publisher on A → subscriber on B (3-server full route mesh)
//   route-fanout          publisher on A → one subscriber on each of A, B, C
//   route-queue           publisher on A → a queue group with one member on each of A, B, C (split reported)

//   route-reqreply        sequential requests from A to a responder on B: p50/p99
//   gateway-reqreply      two one-server clusters (east, west) joined by gateways, requester east, responder west
//   interest-propagation  a client on A subscribes N distinct subjects (pipelined, then PING); time until a
//                         publisher on B reaches the last one
// Before any load, every subscription's interest is shown to have reached the publishing server by a probe
// message on a second subject subscribed after it on the same connection (interest travels in order), so no
// message is published into missing interest. Server CPU is summed over all processes of the topology.
import { performance } from "node:perf_hooks";
import {
  deadNode,
  nodeCpu,
  readCoreTimes,
  settle,
  startGatewayPair,
  startRouteCluster,
  stopTopology,
  sumCpu,
  type Topology,
  waitForGateways,
  waitForRoutes,
} from "./cluster-servers.js";
import type { ClusterScenarioId, Options, ServerKey } from "./options.js";
import { msgHeader, PING, pubFrame, RawConn, repeatFrame, Signal, waitUntil } from "./raw-client.js";
import {
  fmtCores,
  fmtCount,
  fmtRate,
  fmtRatio,
  fmtTarget,
  fmtUs,
  median,
  ratio,
  type Target,
  table,
  verdict,
} from "./report.js";
import { roundTripper } from "./scenarios.js";
import { shuttingDown } from "./servers.js";
import type { SummaryRow } from "./tables.js";

const LABEL: Record<ServerKey, string> = { lattice: "Lattice", nats: "nats-server" };
const SUBJECT = "bench.sub";
const REQ_SUBJECT = "bench.req";
const INBOX = "_INBOX.bench.reply";
/** How long a probe may take to cross before the topology is declared not to carry messages. */
const PROBE_MS = 10_000;
/** Cap on one interest-propagation run. */
const INTEREST_MAX_MS = 120_000;
const GENERATOR_BUSY_CORES = 0.8;
const NOISY_CORES = 0.15;

/** Targets (ratio = Lattice / nats-server); null = reported only. */
export const CLUSTER_TARGETS: Record<ClusterScenarioId, Target | null> = {
  "route-pubsub": { kind: "min", bound: 0.8 },
  "route-fanout": null,
  "route-queue": null,
  "route-reqreply": { kind: "max", bound: 1.25 },
  "gateway-reqreply": null,
  "interest-propagation": null,
};

const TITLES: Record<ClusterScenarioId, string> = {
  "route-pubsub": "route pub→sub (pub on A → sub on B)",
  "route-fanout": "route fan-out (pub on A → a sub on each of A, B, C)",
  "route-queue": "route queue group (pub on A → one member on each of A, B, C)",
  "route-reqreply": "route request-reply (requester on A → responder on B)",
  "gateway-reqreply": "gateway request-reply (requester in east → responder in west)",
  "interest-propagation": "interest propagation (subscriptions on A → visible on B)",
};

interface RouteSpec {
  /** Node index of each subscriber (the publishers are on node 0). */
  subs: number[];
  queue: string | null;
}

const ROUTE_SPECS: Partial<Record<ClusterScenarioId, RouteSpec>> = {
  "route-pubsub": { subs: [1], queue: null },
  "route-fanout": { subs: [0, 1, 2], queue: null },
  "route-queue": { subs: [0, 1, 2], queue: "bench.q" },
};

// ---------------------------------------------------------------------------------------------------------
// CPU accounting over a run: every node of the topology, the generator (this process), other load.

interface Meter {
  wall: number;
  nodes: (number | null)[];
  harness: NodeJS.CpuUsage;
  cores: { busy: number; total: number } | null;
}

interface CpuReport {
  /** Server CPU seconds summed over the topology's processes (null if any is unreadable). */
  serverCpuS: number | null;
  nodeCpuS: (number | null)[];
  /** The same as cores (1 = one core busy) over the run. */
  serverCores: number | null;
  harnessCores: number;
  /** Anything else on the benchmark cores, in cores (null when not pinned). */
  foreignCores: number | null;
}

function meterStart(t: Topology, benchCores: number[] | null): Meter {
  return {
    wall: performance.now(),
    nodes: nodeCpu(t),
    harness: process.cpuUsage(),
    cores: benchCores ? readCoreTimes(benchCores) : null,
  };
}

function meterStop(m: Meter, t: Topology, benchCores: number[] | null): CpuReport {
  const wallS = (performance.now() - m.wall) / 1000;
  const now = nodeCpu(t);
  const nodeCpuS = now.map((v, i) => {
    const b = m.nodes[i];
    return v === null || b === null || b === undefined ? null : v - b;
  });
  const serverCpuS = sumCpu(nodeCpuS);
  const h = process.cpuUsage(m.harness);
  const harnessCores = (h.user + h.system) / 1e6 / wallS;
  const serverCores = serverCpuS === null ? null : serverCpuS / wallS;
  let foreignCores: number | null = null;
  const cores = benchCores ? readCoreTimes(benchCores) : null;
  if (benchCores && cores && m.cores && serverCores !== null && cores.total > m.cores.total) {
    const busy = ((cores.busy - m.cores.busy) / (cores.total - m.cores.total)) * benchCores.length;
    foreignCores = Math.max(0, busy - serverCores - harnessCores);
  }
  return { serverCpuS, nodeCpuS, serverCores, harnessCores, foreignCores };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes on `from` to `subject` (which `to` subscribed last) until `to` receives one: proves that the
 * interest `to` registered so far has reached `from`'s server.
 */
async function probe(
  from: RawConn,
  to: RawConn,
  subject: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const base = to.scanner.msgs;
  const frame = pubFrame(subject);
  const deadline = performance.now() + timeoutMs;
  while (to.scanner.msgs === base) {
    from.throwIfBroken();
    to.throwIfBroken();
    if (performance.now() > deadline)
      throw new Error(`${what}: no probe message on ${subject} arrived within ${timeoutMs} ms`);
    from.socket.write(frame);
    await from.flush();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        to.signal.remove(check);
        resolve();
      };
      const check = (): void => {
        if (to.scanner.msgs !== base) done();
      };
      const timer = setTimeout(done, 25);
      to.signal.add(check);
    });
  }
}

function connectTo(
  t: Topology,
  node: number,
  opts: Parameters<typeof RawConn.connect>[2] = {},
): Promise<RawConn> {
  const n = t.nodes[node];
  if (!n) throw new Error(`${t.label} has no node ${node}`);
  return RawConn.connect("127.0.0.1", n.port, opts);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------------------
// Throughput across routes.

export interface ClusterRunConfig {
  count: number;
  warmup: number | null;
  durationS: number | null;
  window: number;
  inflight: number;
  lagWindows: number;
  maxSeconds: number;
  stallMs: number;
  /** Publisher connections on A sharing the load. */
  pubs: number;
}

export interface RouteThroughputResult extends CpuReport {
  published: number;
  expected: number;
  delivered: number;
  /** Deliveries per subscriber in the measured phase (queue: the split between the members). */
  perSub: number[];
  pubSeconds: number;
  deliverSeconds: number;
  pubRate: number;
  deliverRate: number;
  slowPath: number;
  capped: boolean;
}

async function runRouteThroughput(
  t: Topology,
  spec: RouteSpec,
  cfg: ClusterRunConfig,
  benchCores: number[] | null,
): Promise<RouteThroughputResult> {
  const signal = new Signal();
  const conns: RawConn[] = [];
  try {
    const pubs: RawConn[] = [];
    for (let i = 0; i < cfg.pubs; i++) {
      const c = await connectTo(t, 0, { signal });
      conns.push(c);
      pubs.push(c);
    }
    const first = pubs[0] as RawConn;
    const subs: RawConn[] = [];
    for (const [k, node] of spec.subs.entries()) {
      const sub = await connectTo(t, node, { signal, expect: msgHeader(SUBJECT, 1) });
      conns.push(sub);
      sub.socket.write(`SUB ${SUBJECT}${spec.queue ? ` ${spec.queue}` : ""} 1\r\nSUB _probe.${k} 2\r\n`);
      await sub.flush();
      subs.push(sub);
    }
    for (const [k, sub] of subs.entries())
      await probe(first, sub, `_probe.${k}`, PROBE_MS, `subscriber on ${t.nodes[spec.subs[k] ?? 0]?.name}`);

    const until = (pred: () => boolean, what: () => string, progressOf: () => number): Promise<void> =>
      waitUntil(
        () => {
          for (const c of conns) c.throwIfBroken();
          const dead = deadNode(t);
          if (dead) throw new Error(dead);
          return pred();
        },
        signal,
        what,
        cfg.stallMs,
        progressOf,
      );
    const pubBytes = (): number => pubs.reduce((n, p) => n + p.scanner.bytes, 0);
    const subBytes = (): number => subs.reduce((n, s) => n + s.scanner.bytes, 0);
    const total = (): number => subs.reduce((n, s) => n + s.scanner.msgs, 0);
    const progress = (): number =>
      spec.queue ? total() : subs.reduce((m, s) => Math.min(m, s.scanner.msgs), Number.POSITIVE_INFINITY);
    const perMsg = spec.queue ? 1 : subs.length;
    const batch = repeatFrame(pubFrame(SUBJECT), cfg.window, PING);
    const windows = (n: number): number => Math.max(1, Math.ceil(n / cfg.window));

    /** `n` windows spread over the publishers, PING/PONG per publisher and a shared subscriber lag limit. */
    const publish = async (n: number, deadline: number): Promise<number> => {
      const baseProgress = progress();
      const lagLimit = cfg.lagWindows * cfg.window;
      let claimed = 0;
      const lagging = (): boolean => claimed * cfg.window - (progress() - baseProgress) > lagLimit;
      const one = async (pub: RawConn): Promise<void> => {
        const basePongs = pub.scanner.pongs;
        const acked = (): number => pub.scanner.pongs - basePongs;
        let sent = 0;
        while (claimed < n && performance.now() < deadline) {
          if (sent - acked() >= cfg.inflight)
            await until(
              () => sent - acked() < cfg.inflight,
              () => `PONG for window ${acked() + 1}`,
              pubBytes,
            );
          if (lagging())
            await until(
              () => !lagging(),
              () => `subscribers to catch up (${progress() - baseProgress} of ${claimed * cfg.window} seen)`,
              subBytes,
            );
          if (claimed >= n) break;
          claimed++;
          sent++;
          const p = pub.write(batch);
          if (p) await p;
        }
        await until(
          () => acked() >= sent,
          () => `final PONG (${acked()} of ${sent} windows acknowledged)`,
          pubBytes,
        );
      };
      await Promise.all(pubs.map(one));
      return claimed;
    };
    const awaitDeliveries = (target: number): Promise<void> =>
      until(
        () => total() >= target,
        () => `deliveries (${total()} of ${target} received)`,
        subBytes,
      );

    // Warm-up, fully drained before measuring.
    const warmup = cfg.warmup ?? Math.min(Math.ceil(cfg.count / 10), 1_000_000);
    const warmBase = total();
    const warmStart = performance.now();
    const warmWindows = await publish(windows(warmup), warmStart + Math.min(3, cfg.maxSeconds) * 1000);
    const warmPubS = (performance.now() - warmStart) / 1000;
    await awaitDeliveries(warmBase + warmWindows * cfg.window * perMsg);
    const count =
      cfg.durationS !== null
        ? Math.max(cfg.window, Math.round(((warmWindows * cfg.window) / warmPubS) * cfg.durationS))
        : cfg.count;

    // Measured phase.
    const baseDelivered = total();
    const basePer = subs.map((s) => s.scanner.msgs);
    const slowBase = subs.reduce((n, s) => n + s.scanner.slowMsgs, 0);
    let expected = Number.POSITIVE_INFINITY;
    let tDeliver = 0;
    const watch = (): void => {
      if (tDeliver === 0 && total() - baseDelivered >= expected) tDeliver = performance.now();
    };
    signal.add(watch);
    const meter = meterStart(t, benchCores);
    const t0 = meter.wall;
    const want = windows(count);
    const sent = await publish(want, t0 + cfg.maxSeconds * 1000);
    const tPub = performance.now();
    const published = sent * cfg.window;
    expected = published * perMsg;
    watch();
    await awaitDeliveries(baseDelivered + expected);
    watch();
    signal.remove(watch);
    const cpu = meterStop(meter, t, benchCores);
    const pubSeconds = (tPub - t0) / 1000;
    const deliverSeconds = (tDeliver - t0) / 1000;
    const delivered = total() - baseDelivered;
    return {
      ...cpu,
      published,
      expected,
      delivered,
      perSub: subs.map((s, i) => s.scanner.msgs - (basePer[i] ?? 0)),
      pubSeconds,
      deliverSeconds,
      pubRate: published / pubSeconds,
      deliverRate: delivered / deliverSeconds,
      slowPath: subs.reduce((n, s) => n + s.scanner.slowMsgs, 0) - slowBase,
      capped: sent < want,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sequential request-reply between two nodes.

export interface ClusterLatencyResult extends CpuReport {
  requests: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  capped: boolean;
}

/**
 * Answers every `MSG <subject> <sid> <reply> <n>` with `PUB <reply> 16`, to the reply subject as received
 * (a gateway may rewrite it, as nats-server does with its _GR_. prefix).
 */
function attachResponder(conn: RawConn, subject: string): void {
  let rest: Buffer | null = null;
  const frames = new Map<string, Buffer>();
  conn.socket.on("data", (chunk: Buffer) => {
    const b = rest ? Buffer.concat([rest, chunk]) : chunk;
    rest = null;
    let pos = 0;
    const out: Buffer[] = [];
    while (pos < b.length) {
      const nl = b.indexOf(10, pos);
      if (nl < 0) break;
      const end = nl > pos && b[nl - 1] === 13 ? nl - 1 : nl;
      if (b[pos] === 77 /* M */ && b[pos + 1] === 83 /* S */) {
        const parts = b.toString("latin1", pos, end).split(" ");
        const size = Number(parts[parts.length - 1]);
        const after = nl + 1 + size + 2;
        if (after > b.length) break;
        const reply = parts[3];
        if (parts.length === 5 && parts[1] === subject && reply !== undefined) {
          let f = frames.get(reply);
          if (!f) {
            f = pubFrame(reply);
            frames.set(reply, f);
          }
          out.push(f);
        }
        pos = after;
      } else {
        pos = nl + 1;
      }
    }
    if (pos < b.length) rest = Buffer.from(b.subarray(pos));
    if (out.length > 0) conn.socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  });
}

async function runNodeReqReply(
  t: Topology,
  reqNode: number,
  respNode: number,
  requests: number,
  warmup: number,
  maxSeconds: number,
  stallMs: number,
  benchCores: number[] | null,
  probeMs: number,
): Promise<ClusterLatencyResult> {
  const conns: RawConn[] = [];
  try {
    const requester = await connectTo(t, reqNode, { expect: msgHeader(INBOX, 1) });
    conns.push(requester);
    requester.socket.write(`SUB ${INBOX} 1\r\nSUB _probe.r 2\r\n`);
    await requester.flush();
    const responder = await connectTo(t, respNode);
    conns.push(responder);
    attachResponder(responder, REQ_SUBJECT);
    responder.socket.write(`SUB ${REQ_SUBJECT} 1\r\nSUB _probe.s 2\r\n`);
    await responder.flush();
    const names = `${t.nodes[reqNode]?.name} ↔ ${t.nodes[respNode]?.name}`;
    await probe(responder, requester, "_probe.r", probeMs, `requester interest (${names})`);
    await probe(requester, responder, "_probe.s", probeMs, `responder interest (${names})`);

    const request = pubFrame(REQ_SUBJECT, INBOX);
    const { roundTrip, release } = roundTripper(requester, request);
    let watchdogErr: Error | null = null;
    let lastCount = -1;
    let lastChange = performance.now();
    const watchdog = setInterval(() => {
      try {
        requester.throwIfBroken();
        responder.throwIfBroken();
        const dead = deadNode(t);
        if (dead) throw new Error(dead);
        if (requester.scanner.msgs !== lastCount) {
          lastCount = requester.scanner.msgs;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > stallMs) {
          throw new Error(`request-reply stalled for ${stallMs} ms`);
        }
      } catch (err) {
        watchdogErr = err as Error;
        release();
      }
    }, 250);
    try {
      for (let i = 0; i < warmup; i++) {
        await roundTrip();
        if (watchdogErr) throw watchdogErr;
      }
      const samples = new Float64Array(requests);
      const meter = meterStart(t, benchCores);
      const deadline = meter.wall + maxSeconds * 1000;
      let n = 0;
      for (; n < requests; n++) {
        const t0 = performance.now();
        await roundTrip();
        const t1 = performance.now();
        if (watchdogErr) throw watchdogErr;
        samples[n] = (t1 - t0) * 1000;
        if (t1 > deadline) {
          n++;
          break;
        }
      }
      const cpu = meterStop(meter, t, benchCores);
      const used = samples.subarray(0, n);
      let sum = 0;
      for (const v of used) sum += v;
      const sorted = Float64Array.from(used).sort();
      return {
        ...cpu,
        requests: n,
        p50Us: percentile(sorted, 0.5),
        p90Us: percentile(sorted, 0.9),
        p99Us: percentile(sorted, 0.99),
        meanUs: sum / n,
        maxUs: sorted[sorted.length - 1] ?? Number.NaN,
        capped: n < requests,
      };
    } finally {
      clearInterval(watchdog);
    }
  } finally {
    for (const c of conns) c.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Interest propagation.

export interface InterestResult extends CpuReport {
  subjects: number;
  /** Until A answered the PING that followed the SUBs (all registered locally). */
  localSeconds: number;
  /** Until a publish from B to the last subject reached the subscriber on A. */
  visibleSeconds: number;
  /** Publishes B made before one got through. */
  probes: number;
}

async function runInterest(
  t: Topology,
  subjects: number,
  prefix: string,
  benchCores: number[] | null,
  stallMs: number,
): Promise<InterestResult> {
  const conns: RawConn[] = [];
  try {
    const sub = await connectTo(t, 0);
    conns.push(sub);
    const pub = await connectTo(t, 1);
    conns.push(pub);
    const lines: string[] = [];
    for (let i = 0; i < subjects; i++) lines.push(`SUB ${prefix}.${i} ${i + 1}\r\n`);
    lines.push("PING\r\n");
    const subs = Buffer.from(lines.join(""), "latin1");
    const probeFrame = pubFrame(`${prefix}.${subjects - 1}`);

    const basePongs = sub.scanner.pongs;
    let tLocal = 0;
    let tVisible = 0;
    sub.signal.add(() => {
      const now = performance.now();
      if (tLocal === 0 && sub.scanner.pongs > basePongs) tLocal = now;
      if (tVisible === 0 && sub.scanner.msgs > 0) tVisible = now;
    });
    const meter = meterStart(t, benchCores);
    const t0 = meter.wall;
    const written = sub.write(subs);
    let probes = 0;
    while (tVisible === 0) {
      sub.throwIfBroken();
      const dead = deadNode(t);
      if (dead) throw new Error(dead);
      if (performance.now() - t0 > INTEREST_MAX_MS)
        throw new Error(`the last subject was not visible on B within ${INTEREST_MAX_MS / 1000} s`);
      pub.socket.write(probeFrame);
      probes++;
      await pub.flush(stallMs);
      if (tVisible === 0) await sleep(1);
    }
    await written;
    await sub.until(() => tLocal !== 0, "PONG after the SUBs", stallMs);
    const cpu = meterStop(meter, t, benchCores);
    return {
      ...cpu,
      subjects,
      localSeconds: (tLocal - t0) / 1000,
      visibleSeconds: (tVisible - t0) / 1000,
      probes,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Orchestration.

export type ClusterOutcome =
  | { ok: true; kind: "throughput"; result: RouteThroughputResult }
  | { ok: true; kind: "latency"; result: ClusterLatencyResult }
  | { ok: true; kind: "interest"; result: InterestResult }
  | { ok: false; skipped: boolean; error: string };

export interface ClusterResults {
  text: string;
  summary: SummaryRow[];
  json: {
    topology: string;
    picked: Record<string, Record<string, ClusterOutcome>>;
    runs: Record<string, Record<string, ClusterOutcome[]>>;
    skipped: Record<string, string>;
  };
}

/** The figure a run is ranked by when picking the median run. */
function headlineOf(o: ClusterOutcome): number {
  if (!o.ok) return 0;
  if (o.kind === "throughput") return o.result.deliverRate;
  if (o.kind === "latency") return o.result.p50Us;
  return o.result.visibleSeconds;
}

function describe(o: ClusterOutcome): string {
  if (!o.ok) return o.skipped ? `SKIPPED — ${o.error}` : `ERROR ${o.error}`;
  const cpu = (n: number, unit: string): string =>
    o.result.serverCpuS === null
      ? ""
      : `, ${(o.result.serverCpuS / (n / 1e6)).toFixed(2)} server CPU-s per 1M ${unit}`;
  const gen = `, generator ${fmtCores(o.result.harnessCores)} cores`;
  if (o.kind === "throughput") {
    const r = o.result;
    const split = r.perSub.length > 1 ? ` [${r.perSub.map((n) => fmtCount(n)).join(" / ")}]` : "";
    return (
      `pub ${fmtRate(r.pubRate)}/s, delivered ${fmtRate(r.deliverRate)}/s${split}, servers ` +
      `${fmtCores(r.serverCores)} cores${cpu(r.delivered, "deliveries")}${gen} (${fmtCount(r.published)} msgs, ` +
      `${Math.max(r.pubSeconds, r.deliverSeconds).toFixed(2)} s)`
    );
  }
  if (o.kind === "latency") {
    const r = o.result;
    const perReq =
      r.serverCpuS === null ? "" : `, ${fmtUs(r.serverCpuS / (r.requests / 1e6))} server CPU per request`;
    return `p50 ${fmtUs(r.p50Us)}  p99 ${fmtUs(r.p99Us)}  mean ${fmtUs(r.meanUs)}  (${fmtCount(r.requests)} requests${perReq}${gen})`;
  }
  const r = o.result;
  return (
    `${fmtCount(r.subjects)} subjects: registered on A in ${r.localSeconds.toFixed(3)} s, visible on B after ` +
    `${r.visibleSeconds.toFixed(3)} s (${r.probes} probe publishes), server CPU ${r.serverCpuS?.toFixed(2) ?? "-"} s`
  );
}

export interface ClusterBenchInput {
  keys: ServerKey[];
  /** CPU list the topology processes are pinned to (null: not pinned). */
  serverCpus: string | null;
  /** The server and generator cores, for "other load" (null when not pinned). */
  benchCores: number[] | null;
}

export async function runClusterBench(
  opts: Options,
  input: ClusterBenchInput,
  log: (m: string) => void,
): Promise<ClusterResults | null> {
  const ids = opts.clusterScenarios;
  const c = opts.cluster;
  const { keys, serverCpus, benchCores } = input;
  const runs = new Map<ClusterScenarioId, Map<ServerKey, ClusterOutcome[]>>();
  const record = (id: ClusterScenarioId, k: ServerKey, o: ClusterOutcome): void => {
    const m = runs.get(id) ?? new Map<ServerKey, ClusterOutcome[]>();
    m.set(k, [...(m.get(k) ?? []), o]);
    runs.set(id, m);
    log(`  ${LABEL[k]}: ${describe(o)}`);
  };
  const skippedTopo: Record<string, string> = {};
  const rrWarm = (n: number): number => Math.min(Math.ceil(n / 10), 5000);

  /** Runs `ids` (in order, repeats alternating the servers) on one topology per server. */
  const phase = async (
    phaseIds: ClusterScenarioId[],
    kind: "routes" | "gateways",
    runOne: (t: Topology, id: ClusterScenarioId, rep: number) => Promise<ClusterOutcome>,
  ): Promise<boolean> => {
    if (phaseIds.length === 0) return true;
    const topos = new Map<ServerKey, Topology>();
    const unavailable = new Map<ServerKey, ClusterOutcome>();
    try {
      for (const k of keys) {
        if (shuttingDown()) return false;
        try {
          const t =
            kind === "routes"
              ? await startRouteCluster(k, serverCpus, 3)
              : await startGatewayPair(k, serverCpus);
          topos.set(k, t);
          if (kind === "routes") {
            await waitForRoutes(t);
            log(`${t.label}: 3-server route mesh up (client ports ${t.nodes.map((n) => n.port).join(", ")})`);
          } else {
            const note = await waitForGateways(t);
            if (note !== null) throw new Error(note);
            log(
              `${t.label}: gateways east ↔ west up (client ports ${t.nodes.map((n) => n.port).join(", ")})`,
            );
          }
        } catch (err) {
          const msg = (err as Error).message;
          skippedTopo[`${k}/${kind}`] = msg;
          log(`${LABEL[k]}: ${kind === "routes" ? "route cluster" : "gateway pair"} unavailable — ${msg}`);
          // A gateway pair of Lattice that does not form is reported as skipped; anything else is an error.
          unavailable.set(k, { ok: false, skipped: kind === "gateways" && k === "lattice", error: msg });
          const t = topos.get(k);
          if (t) await stopTopology(t);
          topos.delete(k);
        }
      }
      for (const id of phaseIds) {
        log(`\n[cluster: ${id}]`);
        for (let r = 0; r < opts.repeat; r++) {
          for (const k of r % 2 === 0 ? keys : [...keys].reverse()) {
            if (shuttingDown()) return false;
            const t = topos.get(k);
            if (!t) {
              record(id, k, unavailable.get(k) ?? { ok: false, skipped: true, error: "no topology" });
              continue;
            }
            await settle(t);
            let o: ClusterOutcome;
            try {
              o = await runOne(t, id, r);
            } catch (err) {
              const dead = deadNode(t);
              const msg =
                (err as Error).message + (dead && !(err as Error).message.includes(dead) ? ` (${dead})` : "");
              o = { ok: false, skipped: kind === "gateways" && k === "lattice", error: msg };
            }
            record(id, k, o);
          }
        }
      }
      return true;
    } finally {
      for (const t of topos.values()) await stopTopology(t);
    }
  };

  const cfg = (count: number): ClusterRunConfig => ({
    count,
    warmup: opts.warmup,
    durationS: opts.durationS,
    window: opts.window,
    inflight: opts.inflight,
    lagWindows: opts.lagWindows,
    maxSeconds: opts.maxSeconds,
    stallMs: opts.stallMs,
    pubs: c.pubs,
  });
  log(
    `\nCluster scenarios (${ids.join(", ")}): each server a separate process` +
      `${serverCpus !== null ? `, all pinned to CPU ${serverCpus}` : ""}`,
  );
  const routeIds = ids.filter((id) => id !== "gateway-reqreply");
  const ok = await phase(routeIds, "routes", async (t, id, rep) => {
    const spec = ROUTE_SPECS[id];
    if (spec) {
      const count = c.counts[id as keyof typeof c.counts];
      return {
        ok: true,
        kind: "throughput",
        result: await runRouteThroughput(t, spec, cfg(count), benchCores),
      };
    }
    if (id === "route-reqreply") {
      const result = await runNodeReqReply(
        t,
        0,
        1,
        c.rrCount,
        rrWarm(c.rrCount),
        opts.maxSeconds,
        opts.stallMs,
        benchCores,
        PROBE_MS,
      );
      return { ok: true, kind: "latency", result };
    }
    // interest-propagation: a warm-up run of a tenth of the subjects first (a JIT-compiled server starts cold).
    await runInterest(t, Math.max(1, Math.ceil(c.subjects / 10)), `ipw${rep}`, benchCores, opts.stallMs);
    await settle(t, 15_000);
    return {
      ok: true,
      kind: "interest",
      result: await runInterest(t, c.subjects, `ip${rep}`, benchCores, opts.stallMs),
    };
  });
  if (!ok) return null;
  if (ids.includes("gateway-reqreply")) {
    const gwOk = await phase(["gateway-reqreply"], "gateways", async (t) => {
      const result = await runNodeReqReply(
        t,
        0,
        1,
        c.rrCount,
        rrWarm(c.rrCount),
        opts.maxSeconds,
        opts.stallMs,
        benchCores,
        PROBE_MS,
      );
      return { ok: true, kind: "latency", result };
    });
    if (!gwOk) return null;
  }
  return render(opts, ids, runs, skippedTopo, serverCpus);
}

// ---------------------------------------------------------------------------------------------------------
// Report.

function render(
  opts: Options,
  ids: ClusterScenarioId[],
  runs: Map<ClusterScenarioId, Map<ServerKey, ClusterOutcome[]>>,
  skippedTopo: Record<string, string>,
  serverCpus: string | null,
): ClusterResults {
  const c = opts.cluster;
  const out: string[] = [];
  const summary: SummaryRow[] = [];
  const picked = new Map<ClusterScenarioId, Map<ServerKey, ClusterOutcome>>();
  for (const [id, m] of runs) {
    const p = new Map<ServerKey, ClusterOutcome>();
    for (const [k, list] of m) {
      const good = list.filter((o) => o.ok);
      const choice = good.length > 0 ? median(good, headlineOf) : list[0];
      if (choice) p.set(k, choice);
    }
    picked.set(id, p);
  }
  const header = ["metric", "Lattice", "nats-server", "ratio", "target", "result"];
  out.push(
    "\ncluster — each server a separate process" +
      (serverCpus !== null
        ? `, all processes of a topology pinned to CPU ${serverCpus} (nats-server GOMAXPROCS=1), as the single servers are;`
        : " (not pinned);") +
      " server CPU = sum over the topology's processes",
  );
  for (const id of ids) {
    const target = CLUSTER_TARGETS[id];
    const outcome = (k: ServerKey): ClusterOutcome | undefined => picked.get(id)?.get(k);
    const missing = (["lattice", "nats"] as const).flatMap((k) => {
      const o = outcome(k);
      if (!o) return [`${LABEL[k]} not run`];
      return o.ok ? [] : [`${LABEL[k]} ${o.skipped ? "skipped" : "failed"}`];
    });
    const judge = (r: number | null): string => {
      if (r === null) return `n/a${missing.length > 0 ? ` (${missing.join(", ")})` : ""}`;
      return target === null ? "reported" : verdict(r, target);
    };
    const cell = (k: ServerKey, v: number | null, fmt: (n: number) => string): string => {
      const o = outcome(k);
      if (!o) return "-";
      if (!o.ok) return o.skipped ? "skipped" : "ERROR";
      return v === null || !Number.isFinite(v) ? "-" : fmt(v);
    };
    const rows: string[][] = [header];
    const metric = (
      name: string,
      f: (o: ClusterOutcome & { ok: true }) => number | null,
      fmt: (n: number) => string,
      opt: { judged?: boolean; withRatio?: boolean } = {},
    ): { l: number | null; n: number | null; r: number | null } => {
      const val = (k: ServerKey): number | null => {
        const o = outcome(k);
        return o?.ok ? f(o) : null;
      };
      const l = val("lattice");
      const n = val("nats");
      const withRatio = opt.withRatio ?? true;
      const r = withRatio ? ratio(l, n) : null;
      rows.push([
        name,
        cell("lattice", l, fmt),
        cell("nats", n, fmt),
        withRatio ? fmtRatio(r, opt.judged && target ? target : undefined) : "",
        opt.judged ? fmtTarget(target) : "",
        opt.judged && (target !== null || r === null) ? judge(r) : "",
      ]);
      return { l, n, r };
    };
    const tput = (o: ClusterOutcome): RouteThroughputResult | null =>
      o.ok && o.kind === "throughput" ? o.result : null;
    const lat = (o: ClusterOutcome): ClusterLatencyResult | null =>
      o.ok && o.kind === "latency" ? o.result : null;
    const interest = (o: ClusterOutcome): InterestResult | null =>
      o.ok && o.kind === "interest" ? o.result : null;
    const rate = (v: number): string => `${fmtRate(v)}/s`;
    const plain = (v: number): string => fmtCount(Math.round(v));
    const cpuPerM = (s: number | null, n: number): number | null =>
      s === null || n <= 0 ? null : s / (n / 1e6);
    let sizeNote = "";
    let payload = ", 16-byte payload";

    if (id === "route-pubsub" || id === "route-fanout" || id === "route-queue") {
      const unit = id === "route-fanout" ? "deliveries" : "msgs";
      metric("published msgs/s", (o) => tput(o)?.pubRate ?? null, rate);
      const del = metric(
        id === "route-fanout" ? "deliveries/s (A + B + C)" : "delivered msgs/s",
        (o) => tput(o)?.deliverRate ?? null,
        rate,
        { judged: true },
      );
      const eff = metric(
        `server CPU-s per 1M ${unit}`,
        (o) => {
          const r = tput(o);
          return r ? cpuPerM(r.serverCpuS, r.delivered) : null;
        },
        (v) => v.toFixed(2),
      );
      if (id !== "route-pubsub") {
        const names = ["A", "B", "C"];
        for (const [i, name] of names.entries())
          metric(
            `  ${id === "route-queue" ? "member" : "subscriber"} on ${name}`,
            (o) => {
              const r = tput(o);
              return r ? ((r.perSub[i] ?? 0) / Math.max(1, r.delivered)) * 100 : null;
            },
            (v) => `${v.toFixed(1)}%`,
            { withRatio: false },
          );
      }
      metric("delivered", (o) => tput(o)?.delivered ?? null, plain, { withRatio: false });
      metric("expected", (o) => tput(o)?.expected ?? null, plain, { withRatio: false });
      metric(
        "run time (s)",
        (o) => {
          const r = tput(o);
          return r ? Math.max(r.pubSeconds, r.deliverSeconds) : null;
        },
        (v) => v.toFixed(2),
        { withRatio: false },
      );
      const title =
        id === "route-pubsub" ? "delivered/s" : id === "route-fanout" ? "deliveries/s" : "delivered/s";
      summary.push({
        check: `cluster ${id}: ${title}`,
        lattice: rate(del.l ?? Number.NaN),
        nats: rate(del.n ?? Number.NaN),
        ratio: del.r,
        // per server CPU-second (higher is better) = the inverse of the CPU-s per message ratio
        cpuRatio: eff.r === null || eff.r === 0 ? null : 1 / eff.r,
        target,
        result: judge(del.r),
      });
      const count = c.counts[id];
      sizeNote = opts.durationS ? `~${opts.durationS} s per run` : `${fmtCount(count)} msgs`;
      if (c.pubs > 1) sizeNote += `, ${c.pubs} publisher connections`;
    } else if (id === "route-reqreply" || id === "gateway-reqreply") {
      const p50 = metric("latency p50", (o) => lat(o)?.p50Us ?? null, fmtUs, { judged: true });
      metric("latency p90", (o) => lat(o)?.p90Us ?? null, fmtUs);
      metric("latency p99", (o) => lat(o)?.p99Us ?? null, fmtUs);
      metric("latency mean", (o) => lat(o)?.meanUs ?? null, fmtUs);
      metric(
        "round trips/s",
        (o) => {
          const r = lat(o);
          return r ? 1e6 / r.meanUs : null;
        },
        rate,
      );
      metric(
        "server CPU per request (all servers)",
        (o) => {
          const r = lat(o);
          return r ? cpuPerM(r.serverCpuS, r.requests) : null;
        },
        fmtUs,
      );
      metric("requests measured", (o) => lat(o)?.requests ?? null, plain, { withRatio: false });
      summary.push({
        check: `cluster ${id}: p50 latency`,
        lattice: fmtUs(p50.l),
        nats: fmtUs(p50.n),
        ratio: p50.r,
        cpuRatio: null,
        target,
        result: judge(p50.r),
      });
      sizeNote = `${fmtCount(c.rrCount)} requests`;
    } else {
      metric(
        "registered on A (PONG)",
        (o) => interest(o)?.localSeconds ?? null,
        (v) => `${v.toFixed(3)} s`,
      );
      const vis = metric(
        "visible on B (last subject)",
        (o) => interest(o)?.visibleSeconds ?? null,
        (v) => `${v.toFixed(3)} s`,
        { judged: true },
      );
      metric(
        "subjects/s propagated",
        (o) => {
          const r = interest(o);
          return r ? r.subjects / r.visibleSeconds : null;
        },
        rate,
      );
      metric(
        "server CPU-s (all 3 servers)",
        (o) => interest(o)?.serverCpuS ?? null,
        (v) => v.toFixed(2),
      );
      metric("probe publishes from B", (o) => interest(o)?.probes ?? null, plain, { withRatio: false });
      summary.push({
        check: `cluster interest-propagation: ${fmtCount(c.subjects)} subjects visible on B`,
        lattice: vis.l === null ? "-" : `${vis.l.toFixed(3)} s`,
        nats: vis.n === null ? "-" : `${vis.n.toFixed(3)} s`,
        ratio: vis.r,
        cpuRatio: null,
        target,
        result: judge(vis.r),
      });
      sizeNote = `${fmtCount(c.subjects)} subjects (after a warm-up run of a tenth)`;
      payload = "";
    }
    const any = (o: ClusterOutcome): CpuReport | null => (o.ok ? o.result : null);
    metric("server CPU (cores, all processes)", (o) => any(o)?.serverCores ?? null, fmtCores, {
      withRatio: false,
    });
    metric("generator CPU (cores)", (o) => any(o)?.harnessCores ?? null, fmtCores, { withRatio: false });
    metric("other load on bench cores", (o) => any(o)?.foreignCores ?? null, fmtCores, { withRatio: false });
    out.push(`\n${TITLES[id]} — ${sizeNote}${payload}`);
    out.push(table(rows));
    for (const k of ["lattice", "nats"] as const) {
      const o = outcome(k);
      if (!o) continue;
      if (!o.ok) {
        out.push(`  ! ${LABEL[k]} ${o.skipped ? "skipped" : "error"}: ${o.error.slice(0, 800)}`);
        continue;
      }
      const r = o.result;
      if (r.harnessCores >= GENERATOR_BUSY_CORES)
        out.push(
          `  ! ${LABEL[k]}: the generator used ${fmtCores(r.harnessCores)} cores — this figure may be generator-bound ` +
            "(compare the CPU-s per message rows)",
        );
      if ((r.foreignCores ?? 0) > NOISY_CORES)
        out.push(`  ! ${LABEL[k]}: ${fmtCores(r.foreignCores)} cores of other load on the benchmark cores`);
      if (o.kind !== "interest" && o.result.capped)
        out.push(`  ! ${LABEL[k]}: run hit --max-seconds and was cut short`);
      if (o.kind === "throughput" && o.result.slowPath > 0)
        out.push(`  ! ${LABEL[k]}: ${fmtCount(o.result.slowPath)} MSG frames took the slow path`);
    }
  }
  const obj = <V>(m: Map<string, V>): Record<string, V> => Object.fromEntries(m);
  return {
    text: out.join("\n"),
    summary,
    json: {
      topology: "routes: 3 servers, full mesh; gateways: east (1 server) ↔ west (1 server)",
      picked: Object.fromEntries([...picked].map(([id, m]) => [id, obj(m)])),
      runs: Object.fromEntries([...runs].map(([id, m]) => [id, obj(m)])),
      skipped: skippedTopo,
    },
  };
}
