// JetStream-enabled server processes for the JetStream scenarios: Lattice and
// nats-server started with `-js -sd <store dir>` on free loopback ports, store
// dirs in a temp directory that is removed on exit, and a measured stop
// (SIGTERM, time to exit, SIGKILL only after a long grace period).
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { ServerKey } from "./options.js";
import {
  freePort,
  type ManagedProcess,
  type SpawnOptions,
  spawnProcess,
  startProcess,
  which,
} from "./servers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const LATTICE_ENTRY = join(ROOT, "dist", "src", "cli", "lattice-server.js");

/**
 * Extra Node.js flags for the Lattice server under test, e.g. `BENCH_LATTICE_NODE_ARGS="--cpu-prof"` to
 * profile it while a scenario runs (Node refuses such flags in NODE_OPTIONS).
 */
export function latticeNodeArgs(): string[] {
  return (process.env.BENCH_LATTICE_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
}

export interface JsLaunch {
  name: string;
  cmd: string;
  /** Arguments for a given port and store dir. */
  args(port: number, storeDir: string): string[];
  env: NodeJS.ProcessEnv;
  cpus: string | null;
}

/** How to start `key` with JetStream, or the reason it cannot be. */
export function jsLaunch(key: ServerKey, cpus: string | null): JsLaunch | string {
  const common = (port: number, dir: string): string[] => [
    "-js",
    "-sd",
    dir,
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
  ];
  if (key === "lattice") {
    if (!existsSync(LATTICE_ENTRY)) return `${LATTICE_ENTRY} does not exist (build first)`;
    return {
      name: "Lattice (JetStream)",
      cmd: process.execPath,
      args: (port, dir) => [...latticeNodeArgs(), LATTICE_ENTRY, ...common(port, dir)],
      env: {},
      cpus,
    };
  }
  const bin = which("nats-server");
  if (!bin) return "nats-server is not on PATH";
  return {
    name: "nats-server (JetStream)",
    cmd: bin,
    args: common,
    env: cpus !== null ? { GOMAXPROCS: "1" } : {},
    cpus,
  };
}

function spawnOpts(l: JsLaunch, port: number, storeDir: string): SpawnOptions {
  return { name: l.name, cmd: l.cmd, args: l.args(port, storeDir), port, cpus: l.cpus, env: l.env };
}

/** Starts the server and waits until its port answers. */
export async function startJsServer(l: JsLaunch, storeDir: string): Promise<ManagedProcess> {
  const port = await freePort();
  return startProcess({ ...spawnOpts(l, port, storeDir), startTimeoutMs: 30_000 });
}

/** Spawns the server without waiting (for timing a restart from process start). */
export async function spawnJsServer(l: JsLaunch, storeDir: string): Promise<ManagedProcess> {
  const port = await freePort();
  return spawnProcess(spawnOpts(l, port, storeDir));
}

export interface StopResult {
  /** SIGTERM to exit. */
  ms: number;
  /** True when it did not exit within the grace period and was SIGKILLed. */
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** SIGTERM (the clean shutdown of both servers), timed; SIGKILL after `graceMs`. */
export async function stopTimed(proc: ManagedProcess, graceMs = 30_000): Promise<StopResult> {
  if (proc.exited()) {
    return { ms: 0, killed: false, code: proc.child.exitCode, signal: proc.child.signalCode };
  }
  const t0 = performance.now();
  let killed = false;
  const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  proc.child.kill("SIGTERM");
  const t = setTimeout(() => {
    killed = true;
    proc.child.kill("SIGKILL");
  }, graceMs);
  const r = await gone;
  clearTimeout(t);
  return { ms: performance.now() - t0, killed, ...r };
}

const dirs = new Set<string>();
let cleanupInstalled = false;

/** A fresh store dir under `parent` (default: OS temp dir), removed again on exit. */
export function makeStoreDir(parent: string | null, key: ServerKey): string {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.once("exit", () => {
      for (const d of dirs) removeStoreDir(d);
    });
  }
  const dir = mkdtempSync(join(parent ?? os.tmpdir(), `lattice-bench-js-${key}-`));
  dirs.add(dir);
  return dir;
}

export function removeStoreDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
  dirs.delete(dir);
}

/** Allocated bytes (st_blocks × 512) and apparent size of everything under `dir`. */
export function dirSize(dir: string): { allocated: number; apparent: number; files: number } {
  let allocated = 0;
  let apparent = 0;
  let files = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else {
        files++;
        apparent += st.size;
        allocated += st.blocks * 512;
      }
    }
  };
  try {
    walk(dir);
  } catch {
    // a file vanished while walking: figures are approximate
  }
  return { allocated, apparent, files };
}

/** File system of `dir` from /proc/self/mounts ("ext4 on /", "tmpfs on /tmp"): an fsync on tmpfs costs nothing. */
export function fsType(dir: string): string {
  try {
    const real = realpathSync(dir);
    let best: { mp: string; type: string } | null = null;
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
      const [, mp, type] = line.split(" ");
      if (!mp || !type) continue;
      const m = mp.replace(/\\040/g, " ");
      const inside = m === "/" || real === m || real.startsWith(`${m}/`);
      if (inside && (best === null || m.length >= best.mp.length)) best = { mp: m, type };
    }
    return best ? `${best.type} on ${best.mp}` : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The disk's floor for an acknowledged-after-sync publish: `n` appends of one small record, each followed
 * by fdatasync, in a temp file under `parent`. Returns p50/p99 in µs (null if it failed).
 */
export function measureFdatasync(parent: string, n = 300): { p50Us: number; p99Us: number } | null {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(parent, "lattice-bench-fsync-"));
    const fd = openSync(join(dir, "probe"), "w");
    const rec = Buffer.alloc(64, 0x61);
    const s = new Float64Array(n);
    try {
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        writeSync(fd, rec);
        fdatasyncSync(fd);
        s[i] = (performance.now() - t) * 1000;
      }
    } finally {
      closeSync(fd);
    }
    s.sort();
    return {
      p50Us: s[Math.floor(n * 0.5)] as number,
      p99Us: s[Math.min(n - 1, Math.floor(n * 0.99))] as number,
    };
  } catch {
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
