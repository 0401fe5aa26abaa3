// Binary encodings for what Raft persists (entries, hard state, snapshots) and sends (messages). Every
// record is framed as [u32 body length][u32 CRC-32C of body][body], so a torn or corrupted record is
// detected on decode (CorruptRecordError) instead of being read back as something else.

import { crc32c } from "./crc32c.js";
import type {
  ClusterConfig,
  ConfChange,
  ConfEntryData,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  Snapshot,
} from "./types.js";

export class CorruptRecordError extends Error {
  override readonly name = "CorruptRecordError";
}

const FRAME_HEADER = 8;
const TWO_32 = 2 ** 32;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Builds one record at a time in a buffer shared by all encodes (encoding never nests). */
class Writer {
  private static shared = new Uint8Array(4096);
  private static sharedView = new DataView(Writer.shared.buffer);
  private buf = Writer.shared;
  private view = Writer.sharedView;
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
    Writer.shared = next;
    Writer.sharedView = this.view;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }
  /** Integers up to 2^53 (indexes, terms). */
  u64(v: number): void {
    this.u32(Math.floor(v / TWO_32));
    this.u32(v >>> 0);
  }
  bytes(v: Uint8Array): void {
    this.u32(v.length);
    this.room(v.length);
    this.buf.set(v, this.length);
    this.length += v.length;
  }
  str(v: string): void {
    // Node ids are short and ASCII: copy them directly rather than through TextEncoder.
    if (v.length < 128 && /^[\x00-\x7f]*$/.test(v)) {
      this.u32(v.length);
      this.room(v.length);
      for (let i = 0; i < v.length; i++) this.buf[this.length++] = v.charCodeAt(i);
    } else {
      this.bytes(utf8.encode(v));
    }
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  /** The body framed with its length and checksum, in a buffer of its own. */
  frame(): Uint8Array {
    const out = new Uint8Array(FRAME_HEADER + this.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.length);
    view.setUint32(4, crc32c(this.buf, 0, this.length));
    out.set(this.buf.subarray(0, this.length), FRAME_HEADER);
    return out;
  }
  /** The body alone, in a buffer of its own. */
  body(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new CorruptRecordError("record body ends early");
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const hi = this.u32();
    return hi * TWO_32 + this.u32();
  }
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    let ascii = "";
    for (let i = this.pos; i < this.pos + n && n < 128; i++) {
      const c = this.buf[i]!;
      if (c >= 0x80) break;
      ascii += String.fromCharCode(c);
    }
    if (ascii.length === n) {
      this.pos += n;
      return ascii;
    }
    this.pos -= 4;
    try {
      return fromUtf8.decode(this.bytes());
    } catch (err) {
      if (err instanceof CorruptRecordError) throw err;
      throw new CorruptRecordError("invalid UTF-8 in record");
    }
  }
  bool(): boolean {
    return this.u8() !== 0;
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new CorruptRecordError("trailing bytes in record");
  }
}

/** Reads one frame at `offset`: its verified body and where the next frame starts. */
export function readFrame(buf: Uint8Array, offset = 0): { body: Uint8Array; next: number } {
  if (offset + FRAME_HEADER > buf.length) throw new CorruptRecordError("truncated record header");
  const view = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER);
  const length = view.getUint32(0);
  const end = offset + FRAME_HEADER + length;
  if (end > buf.length) throw new CorruptRecordError("truncated record");
  if (crc32c(buf, offset + FRAME_HEADER, end) !== view.getUint32(4)) {
    throw new CorruptRecordError("record checksum mismatch");
  }
  return { body: buf.subarray(offset + FRAME_HEADER, end), next: end };
}

function entryTypeCode(type: EntryType): number {
  return type === "normal" ? 0 : 1;
}

function entryTypeOf(code: number): EntryType {
  if (code === 0) return "normal";
  if (code === 1) return "conf";
  throw new CorruptRecordError(`unknown entry type ${code}`);
}

function writeEntry(w: Writer, e: Entry): void {
  w.u64(e.index);
  w.u64(e.term);
  w.u8(entryTypeCode(e.type));
  w.bytes(e.data);
}

function readEntry(r: Reader): Entry {
  const index = r.u64();
  const term = r.u64();
  const type = entryTypeOf(r.u8());
  return { index, term, type, data: r.bytes() };
}

export function encodeEntry(entry: Entry): Uint8Array {
  const w = new Writer();
  writeEntry(w, entry);
  return w.frame();
}

export function decodeEntry(record: Uint8Array): Entry {
  const r = new Reader(readFrame(record).body);
  const entry = readEntry(r);
  r.end();
  return entry;
}

/**
 * Decodes consecutive entry records. Stops at the first record that is torn or fails its checksum:
 * `damagedAt` is then its byte offset (everything from there on is unreadable), else undefined.
 */
export function decodeEntryRecords(buf: Uint8Array): { entries: Entry[]; damagedAt: number | undefined } {
  const entries: Entry[] = [];
  let offset = 0;
  while (offset < buf.length) {
    try {
      const { body, next } = readFrame(buf, offset);
      const r = new Reader(body);
      entries.push(readEntry(r));
      r.end();
      offset = next;
    } catch (err) {
      if (err instanceof CorruptRecordError) return { entries, damagedAt: offset };
      throw err;
    }
  }
  return { entries, damagedAt: undefined };
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new Writer();
  w.u64(hs.term);
  w.str(hs.vote);
  w.u64(hs.commit);
  w.bool(hs.logDamaged);
  return w.frame();
}

export function decodeHardState(record: Uint8Array): HardState {
  const r = new Reader(readFrame(record).body);
  const hs: HardState = { term: r.u64(), vote: r.str(), commit: r.u64(), logDamaged: r.bool() };
  r.end();
  return hs;
}

function writeIds(w: Writer, ids: readonly string[]): void {
  w.u32(ids.length);
  for (const id of ids) w.str(id);
}

function readIds(r: Reader): string[] {
  const n = r.u32();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(r.str());
  return ids;
}

function writeConfig(w: Writer, c: ClusterConfig): void {
  writeIds(w, c.voters);
  writeIds(w, c.learners);
}

function readConfig(r: Reader): ClusterConfig {
  return { voters: readIds(r), learners: readIds(r) };
}

const CONF_CHANGE_TYPES = ["addLearner", "promote", "remove"] as const;

/** The data of a "conf" entry (not framed: the entry record around it is). */
export function encodeConfEntry(data: ConfEntryData): Uint8Array {
  const w = new Writer();
  w.u8(CONF_CHANGE_TYPES.indexOf(data.change.type));
  w.str(data.change.node);
  writeConfig(w, data.config);
  return w.body();
}

export function decodeConfEntry(bytes: Uint8Array): ConfEntryData {
  const r = new Reader(bytes);
  const type = CONF_CHANGE_TYPES[r.u8()];
  if (type === undefined) throw new CorruptRecordError("unknown membership change type");
  const change: ConfChange = { type, node: r.str() };
  const config = readConfig(r);
  r.end();
  return { change, config };
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  w.u64(s.meta.index);
  w.u64(s.meta.term);
  writeConfig(w, s.meta.config);
  w.bytes(s.data);
}

function readSnapshot(r: Reader): Snapshot {
  const index = r.u64();
  const term = r.u64();
  const config = readConfig(r);
  return { meta: { index, term, config }, data: r.bytes() };
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const w = new Writer();
  writeSnapshot(w, snapshot);
  return w.frame();
}

export function decodeSnapshot(record: Uint8Array): Snapshot {
  const r = new Reader(readFrame(record).body);
  const s = readSnapshot(r);
  r.end();
  return s;
}

const MESSAGE_TYPES: readonly MessageType[] = [
  "append",
  "appendResponse",
  "heartbeat",
  "heartbeatResponse",
  "vote",
  "preVote",
  "voteResponse",
  "preVoteResponse",
  "snapshot",
  "timeoutNow",
];

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer();
  w.u8(MESSAGE_TYPES.indexOf(m.type));
  w.str(m.from);
  w.str(m.to);
  w.u64(m.term);
  switch (m.type) {
    case "append":
      w.u64(m.prevIndex);
      w.u64(m.prevTerm);
      w.u64(m.commit);
      w.u64(m.leaderLast);
      w.u32(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      break;
    case "appendResponse":
      w.u64(m.index);
      w.bool(m.reject);
      w.u64(m.hintIndex);
      w.u64(m.hintTerm);
      break;
    case "heartbeat":
      w.u64(m.commit);
      break;
    case "vote":
    case "preVote":
      w.u64(m.lastIndex);
      w.u64(m.lastTerm);
      w.bool(m.transfer);
      break;
    case "voteResponse":
    case "preVoteResponse":
      w.bool(m.reject);
      break;
    case "snapshot":
      writeSnapshot(w, m.snapshot);
      break;
    case "heartbeatResponse":
    case "timeoutNow":
      break;
  }
  return w.frame();
}

export function decodeMessage(record: Uint8Array): Message {
  const r = new Reader(readFrame(record).body);
  const type = MESSAGE_TYPES[r.u8()];
  if (type === undefined) throw new CorruptRecordError("unknown message type");
  const env = { from: r.str(), to: r.str(), term: r.u64() };
  let m: Message;
  switch (type) {
    case "append": {
      const prevIndex = r.u64();
      const prevTerm = r.u64();
      const commit = r.u64();
      const leaderLast = r.u64();
      const n = r.u32();
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) entries.push(readEntry(r));
      m = { type, ...env, prevIndex, prevTerm, commit, leaderLast, entries };
      break;
    }
    case "appendResponse":
      m = { type, ...env, index: r.u64(), reject: r.bool(), hintIndex: r.u64(), hintTerm: r.u64() };
      break;
    case "heartbeat":
      m = { type, ...env, commit: r.u64() };
      break;
    case "vote":
    case "preVote":
      m = { type, ...env, lastIndex: r.u64(), lastTerm: r.u64(), transfer: r.bool() };
      break;
    case "voteResponse":
    case "preVoteResponse":
      m = { type, ...env, reject: r.bool() };
      break;
    case "snapshot":
      m = { type, ...env, snapshot: readSnapshot(r) };
      break;
    case "heartbeatResponse":
    case "timeoutNow":
      m = { type, ...env };
      break;
  }
  r.end();
  return m;
}
