// Where a Raft node keeps what it promised: its hard state (term, vote, commit), its log and its latest
// snapshot, in a directory of its own. Everything is written before the driver sends the messages that
// depend on it, and made durable with one fdatasync per batch.
//
// Layout:
//  - `snapshot`: the latest snapshot with the generation of the log that follows it (replaced atomically:
//    temporary file, fsync, rename, fsync of the directory);
//  - `wal-<generation>-<segment>.log`: append-only segments of records. An entry record at index i
//    supersedes every stored entry from i on (that is how a follower's conflicting tail is replaced
//    without rewriting files); the last hard-state record wins. Installing a snapshot from a leader starts
//    a new generation: segments of older generations are then ignored and removed.
//
// A record is a kind byte, its complement (a flipped kind byte is caught), then a record framed by the
// codec (length and CRC-32C). At load, a torn record at the very end of the newest segment is the
// unsynced tail of a crash and is cut off. Damage anywhere else cannot be told apart from lost
// acknowledged entries: the segments from there on are set aside (renamed `.damaged`, never deleted),
// the entries before it are used, and the node starts with its log marked damaged so it neither votes
// nor campaigns until a leader has repaired it.

import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  CorruptRecordError,
  decodeEntry,
  decodeHardState,
  decodeSnapshot,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  readFrame,
} from "./codec.js";
import { crc32c } from "./crc32c.js";
import type { Entry, HardState, Snapshot } from "./types.js";

const KIND_ENTRY = 1;
const KIND_HARD_STATE = 2;
/** Start a new segment past this size (by default), so compaction can drop whole files. */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const SNAPSHOT_FILE = "snapshot";

/** What a node finds when it opens its storage. */
export interface StoredState {
  hardState: HardState | undefined;
  snapshot: Snapshot | undefined;
  /** The entries after the snapshot, contiguous. */
  entries: Entry[];
  /** Set when stored data was unreadable past this index (see the file comment). */
  damagedAfter: number | undefined;
  /** What was found wrong, for the log. */
  problems: string[];
}

/** The part of a Ready the storage writes. */
export interface PersistBatch {
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
}

interface Segment {
  readonly name: string;
  readonly generation: number;
  readonly seq: number;
  /** Highest entry index written to it (0 if none). */
  maxIndex: number;
}

function segmentName(generation: number, seq: number): string {
  return `wal-${String(generation).padStart(8, "0")}-${String(seq).padStart(8, "0")}.log`;
}

function parseSegmentName(name: string): { generation: number; seq: number } | undefined {
  const m = /^wal-(\d{8})-(\d{8})\.log$/.exec(name);
  return m ? { generation: Number(m[1]), seq: Number(m[2]) } : undefined;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class RaftStorage {
  private segments: Segment[] = [];
  private fd: number | undefined;
  private size = 0;
  private generation = 0;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /** Open (creating) the directory and read back what it holds. */
  static open(
    dir: string,
    opts: { segmentBytes?: number } = {},
  ): { storage: RaftStorage; state: StoredState } {
    mkdirSync(dir, { recursive: true });
    const storage = new RaftStorage(dir, opts.segmentBytes ?? SEGMENT_BYTES);
    const state = storage.load();
    return { storage, state };
  }

  // ---- load ----------------------------------------------------------------------------------------

  private load(): StoredState {
    const state: StoredState = {
      hardState: undefined,
      snapshot: undefined,
      entries: [],
      damagedAfter: undefined,
      problems: [],
    };
    const snapPath = join(this.dir, SNAPSHOT_FILE);
    if (existsSync(snapPath)) {
      try {
        const buf = readFileSync(snapPath);
        const { body } = readFrame(buf);
        this.generation = new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
        state.snapshot = decodeSnapshot(body.subarray(4));
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        state.problems.push(`snapshot unreadable (${err.message}); set aside`);
        renameSync(snapPath, `${snapPath}.damaged`);
      }
    }
    const found: Segment[] = [];
    for (const name of readdirSync(this.dir)) {
      const p = parseSegmentName(name);
      if (p !== undefined) found.push({ name, ...p, maxIndex: 0 });
    }
    found.sort((a, b) => a.generation - b.generation || a.seq - b.seq);
    // With no readable snapshot, the newest generation's log is all there is.
    if (state.snapshot === undefined && found.length > 0)
      this.generation = found[found.length - 1].generation;
    const base = state.snapshot?.meta.index ?? 0;
    const entries: Entry[] = [];
    for (let i = 0; i < found.length; i++) {
      const seg = found[i];
      if (seg.generation !== this.generation) {
        rmSync(join(this.dir, seg.name), { force: true });
        continue;
      }
      const damage = this.readSegment(seg, i === found.length - 1, entries, state);
      if (damage !== undefined) {
        state.problems.push(damage.problem);
        // The records before the damage stay in use: copy them to a segment after every other one,
        // then set the damaged segment and those after it aside.
        const last = found[found.length - 1];
        const salvage: Segment = {
          name: segmentName(this.generation, last.seq + 1),
          generation: this.generation,
          seq: last.seq + 1,
          maxIndex: seg.maxIndex,
        };
        const fd = openSync(join(this.dir, salvage.name), "w");
        try {
          writeSync(fd, damage.good);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        for (const rest of found.slice(i)) {
          if (rest.generation === this.generation)
            renameSync(join(this.dir, rest.name), join(this.dir, `${rest.name}.damaged`));
        }
        fsyncDir(this.dir);
        this.segments.push(salvage);
        state.damagedAfter = Math.max(base, entries.length > 0 ? entries[entries.length - 1].index : base);
        break;
      }
      this.segments.push(seg);
    }
    // Keep what follows the snapshot, and only while it is contiguous.
    let expect = base + 1;
    for (const e of entries) {
      if (e.index < expect) continue;
      if (e.index !== expect) {
        state.problems.push(`log gap: entry ${expect} missing before ${e.index}`);
        state.damagedAfter = expect - 1;
        break;
      }
      state.entries.push(e);
      expect++;
    }
    // A commit index beyond everything still held means committed entries were lost.
    const held = state.entries.length > 0 ? state.entries[state.entries.length - 1].index : base;
    const commit = state.hardState?.commit ?? 0;
    if (commit > held && (state.damagedAfter === undefined || state.damagedAfter > held)) {
      state.problems.push(`committed entries ${held + 1}..${commit} missing`);
      state.damagedAfter = held;
    }
    return state;
  }

  /**
   * Read one segment into `entries` (superseding on lower indexes) and the last hard state into `state`.
   * Returns the damage, if any, with the readable records before it; a torn tail of the newest segment
   * is cut off instead.
   */
  private readSegment(
    seg: Segment,
    newest: boolean,
    entries: Entry[],
    state: StoredState,
  ): { problem: string; good: Uint8Array } | undefined {
    const path = join(this.dir, seg.name);
    const buf = readFileSync(path);
    let at = 0;
    while (at < buf.length) {
      const kind = buf[at];
      let next: number;
      try {
        if (at + 2 > buf.length) throw new CorruptRecordError("truncated record kind");
        if (buf[at + 1] !== (~kind & 0xff)) throw new CorruptRecordError("record kind damaged");
        const frame = readFrame(buf, at + 2);
        next = frame.next;
        const record = buf.subarray(at + 2, next);
        if (kind === KIND_ENTRY) {
          const e = decodeEntry(record);
          while (entries.length > 0 && entries[entries.length - 1].index >= e.index) entries.pop();
          entries.push(e);
          if (e.index > seg.maxIndex) seg.maxIndex = e.index;
        } else if (kind === KIND_HARD_STATE) {
          state.hardState = decodeHardState(record);
        } else {
          throw new CorruptRecordError(`unknown record kind ${kind}`);
        }
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        if (newest && this.isTornTail(buf, at)) {
          state.problems.push(`${seg.name}: unsynced tail of ${buf.length - at} bytes cut off`);
          const fd = openSync(path, "r+");
          try {
            ftruncateSync(fd, at);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          return undefined;
        }
        return { problem: `${seg.name}: ${err.message} at byte ${at}`, good: buf.subarray(0, at) };
      }
      at = next;
    }
    return undefined;
  }

  /** A record that runs past the end of the file, or the file's last record: what a crash mid-write leaves. */
  private isTornTail(buf: Buffer, at: number): boolean {
    if (at + 2 + 8 > buf.length) return true;
    const length = buf.readUInt32BE(at + 2);
    const end = at + 2 + 8 + length;
    return end >= buf.length;
  }

  // ---- write ---------------------------------------------------------------------------------------

  /** Write a batch and make it durable. Resolves once it is on disk. */
  persist(batch: PersistBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error("raft storage closed"));
    if (batch.snapshot !== undefined) this.installSnapshot(batch.snapshot);
    const parts: Uint8Array[] = [];
    let maxIndex = 0;
    for (const e of batch.entries) {
      parts.push(record(KIND_ENTRY, encodeEntry(e)));
      if (e.index > maxIndex) maxIndex = e.index;
    }
    if (batch.hardState !== undefined) parts.push(record(KIND_HARD_STATE, encodeHardState(batch.hardState)));
    if (parts.length === 0) return Promise.resolve();
    const fd = this.segmentFd();
    const bytes = Buffer.concat(parts);
    writeSync(fd, bytes);
    this.size += bytes.length;
    const seg = this.segments[this.segments.length - 1];
    if (maxIndex > seg.maxIndex) seg.maxIndex = maxIndex;
    return new Promise((resolve, reject) => {
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * The state machine took a snapshot at `snapshot.meta.index`: keep it, and drop the segments that hold
   * nothing after it.
   */
  compact(snapshot: Snapshot): void {
    this.writeSnapshotFile(snapshot, this.generation);
    const keepFrom = this.segments.findIndex((s) => s.maxIndex > snapshot.meta.index);
    const drop = keepFrom < 0 ? this.segments.slice(0, -1) : this.segments.slice(0, keepFrom);
    for (const s of drop) rmSync(join(this.dir, s.name), { force: true });
    this.segments = this.segments.slice(drop.length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A leader's snapshot replaces the whole log: a new generation begins. */
  private installSnapshot(snapshot: Snapshot): void {
    const next = this.generation + 1;
    this.writeSnapshotFile(snapshot, next);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    for (const s of this.segments) rmSync(join(this.dir, s.name), { force: true });
    this.segments = [];
    this.generation = next;
  }

  private writeSnapshotFile(snapshot: Snapshot, generation: number): void {
    const snap = encodeSnapshot(snapshot);
    const body = Buffer.alloc(4 + snap.length);
    body.writeUInt32BE(generation, 0);
    body.set(snap, 4);
    const framed = frameOf(body);
    const tmp = join(this.dir, `${SNAPSHOT_FILE}.tmp`);
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, framed);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, SNAPSHOT_FILE));
    fsyncDir(this.dir);
  }

  /** The segment to append to, opening or rolling over as needed. */
  private segmentFd(): number {
    const last = this.segments[this.segments.length - 1];
    if (this.fd !== undefined && this.size < this.segmentBytes) return this.fd;
    if (this.fd === undefined && last !== undefined && last.generation === this.generation) {
      const path = join(this.dir, last.name);
      this.fd = openSync(path, "a");
      this.size = fstatSync(this.fd).size;
      if (this.size < this.segmentBytes) return this.fd;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    const seq = last !== undefined && last.generation === this.generation ? last.seq + 1 : 0;
    const seg: Segment = {
      name: segmentName(this.generation, seq),
      generation: this.generation,
      seq,
      maxIndex: 0,
    };
    this.fd = openSync(join(this.dir, seg.name), "a");
    this.size = 0;
    this.segments.push(seg);
    fsyncDir(this.dir);
    return this.fd;
  }
}

/** Frame bytes the way the codec frames its records: length, CRC-32C of the body, the body. */
function frameOf(body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(8 + body.length);
  b.writeUInt32BE(body.length, 0);
  b.writeUInt32BE(crc32c(body), 4);
  b.set(body, 8);
  return b;
}

function record(kind: number, framed: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(2 + framed.length);
  b[0] = kind;
  b[1] = ~kind & 0xff;
  b.set(framed, 2);
  return b;
}
