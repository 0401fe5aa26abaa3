/**
 * NATS configuration grammar: maps, arrays, entries, variables and includes, on top of the Scanner
 * (lexer.ts) and scalar typing (scalars.ts).
 *
 * Result: a plain object tree (see tree.ts). Keys keep their spelling; later duplicates replace earlier
 * ones. Which keys were referenced as `$variables`, and where each key was written, is kept as hidden
 * metadata on each map: read it with `isUsedAsVariable`, `keysUsedAsVariables` and `keyPosition` from
 * tree.ts.
 *
 * Variables: `$NAME` resolves against keys already defined in the current map, then in the enclosing
 * maps outward, then the environment. An environment value is parsed as one config value. An included
 * file is parsed on its own (it cannot see the includer's keys), then its top-level keys are merged into
 * the map holding the `include`. All failures are ConfigError.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "./errors.js";
import { Scanner } from "./lexer.js";
import { classifyBare } from "./scalars.js";
import {
  type ConfigMap,
  type ConfigValue,
  cloneValue,
  copyEntry,
  createMap,
  hasEntry,
  markUsedAsVariable,
  setEntry,
} from "./tree.js";

export interface ParseOptions {
  /** Used in error messages and as the base directory for `include`; default: in-memory text, cwd. */
  filename?: string;
  /** Environment for `$NAME` fallback; default process.env. */
  env?: Record<string, string | undefined>;
}

/** Guards against input that would otherwise exhaust the stack or memory. */
const MAX_DEPTH = 128;
const MAX_INCLUDE_DEPTH = 32;
const MAX_CLONED_NODES = 1_000_000;
const BCRYPT_PREFIX = /^\$2[a-z]?\$/;

/** State shared by a file, its includes and the environment values it expands. */
interface Shared {
  readonly env: Record<string, string | undefined>;
  /** Absolute paths of the files currently being parsed, outermost first. */
  readonly includeChain: string[];
  clonedNodes: number;
}

export function parseConfig(text: string, opts: ParseOptions = {}): ConfigMap {
  const file = opts.filename;
  if (typeof text !== "string") throw new ConfigError("configuration text must be a string", { file });
  const shared: Shared = {
    env: opts.env ?? process.env,
    includeChain: file === undefined ? [] : [resolve(file)],
    clonedNodes: 0,
  };
  const baseDir = file === undefined ? process.cwd() : dirname(file);
  return new Parser(stripBom(text), file, baseDir, shared, [], 0).parseDocument();
}

/** Reads and parses a configuration file; includes resolve relative to its directory. */
export function parseConfigFile(path: string, opts: Omit<ParseOptions, "filename"> = {}): ConfigMap {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(fsProblem("configuration file", err), { file: path });
  }
  return parseConfig(text, { ...opts, filename: path });
}

class Parser {
  private readonly s: Scanner;
  /** Maps whose entries are being parsed, outermost first: the variable scopes. */
  private readonly scopes: ConfigMap[] = [];

  constructor(
    text: string,
    file: string | undefined,
    private readonly baseDir: string,
    private readonly shared: Shared,
    /** Environment variables being expanded, outermost first (to detect cycles). */
    private readonly envChain: readonly string[],
    private depth: number,
  ) {
    this.s = new Scanner(text, file);
  }

  parseDocument(): ConfigMap {
    const root = createMap();
    this.s.skipLayout();
    if (this.s.peek() !== "{") {
      this.parseMapBody(root, null);
      return root;
    }
    // The whole document wrapped in braces, as in a JSON file.
    const open = this.s.pos++;
    this.parseMapBody(root, open);
    this.s.skipLayout();
    if (!this.s.atEnd) throw this.s.error(`unexpected ${this.s.describe()} after the closing '}'`);
    return root;
  }

  /** One value with nothing else around it: the text of an environment variable. */
  parseStandaloneValue(): ConfigValue {
    this.s.skipLayout();
    if (this.s.atEnd) return ""; // an empty variable is an empty string, as in nats-server
    const value = this.parseValue();
    this.s.skipLayout();
    if (!this.s.atEnd) throw this.s.error(`unexpected ${this.s.describe()} after the value`);
    return value;
  }

  /** Entries up to the `}` matching the `{` at `open`, or to the end of input when `open` is null. */
  private parseMapBody(map: ConfigMap, open: number | null): void {
    this.scopes.push(map);
    try {
      for (;;) {
        this.s.skipLayout();
        const c = this.s.peek();
        if (c === "," || c === ";") {
          this.s.pos++; // empty entry
        } else if (this.s.atEnd) {
          if (open === null) return;
          throw this.s.error(`unterminated map: no '}' closes the '{' opened here`, open);
        } else if (c === "}") {
          if (open === null) throw this.s.error("unexpected '}': no map is open");
          this.s.pos++;
          return;
        } else if (c === "]") {
          throw this.s.error("unexpected ']': no array is open");
        } else {
          this.parseEntry(map, open !== null);
        }
      }
    } finally {
      this.scopes.pop();
    }
  }

  private parseEntry(map: ConfigMap, inBraces: boolean): void {
    const keyToken = this.s.readKey();
    const key = keyToken.text;
    // Taken before the value is parsed so positions are requested in source order (see Scanner.position).
    const keyPos = this.s.position(keyToken.offset);
    if (keyToken.kind === "bare") {
      if (key === "") throw this.s.error(`expected a key, found ${this.s.describe()}`);
      if (key.toLowerCase() === "include" && this.s.isBlank(this.s.peek()) && this.atIncludePath()) {
        this.parseInclude(map, keyToken.offset, inBraces);
        return;
      }
    }
    this.parseSeparator(key, keyToken.offset);
    const value = this.parseValue();
    setEntry(map, key, value, keyPos);
    this.expectValueEnd(inBraces, key);
  }

  /** After `include` and a blank: is this the include directive (not a key named include)? */
  private atIncludePath(): boolean {
    const save = this.s.pos;
    this.s.skipBlanks();
    const c = this.s.peek();
    const isPath = c !== "=" && c !== ":" && c !== "{" && c !== "[";
    if (!isPath) this.s.pos = save;
    return isPath;
  }

  /**
   * Between key and value: `=`, `:` or whitespace. Without a separator the value may start on a later
   * line only if it is a map or array (brace on its own line).
   */
  private parseSeparator(key: string, keyOffset: number): void {
    const hadBlank = this.s.isBlank(this.s.peek());
    this.s.skipBlanks();
    const c = this.s.peek();
    if (c === "=" || c === ":") {
      this.s.pos++;
      this.s.skipBlanks();
      if (this.s.isValueStop(this.s.peek())) throw this.missingValue(key, keyOffset);
      return;
    }
    if (c === "{" || c === "[") return;
    if (c === "\n") {
      this.s.skipLayout();
      const next = this.s.peek();
      if (next === "{" || next === "[") return;
      throw this.missingValue(key, keyOffset);
    }
    if (this.s.isValueStop(c)) throw this.missingValue(key, keyOffset);
    if (!hadBlank) {
      throw this.s.error(`expected '=', ':' or a space after key '${key}', found ${this.s.describe()}`);
    }
  }

  private missingValue(key: string, keyOffset: number): ConfigError {
    return this.s.error(`missing value for key '${key}'`, keyOffset);
  }

  /** After a map entry: only a terminator, a comment or the closing brace may follow on the line. */
  private expectValueEnd(inBraces: boolean, key: string): void {
    this.s.skipBlanks();
    const c = this.s.peek();
    if (this.s.atEnd || c === "\n" || c === "," || c === ";" || this.s.atComment()) return;
    if (c === "}" && inBraces) return;
    throw this.s.error(
      `unexpected ${this.s.describe()} after the value of '${key}': expected a new line, ',' or ';'`,
    );
  }

  private parseValue(): ConfigValue {
    if (this.depth >= MAX_DEPTH) throw this.s.error(`values nested more than ${MAX_DEPTH} levels deep`);
    this.depth++;
    try {
      const c = this.s.peek();
      switch (c) {
        case "{": {
          const open = this.s.pos++;
          const map = createMap();
          this.parseMapBody(map, open);
          return map;
        }
        case "[":
          return this.parseArray();
        case '"':
          return this.s.readDoubleQuoted().text;
        case "'":
          return this.s.readSingleQuoted().text;
        case "(":
          return this.s.readBlock().text;
        case "$":
          return this.parseVariable();
      }
      if (this.s.isValueStop(c)) throw this.s.error(`expected a value, found ${this.s.describe()}`);
      const token = this.s.readBare();
      const scalar = classifyBare(token.text);
      if (!scalar.ok) throw this.s.error(scalar.reason, token.offset);
      return scalar.value;
    } finally {
      this.depth--;
    }
  }

  /** `[ a, b ]`: elements separated by `,` and/or line ends; a trailing comma is allowed. */
  private parseArray(): ConfigValue[] {
    const open = this.s.pos++;
    const items: ConfigValue[] = [];
    this.s.skipLayout();
    for (;;) {
      const c = this.s.peek();
      if (this.s.atEnd) throw this.s.error("unterminated array: no ']' closes the '[' opened here", open);
      if (c === "]") {
        this.s.pos++;
        return items;
      }
      if (c === ",") throw this.s.error("unexpected ',' in array: missing element");
      if (c === ";" || c === "}") throw this.s.error(`unexpected ${this.s.describe()} in array`);
      items.push(this.parseValue());
      this.s.skipBlanks();
      let separated = false;
      if (this.s.peek() === ",") {
        this.s.pos++;
        separated = true;
        this.s.skipLayout();
      } else if (this.s.peek() === "\n" || this.s.atComment()) {
        separated = true;
        this.s.skipLayout();
        if (this.s.peek() === ",") {
          this.s.pos++; // comma-first style: `[ a\n, b ]`
          this.s.skipLayout();
        }
      }
      if (!separated && !this.s.atEnd && this.s.peek() !== "]") {
        throw this.s.error(`expected ',' or ']' after array element, found ${this.s.describe()}`);
      }
    }
  }

  private parseVariable(): ConfigValue {
    const token = this.s.readBare();
    if (BCRYPT_PREFIX.test(token.text)) return token.text; // a password hash, not a reference
    const name = token.text.slice(1);
    if (name === "") throw this.s.error("missing variable name after '$'", token.offset);
    return this.resolveVariable(name, token.offset);
  }

  private resolveVariable(name: string, offset: number): ConfigValue {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i];
      if (hasEntry(scope, name)) {
        markUsedAsVariable(scope, name);
        return cloneValue(scope[name], () => this.countClone(offset));
      }
    }
    const fromEnv = this.shared.env[name];
    if (typeof fromEnv === "string") return this.parseEnvValue(name, fromEnv, offset);
    const line = this.s.position(offset).line;
    throw this.s.error(`variable reference for '${name}' on line ${line} can not be found`, offset);
  }

  private countClone(offset: number): void {
    this.shared.clonedNodes++;
    if (this.shared.clonedNodes > MAX_CLONED_NODES) {
      throw this.s.error(`variable expansion produces more than ${MAX_CLONED_NODES} values`, offset);
    }
  }

  private parseEnvValue(name: string, raw: string, offset: number): ConfigValue {
    const line = this.s.position(offset).line;
    if (this.envChain.includes(name)) {
      const cycle = [...this.envChain, name].join(" -> ");
      throw this.s.error(`variable reference for '${name}' on line ${line} is circular (${cycle})`, offset);
    }
    const sub = new Parser(raw, undefined, this.baseDir, this.shared, [...this.envChain, name], this.depth);
    try {
      return sub.parseStandaloneValue();
    } catch (err) {
      // Report once, at the reference in the file; nested expansions pass their error up unchanged.
      if (!(err instanceof ConfigError) || this.envChain.length > 0) throw err;
      throw this.s.error(
        `variable reference for '${name}' on line ${line} could not be parsed: ${err.reason}`,
        offset,
      );
    }
  }

  /** `include path`: cursor is on the path (quoted or bare). */
  private parseInclude(map: ConfigMap, keyOffset: number, inBraces: boolean): void {
    const c = this.s.peek();
    if (this.s.isValueStop(c)) throw this.s.error("include needs a file name", keyOffset);
    const token =
      c === '"' ? this.s.readDoubleQuoted() : c === "'" ? this.s.readSingleQuoted() : this.s.readBare();
    this.expectValueEnd(inBraces, "include");
    const included = this.loadInclude(token.text, token.offset);
    for (const key of Object.keys(included)) copyEntry(included, map, key);
  }

  private loadInclude(name: string, offset: number): ConfigMap {
    if (name === "") throw this.s.error("include needs a file name", offset);
    const target = isAbsolute(name) ? name : join(this.baseDir, name);
    const absolute = resolve(target);
    const chain = this.shared.includeChain;
    if (chain.includes(absolute)) {
      throw this.s.error(`include cycle: '${name}' (${absolute}) is already being parsed`, offset);
    }
    if (chain.length >= MAX_INCLUDE_DEPTH) {
      throw this.s.error(`includes nested more than ${MAX_INCLUDE_DEPTH} levels deep`, offset);
    }
    let text: string;
    try {
      text = readFileSync(target, "utf8");
    } catch (err) {
      throw this.s.error(fsProblem(`include file '${name}'`, err, target), offset);
    }
    chain.push(absolute);
    try {
      return new Parser(stripBom(text), target, dirname(target), this.shared, [], this.depth).parseDocument();
    } finally {
      chain.pop();
    }
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function fsProblem(subject: string, err: unknown, lookedFor?: string): string {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  if (code === "ENOENT")
    return `${subject} not found${lookedFor === undefined ? "" : ` (looked for ${lookedFor})`}`;
  if (code === "EISDIR") return `${subject} is a directory`;
  const detail = err instanceof Error ? err.message : String(err);
  return `cannot read ${subject}: ${detail}`;
}
