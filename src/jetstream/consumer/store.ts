// Where a consumer of a file-backed stream keeps itself: `<stream dir>/obs/<consumer>/` holding the
// definition (meta.inf + meta.sum, as for streams: creation time and config) and the delivery state
// `o.dat` (the JSON of ConsumerState, then a line with its SHA-256). Every file is replaced atomically
// (temporary file, fsync, rename), so a crash or kill -9 leaves either the old or the new state, never a
// torn one; a checksum mismatch (damage on disk) falls back to the previous state file.
//
// State writes are coalesced: changes mark the state dirty, one write is in flight at a time, and callers
// that must not answer before their change is on disk (an ack with a reply) wait for `saved()`.

import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseRfc3339, rfc3339 } from "../json.js";
import { readMeta, writeMeta } from "../meta-file.js";
import { type ConsumerConfig, configFromDisk, configToDisk } from "./config.js";

export const CONSUMERS_DIR = "obs";
const STATE_FILE = "o.dat";
const PREV_FILE = "o.dat.prev";
/** How long a state change may wait for its write when nobody waits for it... */
const LAZY_WRITE_MS = 50;
/**
 * ...stretched for big states so that encoding them stays a small share of the event loop (the wait is
 * this many times the last encoding's cost), up to a ceiling. Writes someone waits for are not delayed.
 */
const LAZY_COST_FACTOR = 20;
const MAX_LAZY_WRITE_MS = 1000;
/**
 * The wait for a consumer with ack policy none: its state is only where delivery resumes (nothing it sent
 * is acknowledged), so a crash costs at most this much re-delivery, and a busy watcher (KV watch, ordered
 * consumers) writes its state once a second instead of twenty times.
 */
export const NO_ACK_LAZY_WRITE_MS = 1000;

function sum(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** What a consumer needs from its persistence (a no-op one for memory streams and mem_storage). */
export interface ConsumerStore {
  readonly durable: boolean;
  saveConfig(created: bigint, config: ConsumerConfig): void;
  /** The state changed: write it soon. */
  markDirty(): void;
  /** Resolves once everything marked so far is on disk. */
  saved(): Promise<void>;
  /** Stop writing; with `finalState`, write it synchronously first (clean shutdown). */
  close(finalState?: string): void;
  /** Remove everything stored. */
  remove(): void;
}

export class MemoryConsumerStore implements ConsumerStore {
  readonly durable = false;
  saveConfig(): void {}
  markDirty(): void {}
  saved(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
  remove(): void {}
}

export class FileConsumerStore implements ConsumerStore {
  readonly durable = true;
  private dirtyGen = 0;
  private savedGen = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private timerUrgent = false;
  private closed = false;
  private waiters: { gen: number; resolve: () => void }[] = [];
  private lazyMs: number;

  constructor(
    readonly dir: string,
    private readonly encode: () => string,
    private readonly onError: (err: Error) => void,
    /** The shortest wait before a write nobody waits for. */
    private readonly minLazyMs = LAZY_WRITE_MS,
  ) {
    this.lazyMs = minLazyMs;
    mkdirSync(dir, { recursive: true });
  }

  saveConfig(created: bigint, config: ConsumerConfig): void {
    writeMeta(this.dir, { created: rfc3339(created), config: configToDisk(config) });
  }

  markDirty(): void {
    if (this.closed) return;
    this.dirtyGen++;
    this.schedule(this.waiters.length > 0);
  }

  saved(): Promise<void> {
    if (this.closed || this.savedGen >= this.dirtyGen) return Promise.resolve();
    const gen = this.dirtyGen;
    const p = new Promise<void>((resolve) => this.waiters.push({ gen, resolve }));
    this.schedule(true);
    return p;
  }

  /**
   * Write soon: at once when someone waits for it (an ack with a reply), else after a short delay, so a
   * stream of deliveries and plain acks costs a few writes per second rather than one per event-loop turn.
   */
  private schedule(urgent: boolean): void {
    if (this.writing) return;
    if (this.timer !== undefined) {
      if (!urgent || this.timerUrgent) return;
      clearTimeout(this.timer);
    }
    this.timerUrgent = urgent;
    const run = () => {
      this.timer = undefined;
      void this.write();
    };
    this.timer = urgent ? (setImmediate(run) as unknown as NodeJS.Timeout) : setTimeout(run, this.lazyMs);
  }

  private async write(): Promise<void> {
    if (this.closed || this.writing || this.savedGen >= this.dirtyGen) return;
    this.writing = true;
    const gen = this.dirtyGen;
    const t0 = performance.now();
    const text = this.encode();
    const body = `${text}\n${sum(text)}\n`;
    const cost = performance.now() - t0;
    this.lazyMs = Math.max(this.minLazyMs, Math.min(MAX_LAZY_WRITE_MS, cost * LAZY_COST_FACTOR));
    const path = join(this.dir, STATE_FILE);
    const tmp = `${path}.tmp`;
    try {
      // Page-cache steps synchronously (each costs microseconds; a promise round trip costs more), only
      // the fdatasync in the thread pool: the event loop never waits for the disk.
      const fd = openSync(tmp, "w");
      try {
        writeSync(fd, body);
        await datasync(fd);
      } finally {
        closeSync(fd);
      }
      if (this.closed) {
        rmSync(tmp, { force: true });
      } else {
        try {
          renameSync(path, join(this.dir, PREV_FILE));
        } catch {
          // No state written before: nothing to keep as the previous one.
        }
        renameSync(tmp, path);
      }
    } catch (err) {
      if (!this.closed) this.onError(err as Error);
    }
    this.writing = false;
    this.savedGen = gen;
    this.release();
    if (this.dirtyGen > this.savedGen) this.schedule(this.waiters.length > 0);
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.closed || w.gen <= this.savedGen) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  close(finalState?: string): void {
    if (this.closed) return;
    this.clearTimer();
    if (finalState !== undefined && this.dirtyGen > 0) {
      try {
        writeStateSync(this.dir, finalState);
      } catch (err) {
        this.onError(err as Error);
      }
    }
    this.closed = true;
    this.release();
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    if (this.timerUrgent) clearImmediate(this.timer as unknown as NodeJS.Immediate);
    else clearTimeout(this.timer);
    this.timer = undefined;
  }

  remove(): void {
    this.clearTimer();
    this.closed = true;
    this.release();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function writeStateSync(dir: string, text: string): void {
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.sync`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, `${text}\n${sum(text)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Read the newest intact state text; `damaged` reports a checksum problem on the current file. */
export function readState(dir: string): { text: string | undefined; damaged: boolean } {
  let damaged = false;
  for (const f of [STATE_FILE, PREV_FILE]) {
    let raw: string;
    try {
      raw = readFileSync(join(dir, f), "utf8");
    } catch {
      continue;
    }
    const lines = raw.split("\n");
    if (lines.length >= 2 && sum(lines[0]) === lines[1].trim()) return { text: lines[0], damaged };
    damaged = true;
  }
  return { text: undefined, damaged };
}

export interface StoredConsumer {
  name: string;
  dir: string;
  created: bigint;
  config: ConsumerConfig;
  sumOk: boolean;
}

/** List the consumers stored under a stream directory (unreadable ones are reported through `bad`). */
export function listStoredConsumers(
  streamDir: string,
  bad: (name: string, err: Error) => void,
): StoredConsumer[] {
  const root = join(streamDir, CONSUMERS_DIR);
  if (!existsSync(root)) return [];
  const out: StoredConsumer[] = [];
  for (const d of readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(root, d.name);
    try {
      const { meta, sumOk } = readMeta(dir);
      const config = configFromDisk(meta.config);
      const created = parseRfc3339(String(meta.created)) ?? BigInt(Date.now()) * 1_000_000n;
      out.push({ name: d.name, dir, created, config, sumOk });
    } catch (err) {
      bad(d.name, err as Error);
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
