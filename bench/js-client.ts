// Raw-TCP JetStream load-generator connection: a NATS connection with headers
// (so DIRECT.GET replies and 503 no-responders statuses arrive as HMSG), an
// incremental byte scanner for MSG/HMSG frames, pre-encoded frame rings, and a
// tiny JSON request helper for the $JS.API calls (stream create/info/delete).
// No NATS client library is involved, so the generator stays cheap.
import net from "node:net";
import { PAYLOAD, PAYLOAD_SIZE, Signal, waitUntil } from "./raw-client.js";

const CONNECT_AND_PING = Buffer.from(
  'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1,"echo":true}\r\nPING\r\n',
  "latin1",
);
const PING = Buffer.from("PING\r\n", "latin1");
const PONG = Buffer.from("PONG\r\n", "latin1");
const CR = 13;
const LF = 10;
const SPACE = 32;
const MAX_CONTROL_LINE = 64 * 1024;

/** Reply subjects of the measured requests: `_INBOX.bench.<n>`, all on one wildcard subscription (sid 1). */
export const DATA_INBOX = "_INBOX.bench";
const DATA_SID = 1;
/** Reply subjects of the $JS.API control requests: `_INBOX.benchctl.<n>` (sid 2). */
const CTL_INBOX = "_INBOX.benchctl";
const CTL_SID = 2;
const DATA_PREFIX = Buffer.from(`${DATA_INBOX}.`, "latin1");

/**
 * Called for each MSG/HMSG on the data inbox: `idx` is the `<n>` of its reply subject,
 * `hdrLen` the header block length (0 for MSG), the frame's data (headers + body) is
 * `buf[start, end)`. The buffer is only valid during the call.
 */
export type DataHandler = (idx: number, buf: Buffer, hdrLen: number, start: number, end: number) => void;

export interface CtlReply {
  /** Status of an HMSG reply (e.g. "503" for no responders), or null. */
  status: string | null;
  body: string;
}

/** Byte-wise substring search in `buf[start, end)`; returns the offset or -1. */
export function findBytes(buf: Buffer, start: number, end: number, needle: Uint8Array): number {
  const n = needle.length;
  const first = needle[0];
  for (let i = start; i + n <= end; i++) {
    if (buf[i] !== first) continue;
    let j = 1;
    while (j < n && buf[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

/** Unsigned decimal at `buf[start, end)`; -1 if not all digits (or empty). */
function parseUint(buf: Buffer, start: number, end: number): number {
  if (end <= start) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** The status code of a header block (`NATS/1.0 503 ...`), or null when there is none. */
export function headerStatus(buf: Buffer, start: number, hdrLen: number): string | null {
  if (hdrLen < 10) return null;
  const eol = buf.indexOf(LF, start);
  const line = buf.toString("latin1", start, eol < 0 || eol > start + hdrLen ? start + hdrLen : eol).trim();
  const m = /^NATS\/1\.0\s+(\S.*)$/.exec(line);
  return m?.[1] ?? null;
}

/** One raw TCP connection for the JetStream scenarios. */
export class JsConn {
  readonly signal = new Signal();
  info = "";
  bytes = 0;
  pongs = 0;
  /** `-ERR` lines from the server. */
  readonly errLines: string[] = [];
  /** MSG/HMSG frames on sids other than the data and control inboxes (should not happen). */
  strayMsgs = 0;
  onData: DataHandler | null = null;
  private closedErr: Error | null = null;
  private pending: Buffer | null = null;
  private readonly tok = new Int32Array(16);
  private ctlSeq = 0;
  private readonly ctlWaiters = new Map<number, (r: CtlReply) => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytes += chunk.length;
      try {
        this.push(chunk);
      } catch (err) {
        this.closedErr = err as Error;
        socket.destroy();
      }
      this.signal.notify();
    });
    socket.on("error", (err) => {
      this.closedErr ??= err;
    });
    socket.on("close", () => {
      this.closedErr ??= new Error("connection closed by server");
      this.signal.notify();
    });
  }

  /** Connects, handshakes (headers on), and subscribes to the data and control inboxes. */
  static async connect(host: string, port: number, timeoutMs = 5000): Promise<JsConn> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    const conn = new JsConn(socket);
    try {
      await conn.until(() => conn.info !== "", "INFO", timeoutMs);
      socket.write(CONNECT_AND_PING);
      await conn.until(() => conn.pongs >= 1, "handshake PONG", timeoutMs);
      socket.write(`SUB ${DATA_INBOX}.* ${DATA_SID}\r\nSUB ${CTL_INBOX}.* ${CTL_SID}\r\n`);
      await conn.flush(timeoutMs);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return conn;
  }

  /** Waits for `pred`, failing fast if the connection died or the server sent -ERR. */
  until(pred: () => boolean, what: string | (() => string), stallMs = 10_000): Promise<void> {
    return waitUntil(
      () => {
        if (pred()) return true;
        this.throwIfBroken();
        return false;
      },
      this.signal,
      what,
      stallMs,
      () => this.bytes,
    );
  }

  throwIfBroken(): void {
    if (this.errLines.length > 0) throw new Error(`server error: ${this.errLines[0]}`);
    if (this.closedErr) throw this.closedErr;
  }

  async flush(stallMs = 10_000): Promise<void> {
    const target = this.pongs + 1;
    this.socket.write(PING);
    await this.until(() => this.pongs >= target, "PONG", stallMs);
  }

  /**
   * One JSON request with its own control inbox; resolves with the reply (a 503
   * no-responders status included), rejects after `timeoutMs` without one.
   */
  request(subject: string, body: string, timeoutMs = 10_000): Promise<CtlReply> {
    this.throwIfBroken();
    const id = ++this.ctlSeq;
    const data = Buffer.from(body, "utf8");
    return new Promise<CtlReply>((resolve, reject) => {
      const check = (): void => {
        if (this.closedErr || this.errLines.length > 0) {
          done();
          try {
            this.throwIfBroken();
          } catch (err) {
            reject(err);
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no reply to ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.ctlWaiters.delete(id);
        this.signal.remove(check);
      };
      this.ctlWaiters.set(id, (r) => {
        done();
        resolve(r);
      });
      this.signal.add(check);
      this.socket.write(`PUB ${subject} ${CTL_INBOX}.${id} ${data.length}\r\n`);
      this.socket.write(Buffer.concat([data, Buffer.from("\r\n", "latin1")]));
    });
  }

  /** `request` + JSON.parse; throws on a status reply or a non-JSON body. */
  async api<T = Record<string, unknown>>(subject: string, body: unknown, timeoutMs = 10_000): Promise<T> {
    const r = await this.request(subject, body === undefined ? "" : JSON.stringify(body), timeoutMs);
    if (r.status !== null) {
      const hint = r.status.startsWith("503") ? " (no responders: JetStream not enabled?)" : "";
      throw new Error(`${subject}: status ${r.status}${hint}`);
    }
    try {
      return JSON.parse(r.body) as T;
    } catch {
      throw new Error(`${subject}: reply is not JSON: ${r.body.slice(0, 200)}`);
    }
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  close(): void {
    this.socket.destroy();
  }

  private push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    const used = this.scan(buf);
    if (used < buf.length) this.pending = Buffer.from(buf.subarray(used));
  }

  /** Consumes complete items; returns the first unconsumed offset. */
  private scan(buf: Buffer): number {
    const len = buf.length;
    const tok = this.tok;
    let pos = 0;
    while (pos < len) {
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (len - pos > MAX_CONTROL_LINE) throw new Error("protocol desync: control line too long");
        return pos;
      }
      const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      const c0 = buf[pos];
      if (c0 === 77 /* M */ || c0 === 72 /* H */) {
        // Tokenize the control line: MSG subj sid [reply] size / HMSG subj sid [reply] hdr total.
        let n = 0;
        let i = pos;
        while (i < lineEnd && n < 7) {
          while (i < lineEnd && buf[i] === SPACE) i++;
          if (i >= lineEnd) break;
          const s = i;
          while (i < lineEnd && buf[i] !== SPACE) i++;
          tok[2 * n] = s;
          tok[2 * n + 1] = i;
          n++;
        }
        const isH = c0 === 72;
        const minTok = isH ? 5 : 4;
        if (n < minTok || n > minTok + 1) {
          throw new Error(`protocol desync: bad line "${buf.toString("latin1", pos, lineEnd)}"`);
        }
        const total = parseUint(buf, tok[2 * (n - 1)] as number, tok[2 * (n - 1) + 1] as number);
        const hdrLen = isH ? parseUint(buf, tok[2 * (n - 2)] as number, tok[2 * (n - 2) + 1] as number) : 0;
        if (total < 0 || hdrLen < 0 || hdrLen > total) {
          throw new Error(`protocol desync: bad sizes "${buf.toString("latin1", pos, lineEnd)}"`);
        }
        const start = nl + 1;
        const end = start + total;
        if (end + 2 > len) return pos; // incomplete frame
        const sid = parseUint(buf, tok[4] as number, tok[5] as number);
        const subjStart = tok[2] as number;
        const subjEnd = tok[3] as number;
        if (sid === DATA_SID && this.onData !== null) {
          const idxStart = subjStart + DATA_PREFIX.length;
          const idx = idxStart < subjEnd ? parseUint(buf, idxStart, subjEnd) : -1;
          this.onData(idx, buf, hdrLen, start, end);
        } else if (sid === CTL_SID) {
          const dot = buf.lastIndexOf(46 /* . */, subjEnd - 1);
          const id = dot >= subjStart ? parseUint(buf, dot + 1, subjEnd) : -1;
          const waiter = this.ctlWaiters.get(id);
          if (waiter) {
            waiter({
              status: headerStatus(buf, start, hdrLen),
              body: buf.toString("utf8", start + hdrLen, end),
            });
          }
        } else {
          this.strayMsgs++;
        }
        pos = end + 2;
        continue;
      }
      const line = buf.toString("latin1", pos, lineEnd);
      const sp = line.indexOf(" ");
      const op = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      switch (op) {
        case "PING":
          this.socket.write(PONG);
          break;
        case "PONG":
          this.pongs++;
          break;
        case "INFO":
          if (!this.info) this.info = line.slice(5);
          break;
        case "+OK":
          break;
        case "-ERR":
          this.errLines.push(line);
          break;
        default:
          this.errLines.push(`unexpected line: ${line.slice(0, 120)}`);
      }
      pos = nl + 1;
    }
    return pos;
  }
}

/**
 * Pre-encoded frames for message indices: frame i goes to `_INBOX.bench.<i % ring>`.
 * Any run of up to `ring` consecutive indices is one contiguous slice (the ring is
 * stored twice), so the pipelined sender writes each refill with a single write.
 */
export class FrameRing {
  private readonly buf: Buffer;
  private readonly offsets: Float64Array;

  constructor(
    readonly ring: number,
    frameFor: (replyIdx: number) => string,
    payload: Buffer | null,
  ) {
    const parts: Buffer[] = [];
    this.offsets = new Float64Array(2 * ring + 1);
    let off = 0;
    const crlf = Buffer.from("\r\n", "latin1");
    for (let copy = 0; copy < 2; copy++) {
      for (let i = 0; i < ring; i++) {
        this.offsets[copy * ring + i] = off;
        const head = Buffer.from(frameFor(i), "latin1");
        parts.push(head);
        off += head.length;
        if (payload) {
          parts.push(payload, crlf);
          off += payload.length + 2;
        }
      }
    }
    this.offsets[2 * ring] = off;
    this.buf = Buffer.concat(parts, off);
  }

  /** Frames for message indices [from, to), to - from <= ring. */
  slice(from: number, to: number): Buffer {
    const a = from % this.ring;
    return this.buf.subarray(this.offsets[a] as number, this.offsets[a + (to - from)] as number);
  }
}

/** `PUB <subject> _INBOX.bench.<n> 16` frames carrying the standard 16-byte payload. */
export function pubRing(subject: string, ring: number): FrameRing {
  return new FrameRing(ring, (i) => `PUB ${subject} ${DATA_INBOX}.${i} ${PAYLOAD_SIZE}\r\n`, PAYLOAD);
}

/**
 * Pre-encoded DIRECT.GET requests for a fixed list of sequences; frame i asks for
 * `seqs[i]` with reply `_INBOX.bench.<i % ring>`.
 */
export class DirectRequests {
  private readonly buf: Buffer;
  private readonly offsets: Float64Array;

  constructor(stream: string, seqs: ArrayLike<number>, ring: number) {
    const parts: string[] = [];
    this.offsets = new Float64Array(seqs.length + 1);
    let off = 0;
    for (let i = 0; i < seqs.length; i++) {
      const body = `{"seq":${seqs[i]}}`;
      const frame = `PUB $JS.API.DIRECT.GET.${stream} ${DATA_INBOX}.${i % ring} ${body.length}\r\n${body}\r\n`;
      this.offsets[i] = off;
      off += frame.length; // ASCII only
      parts.push(frame);
    }
    this.offsets[seqs.length] = off;
    this.buf = Buffer.from(parts.join(""), "latin1");
  }

  slice(from: number, to: number): Buffer {
    return this.buf.subarray(this.offsets[from] as number, this.offsets[to] as number);
  }
}
