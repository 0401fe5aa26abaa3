// The benchmark scenarios, written against any NATS-protocol endpoint: the
// servers under test and the ceiling peer alike.
import { performance } from "node:perf_hooks";
import { coresSince, cpuSnapshot } from "./cpu.js";
import { msgHeader, pubFrame, RawConn, repeatFrame, Signal, waitUntil } from "./raw-client.js";

export interface Endpoint {
  label: string;
  host: string;
  port: number;
  /** Process to sample CPU time from, when we started it. */
  pid: number | null;
}

export interface ThroughputSpec {
  id: string;
  title: string;
  /** Number of subscriber connections (0 = publish only). */
  subs: number;
  /** Queue group name, or null for plain subscriptions. */
  queue: string | null;
}

export const SCENARIOS: ThroughputSpec[] = [
  { id: "pub", title: "pub only", subs: 0, queue: null },
  { id: "pubsub", title: "pub→sub 1:1", subs: 1, queue: null },
  { id: "fanout", title: "fan-out 1:4", subs: 4, queue: null },
  { id: "queue", title: "queue group of 3", subs: 3, queue: "bench.q" },
];

export interface RunConfig {
  /** Messages to publish in the measured phase (rounded up to whole windows). */
  count: number;
  /** Messages to publish (and see delivered) before measuring. */
  warmup: number;
  /** If set, size `count` from the warm-up rate so the run takes about this long. */
  durationS: number | null;
  /** Messages per flow-control window; each window ends with a PING. */
  window: number;
  /** Windows sent but not yet PONGed before the publisher waits. */
  inflight: number;
  /** Windows the slowest subscriber may lag behind the publisher. */
  lagWindows: number;
  /** Publishing stops after this long (the run is then reported as capped). */
  maxSeconds: number;
  stallMs: number;
}

export interface ThroughputResult {
  published: number;
  expected: number;
  delivered: number;
  pubSeconds: number;
  deliverSeconds: number;
  /** Messages per second accepted by the server (publisher side, until the last PONG). */
  pubRate: number;
  /** Deliveries per second summed over all subscribers (0 without subscribers). */
  deliverRate: number;
  /** CPU used by the server process during the run, in cores (1 = one core busy). */
  serverCores: number | null;
  /** CPU used by the harness process during the run, in cores. */
  harnessCores: number;
  /** CPU used by anything else on the two pinned benchmark cores, in cores (null if unknown). */
  foreignCores: number | null;
  /** Deliveries that did not match the expected MSG header and went through the slow path. */
  slowPath: number;
  capped: boolean;
}

export const SUBJECT = "bench.sub";

/** Throughput scenario: one raw publisher, `spec.subs` raw subscribers counting deliveries. */
export async function runThroughput(
  ep: Endpoint,
  spec: ThroughputSpec,
  cfg: RunConfig,
): Promise<ThroughputResult> {
  const signal = new Signal();
  const conns: RawConn[] = [];
  try {
    const pub = await RawConn.connect(ep.host, ep.port, { signal });
    conns.push(pub);
    const subs: RawConn[] = [];
    const subLine = Buffer.from(`SUB ${SUBJECT}${spec.queue ? ` ${spec.queue}` : ""} 1\r\n`, "latin1");
    for (let i = 0; i < spec.subs; i++) {
      const sub = await RawConn.connect(ep.host, ep.port, { signal, expect: msgHeader(SUBJECT, 1) });
      conns.push(sub);
      sub.socket.write(subLine);
      await sub.flush();
      subs.push(sub);
    }
    await pub.flush(); // all SUBs are registered before the first PUB

    /** Waits for `pred`, failing fast if any connection broke or got -ERR. */
    const until = (pred: () => boolean, what: () => string, progressOf: () => number): Promise<void> =>
      waitUntil(
        () => {
          for (const c of conns) c.throwIfBroken();
          return pred();
        },
        signal,
        what,
        cfg.stallMs,
        progressOf,
      );
    const pubBytes = (): number => pub.scanner.bytes;
    const subBytes = (): number => subs.reduce((n, s) => n + s.scanner.bytes, 0);
    const total = (): number => subs.reduce((n, s) => n + s.scanner.msgs, 0);
    // Progress in "published messages" units: the slowest subscriber for plain
    // subscriptions (each must see every message), the group total for a queue.
    const progress = (): number =>
      spec.queue ? total() : subs.reduce((m, s) => Math.min(m, s.scanner.msgs), Number.POSITIVE_INFINITY);
    const perMsg = spec.queue ? 1 : spec.subs; // deliveries per published message

    const batch = repeatFrame(pubFrame(SUBJECT), cfg.window, Buffer.from("PING\r\n", "latin1"));
    const windows = (n: number): number => Math.max(1, Math.ceil(n / cfg.window));

    /** Publishes `n` windows with PING/PONG + subscriber-credit flow control; returns windows sent. */
    const publish = async (n: number, deadline: number): Promise<number> => {
      const basePongs = pub.scanner.pongs;
      const baseProgress = subs.length > 0 ? progress() : 0;
      const acked = (): number => pub.scanner.pongs - basePongs;
      const lagLimit = cfg.lagWindows * cfg.window;
      let sent = 0;
      while (sent < n && performance.now() < deadline) {
        if (sent - acked() >= cfg.inflight) {
          await until(
            () => sent - acked() < cfg.inflight,
            () => `PONG for window ${acked() + 1}`,
            pubBytes,
          );
        }
        if (subs.length > 0 && sent * cfg.window - (progress() - baseProgress) > lagLimit) {
          await until(
            () => sent * cfg.window - (progress() - baseProgress) <= lagLimit,
            () => `subscribers to catch up (${progress() - baseProgress} of ${sent * cfg.window} seen)`,
            subBytes,
          );
        }
        const p = pub.write(batch);
        sent++;
        if (p) await p;
      }
      await until(
        () => acked() >= sent,
        () => `final PONG (${acked()} of ${sent} windows acknowledged)`,
        pubBytes,
      );
      return sent;
    };

    const awaitDeliveries = (target: number): Promise<void> =>
      subs.length === 0
        ? Promise.resolve()
        : until(
            () => total() >= target,
            () => `deliveries (${total()} of ${target} received)`,
            subBytes,
          );

    // Warm-up (JIT, buffers, server caches), fully drained before measuring.
    const warmStart = performance.now();
    const warmWindows = await publish(windows(cfg.warmup), warmStart + Math.min(3, cfg.maxSeconds) * 1000);
    const warmPubS = (performance.now() - warmStart) / 1000;
    await awaitDeliveries(warmWindows * cfg.window * perMsg);
    const warmRate = (warmWindows * cfg.window) / warmPubS;
    const count =
      cfg.durationS !== null ? Math.max(cfg.window, Math.round(warmRate * cfg.durationS)) : cfg.count;

    // Measured phase.
    const baseDelivered = total();
    const slowBase = subs.reduce((n, s) => n + s.scanner.slowMsgs, 0);
    let expected = Number.POSITIVE_INFINITY;
    let tDeliver = 0;
    const watch = (): void => {
      if (tDeliver === 0 && total() - baseDelivered >= expected) tDeliver = performance.now();
    };
    signal.add(watch);
    const snap = cpuSnapshot(ep.pid);
    const t0 = snap.wall;
    const want = windows(count);
    const sent = await publish(want, t0 + cfg.maxSeconds * 1000);
    const tPub = performance.now();
    const published = sent * cfg.window;
    expected = published * perMsg;
    watch();
    await awaitDeliveries(baseDelivered + expected);
    watch();
    signal.remove(watch);
    const cores = coresSince(snap, ep.pid);
    const pubSeconds = (tPub - t0) / 1000;
    const deliverSeconds = subs.length > 0 ? (tDeliver - t0) / 1000 : 0;
    const delivered = total() - baseDelivered;
    return {
      published,
      expected: subs.length > 0 ? expected : 0,
      delivered,
      pubSeconds,
      deliverSeconds,
      pubRate: published / pubSeconds,
      deliverRate: subs.length > 0 ? delivered / deliverSeconds : 0,
      serverCores: cores.server,
      harnessCores: cores.harness,
      foreignCores: cores.foreign,
      slowPath: subs.reduce((n, s) => n + s.scanner.slowMsgs, 0) - slowBase,
      capped: sent < want,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

export interface LatencyResult {
  requests: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  serverCores: number | null;
  harnessCores: number;
  foreignCores: number | null;
  capped: boolean;
}

const REQ_SUBJECT = "bench.req";
const INBOX = "_INBOX.bench.reply";

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

/**
 * Sequential request-reply: one request in flight at a time. A responder
 * connection answers every request it receives with a pre-encoded reply to the
 * requester's inbox; the requester times each round trip.
 */
export async function runRequestReply(
  ep: Endpoint,
  requests: number,
  warmup: number,
  maxSeconds: number,
  stallMs: number,
): Promise<LatencyResult> {
  const conns: RawConn[] = [];
  try {
    const responder = await RawConn.connect(ep.host, ep.port, { expect: msgHeader(REQ_SUBJECT, 1, INBOX) });
    conns.push(responder);
    responder.socket.write(`SUB ${REQ_SUBJECT} 1\r\n`);
    await responder.flush();
    const reply = pubFrame(INBOX);
    let answered = 0;
    responder.signal.add(() => {
      const n = responder.scanner.msgs - answered;
      if (n <= 0) return;
      answered += n;
      responder.socket.write(n === 1 ? reply : repeatFrame(reply, n));
    });

    const requester = await RawConn.connect(ep.host, ep.port, { expect: msgHeader(INBOX, 1) });
    conns.push(requester);
    requester.socket.write(`SUB ${INBOX} 1\r\n`);
    await requester.flush();
    const request = pubFrame(REQ_SUBJECT, INBOX);

    const { roundTrip, release } = roundTripper(requester, request);
    // One watchdog for the whole run instead of a timer per request.
    let watchdogErr: Error | null = null;
    let lastCount = -1;
    let lastChange = performance.now();
    const watchdog = setInterval(() => {
      try {
        requester.throwIfBroken();
        responder.throwIfBroken();
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
      const snap = cpuSnapshot(ep.pid);
      const deadline = snap.wall + maxSeconds * 1000;
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
      const cores = coresSince(snap, ep.pid);
      const used = samples.subarray(0, n);
      let sum = 0;
      for (const v of used) sum += v;
      const sorted = Float64Array.from(used).sort();
      return {
        requests: n,
        p50Us: percentile(sorted, 0.5),
        p90Us: percentile(sorted, 0.9),
        p99Us: percentile(sorted, 0.99),
        meanUs: sum / n,
        maxUs: sorted[sorted.length - 1] ?? Number.NaN,
        serverCores: cores.server,
        harnessCores: cores.harness,
        foreignCores: cores.foreign,
        capped: n < requests,
      };
    } finally {
      clearInterval(watchdog);
    }
  } finally {
    for (const c of conns) c.close();
  }
}

/**
 * One request at a time: `roundTrip` writes `request` and resolves when the requester has received one
 * more message.
 * The data handler resolves the pending request directly (no timer or promise per message scan).
 */
export function roundTripper(
  requester: RawConn,
  request: Buffer,
): { roundTrip: () => Promise<void>; release: () => void } {
  let want = 0;
  let wake: (() => void) | null = null;
  requester.signal.add(() => {
    if (wake !== null && requester.scanner.msgs >= want) {
      const w = wake;
      wake = null;
      w();
    }
  });
  return {
    roundTrip: () => {
      want = requester.scanner.msgs + 1;
      const done = new Promise<void>((resolve) => {
        wake = resolve;
      });
      requester.socket.write(request);
      return done;
    },
    // A watchdog that gave up lets the waiting request go (the caller then sees its error).
    release: () => {
      const w = wake;
      wake = null;
      w?.();
    },
  };
}
