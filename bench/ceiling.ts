// The load generator's own ceiling: the same client code driven against a
// do-almost-nothing peer process (ceiling-peer.ts) that sits on the core a
// real server would get. If a server's figure gets close to these numbers, the
// generator (not the server) is what was measured.
import { fileURLToPath } from "node:url";
import { coresSince, cpuSnapshot } from "./cpu.js";
import { msgHeader, RawConn, Signal, waitUntil } from "./raw-client.js";
import {
  type Endpoint,
  type LatencyResult,
  type RunConfig,
  runRequestReply,
  runThroughput,
  SCENARIOS,
  SUBJECT,
  type ThroughputResult,
} from "./scenarios.js";
import { freePort, startProcess, stopProcess } from "./servers.js";

export interface Ceilings {
  /** The throughput scenarios, unchanged, against the reflector peer (pub = discarding sink). */
  throughput: Record<string, ThroughputResult>;
  /** Deliveries/s the subscriber scanner counts from a pre-encoded MSG stream, 1 connection. */
  deliver1Rate: number;
  deliver1HarnessCores: number;
  /** Same with 4 subscriber connections (the fan-out shape). */
  deliver4Rate: number;
  deliver4HarnessCores: number;
  /** Sequential request-reply through a minimal JS router: the generator's latency floor. */
  reqReply: LatencyResult;
}

const PEER = fileURLToPath(new URL("./ceiling-peer.js", import.meta.url));

async function startPeer(
  mode: "reflect" | "mini",
  cpus: string | null,
): Promise<Endpoint & { stop(): Promise<void> }> {
  const port = await freePort();
  const proc = await startProcess({
    name: `ceiling peer (${mode})`,
    cmd: process.execPath,
    args: [PEER, mode, String(port)],
    port,
    cpus,
  });
  return { label: `peer-${mode}`, host: "127.0.0.1", port, pid: proc.pid, stop: () => stopProcess(proc) };
}

/** `subs` connections each receive `perSub` MSG frames streamed by the peer as fast as TCP allows. */
async function runBlast(
  ep: Endpoint,
  subs: number,
  perSub: number,
  warm: number,
  stallMs: number,
): Promise<{ rate: number; harnessCores: number }> {
  const signal = new Signal();
  const conns: RawConn[] = [];
  try {
    for (let i = 0; i < subs; i++) {
      const c = await RawConn.connect(ep.host, ep.port, { signal, expect: msgHeader(SUBJECT, 1) });
      conns.push(c);
      c.socket.write(`SUB ${SUBJECT} 1\r\n`);
      await c.flush();
    }
    const total = (): number => conns.reduce((n, c) => n + c.scanner.msgs, 0);
    const bytes = (): number => conns.reduce((n, c) => n + c.scanner.bytes, 0);
    const blast = (n: number): void => {
      const text = String(n);
      for (const c of conns) c.socket.write(`PUB bench.blast ${text.length}\r\n${text}\r\n`);
    };
    const until = (target: number): Promise<void> =>
      waitUntil(() => total() >= target, signal, "blasted frames", stallMs, bytes);

    blast(warm);
    await until(subs * warm);
    const base = total();
    const snap = cpuSnapshot(null);
    blast(perSub);
    await until(base + subs * perSub);
    const seconds = (performance.now() - snap.wall) / 1000;
    const slow = conns.reduce((n, c) => n + c.scanner.slowMsgs, 0);
    if (slow > 0) throw new Error(`ceiling: ${slow} frames missed the scanner fast path`);
    return { rate: (subs * perSub) / seconds, harnessCores: coresSince(snap, null).harness };
  } finally {
    for (const c of conns) c.close();
  }
}

export async function measureCeilings(
  cpus: string | null,
  cfgFor: (scenario: string) => RunConfig,
  scenarioIds: string[],
  deliverCount: number,
  rrCount: number,
  rrWarmup: number,
): Promise<Ceilings> {
  const throughput: Record<string, ThroughputResult> = {};
  const reflector = await startPeer("reflect", cpus);
  try {
    for (const spec of SCENARIOS) {
      if (!scenarioIds.includes(spec.id)) continue;
      throughput[spec.id] = await runThroughput(reflector, spec, { ...cfgFor(spec.id), durationS: null });
    }
  } finally {
    await reflector.stop();
  }
  const mini = await startPeer("mini", cpus);
  try {
    const warm = Math.min(deliverCount, 200_000);
    const d1 = await runBlast(mini, 1, deliverCount, warm, 10_000);
    const d4 = await runBlast(mini, 4, Math.ceil(deliverCount / 4), Math.ceil(warm / 4), 10_000);
    const rr = await runRequestReply(mini, rrCount, rrWarmup, 30, 10_000);
    return {
      throughput,
      deliver1Rate: d1.rate,
      deliver1HarnessCores: d1.harnessCores,
      deliver4Rate: d4.rate,
      deliver4HarnessCores: d4.harnessCores,
      reqReply: rr,
    };
  } finally {
    await mini.stop();
  }
}
