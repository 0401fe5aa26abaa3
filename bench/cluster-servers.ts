// Multi-server topologies for the cluster scenarios (cluster-bench.ts): a full route mesh of separate
// server processes, or two one-server clusters joined by gateways, of Lattice or of nats-server, on free
// loopback ports, each process with its monitoring port. Every process goes through servers.ts, so it is
// killed on exit, error and SIGINT like the others; the gateway config files live in a temp dir removed on exit.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { LATTICE_ENTRY, latticeNodeArgs } from "./js-servers.js";
import type { ServerKey } from "./options.js";
import type { Endpoint } from "./scenarios.js";
import { cpuSeconds, freePort, type ManagedProcess, startProcess, stopProcess, which } from "./servers.js";

export interface TopologyNode {
  /** A, B, C for a cluster; east, west for gateways. */
  name: string;
  port: number;
  httpPort: number;
  proc: ManagedProcess;
}

export interface Topology {
  key: ServerKey;
  label: string;
  kind: "routes" | "gateways";
  nodes: TopologyNode[];
  /** Temp dir of config files (gateways), removed on stop. */
  dir: string | null;
}

interface Launch {
  cmd: string;
  prefix: string[];
  env: NodeJS.ProcessEnv;
}

/** How to start `key`, or why it cannot be started. */
function launchFor(key: ServerKey, cpus: string | null): Launch | string {
  if (key === "lattice") {
    if (!existsSync(LATTICE_ENTRY)) return `${LATTICE_ENTRY} does not exist (build first)`;
    return { cmd: process.execPath, prefix: [...latticeNodeArgs(), LATTICE_ENTRY], env: {} };
  }
  const bin = which("nats-server");
  if (!bin) return "nats-server is not on PATH";
  return { cmd: bin, prefix: [], env: cpus !== null ? { GOMAXPROCS: "1" } : {} };
}

const LABEL: Record<ServerKey, string> = { lattice: "Lattice", nats: "nats-server" };

const tempDirs = new Set<string>();
let exitHook = false;
function tempDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), "lattice-cluster-bench-"));
  tempDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

async function startAll(
  key: ServerKey,
  cpus: string | null,
  specs: { name: string; port: number; httpPort: number; args: string[] }[],
): Promise<TopologyNode[]> {
  const launch = launchFor(key, cpus);
  if (typeof launch === "string") throw new Error(launch);
  const started = await Promise.allSettled(
    specs.map((s) =>
      startProcess({
        name: `${LABEL[key]} ${s.name}`,
        cmd: launch.cmd,
        args: [...launch.prefix, ...s.args],
        port: s.port,
        cpus,
        env: launch.env,
        startTimeoutMs: 15_000,
      }),
    ),
  );
  const nodes: TopologyNode[] = [];
  const errors: string[] = [];
  started.forEach((r, i) => {
    const s = specs[i] as (typeof specs)[number];
    if (r.status === "fulfilled")
      nodes.push({ name: s.name, port: s.port, httpPort: s.httpPort, proc: r.value });
    else errors.push(`${s.name}: ${(r.reason as Error).message}`);
  });
  if (errors.length > 0) {
    await Promise.all(nodes.map((n) => stopProcess(n.proc)));
    throw new Error(`failed to start: ${errors.join("; ")}`);
  }
  return nodes;
}

/** A full mesh of `size` servers, each configured with routes to all the others (flags as nats-server's). */
export async function startRouteCluster(key: ServerKey, cpus: string | null, size = 3): Promise<Topology> {
  const names = ["A", "B", "C", "D", "E"].slice(0, size);
  const ports = await Promise.all(
    names.map(async () => [await freePort(), await freePort(), await freePort()]),
  );
  const routeUrl = (i: number): string => `nats://127.0.0.1:${ports[i]?.[1]}`;
  const specs = names.map((name, i) => {
    const [port, , httpPort] = ports[i] as number[];
    const routes = names.map((_, j) => j).filter((j) => j !== i);
    return {
      name,
      port: port as number,
      httpPort: httpPort as number,
      args: [
        "-a",
        "127.0.0.1",
        "-p",
        String(port),
        "-m",
        String(httpPort),
        "--cluster_name",
        "bench",
        "--cluster",
        routeUrl(i),
        "--routes",
        routes.map(routeUrl).join(","),
      ],
    };
  });
  const nodes = await startAll(key, cpus, specs);
  return { key, label: LABEL[key], kind: "routes", nodes, dir: null };
}

/** Two one-server clusters, east and west, joined by gateways (config files in nats-server's format). */
export async function startGatewayPair(key: ServerKey, cpus: string | null): Promise<Topology> {
  const names = ["east", "west"];
  const ports = await Promise.all(
    names.map(async () => [await freePort(), await freePort(), await freePort()]),
  );
  const dir = tempDir();
  const specs = names.map((name, i) => {
    const [port, gwPort, httpPort] = ports[i] as number[];
    const other = 1 - i;
    const conf = [
      `server_name: ${name}`,
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${httpPort}"`,
      "gateway {",
      `  name: ${name}`,
      `  listen: "127.0.0.1:${gwPort}"`,
      `  gateways: [ { name: ${names[other]}, urls: ["nats://127.0.0.1:${ports[other]?.[1]}"] } ]`,
      "}",
      "",
    ].join("\n");
    const file = join(dir, `${key}-${name}.conf`);
    writeFileSync(file, conf);
    return { name, port: port as number, httpPort: httpPort as number, args: ["-c", file] };
  });
  try {
    const nodes = await startAll(key, cpus, specs);
    return { key, label: LABEL[key], kind: "gateways", nodes, dir };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export async function stopTopology(t: Topology): Promise<void> {
  await Promise.all(t.nodes.map((n) => stopProcess(n.proc)));
  if (t.dir) removeDir(t.dir);
}

/** The first node whose process died, with its output tail; null while all run. */
export function deadNode(t: Topology): string | null {
  const n = t.nodes.find((x) => x.proc.exited());
  return n ? `${t.label} ${n.name} exited: ${n.proc.tail().slice(-600)}` : null;
}

export function endpointOf(n: TopologyNode, label: string): Endpoint {
  return { label: `${label} ${n.name}`, host: "127.0.0.1", port: n.port, pid: n.proc.pid };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function monitor(n: TopologyNode, path: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${n.httpPort}${path}`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Waits until every node's /routez shows all the other nodes as routes. */
export async function waitForRoutes(t: Topology, timeoutMs = 20_000): Promise<void> {
  const want = t.nodes.length - 1;
  const deadline = performance.now() + timeoutMs;
  let seen: string[] = [];
  for (;;) {
    const dead = deadNode(t);
    if (dead) throw new Error(dead);
    const counts = await Promise.all(t.nodes.map((n) => monitor(n, "/routez")));
    seen = counts.map((c, i) => `${t.nodes[i]?.name}=${c ? String(c.num_routes) : "no /routez"}`);
    if (counts.every((c) => c !== null && Number(c.num_routes) >= want)) return;
    if (performance.now() > deadline)
      throw new Error(`routes did not form within ${timeoutMs} ms (/routez num_routes: ${seen.join(", ")})`);
    await sleep(100);
  }
}

/**
 * Waits until each gateway node's /gatewayz shows an outbound connection to the other and an inbound one from
 * it. Returns null once formed, else a description of what /gatewayz showed at the deadline.
 */
export async function waitForGateways(t: Topology, timeoutMs = 10_000): Promise<string | null> {
  const deadline = performance.now() + timeoutMs;
  let state = "";
  for (;;) {
    const dead = deadNode(t);
    if (dead) return dead;
    const docs = await Promise.all(t.nodes.map((n) => monitor(n, "/gatewayz")));
    const ok = docs.map((d, i) => {
      const other = t.nodes[1 - i]?.name ?? "";
      const out = (d?.outbound_gateways ?? {}) as Record<string, { connection?: unknown }>;
      const inb = (d?.inbound_gateways ?? {}) as Record<string, unknown[]>;
      return out[other]?.connection !== undefined && (inb[other]?.length ?? 0) > 0;
    });
    state = docs
      .map((d, i) => {
        const name = t.nodes[i]?.name;
        if (!d) return `${name}: no /gatewayz`;
        const out = Object.keys((d.outbound_gateways ?? {}) as object);
        const inb = Object.keys((d.inbound_gateways ?? {}) as object);
        return `${name}: outbound [${out.join(",")}] inbound [${inb.join(",")}]`;
      })
      .join("; ");
    if (ok.every(Boolean)) return null;
    if (performance.now() > deadline)
      return `gateways did not form within ${timeoutMs} ms (/gatewayz ${state})`;
    await sleep(100);
  }
}

/** CPU seconds used so far by each node's process (null where unreadable). */
export function nodeCpu(t: Topology): (number | null)[] {
  return t.nodes.map((n) => cpuSeconds(n.proc.pid));
}

/** Sum over nodes, null if any is unknown. */
export function sumCpu(v: (number | null)[]): number | null {
  let s = 0;
  for (const x of v) {
    if (x === null) return null;
    s += x;
  }
  return s;
}

/**
 * Waits (at most `maxMs`) until the topology's processes together use under `idleCores` over a 200 ms window,
 * so one run's aftermath (unsubscribe storms, GC) is not billed to the next.
 */
export async function settle(t: Topology, maxMs = 5000, idleCores = 0.05): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const a = sumCpu(nodeCpu(t));
    const t0 = performance.now();
    await sleep(200);
    const b = sumCpu(nodeCpu(t));
    if (a === null || b === null) return;
    if ((b - a) / ((performance.now() - t0) / 1000) < idleCores) return;
  }
}

/** Busy and total seconds over `cpus` from /proc/stat (null when unreadable). */
export { readCores as readCoreTimes } from "./cpu.js";
