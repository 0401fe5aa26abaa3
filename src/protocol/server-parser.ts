// Server -> server wire-protocol parser for route, gateway and leafnode connections (both the accepting and
// the dialling side): a byte-level state machine over Buffers, independent of sockets and of how the bytes
// were split into chunks. See /work/shared/spec/cluster-gateway-leaf.md for the protocols.
//
// Framing (same text framing as the client protocol):
// - op names are case-insensitive and matched byte by byte, so an unknown op fails at its first bad byte
//   without waiting for \n;
// - ops with arguments need at least one space or tab after the name, except INFO and CONNECT (none needed,
//   like nats-server); PING, PONG and +OK ignore everything up to \n;
// - a line ends at \n, a \r right before it is dropped; arguments are separated by runs of spaces/tabs, every
//   other byte (a \r inside the line too) belongs to an argument;
// - message ops carry 1 or 2 decimal size fields (1 to 9 digits, as nats-server's parseSize) at the end of
//   the line, then the payload, then a mandatory \r\n;
// - maxControlLine limits the argument bytes of a line (after the op's spaces, without the line end); a line
//   still missing its \n is checked as it arrives, so that results never depend on chunking.
//
// The parser only frames: it does not interpret arguments (account tokens, `+ reply q…` / `| q…` forms,
// queue weights) and reports ops nats-server would accept on the link kind, leaving it to the handler to
// reject those it does not expect (e.g. SUB from a client that dialled the leafnode port).
//
// Ops accepted per link kind (nats-server parser.go: 'R' and 'A' ops on every server link, 'L' ops on
// routes and leafs only, plain MSG as an extra for old peers):
//   all:            INFO CONNECT PING PONG +OK -ERR RS+ RS- A+ A- SUB UNSUB RMSG HMSG MSG PUB HPUB
//   route, leaf:    LS+ LS- LMSG
// Size fields: HMSG and HPUB have 2 (header size, total size); LMSG has 2 on routes (origin-cluster form,
// header size always present, may be 0) and 1 on leafs; RMSG, MSG and PUB have 1.

import { ChunkedParser } from "./chunked-parser.js";
import {
  badArguments,
  maxControlLine,
  maxPayload,
  type ParseError,
  unknownOperation,
} from "./parse-errors.js";

export type { ParseError, ParseErrorKind } from "./parse-errors.js";

export type LinkKind = "route" | "gateway" | "leaf";

/** Interest and account ops (SUB/UNSUB only from old peers, or clients on the wrong port). */
export type InterestOp = "RS+" | "RS-" | "LS+" | "LS-" | "A+" | "A-" | "SUB" | "UNSUB";

/** Message ops (MSG/PUB/HPUB only from old peers, or clients on the wrong port). */
export type MessageOp = "RMSG" | "HMSG" | "LMSG" | "MSG" | "PUB" | "HPUB";

export interface ServerParserHandler {
  /** The raw INFO argument (the JSON is not checked here). */
  onInfo(json: string): void;
  /** The raw CONNECT argument (the JSON is not checked here). */
  onConnect(json: string): void;
  onPing(): void;
  onPong(): void;
  onOk(): void;
  /** `-ERR 'text'`: the text without the surrounding single quotes. Parsing goes on (call close() to stop). */
  onErr(text: string): void;
  /**
   * An interest or account op, upper-cased, with its arguments split on spaces/tabs (at least one).
   * Argument counts are not checked: e.g. `RS+ <acc> <subject> [<queue> <weight>]` gives [acc, subject, …].
   */
  onInterest(op: InterestOp, args: string[]): void;
  /**
   * A message. `args` are the tokens between the op and its size field(s), e.g. for routes
   * `RMSG <acc> <subject> [reply | + reply q1 q2 | | q1 q2] <size>` gives [acc, subject, …] (at least one).
   * The message is buf[start, end): the first hdrLen bytes are the header block (0 for ops with one size
   * field), the rest is the payload. The view is only valid during the call: copy what you keep.
   */
  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void;
  /** The parser stops for good after this; the connection must be closed (after sending errText if set). */
  onParseError(error: ParseError): void;
}

export interface ServerParserOptions {
  kind: LinkKind;
  /** Maximum argument bytes of a control line (callers pass 16× the client limit for routes). */
  maxControlLine: number;
  /** Maximum message size (total size with headers); negative means unlimited. */
  maxPayload: number;
}

// Op ids; OP_NAMES maps them to what the handler gets.
const OP_INFO = 1;
const OP_CONNECT = 2;
const OP_PING = 3;
const OP_PONG = 4;
const OP_OK = 5;
const OP_ERR = 6;
const OP_RS_PLUS = 7; // first op with tokenized arguments, first interest op
// 8 RS-
const OP_LS_PLUS = 9;
const OP_LS_MINUS = 10;
// 11 A+, 12 A-, 13 SUB, 14 UNSUB
const OP_RMSG = 15; // first message op
const OP_HMSG = 16;
const OP_LMSG = 17;
const OP_MSG = 18;
const OP_PUB = 19;
const OP_HPUB = 20;
const OP_COUNT = 21;
const FIRST_TOKENIZED = OP_RS_PLUS;
const FIRST_MESSAGE = OP_RMSG;

const OP_NAMES = [
  "",
  "INFO",
  "CONNECT",
  "PING",
  "PONG",
  "+OK",
  "-ERR",
  "RS+",
  "RS-",
  "LS+",
  "LS-",
  "A+",
  "A-",
  "SUB",
  "UNSUB",
  "RMSG",
  "HMSG",
  "LMSG",
  "MSG",
  "PUB",
  "HPUB",
] as const;

/**
 * Op-name tries, one per link kind: next[(node << 8) | byte] is the next node (0 = no such op), term[node]
 * the op completed there. Ops that need a space or tab after their name have it in the trie, so reaching a
 * terminal node always means "arguments (or the rest of the line) start here". No op name is a prefix of
 * another, so terminal nodes have no children.
 */
interface OpTrie {
  next: Uint8Array;
  term: Uint8Array;
}

function buildTrie(ops: readonly number[]): OpTrie {
  const children: Map<number, number>[] = [new Map()];
  const terms: number[] = [0];
  const add = (word: string, op: number) => {
    let node = 0;
    for (let k = 0; k < word.length; k++) {
      const ch = word[k]!;
      const variants = ch.toLowerCase() === ch.toUpperCase() ? [ch] : [ch.toUpperCase(), ch.toLowerCase()];
      let target = children[node]!.get(variants[0]!.charCodeAt(0));
      if (target === undefined) {
        target = children.length;
        children.push(new Map());
        terms.push(0);
        for (const v of variants) children[node]!.set(v.charCodeAt(0), target);
      }
      node = target;
    }
    terms[node] = op;
  };
  for (const op of ops) {
    const name = OP_NAMES[op]!;
    if (op === OP_INFO || op === OP_CONNECT || op === OP_PING || op === OP_PONG || op === OP_OK) {
      add(name, op);
    } else {
      add(`${name} `, op);
      add(`${name}\t`, op);
    }
  }
  if (children.length > 255) throw new Error("op trie too large");
  const next = new Uint8Array(children.length << 8);
  children.forEach((m, node) => {
    for (const [byte, target] of m) next[(node << 8) | byte] = target;
  });
  return { next, term: Uint8Array.from(terms) };
}

const ALL_OPS: number[] = [];
for (let op = 1; op < OP_COUNT; op++) ALL_OPS.push(op);
const TRIES: Record<LinkKind, OpTrie> = {
  route: buildTrie(ALL_OPS),
  gateway: buildTrie(ALL_OPS.filter((op) => op !== OP_LS_PLUS && op !== OP_LS_MINUS && op !== OP_LMSG)),
  leaf: buildTrie(ALL_OPS),
};

function sizeFields(kind: LinkKind): Uint8Array {
  const n = new Uint8Array(OP_COUNT);
  n[OP_RMSG] = 1;
  n[OP_HMSG] = 2;
  n[OP_LMSG] = kind === "leaf" ? 1 : 2;
  n[OP_MSG] = 1;
  n[OP_PUB] = 1;
  n[OP_HPUB] = 2;
  return n;
}

// Parser states.
/** At the start of an op, or inside its name (the trie node is in `node`). */
const S_OP = 0;
/** Skipping the spaces between an op name and its arguments. */
const S_SPC = 1;
/** Inside an argument line that did not all arrive in one chunk (it is in argBuf). */
const S_ARG = 2;
/** PING/PONG/+OK: everything up to \n is ignored. */
const S_SKIP = 3;
const S_PAYLOAD = 4;
const S_TRAILER_CR = 5;
const S_TRAILER_LF = 6;

/** Split payloads up to this size reuse one scratch buffer; larger ones get their own allocation. */
const SCRATCH_MAX = 64 * 1024;
const INITIAL_TOKENS = 16;
const SNIPPET = 64;
const EMPTY = Buffer.alloc(0);
const NO_ARGS: string[] = [];

/** 1 to 9 ASCII digits, else -1 (as nats-server's parseSize). */
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

// Buffer's own latin1Slice/utf8Slice skip toString's argument handling; they are not in the typings, so fall
// back to toString where they are missing.
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

function snippet(b: Buffer, s: number, e: number): string {
  return JSON.stringify(b.toString("utf8", s, Math.min(e, s + SNIPPET))) + (e - s > SNIPPET ? "..." : "");
}

export class ServerParser extends ChunkedParser {
  readonly kind: LinkKind;
  private readonly handler: ServerParserHandler;
  private maxControlLine: number;
  private maxPayload: number;
  private readonly trieNext: Uint8Array;
  private readonly trieTerm: Uint8Array;
  private readonly sizes: Uint8Array;

  private state = S_OP;
  private node = 0;
  private op = 0;

  // Results of tokenize().
  private starts = new Int32Array(INITIAL_TOKENS);
  private ends = new Int32Array(INITIAL_TOKENS);
  private argCount = 0;
  private ascii = true;

  // An argument line carried over from a previous chunk (S_ARG).
  private argBuf: Buffer = EMPTY;
  private argLen = 0;

  // The message whose payload is being read.
  private args: string[] = NO_ARGS;
  private hdrLen = 0;
  private size = 0;
  private payBuf: Buffer = EMPTY;
  private payFilled = 0;
  private scratch: Buffer = EMPTY;

  // The first two tokens of the last all-ASCII message line (account/subject on routes), reused when equal.
  private tok0 = "";
  private tok1 = "";

  constructor(handler: ServerParserHandler, opts: ServerParserOptions) {
    super();
    this.handler = handler;
    this.kind = opts.kind;
    this.maxControlLine = opts.maxControlLine;
    this.maxPayload = opts.maxPayload;
    const trie = TRIES[opts.kind];
    this.trieNext = trie.next;
    this.trieTerm = trie.term;
    this.sizes = sizeFields(opts.kind);
  }

  /** Changes limits for what is parsed from now on (e.g. once the peer's INFO is known). */
  setLimits(limits: Partial<Omit<ServerParserOptions, "kind">>): void {
    if (limits.maxControlLine !== undefined) this.maxControlLine = limits.maxControlLine;
    if (limits.maxPayload !== undefined) this.maxPayload = limits.maxPayload;
  }

  protected parseChunk(buf: Buffer, pos: number): number {
    const len = buf.length;
    while (pos < len) {
      switch (this.state) {
        case S_OP: {
          if (
            this.node === 0 &&
            pos + 4 < len &&
            (buf[pos]! | 0x20) === 0x72 &&
            (buf[pos + 1]! | 0x20) === 0x6d &&
            (buf[pos + 2]! | 0x20) === 0x73 &&
            (buf[pos + 3]! | 0x20) === 0x67 &&
            (buf[pos + 4] === 0x20 || buf[pos + 4] === 0x09)
          ) {
            // "RMSG " in one go: by far the most frequent op on routes and gateways (accepted on every kind).
            this.op = OP_RMSG;
            this.state = S_SPC;
            pos += 5;
            break;
          }
          const next = this.trieNext;
          const term = this.trieTerm;
          let node = this.node;
          let op = 0;
          for (;;) {
            node = next[(node << 8) | buf[pos]!]!;
            if (node === 0) return this.badOp(buf, pos);
            pos++;
            op = term[node]!;
            if (op !== 0) break;
            if (pos === len) {
              this.node = node;
              return -1;
            }
          }
          this.node = 0;
          this.op = op;
          this.state = op >= OP_PING && op <= OP_OK ? S_SKIP : S_SPC;
          break;
        }
        case S_SPC: {
          let c = buf[pos]!;
          while (c === 0x20 || c === 0x09) {
            if (++pos === len) return -1;
            c = buf[pos]!;
          }
          const tokenized = this.op >= FIRST_TOKENIZED;
          // No need to look further than a line that fits the limit could reach (\r\n included).
          const scanEnd = Math.min(pos + this.maxControlLine + 2, len);
          let lf: number;
          if (tokenized) {
            lf = this.tokenize(buf, pos, scanEnd);
          } else {
            lf = buf.indexOf(0x0a, pos);
            if (lf === -1 || lf > scanEnd) lf = scanEnd;
          }
          if (lf === len) {
            // The line continues in a later chunk.
            this.startCarry(buf, pos, len);
            return -1;
          }
          if (buf[lf] !== 0x0a) {
            this.tooLong(buf, pos, lf);
            return -1;
          }
          let end = lf;
          if (end > pos && buf[end - 1] === 0x0d) {
            end--;
            if (tokenized) this.trimCR(end);
          }
          if (end - pos > this.maxControlLine) {
            this.tooLong(buf, pos, end);
            return -1;
          }
          if (!(tokenized ? this.processTokens(buf, pos, end) : this.processRaw(buf, pos, end))) return -1;
          pos = lf + 1;
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
          pos = lf + 1;
          const ab = this.argBuf;
          let end = this.argLen;
          this.argLen = 0;
          const tokenized = this.op >= FIRST_TOKENIZED;
          if (tokenized) this.tokenize(ab, 0, end);
          if (end > 0 && ab[end - 1] === 0x0d) {
            end--;
            if (tokenized) this.trimCR(end);
          }
          if (end > this.maxControlLine) {
            this.tooLong(ab, 0, end);
            return -1;
          }
          if (!(tokenized ? this.processTokens(ab, 0, end) : this.processRaw(ab, 0, end))) return -1;
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
            this.state = S_OP;
            this.deliver(buf, pos);
            pos += size + 2;
            if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
            break;
          }
          if (this.payFilled === 0 && this.payBuf === EMPTY && size > 0) {
            this.payBuf = this.payloadBuffer(size);
          }
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
          this.state = S_OP;
          this.deliver(payload, 0);
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
        default: {
          // S_SKIP: PING, PONG or +OK up to \n; nothing is kept.
          const lf = buf.indexOf(0x0a, pos);
          if (lf === -1) return -1;
          pos = lf + 1;
          this.state = S_OP;
          const op = this.op;
          if (op === OP_PING) this.handler.onPing();
          else if (op === OP_PONG) this.handler.onPong();
          else this.handler.onOk();
          if (this.paused || this.isClosed) return this.isClosed ? -1 : pos;
          break;
        }
      }
    }
    return -1;
  }

  /**
   * Splits b[as, end) into arguments on spaces/tabs, stopping at the first \n. Returns the index of that \n,
   * or `end` when there is none.
   */
  private tokenize(b: Buffer, as: number, end: number): number {
    let starts = this.starts;
    let ends = this.ends;
    let n = 0;
    let open = false;
    let hi = 0;
    let i = as;
    for (; i < end; i++) {
      const c = b[i]!;
      if (c <= 0x20) {
        if (c === 0x20 || c === 0x09) {
          if (open) {
            ends[n - 1] = i;
            open = false;
          }
          continue;
        }
        if (c === 0x0a) break;
      }
      hi |= c;
      if (!open) {
        if (n === starts.length) {
          this.growTokens();
          starts = this.starts;
          ends = this.ends;
        }
        starts[n++] = i;
        open = true;
      }
    }
    if (open) ends[n - 1] = i;
    this.argCount = n;
    this.ascii = hi < 0x80;
    return i;
  }

  private growTokens(): void {
    const starts = new Int32Array(this.starts.length * 2);
    const ends = new Int32Array(this.starts.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }

  /** The line's last byte, at `cr`, was a \r dropped as part of the line end: take it off the last token. */
  private trimCR(cr: number): void {
    const n = this.argCount;
    // A \r is never a separator, so it ends the last token.
    if (n > 0 && this.ends[n - 1] === cr + 1) {
      this.ends[n - 1] = cr;
      if (this.starts[n - 1] === cr) this.argCount = n - 1;
    }
  }

  /** INFO, CONNECT, -ERR: b[as, end) is the whole argument. */
  private processRaw(b: Buffer, as: number, end: number): boolean {
    this.state = S_OP;
    const op = this.op;
    if (op === OP_ERR) {
      let e = end;
      while (e > as && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
      let s = as;
      if (s < e && b[s] === 0x27) s++;
      if (s < e && b[e - 1] === 0x27) e--;
      this.handler.onErr(utf8Slice.call(b, s, e));
    } else if (op === OP_INFO) {
      this.handler.onInfo(utf8Slice.call(b, as, end));
    } else {
      this.handler.onConnect(utf8Slice.call(b, as, end));
    }
    return true;
  }

  /** Interest and message ops: tokenize() split b[as, end) already. */
  private processTokens(b: Buffer, as: number, end: number): boolean {
    const op = this.op;
    const n = this.argCount;
    const starts = this.starts;
    const ends = this.ends;
    const ascii = this.ascii;
    if (op < FIRST_MESSAGE) {
      if (n === 0) return this.fail(badArguments(`${OP_NAMES[op]} without arguments`));
      const args: string[] = [];
      for (let k = 0; k < n; k++) {
        args.push(
          ascii ? latin1Slice.call(b, starts[k]!, ends[k]!) : utf8Slice.call(b, starts[k]!, ends[k]!),
        );
      }
      this.state = S_OP;
      this.handler.onInterest(OP_NAMES[op] as InterestOp, args);
      return true;
    }
    const fields = this.sizes[op]!;
    if (n <= fields) {
      return this.fail(badArguments(`${OP_NAMES[op]} Parse Error: ${snippet(b, as, end)}`));
    }
    const size = parseSize(b, starts[n - 1]!, ends[n - 1]!);
    if (size < 0) {
      return this.fail(badArguments(`${OP_NAMES[op]} Bad or Missing Size: ${snippet(b, as, end)}`));
    }
    let hdr = 0;
    if (fields === 2) {
      hdr = parseSize(b, starts[n - 2]!, ends[n - 2]!);
      if (hdr < 0) {
        return this.fail(badArguments(`${OP_NAMES[op]} Bad or Missing Header Size: ${snippet(b, as, end)}`));
      }
      if (hdr > size) {
        return this.fail(
          badArguments(`${OP_NAMES[op]} Header Size larger than Total Size: ${snippet(b, as, end)}`),
        );
      }
    }
    if (this.maxPayload >= 0 && size > this.maxPayload) {
      return this.fail(maxPayload(`maximum payload exceeded: ${size} vs ${this.maxPayload}`));
    }
    const count = n - fields;
    let args: string[];
    if (ascii) {
      // Array literals of the final size are cheaper than growing an empty array.
      const a0 = this.token0(b, starts[0]!, ends[0]!);
      if (count === 1) {
        args = [a0];
      } else {
        const a1 = this.token1(b, starts[1]!, ends[1]!);
        if (count === 2) {
          args = [a0, a1];
        } else if (count === 3) {
          args = [a0, a1, latin1Slice.call(b, starts[2]!, ends[2]!)];
        } else {
          args = [a0, a1];
          for (let k = 2; k < count; k++) args.push(latin1Slice.call(b, starts[k]!, ends[k]!));
        }
      }
    } else {
      args = [];
      for (let k = 0; k < count; k++) args.push(utf8Slice.call(b, starts[k]!, ends[k]!));
    }
    this.args = args;
    this.hdrLen = hdr;
    this.size = size;
    this.state = S_PAYLOAD;
    return true;
  }

  // Routes repeat the account (and often the subject) from message to message; reusing the previous string
  // then costs a short compare instead of a new string. Only called for all-ASCII lines.
  private token0(b: Buffer, s: number, e: number): string {
    const prev = this.tok0;
    if (prev.length === e - s && sameAscii(prev, b, s, e)) return prev;
    const str = latin1Slice.call(b, s, e);
    this.tok0 = str;
    return str;
  }

  private token1(b: Buffer, s: number, e: number): string {
    const prev = this.tok1;
    if (prev.length === e - s && sameAscii(prev, b, s, e)) return prev;
    const str = latin1Slice.call(b, s, e);
    this.tok1 = str;
    return str;
  }

  private deliver(b: Buffer, start: number): void {
    const args = this.args;
    this.args = NO_ARGS;
    const size = this.size;
    this.msgs++;
    this.msgBytes += size;
    this.handler.onMessage(OP_NAMES[this.op] as MessageOp, args, b, start, this.hdrLen, start + size);
  }

  private payloadBuffer(size: number): Buffer {
    if (size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
    // Reusable: handlers must copy payloads they keep.
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 1024));
    return this.scratch;
  }

  /** The argument line b[as, len) has no \n yet: keep it unless it already exceeds the limit. */
  private startCarry(b: Buffer, as: number, len: number): void {
    this.argLen = 0;
    if (this.partialLength(b, as, len) > this.maxControlLine) {
      this.tooLong(b, as, len);
      return;
    }
    this.copyToCarry(b, as, len);
    this.state = S_ARG;
  }

  /** More of the argument line, b[pos, len), still without \n. */
  private continueCarry(b: Buffer, pos: number, len: number): void {
    if (!this.appendCarry(b, pos, len)) return;
    if (this.partialLength(this.argBuf, 0, this.argLen) > this.maxControlLine) {
      this.tooLong(this.argBuf, 0, this.argLen);
    }
  }

  /** Length of a line missing its \n so far: a trailing \r may still turn out to be its line end. */
  private partialLength(b: Buffer, as: number, end: number): number {
    return end > as && b[end - 1] === 0x0d ? end - as - 1 : end - as;
  }

  /** Appends b[pos, stop) to the carried line, failing early when it is certainly too long. */
  private appendCarry(b: Buffer, pos: number, stop: number): boolean {
    // At most one byte (a \r) can be dropped, so this bound is exact enough to refuse before copying.
    if (this.argLen + (stop - pos) - 1 > this.maxControlLine) {
      this.copyToCarry(b, pos, Math.min(stop, pos + SNIPPET));
      return this.tooLong(this.argBuf, 0, this.argLen);
    }
    this.copyToCarry(b, pos, stop);
    return true;
  }

  private copyToCarry(b: Buffer, pos: number, stop: number): void {
    const need = this.argLen + (stop - pos);
    if (this.argBuf.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.maxControlLine + 2, 4096), 256));
      this.argBuf.copy(grown, 0, 0, this.argLen);
      this.argBuf = grown;
    }
    b.copy(this.argBuf, this.argLen, pos, stop);
    this.argLen = need;
  }

  private tooLong(b: Buffer, as: number, end: number): false {
    return this.fail(
      maxControlLine(
        `${this.kind} ${OP_NAMES[this.op]}: maximum control line exceeded: max_control_line ${this.maxControlLine} (snip: ${snippet(b, as, end)})`,
      ),
    );
  }

  private badOp(b: Buffer, pos: number): number {
    this.fail(unknownOperation(`${this.kind} parser error at unexpected byte: ${snippet(b, pos, b.length)}`));
    return -1;
  }

  private badTrailer(b: Buffer, pos: number): number {
    this.fail(unknownOperation(`${this.kind} payload not followed by \\r\\n: ${snippet(b, pos, b.length)}`));
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
    this.args = NO_ARGS;
  }
}

/** s (all ASCII) equals b[start, end) (same length); compared backwards, where similar subjects differ. */
function sameAscii(s: string, b: Buffer, start: number, end: number): boolean {
  for (let i = end - 1, k = s.length - 1; i >= start; i--, k--) {
    if (s.charCodeAt(k) !== b[i]) return false;
  }
  return true;
}
