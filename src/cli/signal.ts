import { existsSync, readdirSync, readFileSync } from "node:fs";

// `--signal <name>[=<pid|pidfile>]`: control a running server like nats-server's --signal.
const SIGNALS: Record<string, NodeJS.Signals> = {
  stop: "SIGKILL",
  quit: "SIGINT",
  term: "SIGTERM",
  reopen: "SIGUSR1",
  reload: "SIGHUP",
  ldm: "SIGUSR2",
};

function findServerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.includes("lattice-server") || cmd.includes("lattice\0server")) pids.push(Number(entry));
    } catch {
      // process went away
    }
  }
  return pids;
}

export function sendSignal(spec: string): void {
  const [name, target] = spec.split("=", 2);
  const sig = SIGNALS[name.toLowerCase()];
  if (sig === undefined) throw new Error(`unknown signal "${name}"`);
  let pids: number[];
  if (target === undefined) {
    pids = findServerPids();
    if (pids.length === 0) throw new Error("no lattice-server process running");
    if (pids.length > 1)
      throw new Error(`multiple lattice-server processes running (${pids.join(", ")}); name one`);
  } else if (/^\d+$/.test(target)) {
    pids = [Number(target)];
  } else if (existsSync(target)) {
    pids = [Number(readFileSync(target, "utf8").trim())];
  } else {
    throw new Error(`"${target}" is neither a pid nor a pid file`);
  }
  for (const pid of pids) process.kill(pid, sig);
}
