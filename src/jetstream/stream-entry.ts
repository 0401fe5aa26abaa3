// What a stream's publish path splits into: a leader-side check that turns a publish into an entry, and a
// deterministic apply that stores the entry. On one server the two run back to back; replicated, the entry
// is what the stream's log carries (encoded with `encodeStreamEntry`), and every replica applies it with
// the sequence and time the leader gave it.

/** A message the stream accepted, with everything its apply step needs and nothing it must look up. */
export interface StreamEntry {
  /** The subject to store (after the stream's subject transform). */
  subject: string;
  hdrs: Uint8Array | undefined;
  data: Uint8Array;
  /** `Nats-Msg-Id`, "" when none: remembered in the duplicate window. */
  msgId: string;
  /** Per-message TTL in ms: 0 none, > 0 expires, < 0 never expires. */
  ttlMs: number;
  rollup: "sub" | "all" | undefined;
  /** Sequence to store at (mirrors, replicas); undefined: the next one. */
  seq: number | undefined;
  /** Stream time in ns (mirrors, replicas); undefined: the store's clock. */
  timeNs: bigint | undefined;
}

export function emptyEntry(): StreamEntry {
  return {
    subject: "",
    hdrs: undefined,
    data: new Uint8Array(0),
    msgId: "",
    ttlMs: 0,
    rollup: undefined,
    seq: undefined,
    timeNs: undefined,
  };
}

/** Entry format version; a replica refuses entries it cannot read rather than guess. */
const VERSION = 1;
const FLAG_HEADERS = 1;
const FLAG_ROLLUP_SUB = 2;
const FLAG_ROLLUP_ALL = 4;
/** version, flags, seq, time, ttl, subject length, msg id length, header length, data length. */
const FIXED = 1 + 1 + 8 + 8 + 8 + 2 + 2 + 4 + 4;

export class StreamEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StreamEntryError";
  }
}

/** The entry as bytes, with the sequence and time every replica must store it at. */
export function encodeStreamEntry(e: StreamEntry, seq: number, timeNs: bigint): Buffer {
  const subject = Buffer.from(e.subject, "utf8");
  const msgId = Buffer.from(e.msgId, "utf8");
  if (subject.length > 0xffff || msgId.length > 0xffff)
    throw new StreamEntryError("subject or msg id too long");
  const hdrLen = e.hdrs?.length ?? 0;
  const b = Buffer.allocUnsafe(FIXED + subject.length + msgId.length + hdrLen + e.data.length);
  let flags = 0;
  if (e.hdrs !== undefined) flags |= FLAG_HEADERS;
  if (e.rollup === "sub") flags |= FLAG_ROLLUP_SUB;
  if (e.rollup === "all") flags |= FLAG_ROLLUP_ALL;
  let at = b.writeUInt8(VERSION, 0);
  at = b.writeUInt8(flags, at);
  at = b.writeBigUInt64BE(BigInt(seq), at);
  at = b.writeBigInt64BE(timeNs, at);
  at = b.writeDoubleBE(e.ttlMs, at);
  at = b.writeUInt16BE(subject.length, at);
  at = b.writeUInt16BE(msgId.length, at);
  at = b.writeUInt32BE(hdrLen, at);
  at = b.writeUInt32BE(e.data.length, at);
  at += subject.copy(b, at);
  at += msgId.copy(b, at);
  if (e.hdrs !== undefined) {
    b.set(e.hdrs, at);
    at += hdrLen;
  }
  b.set(e.data, at);
  return b;
}

/** Read an entry back; throws StreamEntryError on a version it does not know or lengths that do not add up. */
export function decodeStreamEntry(b: Buffer): StreamEntry & { seq: number; timeNs: bigint } {
  if (b.length < FIXED) throw new StreamEntryError(`entry too short (${b.length} bytes)`);
  const version = b.readUInt8(0);
  if (version !== VERSION) throw new StreamEntryError(`unknown entry version ${version}`);
  const flags = b.readUInt8(1);
  const seq = Number(b.readBigUInt64BE(2));
  const timeNs = b.readBigInt64BE(10);
  const ttlMs = b.readDoubleBE(18);
  const subjectLen = b.readUInt16BE(26);
  const msgIdLen = b.readUInt16BE(28);
  const hdrLen = b.readUInt32BE(30);
  const dataLen = b.readUInt32BE(34);
  if (FIXED + subjectLen + msgIdLen + hdrLen + dataLen !== b.length)
    throw new StreamEntryError("entry lengths do not match its size");
  if (!Number.isSafeInteger(seq) || seq <= 0) throw new StreamEntryError(`bad entry sequence ${seq}`);
  if (!Number.isFinite(ttlMs)) throw new StreamEntryError("bad entry ttl");
  let at = FIXED;
  const subject = b.toString("utf8", at, at + subjectLen);
  at += subjectLen;
  const msgId = b.toString("utf8", at, at + msgIdLen);
  at += msgIdLen;
  const hdrs = flags & FLAG_HEADERS ? b.subarray(at, at + hdrLen) : undefined;
  at += hdrLen;
  const data = b.subarray(at, at + dataLen);
  const rollup = flags & FLAG_ROLLUP_ALL ? "all" : flags & FLAG_ROLLUP_SUB ? "sub" : undefined;
  return { subject, hdrs, data, msgId, ttlMs, rollup, seq, timeNs };
}
