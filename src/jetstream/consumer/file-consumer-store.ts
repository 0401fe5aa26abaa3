// The file-backed consumer store: `<stream dir>/obs/<consumer>/` holds the definition (meta.inf +
// meta.sum, as for streams: creation time and config) and the delivery state `o.dat`, the binary record
// of state-codec.ts (which carries its own CRC32). Every file is replaced atomically (temporary file,
// fdatasync, rename), so a crash or kill -9 leaves either the old or the new state, never a torn one; a
// damaged state file falls back to the previous one (`o.dat.prev`). State files in the JSON-and-SHA-256
// form older versions wrote are still read.
//
// Writes are coalesced: operations mark the state dirty, one write is in flight at a time, and callers
// that must not answer before their change is on disk (an ack with a reply) wait for `saved()`.

import { createHash } from "node:crypto";
import {
  closeSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { rfc3339 } from "../json.js";
import { writeMeta } from "../meta-file.js";
import { type ConsumerConfig, configToDisk } from "./config.js";
import { ConsumerState } from "./state.js";
import { decodeConsumerState, encodeConsumerState, isEncodedConsumerState } from "./state-codec.js";
import { StateKeeper } from "./store.js";

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

export class FileConsumerStore extends StateKeeper {
  readonly durable = true;
  /** A state was read from disk at open; `damaged`: the newest state file was damaged (see readState). */
  readonly restored: boolean;
  readonly damaged: boolean;
  private dirtyGen = 0;
  private savedGen = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private timerUrgent = false;
  private closed = false;
  private waiters: { gen: number; resolve: () => void }[] = [];
  private lazyMs: number;

  /** Opens (or creates) the store in `dir`, reading the state stored there, if any. */
  constructor(
    readonly dir: string,
    config: ConsumerConfig,
    private readonly onError: (err: Error) => void,
    /** The shortest wait before a write nobody waits for. */
    private readonly minLazyMs = LAZY_WRITE_MS,
  ) {
    super(config);
    this.lazyMs = minLazyMs;
    mkdirSync(dir, { recursive: true });
    const { state, damaged } = readState(dir);
    this.restored = state !== undefined;
    this.damaged = damaged;
    if (state !== undefined) this.st = state;
  }

  protected persistConfig(created: bigint, config: ConsumerConfig): void {
    writeMeta(this.dir, { created: rfc3339(created), config: configToDisk(config) });
  }

  protected changed(): void {
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
    const body = encodeConsumerState(this.st);
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

  close(saveFinal = false): void {
    if (this.closed) return;
    this.clearTimer();
    if (saveFinal && this.dirtyGen > 0) {
      try {
        writeStateSync(this.dir, encodeConsumerState(this.st));
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

function writeStateSync(dir: string, body: Uint8Array): void {
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.sync`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Decode one state file: the binary record, or the JSON line + SHA-256 line older versions wrote. */
function decodeStateFile(raw: Buffer): ConsumerState {
  if (isEncodedConsumerState(raw)) return decodeConsumerState(raw);
  const lines = raw.toString("utf8").split("\n");
  if (lines.length < 2 || sha256(lines[0]) !== lines[1].trim()) throw new Error("checksum mismatch");
  return ConsumerState.decodeLegacy(lines[0]);
}

/**
 * Read the newest intact state: the current file, else the previous one. `damaged` reports that a file
 * that exists could not be used (its damage is never served).
 */
export function readState(dir: string): { state: ConsumerState | undefined; damaged: boolean } {
  let damaged = false;
  for (const f of [STATE_FILE, PREV_FILE]) {
    let raw: Buffer;
    try {
      raw = readFileSync(join(dir, f));
    } catch {
      continue;
    }
    try {
      return { state: decodeStateFile(raw), damaged };
    } catch {
      damaged = true;
    }
  }
  return { state: undefined, damaged };
}
