// One server per JetStream store directory. Two servers writing the same streams would interleave blocks
// and corrupt each other's state, so the first takes a lock file and a second one (another process, or
// another server embedded in the same process) refuses to start with a message that says why.
//
// The lock is a file created exclusively, naming the holder's pid and the kernel's start time of that
// process. A holder that died without releasing it (kill -9, power loss) is recognised because its pid is
// gone or now belongs to a process that started at another time; its lock is then taken over.

import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

const LOCK_FILE = "lock";
/** Store roots locked by servers of this process (the pid alone cannot tell them apart). */
const heldHere = new Set<string>();

interface LockOwner {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), or "" where unknown. */
  started: string;
  token: string;
}

export class StoreInUseError extends Error {
  constructor(root: string, holder: string) {
    super(
      `JetStream store directory "${root}" is in use by ${holder}; each server needs a store_dir of its own`,
    );
    this.name = "StoreInUseError";
  }
}

/** A process's start time, as the kernel reports it (field 22 of /proc/<pid>/stat); "" when unknown. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? "";
  } catch {
    return "";
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid exists; it is the holder only if it started when the holder did (pids are reused).
  const now = startTimeOf(owner.pid);
  return owner.started === "" || now === "" || now === owner.started;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as Partial<LockOwner>;
    if (typeof o.pid !== "number" || typeof o.token !== "string") return undefined;
    return { pid: o.pid, started: typeof o.started === "string" ? o.started : "", token: o.token };
  } catch {
    return undefined;
  }
}

export class StoreLock {
  private constructor(
    readonly root: string,
    private readonly path: string,
    private readonly token: string,
  ) {}

  /** Lock `root` (an existing directory) for this server, or throw StoreInUseError. */
  static acquire(root: string): StoreLock {
    if (heldHere.has(root)) throw new StoreInUseError(root, "another server in this process");
    const path = join(root, LOCK_FILE);
    const me: LockOwner = {
      pid: process.pid,
      started: startTimeOf(process.pid),
      token: randomBytes(8).toString("hex"),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, "wx", 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const owner = readOwner(path);
        if (owner !== undefined && owner.pid !== process.pid && isAlive(owner))
          throw new StoreInUseError(root, `another process (pid ${owner.pid})`);
        // Left behind by a holder that is gone (or unreadable): take it over.
        try {
          unlinkSync(path);
        } catch {
          // Someone else removed it first; the next attempt decides.
        }
        continue;
      }
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      heldHere.add(root);
      return new StoreLock(root, path, me.token);
    }
    throw new StoreInUseError(root, "another server starting at the same time");
  }

  /** Give the directory up (only if the lock file is still ours). */
  release(): void {
    if (!heldHere.delete(this.root)) return;
    if (readOwner(this.path)?.token !== this.token) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }
}
