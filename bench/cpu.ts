// CPU accounting for a run: per-process CPU time of the server (from
// /proc/<pid>/stat) and of the generator (process.cpuUsage()). When the two are
// pinned to their own cores, the cores' busy time from /proc/stat minus those
// two gives the CPU taken on the benchmark cores by anything else (other
// processes, kernel threads, softirq) — reported so a noisy machine is visible.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { cpuSeconds } from "./servers.js";

let pinned: number[] | null = null;

/** Called once by the orchestrator when pinning is in effect (the server's and the generator's cores). */
export function useCoreAccounting(cores: number[] | null): void {
  pinned = cores;
}

const CLK_TCK = 100;

/** Busy and total time (seconds) summed over `cpus`, from /proc/stat (null when unreadable). */
export function readCores(cpus: number[]): { busy: number; total: number } | null {
  try {
    const stat = readFileSync("/proc/stat", "utf8");
    let busy = 0;
    let total = 0;
    for (const cpu of cpus) {
      const m = new RegExp(`^cpu${cpu} (.*)$`, "m").exec(stat);
      if (!m?.[1]) return null;
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[1]
        .trim()
        .split(/\s+/)
        .map(Number);
      const b = user + nice + system + irq + softirq;
      busy += b;
      total += b + idle + iowait + steal;
    }
    return { busy: busy / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return null;
  }
}

export interface CpuSnapshot {
  wall: number;
  cores: { busy: number; total: number } | null;
  serverProc: number | null;
  harnessProc: NodeJS.CpuUsage;
}

export interface CpuUse {
  /** Server process CPU, in cores (1.0 = one core fully busy); null when not our process. */
  server: number | null;
  /** Generator (this process) CPU, in cores. */
  harness: number;
  /** Other load on the two benchmark cores, in cores; null when not pinned or server unknown. */
  foreign: number | null;
}

export function cpuSnapshot(pid: number | null): CpuSnapshot {
  return {
    wall: performance.now(),
    cores: pinned ? readCores(pinned) : null,
    serverProc: pid === null ? null : cpuSeconds(pid),
    harnessProc: process.cpuUsage(),
  };
}

export function coresSince(snap: CpuSnapshot, pid: number | null): CpuUse {
  const wallS = (performance.now() - snap.wall) / 1000;
  const h = process.cpuUsage(snap.harnessProc);
  const harness = (h.user + h.system) / 1e6 / wallS;
  const nowServer = pid === null ? null : cpuSeconds(pid);
  const server =
    nowServer === null || snap.serverProc === null ? null : (nowServer - snap.serverProc) / wallS;
  let foreign: number | null = null;
  const now = pinned ? readCores(pinned) : null;
  if (now && snap.cores && server !== null && now.total > snap.cores.total) {
    const coresBusy = ((now.busy - snap.cores.busy) / (now.total - snap.cores.total)) * (pinned?.length ?? 0);
    foreign = Math.max(0, coresBusy - server - harness);
  }
  return { server, harness, foreign };
}
