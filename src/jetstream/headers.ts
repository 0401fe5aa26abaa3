// The NATS header block (`NATS/1.0[ <code> <description>]\r\nName: value\r\n...\r\n\r\n`): parse what a
// publisher sent, look values up the way nats-server does (exact name, first occurrence), and build blocks
// for replies (direct get, republish, status messages).

const CRLF = "\r\n";
const PREFIX = "NATS/1.0";

export interface HeaderBlock {
  /** Status code on the first line (0 when none). */
  status: number;
  description: string;
  /** Name/value pairs in order, duplicates kept. */
  entries: [string, string][];
}

/** Parse a header block; lenient about a missing final blank line. */
export function parseHeaders(block: Uint8Array | undefined): HeaderBlock {
  const out: HeaderBlock = { status: 0, description: "", entries: [] };
  if (block === undefined || block.length === 0) return out;
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString("latin1");
  const lines = text.split(CRLF);
  const first = lines[0] ?? "";
  if (first.startsWith(PREFIX)) {
    const rest = first.slice(PREFIX.length).trim();
    if (rest !== "") {
      const sp = rest.indexOf(" ");
      const code = Number.parseInt(sp < 0 ? rest : rest.slice(0, sp), 10);
      if (Number.isFinite(code)) out.status = code;
      out.description = sp < 0 ? "" : rest.slice(sp + 1);
    }
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const c = line.indexOf(":");
    if (c <= 0) continue;
    out.entries.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
  }
  return out;
}

/** First value of `name` (exact, then case-insensitive), or undefined. */
export function headerValue(h: HeaderBlock, name: string): string | undefined {
  for (const [k, v] of h.entries) if (k === name) return v;
  const lower = name.toLowerCase();
  for (const [k, v] of h.entries) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Quick check before parsing: does the raw block mention `name` at all? */
export function mayHaveHeader(block: Uint8Array | undefined, name: string): boolean {
  if (block === undefined) return false;
  return Buffer.from(block.buffer, block.byteOffset, block.byteLength).includes(name, 0, "latin1");
}

/** Build a block from entries, with an optional status line. */
export function buildHeaders(
  entries: readonly (readonly [string, string])[],
  status?: number,
  desc = "",
): Buffer {
  let s = PREFIX;
  if (status !== undefined) s += ` ${status}${desc === "" ? "" : ` ${desc}`}`;
  s += CRLF;
  for (const [k, v] of entries) s += `${k}: ${v}${CRLF}`;
  return Buffer.from(`${s}${CRLF}`, "latin1");
}

/** A status-only block: `NATS/1.0 404 Message Not Found` plus optional headers. */
export function statusHeaders(status: number, desc: string, entries: [string, string][] = []): Buffer {
  return buildHeaders(entries, status, desc);
}

/**
 * Append entries at the end of an existing block (or start a new one). The stored block is kept byte for
 * byte; clients read server headers with `last()`, so appending is what they expect.
 */
export function appendHeaders(
  block: Uint8Array | undefined,
  entries: readonly (readonly [string, string])[],
): Buffer {
  let add = "";
  for (const [k, v] of entries) add += `${k}: ${v}${CRLF}`;
  if (block === undefined || block.length < PREFIX.length)
    return Buffer.from(`${PREFIX}${CRLF}${add}${CRLF}`, "latin1");
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  // Drop the terminating blank line, if present, then re-terminate after the new entries.
  let end = buf.length;
  if (end >= 4 && buf.toString("latin1", end - 4, end) === "\r\n\r\n") end -= 2;
  else if (end >= 2 && buf.toString("latin1", end - 2, end) !== CRLF) {
    return Buffer.concat([buf, Buffer.from(`${CRLF}${add}${CRLF}`, "latin1")]);
  }
  return Buffer.concat([buf.subarray(0, end), Buffer.from(`${add}${CRLF}`, "latin1")]);
}

export const Hdr = {
  MsgId: "Nats-Msg-Id",
  ExpectedStream: "Nats-Expected-Stream",
  ExpectedLastSeq: "Nats-Expected-Last-Sequence",
  ExpectedLastSubjSeq: "Nats-Expected-Last-Subject-Sequence",
  ExpectedLastSubjSeqSubj: "Nats-Expected-Last-Subject-Sequence-Subject",
  ExpectedLastMsgId: "Nats-Expected-Last-Msg-Id",
  Rollup: "Nats-Rollup",
  TTL: "Nats-TTL",
  MarkerReason: "Nats-Marker-Reason",
  StreamSource: "Nats-Stream-Source",
  Stream: "Nats-Stream",
  Subject: "Nats-Subject",
  Sequence: "Nats-Sequence",
  TimeStamp: "Nats-Time-Stamp",
  LastSequence: "Nats-Last-Sequence",
  NumPending: "Nats-Num-Pending",
  UpToSequence: "Nats-UpTo-Sequence",
  MsgSize: "Nats-Msg-Size",
  RequiredApiLevel: "Nats-Required-Api-Level",
  KvOperation: "KV-Operation",
} as const;

/**
 * A subject delete marker: a message with a marker reason, or a KV purge (which stands for the key's
 * deletion the same way). When one expires it is not replaced by another marker.
 */
export function isSubjectDeleteMarker(block: Uint8Array | undefined): boolean {
  const reason = mayHaveHeader(block, Hdr.MarkerReason);
  if (!reason && !mayHaveHeader(block, Hdr.KvOperation)) return false;
  const h = parseHeaders(block);
  if (reason && (headerValue(h, Hdr.MarkerReason) ?? "") !== "") return true;
  return headerValue(h, Hdr.KvOperation) === "PURGE";
}
