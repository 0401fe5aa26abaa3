// DIRECT.GET (ADR-31): answered by any replica with the raw message — stored headers first, then
// Nats-Stream / Nats-Subject / Nats-Sequence / Nats-Time-Stamp appended — or a status message
// (`404 Message Not Found`, `408 Bad Request` ...). Subject form `DIRECT.GET.<stream>.<subject>` means
// last_by_subj. Batches (`batch`, `multi_last`) send each message with Nats-Num-Pending and
// Nats-Last-Sequence, then a `204 EOB` terminator.

import type { InternalClient, InternalMessage } from "../../server/internal-client.js";
import type { Subscription } from "../../server/subscription.js";
import { appendHeaders, Hdr, statusHeaders } from "../headers.js";
import { parseRfc3339, rfc3339 } from "../json.js";
import type { StoredMessage } from "../store/index.js";
import type { Stream } from "../stream.js";

const MAX_MULTI_LAST = 1024;
const EMPTY = new Uint8Array(0);

interface DirectRequest {
  seq: number;
  last_by_subj: string;
  next_by_subj: string;
  batch: number;
  max_bytes: number;
  start_time?: bigint;
  multi_last: string[];
  up_to_seq: number;
  up_to_time?: bigint;
  no_hdr: boolean;
}

type Parsed = DirectRequest | { status: 408; desc: string };

/** `{"seq":N}` exactly, as clients send a get by sequence: N, else 0 (parse it the long way). */
function plainSeqRequest(data: Uint8Array): number {
  const n = data.length;
  if (n < 10 || n > 24 || data[n - 1] !== 0x7d) return 0;
  for (let i = 0; i < SEQ_PREFIX.length; i++) if (data[i] !== SEQ_PREFIX[i]) return 0;
  let seq = 0;
  for (let i = SEQ_PREFIX.length; i < n - 1; i++) {
    const d = data[i] - 0x30;
    if (d < 0 || d > 9) return 0;
    seq = seq * 10 + d;
  }
  return Number.isSafeInteger(seq) ? seq : 0;
}

const SEQ_PREFIX = Buffer.from('{"seq":', "latin1");

function parseRequest(data: Uint8Array, subjectForm: string): Parsed {
  const r: DirectRequest = {
    seq: 0,
    last_by_subj: "",
    next_by_subj: "",
    batch: 0,
    max_bytes: 0,
    multi_last: [],
    up_to_seq: 0,
    no_hdr: false,
  };
  if (data.length > 0) {
    let o: unknown;
    try {
      o = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
    } catch {
      return { status: 408, desc: "Malformed Request" };
    }
    if (o !== null && (typeof o !== "object" || Array.isArray(o)))
      return { status: 408, desc: "Malformed Request" };
    const b = (o ?? {}) as Record<string, unknown>;
    const int = (k: string) => {
      const v = b[k];
      if (v === undefined || v === null) return 0;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new Error(k);
      return v;
    };
    const str = (k: string) => {
      const v = b[k];
      if (v === undefined || v === null) return "";
      if (typeof v !== "string") throw new Error(k);
      return v;
    };
    const time = (k: string) => {
      const v = str(k);
      if (v === "") return undefined;
      const t = parseRfc3339(v);
      if (t === undefined) throw new Error(k);
      return t;
    };
    try {
      r.seq = int("seq");
      r.last_by_subj = str("last_by_subj");
      r.next_by_subj = str("next_by_subj");
      r.batch = int("batch");
      r.max_bytes = int("max_bytes");
      r.start_time = time("start_time");
      r.up_to_seq = int("up_to_seq");
      r.up_to_time = time("up_to_time");
      r.no_hdr = b.no_hdr === true;
      const ml = b.multi_last;
      if (ml !== undefined && ml !== null) {
        if (!Array.isArray(ml) || ml.some((s) => typeof s !== "string")) throw new Error("multi_last");
        r.multi_last = ml as string[];
      }
    } catch {
      return { status: 408, desc: "Malformed Request" };
    }
  }
  const bad = { status: 408, desc: "Bad Request" } as const;
  if (subjectForm !== "") {
    if (r.seq > 0 || r.last_by_subj !== "" || r.next_by_subj !== "" || r.start_time !== undefined) return bad;
    if (r.multi_last.length > 0 || r.batch > 0) return bad;
    r.last_by_subj = subjectForm;
    return r;
  }
  if (data.length === 0) return { status: 408, desc: "Empty Request" };
  const hasStart = r.seq > 0 || r.start_time !== undefined;
  if (
    r.last_by_subj !== "" &&
    (hasStart || r.next_by_subj !== "" || r.batch > 0 || r.multi_last.length > 0)
  ) {
    return bad;
  }
  if (r.seq > 0 && r.start_time !== undefined) return bad;
  if (r.multi_last.length > 0 && (hasStart || r.next_by_subj !== "")) return bad;
  if (r.up_to_seq > 0 && r.up_to_time !== undefined) return bad;
  if (!hasStart && r.last_by_subj === "" && r.next_by_subj === "" && r.multi_last.length === 0) {
    return { status: 408, desc: "Empty Request" };
  }
  return r;
}

function withServerHeaders(stream: Stream, m: StoredMessage, noHdr: boolean, extra: [string, string][] = []) {
  return appendHeaders(noHdr ? undefined : m.headers, [
    [Hdr.Stream, stream.name],
    [Hdr.Subject, m.subject],
    [Hdr.Sequence, String(m.seq)],
    [Hdr.TimeStamp, timeStamp(m.time, m.subNs)],
    ...extra,
  ]);
}

/** Replies are assembled here (header block, then payload) and routed from here: nothing kept per reply. */
let replyScratch = Buffer.allocUnsafe(4096);

/** Answer a direct get with `m`, its stored headers (unless `noHdr`) followed by the server's. */
function respondWithMessage(
  client: InternalClient,
  reply: string,
  stream: Stream,
  m: StoredMessage,
  noHdr: boolean,
) {
  if (m.hdrLen > 0 && !noHdr) {
    client.publish(reply, undefined, m.data, withServerHeaders(stream, m, noHdr));
    return;
  }
  // The common case, a message without headers: one string, written once.
  const head = `NATS/1.0\r\n${Hdr.Stream}: ${stream.name}\r\n${Hdr.Subject}: ${m.subject}\r\n${Hdr.Sequence}: ${m.seq}\r\n${Hdr.TimeStamp}: ${timeStamp(m.time, m.subNs)}\r\n\r\n`;
  const dataAt = m.start + m.hdrLen;
  const dataLen = m.end - dataAt;
  const room = head.length * 3 + dataLen;
  if (replyScratch.length < room) replyScratch = Buffer.allocUnsafe(Math.max(room, replyScratch.length * 2));
  const b = replyScratch;
  const hlen = b.write(head, 0, "utf8");
  b.set(new Uint8Array(m.buf.buffer, m.buf.byteOffset + dataAt, dataLen), hlen);
  client.respondBytes(reply, b, 0, hlen, hlen + dataLen);
}

/** RFC 3339 of a message time (ms and the ns within it); the date-to-minute part is formatted once per minute. */
let stampMin = -1;
let stampPrefix = "";
export function timeStamp(ms: number, subNs: number): string {
  if (ms < 0 || (ms === 0 && subNs === 0)) return rfc3339(BigInt(ms) * 1_000_000n + BigInt(subNs));
  const sec = Math.floor(ms / 1000);
  const frac = (ms - sec * 1000) * 1_000_000 + subNs;
  const min = Math.floor(sec / 60);
  if (min !== stampMin) {
    stampPrefix = new Date(min * 60_000).toISOString().slice(0, 17); // YYYY-MM-DDTHH:MM:
    stampMin = min;
  }
  const ss = sec - min * 60;
  const head = `${stampPrefix}${ss < 10 ? "0" : ""}${ss}`;
  let f = frac;
  if (f === 0) return `${head}Z`;
  let digits = 9;
  while (f % 10 === 0) {
    f /= 10;
    digits--;
  }
  return `${head}.${String(f).padStart(digits, "0")}Z`;
}

/** Handle one direct-get request for `stream`; `tail` is the subject after `DIRECT.GET.<name>.`. */
export function serveDirectGet(
  client: InternalClient,
  stream: Stream,
  m: InternalMessage,
  tail: string,
): void {
  const reply = m.reply;
  if (reply === undefined || reply === "" || stream.closed) return;
  const status = (code: number, desc: string, entries: [string, string][] = []) =>
    client.publish(reply, undefined, EMPTY, statusHeaders(code, desc, entries));
  const store = stream.store;
  const plain = tail === "" ? plainSeqRequest(m.data) : 0;
  if (plain > 0) {
    const msg = store.get(plain);
    if (msg === undefined) status(404, "Message Not Found");
    else respondWithMessage(client, reply, stream, msg, false);
    return;
  }
  const r = parseRequest(m.data, tail);
  if ("status" in r) {
    status(r.status, r.desc);
    return;
  }
  if (r.batch > 0 || r.multi_last.length > 0) {
    serveBatch(client, stream, r, reply, status);
    return;
  }
  let msg: StoredMessage | undefined;
  if (r.last_by_subj !== "") {
    msg = store.getLastBySubject(r.last_by_subj);
  } else {
    const from =
      r.start_time !== undefined ? store.seqForTime(Number(r.start_time / 1_000_000n)) : r.seq || 1;
    msg =
      r.next_by_subj !== "" || r.start_time !== undefined
        ? store.getNext(from, r.next_by_subj || undefined)
        : store.get(r.seq);
  }
  if (msg === undefined) {
    status(404, "Message Not Found");
    return;
  }
  respondWithMessage(client, reply, stream, msg, r.no_hdr);
}

/** nats-server's default max_pending for a client (64 MiB): the cap of a batch that sets no max_bytes. */
const DEFAULT_MAX_PENDING = 64 * 1024 * 1024;

function serveBatch(
  client: InternalClient,
  stream: Stream,
  r: DirectRequest,
  reply: string,
  status: (code: number, desc: string, entries?: [string, string][]) => void,
): void {
  const store = stream.store;
  let seqs: number[];
  let upTo = 0;
  const filter = r.next_by_subj || undefined;
  if (r.multi_last.length > 0) {
    upTo = r.up_to_seq;
    if (r.up_to_time !== undefined) upTo = store.seqForTime(Number(r.up_to_time / 1_000_000n)) - 1;
    if (upTo <= 0) upTo = store.state().lastSeq;
    seqs = store.lastSeqsBySubject(r.multi_last, upTo);
    if (seqs.length > MAX_MULTI_LAST) {
      status(413, "Too Many Results");
      return;
    }
    if (r.batch > 0) seqs = seqs.slice(0, r.batch);
  } else {
    const from =
      r.start_time !== undefined ? store.seqForTime(Number(r.start_time / 1_000_000n)) : r.seq || 1;
    seqs = [];
    for (
      let s = store.nextSeq(from, filter);
      s > 0 && seqs.length < r.batch;
      s = store.nextSeq(s + 1, filter)
    ) {
      seqs.push(s);
    }
  }
  let last = 0;
  let bytes = 0;
  let sent = 0;
  // Like nats-server: stop once the messages sent (subject, stored headers, payload) reach max_bytes,
  // or the client's default pending limit when the request sets none.
  const maxBytes = r.max_bytes > 0 ? r.max_bytes : DEFAULT_MAX_PENDING;
  for (const seq of seqs) {
    if (bytes >= maxBytes) break;
    const msg = store.get(seq);
    if (msg === undefined) continue;
    bytes += Buffer.byteLength(msg.subject) + (msg.end - msg.start);
    const pending = r.multi_last.length > 0 ? seqs.length - sent - 1 : store.numPending(seq + 1, filter);
    client.publish(
      reply,
      undefined,
      msg.data,
      withServerHeaders(stream, msg, r.no_hdr, [
        [Hdr.NumPending, String(pending)],
        [Hdr.LastSequence, String(last)],
      ]),
    );
    last = seq;
    sent++;
  }
  if (sent === 0) {
    // As nats-server: a multi_last that matched nothing has "No Results", a batch found no first message.
    status(404, r.multi_last.length > 0 ? "No Results" : "Message Not Found");
    return;
  }
  const pending = r.multi_last.length > 0 ? seqs.length - sent : store.numPending(last + 1, filter);
  const eob: [string, string][] = [
    [Hdr.NumPending, String(pending)],
    [Hdr.LastSequence, String(last)],
  ];
  if (r.multi_last.length > 0) eob.push([Hdr.UpToSequence, String(upTo)]);
  status(204, "EOB", eob);
}

/**
 * Queue subscriptions (group `_sys_`, so one replica answers) for a stream's direct gets on every API
 * prefix, plus its origin's when it is a mirror with mirror_direct. None without allow_direct.
 */
export function directResponders(
  client: InternalClient,
  stream: Stream,
  prefixes: readonly string[],
): Subscription[] {
  const c = stream.config;
  if (!c.allow_direct) return [];
  const names = [c.name];
  if (c.mirror && c.mirror_direct) names.push(c.mirror.name);
  const subs: Subscription[] = [];
  for (const name of names) {
    for (const prefix of prefixes) {
      const base = `${prefix}.DIRECT.GET.${name}`;
      const handler = (m: InternalMessage) =>
        serveDirectGet(client, stream, m, m.subject.slice(base.length + 1));
      subs.push(client.subscribe(base, handler, "_sys_"));
      subs.push(client.subscribe(`${base}.>`, handler, "_sys_"));
    }
  }
  return subs;
}
