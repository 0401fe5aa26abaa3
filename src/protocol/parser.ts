// Client -> server wire-protocol parser: a byte-level state machine over Buffers, independent of sockets.
//
// Behaviour follows nats-server 2.9.10 as observed on the wire (see test/protocol/parser.test.ts for the
// cases), including its quirks where they are deterministic:
// - op names are matched byte by byte, so an unknown op fails at its first bad byte, without waiting for \n;
// - after PUB/HPUB/SUB/UNSUB/-ERR at least one space or tab is required, after CONNECT/INFO none; the first
//   byte after the spaces always starts the arguments, even when it is \r or \n ("SUB \nfoo 1\r\n" is
//   "SUB foo 1");
// - a line ends at \n; if any \r was seen in the arguments after their first byte, the byte before the \n is
//   dropped (normally that \r itself; for "SUB foo\r1 2\n" it is the "2");
// - PUB/HPUB split arguments on spaces/tabs only, SUB/UNSUB on spaces/tabs/\r/\n;
// - sizes are 1 to 9 decimal digits;
// - PING, PONG and +OK ignore everything up to \n and are never length-limited;
// - maxControlLine limits the argument bytes (after the op's spaces, without the dropped byte); a line still
//   missing its \n is checked too, each time a chunk ends.
// Where nats-server depends on how bytes were split into reads, this parser behaves as if the whole line
// arrived in one read, so that results never depend on chunking.

import { ChunkedParser } from "./chunked-parser.js";
import {
  badArguments,
  clientError,
  maxControlLine,
  maxPayload,
  type ParseError,
  unknownOperation,
} from "./parse-errors.js";

export type { ParseError, ParseErrorKind } from "./parse-errors.js";

export interface ParserHandler {
  /** The raw argument: nats-server closes silently (no -ERR) when it is not valid JSON. */
  onConnect(json: string): void;
  /** Clients may send INFO; nats-server only checks that it is valid JSON (closing silently otherwise). */
  onInfo(json: string): void;
  /** Payload is buf[start, end): a view the handler must copy if it keeps it past the call. */
  onPub(subject: string, reply: string | undefined, buf: Buffer, start: number, end: number): void;
  /**
   * Headers are buf[start, start + headerSize), the payload follows until end. Same lifetime as onPub.
   * Without headers negotiated in CONNECT, nats-server closes silently (at the HPUB line already).
   */
  onHpub(
    subject: string,
    reply: string | undefined,
    buf: Buffer,
    start: number,
    headerSize: number,
    end: number,
  ): void;
  onSub(subject: string, queue: string | undefined, sid: string): void;
  /** max is undefined when absent or not 1-9 decimal digits (nats-server then unsubscribes at once). */
  onUnsub(sid: string, max: number | undefined): void;
  onPing(): void;
  onPong(): void;
  /** The parser stops for good after this; the connection must be closed (after sending errText if set). */
  onParseError(error: ParseError): void;
}

export interface ParserLimits {
  /** Maximum argument bytes of a control line (nats-server default 4096). */
  maxControlLine: number;
  /** Maximum PUB size / HPUB total size; negative means unlimited (nats-server default 1 MiB). */
  maxPayload: number;
}

// Parser states. Letter-chain states are table driven (LETTER/NEXT below).
const S_START = 0;
const S_P = 1;
const S_PU = 2;
const S_PUB = 3;
const S_PI = 4;
const S_PIN = 5;
const S_PO = 6;
const S_PON = 7;
const S_H = 8;
const S_HP = 9;
const S_HPU = 10;
const S_HPUB = 11;
const S_HM = 12;
const S_HMS = 13;
const S_HMSG = 14;
const S_S = 15;
const S_SU = 16;
const S_SUB = 17;
const S_U = 18;
const S_UN = 19;
const S_UNS = 20;
const S_UNSU = 21;
const S_UNSUB = 22;
const S_C = 23;
const S_CO = 24;
const S_CON = 25;
const S_CONN = 26;
const S_CONNE = 27;
const S_CONNEC = 28;
const S_I = 29;
const S_IN = 30;
const S_INF = 31;
const S_PLUS = 32;
const S_PLUS_O = 33;
const S_MINUS = 34;
const S_MINUS_E = 35;
const S_MINUS_ER = 36;
const S_MINUS_ERR = 37;
/** Skipping the spaces between an op name and its arguments. */
const S_SPC = 38;
/** Inside arguments that did not all arrive in one chunk (they are in argBuf). */
const S_ARG = 39;
const S_PING = 40;
const S_PONG = 41;
/** "+OK...": ignored up to \n. */
const S_SKIP = 42;
const S_PAYLOAD = 43;
const S_TRAILER_CR = 44;
const S_TRAILER_LF = 45;
const STATE_COUNT = 46;

// Ops that take an argument line.
const OP_PUB = 1;
const OP_HPUB = 2;
const OP_SUB = 3;
const OP_UNSUB = 4;
const OP_CONNECT = 5;
const OP_INFO = 6;
const OP_ERR = 7;
const OP_HMSG = 8;

const LETTER = new Uint8Array(STATE_COUNT); // lower-case byte expected next, 0 = not a chain state
const NEXT = new Uint8Array(STATE_COUNT); // state after that byte
const NEXT_OP = new Uint8Array(STATE_COUNT); // op to start when NEXT is S_SPC
const SPACE_OP = new Uint8Array(STATE_COUNT); // op whose name is complete and needs a space or tab next

function chain(letters: string, states: number[], last: number, lastOp = 0): void {
  // states[k] expects letters[k] and then moves on to states[k + 1] (or `last`).
  for (let k = 0; k < states.length; k++) {
    LETTER[states[k]!] = letters.charCodeAt(k) | 0x20;
    NEXT[states[k]!] = k + 1 < states.length ? states[k + 1]! : last;
  }
  if (lastOp !== 0) NEXT_OP[states[states.length - 1]!] = lastOp;
}
chain("B", [S_PU], S_PUB); // S_P and S_H branch, so their chains start one letter later
chain("NG", [S_PI, S_PIN], S_PING);
chain("NG", [S_PO, S_PON], S_PONG);
chain("UB", [S_HP, S_HPU], S_HPUB);
chain("SG", [S_HM, S_HMS], S_HMSG);
chain("UB", [S_S, S_SU], S_SUB);
chain("NSUB", [S_U, S_UN, S_UNS, S_UNSU], S_UNSUB);
chain("ONNECT", [S_C, S_CO, S_CON, S_CONN, S_CONNE, S_CONNEC], S_SPC, OP_CONNECT);
chain("NFO", [S_I, S_IN, S_INF], S_SPC, OP_INFO);
chain("OK", [S_PLUS, S_PLUS_O], S_SKIP);
chain("ERR", [S_MINUS, S_MINUS_E, S_MINUS_ER], S_MINUS_ERR);
SPACE_OP[S_PUB] = OP_PUB;
SPACE_OP[S_HPUB] = OP_HPUB;
SPACE_OP[S_HMSG] = OP_HMSG;
SPACE_OP[S_SUB] = OP_SUB;
SPACE_OP[S_UNSUB] = OP_UNSUB;
SPACE_OP[S_MINUS_ERR] = OP_ERR;

/** Argument slots kept: HPUB's 4, plus 2 so that dropping a 1-byte last argument cannot hide a 6th. */
const ARG_SLOTS = 6;
/** Split payloads up to this size reuse one scratch buffer; larger ones get their own allocation. */
const SCRATCH_MAX = 64 * 1024;
const SNIPPET = 64;
const EMPTY = Buffer.alloc(0);

/** 1 to 9 ASCII digits, else -1 (as nats-server's parseSize, which also bounds the value). */
function parseSize(b: Buffer, s: number, e: number): number {
  const n = e - s;
  if (n === 0 || n > 9) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

// Buffer's own latin1Slice/utf8Slice skip toString's argument handling, a sizeable share of a small frame's
// cost; they are not in the typings, so fall back to toString where they are missing.
type Slice = (this: Buffer, start: number, end: number) => string;
const fastSlices = Buffer.prototype as unknown as { latin1Slice?: Slice; utf8Slice?: Slice };
const latin1Slice: Slice =
  fastSlices.latin1Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString("latin1", start, end);
  };
const utf8Slice: Slice =
  fastSlices.utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString("utf8", start, end);
  };

function decode(b: Buffer, s: number, e: number, ascii: boolean): string {
  // latin1 builds a one-byte string straight from the bytes; only valid when they are all ASCII.
  return ascii ? latin1Slice.call(b, s, e) : utf8Slice.call(b, s, e);
}

function snippet(b: Buffer, s: number, e: number): string {
  return JSON.stringify(b.toString("utf8", s, Math.min(e, s + SNIPPET))) + (e - s > SNIPPET ? "..." : "");
}

export class Parser extends ChunkedParser {
  private readonly handler: ParserHandler;
  private maxControlLine: number;
  private maxPayload: number;

  private state = S_START;
  private op = 0;

  // Results of scanLine.
  private readonly argStart = new Int32Array(ARG_SLOTS);
  private readonly argEnd = new Int32Array(ARG_SLOTS);
  private argCount = 0;
  private lastArgOpen = false;
  private sawCR = false;
  private ascii = true;

  // Arguments carried over from a previous chunk (S_ARG).
  private argBuf: Buffer = EMPTY;
  private argLen = 0;
  private carryCR = false;

  // The message whose payload is being read (`subject` is also reused by subjectFrom).
  private subject = "";
  private subjectAscii = false;
  private reply: string | undefined = undefined;
  private hdrSize = 0;
  private size = 0;
  private payBuf: Buffer = EMPTY;
  private payFilled = 0;
  private scratch: Buffer = EMPTY;

  constructor(handler: ParserHandler, limits: ParserLimits) {
    super();
    this.handler = handler;
    this.maxControlLine = limits.maxControlLine;
    this.maxPayload = limits.maxPayload;
  }

  /** Changes limits for what is parsed from now on (e.g. a user- or account-specific max_payload). */
  setLimits(limits: Partial<ParserLimits>): void {
    if (limits.maxControlLine !== undefined) this.maxControlLine = limits.maxControlLine;
    if (limits.maxPayload !== undefined) this.maxPayload = limits.maxPayload;
  }

  protected parseChunk(buf: Buffer, pos: number): number {
    const len = buf.length;
    while (pos < len) {
      switch (this.state) {
        case S_START: {
          const c0 = buf[pos]!;
          if (
            (c0 | 0x20) === 0x70 &&
            pos + 3 < len &&
            (buf[pos + 1]! | 0x20) === 0x75 &&
            (buf[pos + 2]! | 0x20) === 0x62 &&
            (buf[pos + 3] === 0x20 || buf[pos + 3] === 0x09)
          ) {
            // "PUB " in one go: by far the most frequent op.
            this.op = OP_PUB;
            this.state = S_SPC;
            pos += 4;
            break;
          }
          switch (c0) {
            case 0x50: // P
            case 0x70:
              this.state = S_P;
              break;
            case 0x48: // H
            case 0x68:
              this.state = S_H;
              break;
            case 0x53: // S
            case 0x73:
              this.state = S_S;
              break;
            case 0x55: // U
            case 0x75:
              this.state = S_U;
              break;
            case 0x43: // C
            case 0x63:
              this.state = S_C;
              break;
            case 0x49: // I
            case 0x69:
              this.state = S_I;
              break;
            case 0x2b: // +
              this.state = S_PLUS;
              break;
            case 0x2d: // -
              this.state = S_MINUS;
              break;
            default:
              return this.badOp(buf, pos);
          }
          pos++;
          break;
        }
        case S_P: {
          const c = buf[pos]! | 0x20;
          if (c === 0x75) this.state = S_PU;
          else if (c === 0x69) this.state = S_PI;
          else if (c === 0x6f) this.state = S_PO;
          else return this.badOp(buf, pos);
          pos++;
          break;
        }
        case S_H: {
          const c = buf[pos]! | 0x20;
          if (c === 0x70) this.state = S_HP;
          else if (c === 0x6d) this.state = S_HM;
          else return this.badOp(buf, pos);
          pos++;
          break;
        }
        case S_SPC: {
          let c = buf[pos]!;
          while (c === 0x20 || c === 0x09) {
            if (++pos === len) return -1;
            c = buf[pos]!;
          }
          const op = this.op;
          const stop = this.scanLine(buf, pos, len, op === OP_SUB || op === OP_UNSUB);
          if (stop === len) {
            this.startCarry(buf, pos, len);
            return -1;
          }
          if (!this.processLine(buf, pos, stop)) return -1;
          pos = stop + 1;
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
        case S_ARG: {
          const lf = buf.indexOf(0x0a, pos);
          if (lf === -1) {
            this.continueCarry(buf, pos, len);
            return -1;
          }
          if (!this.appendCarry(buf, pos, lf)) return -1;
          const op = this.op;
          this.scanLine(this.argBuf, 0, this.argLen, op === OP_SUB || op === OP_UNSUB);
          const ok = this.processLine(this.argBuf, 0, this.argLen);
          this.argLen = 0;
          if (!ok) return -1;
          pos = lf + 1;
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
        case S_PAYLOAD: {
          const size = this.size;
          if (this.payFilled === 0 && len - pos >= size + 2) {
            // The common case: payload and trailer are in this chunk, deliver a view without copying.
            if (buf[pos + size] !== 0x0d || buf[pos + size + 1] !== 0x0a) {
              return this.badTrailer(buf, buf[pos + size] !== 0x0d ? pos + size : pos + size + 1);
            }
            this.state = S_START;
            this.deliver(buf, pos);
            pos += size + 2;
            if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
            break;
          }
          if (this.payFilled === 0 && this.payBuf === EMPTY && size > 0)
            this.payBuf = this.payloadBuffer(size);
          const take = Math.min(size - this.payFilled, len - pos);
          if (take > 0) {
            buf.copy(this.payBuf, this.payFilled, pos, pos + take);
            this.payFilled += take;
            pos += take;
          }
          if (this.payFilled < size) return -1;
          this.state = S_TRAILER_CR;
          break;
        }
        case S_TRAILER_CR: {
          if (buf[pos] !== 0x0d) return this.badTrailer(buf, pos);
          pos++;
          this.state = S_TRAILER_LF;
          break;
        }
        case S_TRAILER_LF: {
          if (buf[pos] !== 0x0a) return this.badTrailer(buf, pos);
          pos++;
          const payload = this.payBuf;
          this.payBuf = EMPTY;
          this.payFilled = 0;
          this.state = S_START;
          this.deliver(payload, 0);
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
        case S_PING:
        case S_PONG: {
          const lf = buf.indexOf(0x0a, pos);
          if (lf === -1) return -1; // whatever follows PING/PONG is ignored, so nothing is kept
          pos = lf + 1;
          const ping = this.state === S_PING;
          this.state = S_START;
          if (ping) this.handler.onPing();
          else this.handler.onPong();
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
        case S_SKIP: {
          const lf = buf.indexOf(0x0a, pos);
          if (lf === -1) return -1;
          pos = lf + 1;
          this.state = S_START;
          break;
        }
        default: {
          const state = this.state;
          const want = LETTER[state]!;
          if (want !== 0) {
            if ((buf[pos]! | 0x20) !== want) return this.badOp(buf, pos);
            this.state = NEXT[state]!;
            const op = NEXT_OP[state]!;
            if (op !== 0) this.op = op;
          } else {
            // An op name needing a space or tab before its arguments.
            const c = buf[pos];
            if (c !== 0x20 && c !== 0x09) return this.badOp(buf, pos);
            this.op = SPACE_OP[state]!;
            this.state = S_SPC;
          }
          pos++;
          break;
        }
      }
    }
    return -1;
  }

  /**
   * Splits buf[as, end) into arguments, stopping at the first \n after `as`. Returns the index of that \n,
   * or `end` when there is none. `crSep`: \r and \n separate arguments too (SUB/UNSUB).
   */
  private scanLine(b: Buffer, as: number, end: number, crSep: boolean): number {
    const starts = this.argStart;
    const ends = this.argEnd;
    let n = 0;
    let open = false;
    let sawCR = false;
    let hi = 0;
    let i = as;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c > 0x20) {
        hi |= c;
        if (!open) {
          if (n < ARG_SLOTS) starts[n] = i;
          n++;
          open = true;
        }
        continue;
      }
      let sep = c === 0x20 || c === 0x09;
      if (c === 0x0a) {
        if (i > as) break;
        sep = crSep;
      } else if (c === 0x0d) {
        if (i > as) sawCR = true;
        sep = crSep;
      }
      if (sep) {
        if (open) {
          if (n <= ARG_SLOTS) ends[n - 1] = i;
          open = false;
        }
      } else if (!open) {
        if (n < ARG_SLOTS) starts[n] = i;
        n++;
        open = true;
      }
    }
    if (open && n <= ARG_SLOTS) ends[n - 1] = i;
    this.argCount = n;
    this.lastArgOpen = open;
    this.sawCR = sawCR;
    this.ascii = hi < 0x80;
    return i;
  }

  /** Handles a complete argument line b[as, lf) (lf: position of its \n) scanned by scanLine. */
  private processLine(b: Buffer, as: number, lf: number): boolean {
    let end = lf;
    let n = this.argCount;
    if (this.sawCR) {
      // nats-server drops the byte before \n once it has seen a \r (see the header comment).
      end--;
      if (this.lastArgOpen && n <= ARG_SLOTS) {
        this.argEnd[n - 1] = end;
        if (end === this.argStart[n - 1]) n--;
      }
    }
    if (end - as > this.maxControlLine) {
      return this.fail(
        maxControlLine(
          `maximum control line exceeded: max_control_line ${this.maxControlLine}, length ${end - as} (snip: ${snippet(b, as, end)})`,
        ),
      );
    }
    const starts = this.argStart;
    const ends = this.argEnd;
    switch (this.op) {
      case OP_PUB: {
        if (n !== 2 && n !== 3)
          return this.fail(badArguments(`processPub Parse Error: ${snippet(b, as, end)}`));
        const size = parseSize(b, starts[n - 1]!, ends[n - 1]!);
        if (size < 0)
          return this.fail(badArguments(`processPub Bad or Missing Size: ${snippet(b, as, end)}`));
        if (!this.checkPayload(size)) return false;
        this.subject = this.subjectFrom(b, starts[0]!, ends[0]!);
        this.reply = n === 3 ? decode(b, starts[1]!, ends[1]!, this.ascii) : undefined;
        this.size = size;
        this.state = S_PAYLOAD;
        return true;
      }
      case OP_HPUB: {
        if (n !== 3 && n !== 4) {
          return this.fail(badArguments(`processHeaderPub Parse Error: ${snippet(b, as, end)}`));
        }
        const hdr = parseSize(b, starts[n - 2]!, ends[n - 2]!);
        if (hdr < 0) {
          return this.fail(
            badArguments(`processHeaderPub Bad or Missing Header Size: ${snippet(b, as, end)}`),
          );
        }
        const size = parseSize(b, starts[n - 1]!, ends[n - 1]!);
        if (size < 0) {
          return this.fail(
            badArguments(`processHeaderPub Bad or Missing Total Size: ${snippet(b, as, end)}`),
          );
        }
        if (hdr > size) {
          return this.fail(
            badArguments(`processHeaderPub Header Size larger than Total Size: ${snippet(b, as, end)}`),
          );
        }
        if (!this.checkPayload(size)) return false;
        this.subject = this.subjectFrom(b, starts[0]!, ends[0]!);
        this.reply = n === 4 ? decode(b, starts[1]!, ends[1]!, this.ascii) : undefined;
        this.hdrSize = hdr;
        this.size = size;
        this.state = S_PAYLOAD;
        return true;
      }
      case OP_SUB: {
        if (n !== 2 && n !== 3)
          return this.fail(badArguments(`processSub Parse Error: ${snippet(b, as, end)}`));
        const ascii = this.ascii;
        const subject = decode(b, starts[0]!, ends[0]!, ascii);
        const queue = n === 3 ? decode(b, starts[1]!, ends[1]!, ascii) : undefined;
        const sid = decode(b, starts[n - 1]!, ends[n - 1]!, ascii);
        this.state = S_START;
        this.handler.onSub(subject, queue, sid);
        return true;
      }
      case OP_UNSUB: {
        if (n !== 1 && n !== 2) {
          return this.fail(badArguments(`processUnsub Parse Error: ${snippet(b, as, end)}`));
        }
        const sid = decode(b, starts[0]!, ends[0]!, this.ascii);
        const max = n === 2 ? parseSize(b, starts[1]!, ends[1]!) : -1;
        this.state = S_START;
        this.handler.onUnsub(sid, max < 0 ? undefined : max);
        return true;
      }
      case OP_CONNECT: {
        const json = decode(b, as, end, this.ascii);
        this.state = S_START;
        this.handler.onConnect(json);
        return true;
      }
      case OP_INFO: {
        const json = decode(b, as, end, this.ascii);
        this.state = S_START;
        this.handler.onInfo(json);
        return true;
      }
      case OP_ERR:
        return this.fail(clientError(`Client Error ${b.toString("utf8", as, end)}`));
      default:
        // OP_HMSG: clients may not send messages (nats-server rejects it once the line is complete).
        return this.fail(unknownOperation(`client sent HMSG: ${snippet(b, as, end)}`));
    }
  }

  /**
   * The subject string for b[s, e). Publishers mostly repeat their last subject; reusing its string then costs
   * a short compare instead of a new string. Only the last one is remembered: a bigger cache keeps strings
   * alive long enough to be promoted, which cost more in GC than it saved when subjects vary (measured).
   */
  private subjectFrom(b: Buffer, s: number, e: number): string {
    const n = e - s;
    const prev = this.subject;
    // Only an all-ASCII previous subject maps chars to bytes one to one.
    if (this.subjectAscii && prev.length === n) {
      // Backwards: subjects sharing a prefix ("_INBOX.<nuid>.") usually differ at the end.
      let i = n - 1;
      while (i >= 0 && prev.charCodeAt(i) === b[s + i]) i--;
      if (i < 0) return prev;
    }
    this.subjectAscii = this.ascii;
    return decode(b, s, e, this.ascii);
  }

  private checkPayload(size: number): boolean {
    if (this.maxPayload >= 0 && size > this.maxPayload) {
      return this.fail(maxPayload(`maximum payload exceeded: ${size} vs ${this.maxPayload}`));
    }
    return true;
  }

  private deliver(b: Buffer, start: number): void {
    this.msgs++;
    this.msgBytes += this.size;
    if (this.op === OP_PUB) {
      this.handler.onPub(this.subject, this.reply, b, start, start + this.size);
    } else {
      this.handler.onHpub(this.subject, this.reply, b, start, this.hdrSize, start + this.size);
    }
  }

  private payloadBuffer(size: number): Buffer {
    if (size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
    // Reusable: handlers must copy payloads they keep.
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 1024));
    return this.scratch;
  }

  /** Arguments b[as, len) have no \n yet: keep them unless they already exceed the limit. */
  private startCarry(b: Buffer, as: number, len: number): void {
    this.carryCR = this.sawCR;
    if (len - as - (this.carryCR ? 1 : 0) > this.maxControlLine) {
      this.partialTooLong(b, as, len);
      return;
    }
    this.argLen = 0;
    this.copyToCarry(b, as, len);
    this.state = S_ARG;
  }

  /** More arguments b[pos, len) without \n. */
  private continueCarry(b: Buffer, pos: number, len: number): void {
    if (!this.appendCarry(b, pos, len)) return;
    // A \r anywhere after the first argument byte makes nats-server not count one byte.
    if (!this.carryCR && b.indexOf(0x0d, pos) !== -1) this.carryCR = true;
    if (this.argLen - (this.carryCR ? 1 : 0) > this.maxControlLine) {
      this.partialTooLong(this.argBuf, 0, this.argLen);
    }
  }

  /** Appends b[pos, stop) to the carried arguments, failing early when they are certainly too long. */
  private appendCarry(b: Buffer, pos: number, stop: number): boolean {
    // At most one byte can be dropped, so this bound is exact enough to refuse before copying.
    if (this.argLen + (stop - pos) - 1 > this.maxControlLine) {
      const total = this.argLen + (stop - pos);
      return this.fail(
        maxControlLine(
          `maximum control line exceeded: max_control_line ${this.maxControlLine}, length ${total} (snip: ${snippet(this.argBuf, 0, this.argLen)})`,
        ),
      );
    }
    this.copyToCarry(b, pos, stop);
    return true;
  }

  private copyToCarry(b: Buffer, pos: number, stop: number): void {
    const need = this.argLen + (stop - pos);
    if (this.argBuf.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.maxControlLine + 1, 4097), 256));
      this.argBuf.copy(grown, 0, 0, this.argLen);
      this.argBuf = grown;
    }
    b.copy(this.argBuf, this.argLen, pos, stop);
    this.argLen = need;
  }

  private partialTooLong(b: Buffer, as: number, end: number): boolean {
    return this.fail(
      maxControlLine(
        `maximum control line exceeded: max_control_line ${this.maxControlLine}, ${end - as} bytes without end of line (snip: ${snippet(b, as, end)})`,
      ),
    );
  }

  private badOp(b: Buffer, pos: number): number {
    this.fail(unknownOperation(`parser error at unexpected byte: ${snippet(b, pos, b.length)}`));
    return -1;
  }

  private badTrailer(b: Buffer, pos: number): number {
    this.fail(unknownOperation(`payload not followed by \\r\\n: ${snippet(b, pos, b.length)}`));
    return -1;
  }

  private fail(error: ParseError): false {
    this.shutdown();
    this.handler.onParseError(error);
    return false;
  }

  protected override shutdown(): void {
    super.shutdown();
    this.argBuf = EMPTY;
    this.argLen = 0;
    this.payBuf = EMPTY;
    this.scratch = EMPTY;
  }
}
