// Shared helpers for the protocol tests: a handler that records calls as plain data, chunked parsing,
// a seeded PRNG and a generator of valid client frames together with the calls they must produce.

import { type ParseError, Parser, type ParserHandler, type ParserLimits } from "../../src/protocol/parser.js";

export type Call =
  | ["connect", string]
  | ["info", string]
  | ["pub", string, string | undefined, string]
  | ["hpub", string, string | undefined, string, string]
  | ["sub", string, string | undefined, string]
  | ["unsub", string, number | undefined]
  | ["ping"]
  | ["pong"]
  | ["error", ParseError["kind"], string | undefined];

export const DEFAULT_LIMITS: ParserLimits = { maxControlLine: 4096, maxPayload: 1024 * 1024 };

/** Records handler calls; payloads are copied (as latin1 strings) since the views are only valid per call. */
export class Recorder implements ParserHandler {
  readonly calls: Call[] = [];
  readonly errors: ParseError[] = [];
  /** Optional hook run after each call is recorded (e.g. to pause the parser). */
  after: ((call: Call) => void) | undefined;

  private add(call: Call): void {
    this.calls.push(call);
    this.after?.(call);
  }
  onConnect(json: string): void {
    this.add(["connect", json]);
  }
  onInfo(json: string): void {
    this.add(["info", json]);
  }
  onPub(subject: string, reply: string | undefined, buf: Buffer, start: number, end: number): void {
    this.add(["pub", subject, reply, buf.toString("latin1", start, end)]);
  }
  onHpub(
    subject: string,
    reply: string | undefined,
    buf: Buffer,
    start: number,
    headerSize: number,
    end: number,
  ): void {
    this.add([
      "hpub",
      subject,
      reply,
      buf.toString("latin1", start, start + headerSize),
      buf.toString("latin1", start + headerSize, end),
    ]);
  }
  onSub(subject: string, queue: string | undefined, sid: string): void {
    this.add(["sub", subject, queue, sid]);
  }
  onUnsub(sid: string, max: number | undefined): void {
    this.add(["unsub", sid, max]);
  }
  onPing(): void {
    this.add(["ping"]);
  }
  onPong(): void {
    this.add(["pong"]);
  }
  onParseError(error: ParseError): void {
    this.errors.push(error);
    this.add(["error", error.kind, error.errText]);
  }
}

/** Latin1 keeps every byte 0-255 as one char, so tests can write binary input as strings. */
export function bytes(s: string): Buffer {
  return Buffer.from(s, "latin1");
}

export function parseChunks(
  chunks: readonly (string | Buffer)[],
  limits: ParserLimits = DEFAULT_LIMITS,
): { rec: Recorder; parser: Parser } {
  const rec = new Recorder();
  const parser = new Parser(rec, limits);
  for (const c of chunks) parser.parse(typeof c === "string" ? bytes(c) : c);
  return { rec, parser };
}

/** Calls produced by parsing `input` in one chunk. */
export function calls(input: string | Buffer, limits: ParserLimits = DEFAULT_LIMITS): Call[] {
  return parseChunks([input], limits).rec.calls;
}

/** Splits buf at the given sorted cut points. */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** mulberry32: tiny, fast, reproducible. */
export class Rng {
  private a: number;
  constructor(readonly seed: number) {
    this.a = seed >>> 0;
  }
  float(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  bool(p = 0.5): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Sorted distinct cut points in (0, len). */
  cuts(len: number, count: number): number[] {
    const set = new Set<number>();
    for (let i = 0; i < count && len > 1; i++) set.add(1 + this.int(len - 1));
    return [...set].sort((x, y) => x - y);
  }
}

/** Random letter case, as clients may send op names in any case. */
export function randomCase(rng: Rng, word: string): string {
  let out = "";
  for (const ch of word) out += rng.bool() ? ch.toLowerCase() : ch.toUpperCase();
  return out;
}

const TOKEN_CHARS = ["a", "b", "foo", "bar", "*", ">", "_INBOX", "$JS", "ü", "日本", "x-y", "0", "123"];

function token(rng: Rng): string {
  return rng.pick(TOKEN_CHARS) + (rng.bool(0.3) ? rng.pick(TOKEN_CHARS) : "");
}

function subject(rng: Rng): string {
  const n = 1 + rng.int(4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(token(rng));
  return parts.join(".");
}

function sep(rng: Rng): string {
  const n = 1 + (rng.bool(0.2) ? rng.int(3) : 0);
  let s = "";
  for (let i = 0; i < n; i++) s += rng.bool(0.8) ? " " : "\t";
  return s;
}

function eol(rng: Rng): string {
  return rng.bool(0.85) ? "\r\n" : "\n";
}

/** Bytes after PING/PONG/+OK that the server ignores (anything but \n). */
function junk(rng: Rng): string {
  if (rng.bool(0.7)) return "";
  let s = "";
  const n = rng.int(6);
  for (let i = 0; i < n; i++) s += rng.pick([" ", "x", "\t", "PING", "\r", "é"]);
  return s;
}

function payload(rng: Rng, max: number): Buffer {
  const n = rng.bool(0.1) ? 0 : rng.int(max + 1);
  // Mostly random bytes, sometimes full of protocol-looking text, to prove payloads are opaque.
  return rng.bool(0.3) ? Buffer.from("PUB x 1\r\n\r\n".repeat(n).slice(0, n), "latin1") : rng.bytes(n);
}

/** One valid frame: its UTF-8 wire bytes and the calls it must produce. */
export function randomFrame(rng: Rng, maxPayload = 300): { wire: Buffer; calls: Call[] } {
  const parts: (string | Buffer)[] = [];
  const out: Call[] = [];
  const line = (...items: string[]) => parts.push(Buffer.from(items.join(""), "utf8"));
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2: {
      const subj = subject(rng);
      const reply = rng.bool(0.4) ? subject(rng) : undefined;
      const p = payload(rng, maxPayload);
      line(randomCase(rng, "pub"), sep(rng), subj, sep(rng), reply === undefined ? "" : reply + sep(rng));
      line(String(p.length), rng.bool(0.1) ? sep(rng) : "", eol(rng));
      parts.push(p, Buffer.from("\r\n"));
      out.push(["pub", subj, reply, p.toString("latin1")]);
      break;
    }
    case 3: {
      const subj = subject(rng);
      const reply = rng.bool(0.4) ? subject(rng) : undefined;
      const hdr = Buffer.from(`NATS/1.0\r\nK: ${token(rng)}\r\n\r\n`, "utf8");
      const p = payload(rng, maxPayload);
      line(randomCase(rng, "hpub"), sep(rng), subj, sep(rng), reply === undefined ? "" : reply + sep(rng));
      line(String(hdr.length), sep(rng), String(hdr.length + p.length), eol(rng));
      parts.push(hdr, p, Buffer.from("\r\n"));
      out.push(["hpub", subj, reply, hdr.toString("latin1"), p.toString("latin1")]);
      break;
    }
    case 4: {
      const subj = subject(rng);
      const queue = rng.bool(0.3) ? token(rng) : undefined;
      const sid = String(rng.int(100000));
      line(
        randomCase(rng, "sub"),
        sep(rng),
        subj,
        sep(rng),
        queue === undefined ? "" : queue + sep(rng),
        sid,
      );
      line(rng.bool(0.1) ? sep(rng) : "", eol(rng));
      out.push(["sub", subj, queue, sid]);
      break;
    }
    case 5: {
      const sid = String(rng.int(100000));
      const max = rng.bool(0.5) ? rng.int(1000) : undefined;
      line(
        randomCase(rng, "unsub"),
        sep(rng),
        sid,
        max === undefined ? "" : sep(rng) + String(max),
        eol(rng),
      );
      out.push(["unsub", sid, max]);
      break;
    }
    case 6:
      line(randomCase(rng, "ping"), junk(rng), eol(rng));
      out.push(["ping"]);
      break;
    case 7:
      line(randomCase(rng, "pong"), junk(rng), eol(rng));
      out.push(["pong"]);
      break;
    case 8: {
      const json = JSON.stringify({ verbose: false, name: subject(rng), headers: true });
      const op = rng.bool(0.8) ? "connect" : "info";
      line(randomCase(rng, op), rng.bool(0.9) ? sep(rng) : "", json, eol(rng));
      out.push([op === "connect" ? "connect" : "info", json]);
      break;
    }
    default:
      line(randomCase(rng, "+ok"), junk(rng), eol(rng));
      break;
  }
  return { wire: Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p))), calls: out };
}

export function randomStream(rng: Rng, frames: number, maxPayload = 300): { wire: Buffer; calls: Call[] } {
  const wires: Buffer[] = [];
  const all: Call[] = [];
  for (let i = 0; i < frames; i++) {
    const f = randomFrame(rng, maxPayload);
    wires.push(f.wire);
    all.push(...f.calls);
  }
  return { wire: Buffer.concat(wires), calls: all };
}
