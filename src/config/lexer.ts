/**
 * Character-level scanning of NATS configuration text.
 *
 * The grammar is context sensitive (a `:` ends a key but not a value, `#` starts a comment between
 * entries but not inside an unquoted value, `(` opens a block string only where a value starts), so
 * instead of producing a token stream up front the scanner offers one reader per context and the parser
 * (parser.ts) calls the one that applies. The scanner owns positions, whitespace/comment skipping and
 * the decoding of the string forms; it knows nothing about maps, arrays or variables.
 */
import { ConfigError, type SourcePosition } from "./errors.js";

/** Characters that end an unquoted value (and a variable name). */
const VALUE_STOP = new Set([" ", "\t", "\r", "\f", "\v", "\n", ",", ";", "}", "]"]);
/** Characters that end an unquoted key: the value stops plus separators and openers. */
const KEY_STOP = new Set([...VALUE_STOP, "=", ":", "{", "["]);
const BLANKS = new Set([" ", "\t", "\r", "\f", "\v"]);
const HEX2 = /^[0-9a-fA-F]{2}$/;

export type StringKind = "bare" | "double" | "single" | "block";

export interface StringToken {
  kind: StringKind;
  /** Decoded text (escapes applied for `double`, delimiters removed). */
  text: string;
  /** Offset of the first character of the token (the quote or parenthesis for delimited forms). */
  offset: number;
}

export class Scanner {
  /** Offset of the next unread character. */
  pos = 0;
  private readonly lineStarts: number[] = [0];
  private columnCache = { line: -1, offset: 0, column: 1 };

  constructor(
    readonly text: string,
    readonly file: string | undefined,
  ) {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.lineStarts.push(i + 1);
  }

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** The character `ahead` positions from the cursor, or "" past the end. */
  peek(ahead = 0): string {
    return this.text.charAt(this.pos + ahead);
  }

  position(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    // Positions are mostly requested in increasing order (one per key); continuing from the previous
    // answer on the same line keeps a long single-line file (minified JSON) linear instead of quadratic.
    const cache = this.columnCache;
    let from = this.lineStarts[lo];
    let column = 1;
    if (cache.line === lo && cache.offset <= offset) {
      from = cache.offset;
      column = cache.column;
    }
    column += this.countCodePoints(from, offset);
    this.columnCache = { line: lo, offset, column };
    return { file: this.file, line: lo + 1, column };
  }

  private countCodePoints(from: number, to: number): number {
    let n = 0;
    for (let i = from; i < to; i++) {
      const code = this.text.charCodeAt(i);
      if (code < 0xdc00 || code > 0xdfff) n++; // a low surrogate completes the previous code point
    }
    return n;
  }

  error(reason: string, offset = this.pos): ConfigError {
    return new ConfigError(reason, this.position(offset));
  }

  /** Printable description of the character at `offset`, for messages. */
  describe(offset = this.pos): string {
    if (offset >= this.text.length) return "end of file";
    const c = this.text.charAt(offset);
    if (c === "\n") return "end of line";
    return JSON.stringify(c);
  }

  isBlank(c: string): boolean {
    return BLANKS.has(c);
  }

  isValueStop(c: string): boolean {
    return c === "" || VALUE_STOP.has(c);
  }

  /** Skips spaces and tabs (not newlines). */
  skipBlanks(): void {
    while (BLANKS.has(this.peek())) this.pos++;
  }

  atComment(): boolean {
    const c = this.peek();
    return c === "#" || (c === "/" && this.peek(1) === "/");
  }

  /** Skips blanks, newlines and comments. Returns true when at least one line ended. */
  skipLayout(): boolean {
    let crossedLine = false;
    for (;;) {
      const c = this.peek();
      if (BLANKS.has(c)) this.pos++;
      else if (c === "\n") {
        this.pos++;
        crossedLine = true;
      } else if (this.atComment()) {
        const nl = this.text.indexOf("\n", this.pos);
        this.pos = nl === -1 ? this.text.length : nl;
      } else return crossedLine;
    }
  }

  /** Reads a key: quoted (either quote) or bare up to whitespace, a separator or a structural character. */
  readKey(): StringToken {
    const c = this.peek();
    if (c === '"') return this.readDoubleQuoted();
    if (c === "'") return this.readSingleQuoted();
    const start = this.pos;
    while (!this.atEnd && !KEY_STOP.has(this.peek())) this.pos++;
    return { kind: "bare", text: this.text.slice(start, this.pos), offset: start };
  }

  /** Reads an unquoted value (or variable name) up to whitespace or a terminator. */
  readBare(): StringToken {
    const start = this.pos;
    while (!this.atEnd && !VALUE_STOP.has(this.peek())) this.pos++;
    return { kind: "bare", text: this.text.slice(start, this.pos), offset: start };
  }

  /** `'…'`: raw text, no escapes, may span lines. */
  readSingleQuoted(): StringToken {
    const start = this.pos;
    const end = this.text.indexOf("'", start + 1);
    if (end === -1) throw this.error("unterminated string: missing closing '", start);
    this.pos = end + 1;
    return { kind: "single", text: this.text.slice(start + 1, end), offset: start };
  }

  /** `"…"` with escapes \t \n \r \" \\ \xHH; may span lines. */
  readDoubleQuoted(): StringToken {
    const start = this.pos;
    this.pos++;
    let out = "";
    let runStart = this.pos;
    // Consecutive \xHH escapes are collected as bytes and decoded as UTF-8 together, so "\xc3\xa9" is é
    // (invalid sequences become U+FFFD).
    let bytes: number[] = [];
    const flushBytes = (): void => {
      if (bytes.length > 0) out += Buffer.from(bytes).toString("utf8");
      bytes = [];
    };
    for (;;) {
      if (this.atEnd) throw this.error('unterminated string: missing closing "', start);
      const c = this.peek();
      if (c === '"') {
        if (this.pos > runStart) flushBytes();
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        flushBytes();
        return { kind: "double", text: out, offset: start };
      }
      if (c !== "\\") {
        this.pos++;
        continue;
      }
      if (this.pos > runStart) flushBytes();
      out += this.text.slice(runStart, this.pos);
      const escapeAt = this.pos;
      const e = this.peek(1);
      this.pos += 2;
      if (e === "x") {
        const hex = this.text.slice(this.pos, this.pos + 2);
        if (!HEX2.test(hex)) throw this.error("expected two hexadecimal digits after '\\x'", escapeAt);
        bytes.push(Number.parseInt(hex, 16));
        this.pos += 2;
      } else {
        flushBytes();
        out += this.simpleEscape(e, escapeAt, start);
      }
      runStart = this.pos;
    }
  }

  private simpleEscape(e: string, escapeAt: number, stringStart: number): string {
    switch (e) {
      case "t":
        return "\t";
      case "n":
        return "\n";
      case "r":
        return "\r";
      case '"':
        return '"';
      case "\\":
        return "\\";
      case "":
        throw this.error('unterminated string: missing closing "', stringStart);
      default:
        throw this.error(
          `invalid escape ${JSON.stringify(`\\${e}`)} in string; allowed are \\t \\n \\r \\" \\\\ \\xHH`,
          escapeAt,
        );
    }
  }

  /**
   * `( … )`: raw text from after `(` up to a line holding only `)` (trailing blanks allowed). The
   * newline before that `)` belongs to the text, as in nats-server.
   */
  readBlock(): StringToken {
    const start = this.pos;
    let from = start + 1;
    for (;;) {
      const nl = this.text.indexOf("\n)", from);
      if (nl === -1) throw this.error("unterminated block string: expected ')' alone on a line", start);
      let after = nl + 2;
      while (BLANKS.has(this.text.charAt(after))) after++;
      if (after >= this.text.length || this.text.charAt(after) === "\n") {
        this.pos = nl + 2;
        return { kind: "block", text: this.text.slice(start + 1, nl + 1), offset: start };
      }
      from = nl + 1;
    }
  }
}
