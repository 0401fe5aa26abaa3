// Starting, probing and stopping the processes under test (and the ceiling
// peer): free ports, readiness, CPU pinning, RSS and CPU-time sampling, and
// cleanup on normal exit, errors and signals.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";

export interface ManagedProcess {
  name: string;
  pid: number;
  port: number;
  child: ChildProcess;
  /** Last few KB of stdout+stderr, for error messages. */
  tail(): string;
  exited(): boolean;
}

const running = new Set<ManagedProcess>();
let stopping = false;

/** True once SIGINT/SIGTERM/SIGHUP was received and the servers are being stopped. */
export function shuttingDown(): boolean {
  return stopping;
}

/** Absolute path of `cmd` if it is an executable on PATH. */
export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until `host:port` accepts a TCP connection and sends its first bytes (INFO). */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  proc?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc?.exited()) throw new Error(`${proc.name} exited during startup:\n${proc.tail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 1000);
      s.once("data", () => {
        clearTimeout(t);
        s.destroy();
        resolve(true);
      });
      s.once("error", () => {
        clearTimeout(t);
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SpawnOptions {
  name: string;
  cmd: string;
  args: string[];
  port: number;
  /** CPU list for `taskset -c`, or null to leave the affinity alone. */
  cpus: string | null;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

/** Spawns a server (through `taskset -c` when pinning) and waits until its port answers. */
export async function startProcess(opts: SpawnOptions): Promise<ManagedProcess> {
  const proc = spawnProcess(opts);
  try {
    await waitForPort("127.0.0.1", opts.port, opts.startTimeoutMs ?? 10_000, proc);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return proc;
}

/** Spawns a server (through `taskset -c` when pinning) without waiting for it; it is still killed on exit. */
export function spawnProcess(opts: SpawnOptions): ManagedProcess {
  const [cmd, args] =
    opts.cpus !== null ? ["taskset", ["-c", opts.cpus, opts.cmd, ...opts.args]] : [opts.cmd, opts.args];
  const child = spawn(cmd, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  let tail = "";
  const keep = (d: Buffer): void => {
    tail = (tail + d.toString("utf8")).slice(-4096);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  const proc: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    port: opts.port,
    child,
    tail: () => tail.trim(),
    exited: () => exited,
  };
  running.add(proc);
  child.once("exit", () => {
    exited = true;
    running.delete(proc);
  });
  child.once("error", (err) => {
    exited = true;
    tail += `\nspawn error: ${err.message}`;
    running.delete(proc);
  });
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(proc: ManagedProcess, graceMs = 2000): Promise<void> {
  if (proc.exited()) return;
  const gone = new Promise<void>((resolve) => proc.child.once("exit", () => resolve()));
  proc.child.kill("SIGTERM");
  const t = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(t);
  running.delete(proc);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p)));
}

/** Makes sure no child outlives the harness: exit, uncaught errors, SIGINT/SIGTERM. */
export function installCleanupHandlers(): void {
  process.once("exit", () => {
    for (const p of running) p.child.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      stopping = true;
      process.stderr.write(`\n${sig}: stopping servers...\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Resident set size in bytes from /proc/<pid>/status (VmRSS, or VmHWM for the peak). */
export function readRss(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat reports ticks

/** User+system CPU seconds consumed so far by `pid` (all threads). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" closing the command name; utime/stime are fields 14/15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPUs this process may run on (from /proc/self/status Cpus_allowed_list). */
export function allowedCpus(): number[] {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const m = /^Cpus_allowed_list:\s+(\S+)/m.exec(status);
    if (!m?.[1]) return [];
    const cpus: number[] = [];
    for (const part of m[1].split(",")) {
      const [a, b] = part.split("-").map(Number);
      if (a === undefined || Number.isNaN(a)) continue;
      for (let c = a; c <= (b ?? a); c++) cpus.push(c);
    }
    return cpus;
  } catch {
    return [];
  }
}

/** Pins every thread of this process to `cpu` (new threads inherit it). */
export function pinSelf(cpu: number): void {
  execFileSync("taskset", ["-a", "-cp", String(cpu), String(process.pid)], { stdio: "ignore" });
}
