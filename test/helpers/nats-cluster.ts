// Reference nats-server processes for interop tests of routes, gateways and leaf nodes.
//
//   const s = await startNatsServerProcess({ conf: "leafnodes { listen: 127.0.0.1:-1 }" });
//   s.url, s.leafPort ...
//   const c = await startNatsCluster({ servers: 3, name: "ref" });   // a route mesh, formed
//   await c.servers[1].kill("SIGKILL"); await c.servers[1].restart(); await c.waitForMesh();
//   await c.close();
//
// What nats-server 2.9.10 writes in its ports file (`ports_file_dir`): a JSON object with arrays of URLs under
// `nats`, `monitoring`, `cluster`, `profile` and `websocket`, each present only when that listener is
// configured. Leaf node and gateway listeners are NOT in it; their ports are read from the server's log
// ("Listening for leafnode connections on h:p", "Listening for gateways connections on h:p"), or from
// /varz (`leaf.port`, `gateway.port`) when monitoring is on and the log is not on stderr. The ports file is
// written once every listener in it is up, and is removed on a graceful shutdown (not after SIGKILL).
//
// Servers never outlive the test process: they are SIGKILLed (and their temp dirs removed) on its exit (also
// after an uncaught exception
// or SIGINT / SIGTERM / SIGHUP), and a small guard process kills them if the test process itself is
// SIGKILLed (it notices its stdin pipe from us closing).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpJson, sleep, waitFor } from "./wait.js";

// ---------------------------------------------------------------------------------------------------------
// Free ports

const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 11_000) return low;
  } catch {
    // not Linux
  }
  return 32_768;
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, "127.0.0.1", () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * A loopback port that is free now, for a listener that must be known before its server starts (route
 * meshes, gateways, restarts on the same port). Picked at random below the system's ephemeral range, so
 * outgoing connections and `port 0` listeners are unlikely to take it in the meantime, and never handed
 * out twice by this process.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = 10_000;
  for (let i = 0; i < 50; i++) {
    const candidate = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(candidate)) continue;
    if ((await tryListen(candidate)) === candidate) {
      handedOut.add(candidate);
      return candidate;
    }
  }
  for (let i = 0; i < 20; i++) {
    const port = await tryListen(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("freePort: no free loopback port found");
}

// ---------------------------------------------------------------------------------------------------------
// Never leave a server behind

const live = new Set<ChildProcess>();
let hooksInstalled = false;
let guard: ChildProcess | undefined;

// Runs in a separate node process with a pipe from us as stdin: "+pid <n>" / "-pid <n>" lines say which
// servers are alive, "+dir <path>" / "-dir <path>" which temp dirs exist; when the pipe closes (we exited,
// however that happened) it kills the servers still listed and removes the dirs.
const GUARD_SOURCE = `
const pids = new Set();
const dirs = new Set();
let buf = "";
const cleanUp = () => {
  for (const pid of pids) { try { process.kill(pid, "SIGKILL"); } catch {} }
  for (const dir of dirs) { try { require("node:fs").rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const [op, ...rest] = line.split(" ");
    const arg = rest.join(" ");
    if (op === "+pid" && Number(arg) > 0) pids.add(Number(arg));
    else if (op === "-pid") pids.delete(Number(arg));
    else if (op === "+dir" && arg.includes("ref-")) dirs.add(arg);
    else if (op === "-dir") dirs.delete(arg);
  }
});
process.stdin.on("end", cleanUp);
process.stdin.on("error", cleanUp);
`;

function tellGuard(line: string): void {
  if (guard === undefined) {
    try {
      guard = spawn(process.execPath, ["-e", GUARD_SOURCE], {
        stdio: ["pipe", "ignore", "ignore"],
        detached: true,
        env: { PATH: process.env.PATH ?? "" },
      });
      guard.on("error", () => {});
      guard.stdin?.on("error", () => {});
      guard.unref();
      (guard.stdin as unknown as net.Socket | null)?.unref?.();
    } catch {
      return;
    }
  }
  guard.stdin?.write(`${line}\n`);
}

/** Temp dirs of servers not closed yet, removed on exit. */
const dirs = new Set<string>();

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function killAllAndCleanUp(): void {
  killAllNow();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", killAllAndCleanUp);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllAndCleanUp();
      // Keep the default behaviour (terminate) unless someone else handles this signal too.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

function track(child: ChildProcess): void {
  installHooks();
  live.add(child);
  if (child.pid !== undefined) tellGuard(`+pid ${child.pid}`);
  child.once("exit", () => {
    live.delete(child);
    if (child.pid !== undefined) tellGuard(`-pid ${child.pid}`);
  });
}

// ---------------------------------------------------------------------------------------------------------
// One server

export interface NatsServerProcessOptions {
  /** Config text, appended after the generated `listen`, `ports_file_dir` and `server_name` lines. */
  conf: string;
  /** server_name, also used in messages and the temp dir name (default "nats"). */
  name?: string;
  /** Client port (default -1: a random one, read back from the ports file). */
  port?: number;
  /** How long to wait for the server to be ready (default 10000 ms). */
  startTimeoutMs?: number;
  /** Log lines kept for error messages and log() (default 500). */
  logLines?: number;
}

export interface NatsServerProcess {
  readonly name: string;
  /** Client URL, nats://127.0.0.1:<port>. */
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number | undefined;
  readonly leafPort: number | undefined;
  readonly gatewayPort: number | undefined;
  readonly monitorPort: number | undefined;
  readonly websocketPort: number | undefined;
  /** Pid of the current process. */
  readonly pid: number;
  /** Is the current process still running? */
  readonly running: boolean;
  /** The temp dir holding the config and ports files. */
  readonly dir: string;
  readonly confPath: string;
  /** The last log lines of the current process (nats-server logs to stderr). */
  log(): string;
  /** Resolves when the current process has exited (with its code or signal). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Send a signal (default SIGKILL). For SIGKILL, SIGTERM, SIGINT and SIGQUIT, wait until the process has
   * exited (SIGKILL after 10 s if it has not); other signals (SIGHUP reload, SIGUSR1/2) just get sent.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Start the server again with the same config (SIGKILLing it first if it still runs). The client port
   * stays the same, so `url` is unchanged; ports given in the config stay the same, random (-1) ones
   * change (the properties above follow).
   */
  restart(): Promise<void>;
  /** Kill the server (SIGKILL) and remove its temp dir. Idempotent. */
  close(): Promise<void>;
}

interface Ports {
  nats?: string[];
  monitoring?: string[];
  cluster?: string[];
  profile?: string[];
  websocket?: string[];
  leafnodes?: string[];
  gateway?: string[];
}

function portOf(urls: string[] | undefined): number | undefined {
  if (urls === undefined || urls.length === 0) return undefined;
  return Number(new URL(urls[0]).port);
}

const LEAF_LINE = /Listening for leafnode connections on .*:(\d+)\s*$/;
const GATEWAY_LINE = /Listening for gateways connections on .*:(\d+)\s*$/;
const READY_LINE = /Server is ready/;

class NatsServerProcessImpl implements NatsServerProcess {
  readonly name: string;
  readonly dir: string;
  readonly confPath: string;
  private readonly opts: NatsServerProcessOptions;
  private child!: ChildProcess;
  private exitPromise!: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private hasExited = false;
  private logTail: string[] = [];
  private pendingLine = "";
  private sawReady = false;
  private ports: Ports = {};
  private leafFromLog: number | undefined;
  private gatewayFromLog: number | undefined;
  private leafFromVarz: number | undefined;
  private gatewayFromVarz: number | undefined;
  private clientPort: number;
  private closed = false;

  constructor(opts: NatsServerProcessOptions) {
    this.opts = opts;
    this.name = opts.name ?? "nats";
    this.clientPort = opts.port ?? -1;
    this.dir = mkdtempSync(join(tmpdir(), `ref-${this.name.replace(/[^A-Za-z0-9_-]/g, "_")}-`));
    this.confPath = join(this.dir, "server.conf");
    dirs.add(this.dir);
    tellGuard(`+dir ${this.dir}`);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  get port(): number {
    return portOf(this.ports.nats) ?? this.clientPort;
  }
  get clusterPort(): number | undefined {
    return portOf(this.ports.cluster);
  }
  get leafPort(): number | undefined {
    return portOf(this.ports.leafnodes) ?? this.leafFromLog ?? this.leafFromVarz;
  }
  get gatewayPort(): number | undefined {
    return portOf(this.ports.gateway) ?? this.gatewayFromLog ?? this.gatewayFromVarz;
  }
  get monitorPort(): number | undefined {
    return portOf(this.ports.monitoring);
  }
  get websocketPort(): number | undefined {
    return portOf(this.ports.websocket);
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  get running(): boolean {
    return !this.hasExited;
  }

  log(): string {
    return [...this.logTail, this.pendingLine].join("\n");
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitPromise;
  }

  private onLogLine(line: string): void {
    this.logTail.push(line);
    if (this.logTail.length > (this.opts.logLines ?? 500)) this.logTail.shift();
    const leaf = LEAF_LINE.exec(line);
    if (leaf !== null) this.leafFromLog = Number(leaf[1]);
    const gw = GATEWAY_LINE.exec(line);
    if (gw !== null) this.gatewayFromLog = Number(gw[1]);
    if (READY_LINE.test(line)) this.sawReady = true;
  }

  private onLogData(chunk: Buffer): void {
    const text = this.pendingLine + chunk.toString("utf8");
    const lines = text.split("\n");
    this.pendingLine = lines.pop() ?? "";
    for (const l of lines) this.onLogLine(l.replace(/\r$/, ""));
  }

  async launch(): Promise<void> {
    const head = [
      `listen: "127.0.0.1:${this.clientPort}"`,
      `ports_file_dir: "${this.dir}"`,
      `server_name: "${this.name}"`,
    ].join("\n");
    writeFileSync(this.confPath, `${head}\n${this.opts.conf}\n`);
    this.ports = {};
    this.leafFromLog = this.gatewayFromLog = this.leafFromVarz = this.gatewayFromVarz = undefined;
    this.logTail = [];
    this.pendingLine = "";
    this.sawReady = false;
    this.hasExited = false;

    const child = spawn("nats-server", ["-c", this.confPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.exitPromise = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.hasExited = true;
        resolve({ code, signal });
      });
    });
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    child.stdout?.on("data", (d: Buffer) => this.onLogData(d));
    child.stderr?.on("data", (d: Buffer) => this.onLogData(d));
    if (child.pid === undefined) {
      this.hasExited = true;
      const err = await spawnError;
      throw new Error(`could not start nats-server (${this.name}): ${err.message}`);
    }
    track(child);

    const timeoutMs = this.opts.startTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    const portsFile = join(this.dir, `nats-server_${child.pid}.ports`);
    let failure: string | undefined;
    for (;;) {
      if (this.hasExited) {
        failure = `exited (${JSON.stringify(await this.exitPromise)}) before it was ready`;
        break;
      }
      try {
        const ports = JSON.parse(readFileSync(portsFile, "utf8")) as Ports;
        if (ports.nats !== undefined && ports.nats.length > 0) {
          this.ports = ports;
          break;
        }
      } catch {
        // not written yet (or half written)
      }
      if (Date.now() >= deadline) {
        failure = `no ports file after ${timeoutMs}ms`;
        break;
      }
      await sleep(20);
    }
    if (failure !== undefined) {
      child.kill("SIGKILL");
      await this.exitPromise;
      // 'exit' can come before the last of stderr has been read; 'close' comes after it.
      if (child.stderr !== null && !child.stderr.readableEnded) {
        await Promise.race([new Promise((resolve) => child.once("close", resolve)), sleep(1000)]);
      }
      throw new Error(
        `nats-server ${this.name}: ${failure}\n--- config ---\n${this.readConf()}\n--- log ---\n${this.log()}`,
      );
    }
    // Leaf node and gateway ports come from the log: the lines are written before "Server is ready".
    const readyBy = Math.min(deadline, Date.now() + 3000);
    while (!this.sawReady && !this.hasExited && Date.now() < readyBy) await sleep(10);
    if (!this.sawReady && this.monitorPort !== undefined) {
      try {
        const varz = await httpJson<{ leaf?: { port?: number }; gateway?: { port?: number } }>(
          `http://127.0.0.1:${this.monitorPort}/varz`,
        );
        if (varz.leaf?.port !== undefined && varz.leaf.port > 0) this.leafFromVarz = varz.leaf.port;
        if (varz.gateway?.port !== undefined && varz.gateway.port > 0)
          this.gatewayFromVarz = varz.gateway.port;
      } catch {
        // leave them unknown
      }
    }
    // From now on, the client port stays the same across restarts.
    this.clientPort = this.port;
  }

  private readConf(): string {
    try {
      return readFileSync(this.confPath, "utf8");
    } catch {
      return "(unreadable)";
    }
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.hasExited) return;
    try {
      this.child.kill(signal);
    } catch {
      // gone
    }
    if (!["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT"].includes(signal)) return;
    const timer = new Promise<"timeout">((resolve) => {
      const t = setTimeout(() => resolve("timeout"), 10_000);
      this.exitPromise.then(() => clearTimeout(t));
    });
    if ((await Promise.race([this.exitPromise, timer])) === "timeout") {
      this.child.kill("SIGKILL");
      await this.exitPromise;
    }
  }

  async restart(): Promise<void> {
    if (this.closed) throw new Error(`nats-server ${this.name} is closed`);
    await this.kill("SIGKILL");
    // A port of the config (or the pinned client port) can be briefly in use by someone else's outgoing
    // connection; try again a few times in that case.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launch();
        return;
      } catch (err) {
        if (attempt >= 5 || !/address already in use/i.test((err as Error).message)) throw err;
        await sleep(200);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
    tellGuard(`-dir ${this.dir}`);
  }
}

/**
 * Start a reference nats-server with `conf` (nats-server config syntax). The generated head of the config
 * is `listen: "127.0.0.1:<port or -1>"`, `ports_file_dir: "<temp dir>"` and `server_name: "<name>"`.
 * Resolves once the server is listening and its ports are known; rejects with the log if it fails to start.
 */
export async function startNatsServerProcess(opts: NatsServerProcessOptions): Promise<NatsServerProcess> {
  const s = new NatsServerProcessImpl(opts);
  try {
    await s.launch();
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// A route mesh

export interface NatsClusterOptions {
  /** Number of servers (default 3). */
  servers?: number;
  /** Cluster name; servers are named <name>-0, <name>-1, ... (default "ref"). */
  name?: string;
  /** More config for every server, or per server (index 0-based). */
  extra?: string | ((index: number) => string);
  /** How long to wait for the mesh to form (default 10000 ms). */
  formTimeoutMs?: number;
}

export interface NatsCluster {
  readonly name: string;
  readonly servers: NatsServerProcess[];
  /** Client URLs of all servers. */
  readonly urls: string[];
  /** Wait until every running server reports a route to every other running server (/routez). */
  waitForMesh(timeoutMs?: number): Promise<void>;
  /** Close every server. */
  close(): Promise<void>;
}

interface Routez {
  num_routes: number;
  routes?: Array<{ remote_id?: string }>;
}

/**
 * Start `servers` reference nats-servers forming a full route mesh on loopback. Cluster and monitoring
 * ports are fixed (freePort) so every server lists the others in `routes` and a restarted server comes back
 * on the same ports. Resolves once each server's /routez reports num_routes = servers - 1.
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const n = opts.servers ?? 3;
  const name = opts.name ?? "ref";
  const clusterPorts: number[] = [];
  const monitorPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    clusterPorts.push(await freePort());
    monitorPorts.push(await freePort());
  }
  const confFor = (i: number): string => {
    const routes = clusterPorts
      .filter((_, j) => j !== i)
      .map((p) => `    "nats-route://127.0.0.1:${p}"`)
      .join("\n");
    const extra = typeof opts.extra === "function" ? opts.extra(i) : (opts.extra ?? "");
    return [
      `http: "127.0.0.1:${monitorPorts[i]}"`,
      "cluster {",
      `  name: "${name}"`,
      `  listen: "127.0.0.1:${clusterPorts[i]}"`,
      "  routes: [",
      routes,
      "  ]",
      "}",
      extra,
    ].join("\n");
  };

  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => startNatsServerProcess({ conf: confFor(i), name: `${name}-${i}` })),
  );
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(servers.map((s) => s.close()));
    throw failed.reason;
  }

  const routeCounts = async (): Promise<Map<NatsServerProcess, number | string>> => {
    const counts = new Map<NatsServerProcess, number | string>();
    await Promise.all(
      servers.map(async (s) => {
        if (!s.running) return;
        try {
          const r = await httpJson<Routez>(`http://127.0.0.1:${s.monitorPort}/routez`, 1000);
          counts.set(s, r.num_routes);
        } catch (err) {
          counts.set(s, (err as Error).message);
        }
      }),
    );
    return counts;
  };

  const waitForMesh = async (timeoutMs = opts.formTimeoutMs ?? 10_000): Promise<void> => {
    let last = new Map<NatsServerProcess, number | string>();
    try {
      await waitFor(
        async () => {
          last = await routeCounts();
          const want = [...last.keys()].length - 1;
          return [...last.values()].every((c) => c === want);
        },
        { timeoutMs, intervalMs: 100, what: `nats cluster ${name} to form a full route mesh` },
      );
    } catch (err) {
      const detail = servers
        .map((s) => `${s.name}: ${s.running ? `num_routes=${String(last.get(s))}` : "not running"}`)
        .join(", ");
      throw new Error(`${(err as Error).message} (${detail})`, { cause: err });
    }
  };

  const cluster: NatsCluster = {
    name,
    servers,
    get urls() {
      return servers.map((s) => s.url);
    },
    waitForMesh,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
  try {
    await waitForMesh();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
