// Subject transforms and account subject mappings, with nats-server 2.11's semantics.
//
// A transform rewrites a literal subject matched by a source pattern into a destination template. The
// destination reuses the source's `*` tokens by position (`$1`, `{{wildcard(1)}}`) or through functions:
// `{{partition(n, i...)}}` (FNV-1a 32 hash of the named tokens, modulo n, the same number nats-server
// computes), `{{split(i, sep)}}`, `{{splitFromLeft(i, pos)}}`, `{{splitFromRight(i, pos)}}`,
// `{{sliceFromLeft(i, size)}}`, `{{sliceFromRight(i, size)}}` (and `left`/`right`, which nats-server's
// mapping validation refuses, so only the transform knows them). A trailing `>` carries the rest over.
//
// A mapping (`mappings { }` in the config, or an account JWT's `mappings`) sends a published subject to
// one of several weighted destinations; the weights are percentages and whatever they leave below 100
// keeps the original subject. Destinations may be scoped to a cluster name. Stream subject transforms
// (src/jetstream/subject-transform.ts) build on the same SubjectTransform.

import { subjectMatches } from "./pattern.js";
import { isValidSubscribeSubject } from "./validate.js";

/** A mapping or transform that nats-server would refuse; the message is nats-server's. */
export class MappingError extends Error {}

const DEST = "invalid mapping destination";

/** nats-server's error texts (errors.go). Destination errors read `<text> in <token>`. */
export const MAPPING_ERRORS = {
  badSubject: "invalid subject",
  invalidTransform: `${DEST}: invalid transform`,
  unknownFunction: `${DEST}: unknown function`,
  indexOutOfRange: `${DEST}: wildcard index out of range`,
  notEnoughArgs: `${DEST}: not enough arguments passed to the function`,
  invalidArg: `${DEST}: function argument is invalid or in the wrong format`,
  tooManyArgs: `${DEST}: too many arguments passed to the function`,
} as const;

function tokenError(text: string, token: string): MappingError {
  return new MappingError(`${text} in ${token}`);
}

export type TransformFunction =
  | "wildcard"
  | "partition"
  | "splitFromLeft"
  | "splitFromRight"
  | "sliceFromLeft"
  | "sliceFromRight"
  | "split"
  | "left"
  | "right";

// The function syntax: `{{ name(args) }}`, only the first letter of each word case-insensitive. Not
// anchored inside the token, as in nats-server (the token itself must start with `{{` and end with `}}`).
const WS = "[\\t\\n\\f\\r ]*";
const fn = (name: string) => new RegExp(`\\{\\{${WS}${name}${WS}\\((.*)\\)${WS}\\}\\}`);
const FUNCTION_SYNTAX: ReadonlyArray<readonly [TransformFunction, RegExp]> = [
  // The order nats-server tries them in.
  ["wildcard", fn("[wW]ildcard")],
  ["partition", fn("[pP]artition")],
  ["splitFromLeft", fn("[sS]plit[fF]rom[lL]eft")],
  ["splitFromRight", fn("[sS]plit[fF]rom[rR]ight")],
  ["sliceFromLeft", fn("[sS]lice[fF]rom[lL]eft")],
  ["sliceFromRight", fn("[sS]lice[fF]rom[rR]ight")],
  ["right", fn("[rR]ight")],
  ["left", fn("[lL]eft")],
  ["split", fn("[sS]plit")],
];
const SYNTAX = new Map(FUNCTION_SYNTAX);
/** The functions nats-server's mapping validation (ValidateMapping) knows: not left/right. */
const VALIDATED_FUNCTIONS: readonly TransformFunction[] = [
  "partition",
  "wildcard",
  "splitFromLeft",
  "splitFromRight",
  "sliceFromLeft",
  "sliceFromRight",
  "split",
];
const ARG_SEPARATOR = /,[\t\n\f\r ]*/;

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's strconv.Atoi: optional sign, decimal digits, within int64. */
function goAtoi(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? undefined : v;
}

/** Go's strings.Trim(s, " "). */
function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 32) a++;
  while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return s.slice(a, b);
}

function intArg(s: string, token: string): bigint {
  const v = goAtoi(trimSpaces(s));
  if (v === undefined) throw tokenError(MAPPING_ERRORS.invalidArg, token);
  return v;
}

/** A destination token: a literal, or a function over source wildcard numbers (1-based, as written). */
type Placeholder =
  | { readonly kind: "literal" }
  | {
      readonly kind: TransformFunction;
      readonly wildcards: readonly bigint[];
      /** Partition count or position/size argument (Go int32). */
      readonly n: number;
      readonly sep: string;
    };

const LITERAL: Placeholder = { kind: "literal" };

function isFunctionToken(token: string): boolean {
  const n = token.length;
  return n > 4 && token.startsWith("{{") && token.endsWith("}}");
}

/** nats-server's indexPlaceHolders: what a destination token asks for; throws on a bad function. */
function placeholder(token: string): Placeholder {
  if (token.length > 1 && token[0] === "$") {
    // `$1`; other tokens starting with `$` are literals.
    const i = goAtoi(token.slice(1));
    return i === undefined ? LITERAL : { kind: "wildcard", wildcards: [i], n: -1, sep: "" };
  }
  if (!isFunctionToken(token)) return LITERAL;
  for (const [kind, re] of FUNCTION_SYNTAX) {
    const m = re.exec(token);
    if (m === null) continue;
    const args = m[1].split(ARG_SEPARATOR);
    switch (kind) {
      case "wildcard":
        if (args.length === 1 && args[0] === "") throw tokenError(MAPPING_ERRORS.notEnoughArgs, token);
        if (args.length > 1) throw tokenError(MAPPING_ERRORS.tooManyArgs, token);
        return { kind, wildcards: [intArg(args[0], token)], n: -1, sep: "" };
      case "partition": {
        if (args.length < 2) throw tokenError(MAPPING_ERRORS.notEnoughArgs, token);
        const n = Number(BigInt.asIntN(32, intArg(args[0], token)));
        const wildcards = args.slice(1).map((a) => intArg(a, token));
        // nats-server accepts 0 partitions and then divides by zero on the first message.
        if (n === 0) throw tokenError(MAPPING_ERRORS.invalidArg, token);
        return { kind, wildcards, n, sep: "" };
      }
      case "split": {
        if (args.length < 2) throw tokenError(MAPPING_ERRORS.notEnoughArgs, token);
        if (args.length > 2) throw tokenError(MAPPING_ERRORS.tooManyArgs, token);
        const i = intArg(args[0], token);
        if (args[1].includes(" ") || args[1].includes("."))
          throw tokenError(MAPPING_ERRORS.invalidArg, token);
        return { kind, wildcards: [i], n: -1, sep: args[1] };
      }
      default: {
        if (args.length < 2) throw tokenError(MAPPING_ERRORS.notEnoughArgs, token);
        if (args.length > 2) throw tokenError(MAPPING_ERRORS.tooManyArgs, token);
        const i = intArg(args[0], token);
        const n = Number(BigInt.asIntN(32, intArg(args[1], token)));
        return { kind, wildcards: [i], n, sep: "" };
      }
    }
  }
  throw tokenError(MAPPING_ERRORS.unknownFunction, token);
}

/** Valid (non-empty tokens, `>` only last), its tokens, the number of `*` and whether it ends in `>`. */
function subjectInfo(subject: string): { valid: boolean; tokens: string[]; pwcs: number; fwc: boolean } {
  const tokens = subject.split(".");
  let pwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t.length === 0 || fwc) return { valid: false, tokens, pwcs: 0, fwc: false };
    if (t === ">") fwc = true;
    else if (t === "*") pwcs++;
  }
  return { valid: subject !== "", tokens, pwcs, fwc };
}

// ---- 32-bit FNV-1a over UTF-8 bytes (Go's hash/fnv New32a) ----

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Go's fnv.New32a().Sum32() of the UTF-8 bytes of `key`. */
export function fnv1a32(key: string): number {
  let h = FNV_OFFSET;
  if (isAscii(key)) {
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME) >>> 0;
  } else {
    for (const b of Buffer.from(key, "utf8")) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** The partition nats-server's `{{partition(n, ...)}}` picks for the concatenated tokens `key`. */
export function partitionOf(key: string, partitions: number): number {
  return fnv1a32(key) % (partitions >>> 0);
}

// Byte-oriented pieces of a token (nats-server cuts bytes, not characters).

function byteLength(s: string): number {
  return isAscii(s) ? s.length : Buffer.byteLength(s, "utf8");
}

function byteSlice(s: string, start: number, end?: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return Buffer.from(s, "utf8").subarray(start, end).toString("utf8");
}

function chunks(s: string, first: number, size: number): string {
  const len = byteLength(s);
  const out: string[] = [];
  if (first > 0) out.push(byteSlice(s, 0, first));
  for (let i = first; i < len; i += size) out.push(byteSlice(s, i, i + size));
  return out.join(".");
}

function splitToken(token: string, sep: string): string {
  // Go's strings.Split with an empty separator splits into characters (runes).
  const parts = sep === "" ? Array.from(token) : token.split(sep);
  let out = "";
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j];
    out += p;
    if (j < parts.length - 1 && parts[j + 1] !== "" && !(j === 0 && p === "")) out += ".";
  }
  return out;
}

/** One step of the destination: a literal token, or a function of source tokens (by token index). */
interface Step {
  readonly kind: "literal" | TransformFunction;
  readonly text: string;
  /** Source token indexes (0-based) the function reads. */
  readonly src: readonly number[];
  readonly n: number;
  readonly sep: string;
}

function runStep(s: Step, tokens: readonly string[]): string {
  switch (s.kind) {
    case "literal":
      return s.text;
    case "wildcard": {
      const i = s.src[0];
      return i < tokens.length ? tokens[i] : "";
    }
    case "partition": {
      let key = "";
      for (const i of s.src) key += tokens[i];
      return String(partitionOf(key, s.n));
    }
    default:
      break;
  }
  const t = tokens[s.src[0]];
  const len = byteLength(t);
  const n = s.n;
  switch (s.kind) {
    case "split":
      return splitToken(t, s.sep);
    case "splitFromLeft":
      return n > 0 && n < len ? `${byteSlice(t, 0, n)}.${byteSlice(t, n)}` : t;
    case "splitFromRight":
      return n > 0 && n < len ? `${byteSlice(t, 0, len - n)}.${byteSlice(t, len - n)}` : t;
    case "sliceFromLeft":
      return n > 0 && n < len ? chunks(t, 0, n) : t;
    case "sliceFromRight":
      return n > 0 && n < len ? chunks(t, len % n, n) : t;
    case "left":
      return n > 0 && n < len ? byteSlice(t, 0, n) : t;
    case "right":
      return n > 0 && n < len ? byteSlice(t, len - n) : t;
  }
}

/**
 * A compiled transform from a source pattern (wildcards allowed; empty means `>`) to a destination
 * template, with nats-server's NewSubjectTransform rules: both must be valid subjects, the destination
 * has no `*` and ends in `>` exactly when the source does, and functions name existing wildcards.
 */
export class SubjectTransform {
  readonly source: string;
  private readonly srcTokenCount: number;
  /** Undefined when the source has no wildcards: every match becomes the destination as written. */
  private readonly steps: readonly Step[] | undefined;
  private readonly carriesRest: boolean;
  /** Functions the destination uses (`wildcard` includes `$n`). */
  readonly functions: ReadonlySet<TransformFunction>;
  /** Whether a result can be an invalid subject (split can leave empty tokens). */
  readonly mayEmitInvalid: boolean;

  private constructor(
    source: string,
    readonly destination: string,
  ) {
    this.source = source;
    const si = subjectInfo(source);
    const di = subjectInfo(destination);
    if (!si.valid || !di.valid || di.pwcs > 0 || si.fwc !== di.fwc) {
      throw new MappingError(MAPPING_ERRORS.badSubject);
    }
    this.srcTokenCount = si.tokens.length;
    this.carriesRest = di.fwc;
    const used = new Set<TransformFunction>();
    if (si.pwcs > 0 || si.fwc) {
      // Wildcard number (1-based) → source token index.
      const at: number[] = [];
      si.tokens.forEach((t, i) => {
        if (t === "*") at.push(i);
      });
      this.steps = di.tokens.map((token): Step => {
        const p = placeholder(token);
        if (p.kind === "literal") return { kind: "literal", text: token, src: [], n: -1, sep: "" };
        if (si.pwcs === 0) throw tokenError(MAPPING_ERRORS.indexOutOfRange, token);
        const src = p.wildcards.map((w) => {
          if (w > BigInt(si.pwcs)) throw tokenError(MAPPING_ERRORS.indexOutOfRange, `${token}: [${w}]`);
          // nats-server looks wildcard numbers up in a map: 0 and below find nothing and read token 0.
          return w < 1n ? 0 : at[Number(w) - 1];
        });
        used.add(p.kind);
        return { kind: p.kind, text: token, src, n: p.n, sep: p.sep };
      });
    } else {
      for (const token of di.tokens) {
        if (placeholder(token).kind !== "literal") throw tokenError(MAPPING_ERRORS.indexOutOfRange, token);
      }
      this.steps = undefined;
    }
    this.functions = used;
    this.mayEmitInvalid = used.has("split");
  }

  /**
   * Compile `src` → `dest` (NewSubjectTransform). Throws a MappingError with nats-server's message. An
   * empty destination is refused (nats-server reads it as "no transform").
   */
  static compile(src: string, dest: string): SubjectTransform {
    if (dest === "") throw tokenError(MAPPING_ERRORS.invalidTransform, "");
    return new SubjectTransform(src === "" ? ">" : src, dest);
  }

  matches(subject: string): boolean {
    return this.source === ">" || subjectMatches(this.source, subject);
  }

  /** The destination for `subject`, or undefined when it does not match the source. */
  apply(subject: string): string | undefined {
    return this.matches(subject) ? this.transform(subject) : undefined;
  }

  /** The destination for a subject known to match the source. */
  transform(subject: string): string {
    const steps = this.steps;
    if (steps === undefined) return this.destination;
    const tokens = subject.split(".");
    let out = "";
    const last = steps.length - 1;
    for (let i = 0; i <= last; i++) {
      const s = steps[i];
      if (s.kind === "literal" && s.text === ">") break;
      out += runStep(s, tokens);
      if (i < last) out += ".";
    }
    if (this.carriesRest) out += tokens.slice(this.srcTokenCount - 1).join(".");
    return out;
  }
}

/**
 * nats-server's ValidateMapping: destination tokens must be non-empty, `>` only last, no whitespace
 * outside functions, functions among those mappings know; then the transform must compile.
 */
export function validateMapping(src: string, dest: string): SubjectTransform {
  let fwc = false;
  for (const t of dest.split(".")) {
    if (t.length === 0 || fwc) throw tokenError(MAPPING_ERRORS.invalidTransform, t);
    if (isFunctionToken(t)) {
      if (!VALIDATED_FUNCTIONS.some((f) => SYNTAX.get(f)!.test(t))) {
        throw tokenError(MAPPING_ERRORS.unknownFunction, t);
      }
      continue;
    }
    if (t === ">") fwc = true;
    else if (/[\t\n\f\r ]/.test(t)) throw new MappingError(MAPPING_ERRORS.invalidTransform);
  }
  return SubjectTransform.compile(src, dest);
}

/** nats-server's transformTokenize: `foo.*.*` → `foo.$1.$2`. */
export function transformTokenize(subject: string): string {
  let n = 0;
  return subject
    .split(".")
    .map((t) => (t === "*" ? `$${++n}` : t))
    .join(".");
}

// ---- Weighted mappings ----

/** One destination of a mapping: a template, a percentage, optionally only for one cluster. */
export interface MapDestination {
  readonly subject: string;
  /** 0..100. */
  readonly weight: number;
  /** Only on servers of this cluster. */
  readonly cluster?: string | undefined;
}

/** A mapping: messages published to `source` go to one of `destinations`. */
export interface MappingConfig {
  readonly source: string;
  readonly destinations: readonly MapDestination[];
}

/**
 * Mappings as they ride on option objects: the server options (`mappings { }` at the top level, for the
 * global account) and each config-file account (`accounts { A: { mappings { } } }`).
 */
export interface WithMappings {
  mappings?: readonly MappingConfig[];
}

export interface WeightedTransform {
  readonly tr: SubjectTransform;
  /** Cumulative weight: this destination is picked when a draw in [0, 100) is below it. */
  readonly upTo: number;
}

export interface CompiledMapping {
  readonly source: string;
  readonly literal: boolean;
  readonly dests: readonly WeightedTransform[];
  readonly byCluster: ReadonlyMap<string, readonly WeightedTransform[]>;
}

/**
 * Check and compile a mapping as nats-server's AddWeightedMappings: no duplicate destinations, weights
 * at most 100 each and in total per cluster; the remainder below 100 keeps the original subject unless
 * the source itself is listed (then the remainder is dropped, as nats-server does).
 */
export function compileMapping(m: MappingConfig): CompiledMapping {
  const src = m.source;
  if (!isValidSubscribeSubject(src)) throw new MappingError(MAPPING_ERRORS.badSubject);
  const seen = new Set<string>();
  const totals = new Map<string, number>();
  const plain: { tr: SubjectTransform; w: number }[] = [];
  const scoped = new Map<string, { tr: SubjectTransform; w: number }[]>();
  for (const d of m.destinations) {
    if (seen.has(d.subject)) throw new MappingError(`duplicate entry for ${JSON.stringify(d.subject)}`);
    seen.add(d.subject);
    if (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > 100) {
      throw new MappingError("individual weights need to be <= 100");
    }
    const cluster = d.cluster ?? "";
    const total = (totals.get(cluster) ?? 0) + d.weight;
    totals.set(cluster, total);
    if (total > 100) throw new MappingError("total weight needs to be <= 100");
    const tr = validateMapping(src, d.subject);
    if (cluster === "") plain.push({ tr, w: d.weight });
    else {
      const list = scoped.get(cluster) ?? [];
      scoped.set(cluster, list);
      list.push({ tr, w: d.weight });
    }
  }
  const literal = !src.split(".").some((t) => t === "*" || t === ">");
  const finish = (list: { tr: SubjectTransform; w: number }[]): WeightedTransform[] => {
    const total = list.reduce((a, d) => a + d.w, 0);
    if (total !== 100 && !seen.has(src)) {
      const identity = SubjectTransform.compile(src, literal ? src : transformTokenize(src));
      list.push({ tr: identity, w: list.length === 0 ? 100 : 100 - total });
    }
    let upTo = 0;
    return [...list]
      .sort((a, b) => a.w - b.w)
      .map((d) => {
        upTo += d.w;
        return { tr: d.tr, upTo };
      });
  };
  const byCluster = new Map<string, readonly WeightedTransform[]>();
  for (const [cluster, list] of scoped) byCluster.set(cluster, finish(list));
  return { source: src, literal, dests: finish(plain), byCluster };
}

/** The nats-server error a mapping would be refused with, or undefined when it is fine. */
export function mappingProblem(m: MappingConfig): string | undefined {
  try {
    compileMapping(m);
    return undefined;
  } catch (err) {
    if (err instanceof MappingError) return err.message;
    throw err;
  }
}

/** The message nats-server's config parser gives for a refused mapping. */
export function describeMappingError(m: MappingConfig, err: string, shorthand: boolean): string {
  const src = JSON.stringify(m.source);
  return shorthand && m.destinations.length === 1
    ? `Error adding mapping for ${src} to ${JSON.stringify(m.destinations[0].subject)} : ${err}`
    : `Error adding mapping for ${src} : ${err}`;
}

const CACHE_LIMIT = 4096;

/**
 * An account's mappings, in order (the first whose source matches applies). `map` returns the subject a
 * published message goes to: the same string when nothing applies, "" when the draw drops it.
 */
export class SubjectMapper {
  private readonly mappings: readonly CompiledMapping[];
  private readonly clusterScoped: boolean;
  /** Literal subject → its fixed result, or the destinations to draw from. */
  private readonly cache = new Map<string, string | readonly WeightedTransform[]>();
  private cachedCluster: string | undefined;

  /** Throws a MappingError for the first invalid mapping. A later entry for a source replaces an earlier. */
  constructor(
    mappings: readonly MappingConfig[],
    private readonly clusterName: () => string | undefined = () => undefined,
  ) {
    const bySource = new Map<string, CompiledMapping>();
    for (const m of mappings) bySource.set(m.source, compileMapping(m));
    this.mappings = [...bySource.values()];
    this.clusterScoped = this.mappings.some((m) => m.byCluster.size > 0);
  }

  get size(): number {
    return this.mappings.length;
  }

  map(subject: string): string {
    if (this.clusterScoped) {
      const name = this.clusterName();
      if (name !== this.cachedCluster) {
        this.cache.clear();
        this.cachedCluster = name;
      }
    }
    let hit = this.cache.get(subject);
    if (hit === undefined) {
      hit = this.resolve(subject);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(subject, hit);
    }
    return typeof hit === "string" ? hit : draw(hit, subject);
  }

  private resolve(subject: string): string | readonly WeightedTransform[] {
    for (const m of this.mappings) {
      if (m.literal ? m.source !== subject : !subjectMatches(m.source, subject)) continue;
      let dests = m.dests;
      if (m.byCluster.size > 0) {
        const name = this.cachedCluster;
        dests = (name === undefined ? undefined : m.byCluster.get(name)) ?? m.dests;
      }
      if (dests.length === 1 && dests[0].upTo === 100) return emit(dests[0].tr, subject);
      return dests;
    }
    return subject;
  }
}

function emit(tr: SubjectTransform, subject: string): string {
  const out = tr.transform(subject);
  // A split may leave an empty token: nobody can receive that subject, like in nats-server.
  return tr.mayEmitInvalid && !isValidSubscribeSubject(out) ? "" : out;
}

function draw(dests: readonly WeightedTransform[], subject: string): string {
  const w = Math.floor(Math.random() * 100);
  for (const d of dests) if (w < d.upTo) return emit(d.tr, subject);
  return "";
}

// ---- Config ----

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (isObj(v)) return "a map";
  return typeof v === "bigint" ? String(v) : JSON.stringify(v);
}

function configWeight(v: unknown, at: string): number {
  let n: number;
  if (typeof v === "number" || typeof v === "bigint") n = Number(v);
  else if (typeof v === "string") {
    const s = v.endsWith("%") ? v.slice(0, -1) : v;
    const parsed = goAtoi(s);
    if (parsed === undefined) throw new MappingError(`${at}: Invalid weight "${s}" for mapping destination`);
    n = Number(parsed);
  } else throw new MappingError(`${at}: Unknown entry type for weight of ${describe(v)}`);
  if (!Number.isInteger(n) || n < 0 || n > 100) {
    throw new MappingError(`${at}: Invalid weight ${n} for mapping destination`);
  }
  return n;
}

function configDestination(v: unknown, at: string): MapDestination {
  if (!isObj(v)) throw new MappingError(`${at}: Expected an entry for the mapping destination`);
  let subject = "";
  let weight: number | undefined;
  let cluster: string | undefined;
  for (const [key, val] of Object.entries(v)) {
    const k = key.toLowerCase();
    switch (k) {
      case "dest":
      case "destination":
        if (typeof val !== "string")
          throw new MappingError(`${at}.${key}: expected a string, got ${describe(val)}`);
        subject = val;
        break;
      case "weight":
        weight = configWeight(val, `${at}.${key}`);
        break;
      case "cluster":
        if (typeof val !== "string")
          throw new MappingError(`${at}.${key}: expected a string, got ${describe(val)}`);
        cluster = val;
        break;
      default:
        throw new MappingError(`${at}: Unknown field ${JSON.stringify(key)} for mapping destination`);
    }
  }
  if (weight === undefined) {
    throw new MappingError(`${at}: Missing weight for mapping destination ${JSON.stringify(subject)}`);
  }
  return cluster === undefined ? { subject, weight } : { subject, weight, cluster };
}

/**
 * A `mappings { }` block (top level or in an account), as nats-server reads it: `src: "dest"`,
 * `src: { destination, weight, cluster }` or `src: [ {...}, ... ]`. Every mapping is checked; a
 * MappingError names the block (`at`) and the mapping.
 */
export function mappingsFromConfig(v: unknown, at: string): MappingConfig[] {
  if (!isObj(v))
    throw new MappingError(`${at}: expected a map of subjects to destinations, got ${describe(v)}`);
  const out: MappingConfig[] = [];
  for (const [source, val] of Object.entries(v)) {
    const where = `${at}.${source}`;
    if (!isValidSubscribeSubject(source)) {
      throw new MappingError(`${at}: Subject ${JSON.stringify(source)} is not a valid subject`);
    }
    const shorthand = typeof val === "string";
    let destinations: MapDestination[];
    if (typeof val === "string") destinations = [{ subject: val, weight: 100 }];
    else if (Array.isArray(val)) destinations = val.map((d, i) => configDestination(d, `${where}[${i}]`));
    else destinations = [configDestination(val, where)];
    const m: MappingConfig = { source, destinations };
    const problem = mappingProblem(m);
    if (problem !== undefined)
      throw new MappingError(`${at}: ${describeMappingError(m, problem, shorthand)}`);
    out.push(m);
  }
  return out;
}

/** An account JWT's `mappings` claim: `{ "src": [ { subject, weight, cluster } ] }`; weight 0 means 100. */
export function mappingsFromClaims(v: unknown): MappingConfig[] {
  if (!isObj(v)) return [];
  const out: MappingConfig[] = [];
  for (const [source, list] of Object.entries(v)) {
    if (!Array.isArray(list)) continue;
    const destinations: MapDestination[] = [];
    for (const d of list) {
      if (!isObj(d)) continue;
      const subject = typeof d.subject === "string" ? d.subject : "";
      const w = typeof d.weight === "number" ? d.weight : 0;
      const weight = w === 0 ? 100 : w;
      const cluster = typeof d.cluster === "string" && d.cluster !== "" ? d.cluster : undefined;
      destinations.push(cluster === undefined ? { subject, weight } : { subject, weight, cluster });
    }
    out.push({ source, destinations });
  }
  return out;
}
