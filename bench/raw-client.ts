// Raw-TCP NATS load-generator client: handshake, pre-encoded frames and an
// incremental byte scanner that counts MSG frames without parsing them into
// objects. No NATS client library is involved, so the generator stays cheap.
import net from "node:net";

export const PAYLOAD = Buffer.from("0123456789abcdef", "latin1");
export const PAYLOAD_SIZE = PAYLOAD.length; // 16 bytes, fixed
export const CONNECT_AND_PING = Buffer.from(
  'CONNECT {"verbose":false,"pedantic":false,"headers":false,"protocol":1,"echo":true}\r\nPING\r\n',
  "latin1",
);
export const PING = Buffer.from("PING\r\n", "latin1");
const PONG = Buffer.from("PONG\r\n", "latin1");
const CR = 13;
const LF = 10;
const MAX_CONTROL_LINE = 64 * 1024;
/** Bytes of the next chunk glued to a leftover fragment (bounds the copy per chunk). */
const STITCH_BYTES = 1024;

/** `PUB <subject> [reply] 16\r\n<payload>\r\n` */
export function pubFrame(subject: string, reply?: string): Buffer {
  const line = reply ? `PUB ${subject} ${reply} ${PAYLOAD_SIZE}\r\n` : `PUB ${subject} ${PAYLOAD_SIZE}\r\n`;
  return Buffer.concat([Buffer.from(line, "latin1"), PAYLOAD, Buffer.from("\r\n", "latin1")]);
}

/** `MSG <subject> <sid> [reply] 16\r\n<payload>\r\n` exactly as a server should send it. */
export function msgFrame(subject: string, sid: number | string, reply?: string): Buffer {
  return Buffer.concat([msgHeader(subject, sid, reply), PAYLOAD, Buffer.from("\r\n", "latin1")]);
}

/** The control line of an expected MSG frame, used by the scanner's fast path. */
export function msgHeader(subject: string, sid: number | string, reply?: string): Buffer {
  const line = reply
    ? `MSG ${subject} ${sid} ${reply} ${PAYLOAD_SIZE}\r\n`
    : `MSG ${subject} ${sid} ${PAYLOAD_SIZE}\r\n`;
  return Buffer.from(line, "latin1");
}

/** `count` copies of `frame`, optionally followed by a trailer (e.g. PING). */
export function repeatFrame(frame: Buffer, count: number, trailer?: Buffer): Buffer {
  const extra = trailer ? trailer.length : 0;
  const out = Buffer.allocUnsafe(frame.length * count + extra);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  if (trailer) trailer.copy(out, frame.length * count);
  return out;
}

/** Listener set; `notify()` runs every listener (used to wake waiters on progress). */
export class Signal {
  private readonly listeners = new Set<() => void>();
  add(fn: () => void): void {
    this.listeners.add(fn);
  }
  remove(fn: () => void): void {
    this.listeners.delete(fn);
  }
  notify(): void {
    for (const fn of this.listeners) fn();
  }
}

/**
 * Resolves once `pred()` holds (re-checked whenever `signal` fires). Rejects if
 * `progress()` has not changed for `stallMs` — a stall, not a total deadline, so
 * long runs are fine but a wedged server fails the run instead of hanging it.
 */
export function waitUntil(
  pred: () => boolean,
  signal: Signal,
  what: string | (() => string),
  stallMs = 10_000,
  progress: () => number = () => 0,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const check = (): void => {
      if (done) return;
      let ok: boolean;
      try {
        ok = pred();
      } catch (err) {
        ok = false;
        done = true;
        cleanup();
        reject(err);
      }
      if (ok) {
        done = true;
        cleanup();
        resolve();
      }
    };
    let last = progress();
    let lastChange = Date.now();
    const timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= stallMs) {
        done = true;
        cleanup();
        reject(
          new Error(`stalled for ${stallMs} ms waiting for ${typeof what === "string" ? what : what()}`),
        );
      } else {
        check(); // also catches a peer that closed without a final notify
      }
    }, 250);
    function cleanup(): void {
      clearInterval(timer);
      signal.remove(check);
    }
    signal.add(check);
    check();
  });
}

export interface ScannerHooks {
  onPing?: () => void;
  onInfo?: (line: string) => void;
}

/**
 * Incremental protocol scanner. With an expected MSG header the fast path
 * counts frames by their exact, known length after verifying the header bytes
 * and the trailing CRLF; anything else (PING, PONG, -ERR, INFO, or a MSG whose
 * header differs) goes through a small slow path that still keeps the stream in
 * sync. Frames split across chunks are handled by stitching the leftover bytes
 * to the start of the next chunk.
 */
export class FrameScanner {
  /** MSG/HMSG frames seen (fast + slow path). */
  msgs = 0;
  /** MSG frames that did not match the expected header (counted via the slow path). */
  slowMsgs = 0;
  pongs = 0;
  pings = 0;
  bytes = 0;
  readonly errors: string[] = [];
  private readonly header: Uint8Array;
  private readonly headerLen: number;
  private readonly frameLen: number;
  private rest: Buffer | null = null;

  constructor(
    expectedHeader: Buffer | null,
    private readonly hooks: ScannerHooks = {},
  ) {
    this.header = expectedHeader ?? new Uint8Array(0);
    this.headerLen = this.header.length;
    this.frameLen = expectedHeader ? this.headerLen + PAYLOAD_SIZE + 2 : 0;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let offset = 0;
    if (this.rest !== null) {
      const rest = this.rest;
      this.rest = null;
      const take = Math.min(chunk.length, STITCH_BYTES);
      const head = Buffer.concat([rest, chunk.subarray(0, take)]);
      const consumed = this.scan(head, 0);
      if (consumed < rest.length) {
        // The pending item is longer than the stitched prefix (rare: only items
        // over ~1 KB): rescan with the whole chunk appended.
        const all = Buffer.concat([head.subarray(consumed), chunk.subarray(take)]);
        const used = this.scan(all, 0);
        this.rest = used < all.length ? Buffer.from(all.subarray(used)) : null;
        return;
      }
      offset = consumed - rest.length;
    }
    const consumed = this.scan(chunk, offset);
    if (consumed < chunk.length) this.rest = Buffer.from(chunk.subarray(consumed));
  }

  /** Consumes complete items from `buf` starting at `pos`; returns the first unconsumed offset. */
  private scan(buf: Buffer, pos: number): number {
    const len = buf.length;
    const h = this.header;
    const hl = this.headerLen;
    const fl = this.frameLen;
    let count = 0;
    while (pos < len) {
      if (fl !== 0 && len - pos >= fl && buf[pos + fl - 2] === CR && buf[pos + fl - 1] === LF) {
        let j = 0;
        while (j < hl && buf[pos + j] === h[j]) j++;
        if (j === hl) {
          count++;
          pos += fl;
          continue;
        }
      }
      const next = this.slowItem(buf, pos);
      if (next < 0) break;
      pos = next;
    }
    this.msgs += count;
    return pos;
  }

  /** Handles one non-fast-path item; returns the offset after it, or -1 if incomplete. */
  private slowItem(buf: Buffer, pos: number): number {
    const nl = buf.indexOf(LF, pos);
    if (nl < 0) {
      if (buf.length - pos > MAX_CONTROL_LINE) throw new Error("protocol desync: control line too long");
      return -1;
    }
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const line = buf.toString("latin1", pos, end);
    const sp = line.indexOf(" ");
    const op = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    switch (op) {
      case "MSG":
      case "HMSG": {
        const parts = line.trim().split(/\s+/);
        const size = Number.parseInt(parts[parts.length - 1] ?? "", 10);
        if (!Number.isFinite(size) || size < 0) throw new Error(`protocol desync: bad ${op} line "${line}"`);
        const after = nl + 1 + size + 2;
        if (after > buf.length) return -1;
        this.msgs++;
        this.slowMsgs++;
        return after;
      }
      case "PING":
        this.pings++;
        this.hooks.onPing?.();
        return nl + 1;
      case "PONG":
        this.pongs++;
        return nl + 1;
      case "+OK":
        return nl + 1;
      case "INFO":
        this.hooks.onInfo?.(line);
        return nl + 1;
      case "-ERR":
        this.errors.push(line);
        return nl + 1;
      default:
        this.errors.push(`unexpected line: ${line.slice(0, 120)}`);
        return nl + 1;
    }
  }
}

export interface RawConnOptions {
  /** Expected MSG header for the fast path (null for connections that only publish). */
  expect?: Buffer | null;
  /** Fired after every received chunk has been scanned. */
  signal?: Signal;
  timeoutMs?: number;
}

/** One raw TCP connection to a NATS-protocol server. */
export class RawConn {
  readonly scanner: FrameScanner;
  readonly signal: Signal;
  info = "";
  private closedErr: Error | null = null;

  private constructor(
    readonly socket: net.Socket,
    opts: RawConnOptions,
  ) {
    this.signal = opts.signal ?? new Signal();
    this.scanner = new FrameScanner(opts.expect ?? null, {
      onPing: () => socket.write(PONG),
      onInfo: (line) => {
        if (!this.info) this.info = line.slice(5);
      },
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        this.scanner.push(chunk);
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

  /** Connects, waits for INFO, sends CONNECT+PING and waits for the PONG. */
  static async connect(host: string, port: number, opts: RawConnOptions = {}): Promise<RawConn> {
    const timeoutMs = opts.timeoutMs ?? 5000;
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
    const conn = new RawConn(socket, opts);
    await conn.until(() => conn.info !== "", "INFO", timeoutMs);
    socket.write(CONNECT_AND_PING);
    await conn.until(() => conn.scanner.pongs >= 1, "handshake PONG", timeoutMs);
    return conn;
  }

  /** Waits for `pred`, failing fast if the connection died or the server sent -ERR. */
  until(pred: () => boolean, what: string, stallMs = 10_000, progress?: () => number): Promise<void> {
    return waitUntil(
      () => {
        if (pred()) return true;
        this.throwIfBroken();
        return false;
      },
      this.signal,
      what,
      stallMs,
      progress ?? (() => this.scanner.bytes),
    );
  }

  throwIfBroken(): void {
    if (this.scanner.errors.length > 0) throw new Error(`server error: ${this.scanner.errors[0]}`);
    if (this.closedErr) throw this.closedErr;
  }

  /** Sends a PING and waits for the matching PONG (everything sent before it was processed). */
  async flush(stallMs = 10_000): Promise<void> {
    const target = this.scanner.pongs + 1;
    this.socket.write(PING);
    await this.until(() => this.scanner.pongs >= target, "PONG", stallMs);
  }

  /** Writes and, if the socket buffer is over its high-water mark, waits for 'drain'. */
  write(buf: Buffer): Promise<void> | undefined {
    if (this.socket.write(buf)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.socket.off("close", onClose);
        resolve();
      };
      const onClose = (): void => {
        this.socket.off("drain", onDrain);
        reject(this.closedErr ?? new Error("connection closed while waiting for drain"));
      };
      this.socket.once("drain", onDrain);
      this.socket.once("close", onClose);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
