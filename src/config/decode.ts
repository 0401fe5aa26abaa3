/**
 * The value converters of the option readers: a parsed config value (or a flag override, which uses the
 * same names and shapes) to a boolean, integer, string, string list, map, duration, size or listen address.
 *
 * Every converter takes the option's dotted name (`cluster.port`) and throws an OptionsError that starts
 * with it: `cluster.port: expected an integer, got "x"`. The unit grammars (Go durations, storage sizes)
 * live in units.ts; this module is what option readers call. `decodeBlock` reads a `{ }` block key by key
 * through a table of such converters (`BlockKeys`), warning about the keys the table does not list.
 */
import { ConfigError } from "./errors.js";
import { type ConfigMap, isUsedAsVariable } from "./tree.js";
import { durationFromConfig, parseGoDuration, parseStorageSize } from "./units.js";

/** A config value (or flag) that cannot be used; the message names the option. */
export class OptionsError extends Error {}

export type Conf = Record<string, unknown>;
export type Warn = (msg: string) => void;

/** A short description of a value for error messages: `"x"`, `12`, `true`, `an array`, `a map`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (v instanceof Date) return `date ${v.toISOString()}`;
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "a map";
  if (typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

/** A parsed sub-map (not an array, not a date). */
export function isMap(v: unknown): v is Conf {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

export function asInt(v: unknown, field: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return Number(v);
  throw new OptionsError(`${field}: expected an integer, got ${describeValue(v)}`);
}

/** Strings as they are; numbers and booleans as written (`name: 1` names something "1"). */
export function asString(v: unknown, field: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new OptionsError(`${field}: expected a string, got ${describeValue(v)}`);
}

const TRUE_WORDS = new Set(["true", "yes", "on", "enabled", "enable"]);
const FALSE_WORDS = new Set(["false", "no", "off", "disabled", "disable"]);

export function asBool(v: unknown, field: string): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (TRUE_WORDS.has(s)) return true;
    if (FALSE_WORDS.has(s)) return false;
  }
  throw new OptionsError(`${field}: expected a boolean, got ${describeValue(v)}`);
}

/** A copy of a map with lower-cased keys (option names are case-insensitive). */
export function asMap(v: unknown, field: string): Conf {
  if (!isMap(v)) throw new OptionsError(`${field}: expected a map, got ${describeValue(v)}`);
  const out: Conf = {};
  for (const [k, val] of Object.entries(v)) out[k.toLowerCase()] = val;
  return out;
}

export function asList(v: unknown, field: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new OptionsError(`${field}: expected an array, got ${describeValue(v)}`);
}

/** An array of strings, or one string standing for a list of one. */
export function asStringList(v: unknown, field: string): string[] {
  if (typeof v === "string") return [v];
  if (!Array.isArray(v)) {
    throw new OptionsError(`${field}: expected a string or an array of strings, got ${describeValue(v)}`);
  }
  return v.map((x, i) => {
    if (typeof x !== "string") {
      throw new OptionsError(`${field}[${i}]: expected a string, got ${describeValue(x)}`);
    }
    return x;
  });
}

function asOptionsError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new OptionsError(err.message);
    throw err;
  }
}

/**
 * A Go duration string ("2m", "500ms") in milliseconds. A bare number is taken as seconds with
 * nats-server's "should be converted to a duration" warning.
 */
export function asDuration(v: unknown, field: string, warn: Warn): number {
  const d = asOptionsError(() => durationFromConfig(v, field));
  if (d.warning) warn(d.warning);
  return d.ms;
}

/**
 * The older timeout style (`authorization.timeout`): seconds as a number, fractions allowed, or a Go
 * duration string; in milliseconds, never negative.
 */
export function asSeconds(v: unknown, field: string): number {
  let ms: number;
  if (typeof v === "number") ms = v * 1000;
  else if (typeof v === "string") {
    try {
      ms = Number(parseGoDuration(v)) / 1e6;
    } catch (err) {
      throw new OptionsError(`${field}: ${(err as Error).message}`);
    }
  } else {
    throw new OptionsError(`${field}: expected seconds or a duration string, got ${describeValue(v)}`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new OptionsError(`${field}: must not be negative`);
  return ms;
}

/** A storage size in bytes (integer, or "512M" / "1G" with binary multiples). */
export function asSize(v: unknown, field: string): number {
  return asOptionsError(() => parseStorageSize(v, field));
}

/** `host:port`, `:port`, `[v6]:port`, or a port number (a string without a port is refused, as nats-server does). */
export function parseListen(v: unknown, field: string): { host?: string; port: number } {
  if (typeof v === "number") return { port: asInt(v, field) };
  const s = asString(v, field);
  if (/^-?\d+$/.test(s.trim())) return { port: Number(s) };
  const i = s.lastIndexOf(":");
  const portText = i < 0 ? "" : s.slice(i + 1);
  if (i < 0 || (s.indexOf(":") !== i && !s.startsWith("["))) {
    throw new OptionsError(
      `${field}: could not parse address string ${JSON.stringify(s)} (expected host:port)`,
    );
  }
  if (!/^-?\d+$/.test(portText)) {
    throw new OptionsError(`${field}: could not parse port ${JSON.stringify(portText)}`);
  }
  const host = s.slice(0, i).replace(/^\[|\]$/g, "");
  return { host: host === "" ? undefined : host, port: Number(portText) };
}

/** One entry of a config block: lower-cased key, value, dotted name, and whether it only defines a variable. */
export interface BlockEntry {
  key: string;
  value: unknown;
  field: string;
  /** The key was referenced as `$key` in the configuration (so it is not an unknown option). */
  definesVariable: boolean;
}

/** The entries of the map at `field`, keys lower-cased; throws when the value is not a map. */
export function blockEntries(v: unknown, field: string): BlockEntry[] {
  if (!isMap(v)) throw new OptionsError(`${field}: expected a map, got ${describeValue(v)}`);
  return Object.entries(v).map(([k, value]) => ({
    key: k.toLowerCase(),
    value,
    field: `${field}.${k.toLowerCase()}`,
    definesVariable: isUsedAsVariable(v as ConfigMap, k),
  }));
}

/** Warns about an unknown key of a block, unless it only defines a variable. */
export function unknownField(e: BlockEntry, warn: Warn): void {
  if (!e.definesVariable) warn(`unknown field "${e.field}"`);
}

/** Each element of the array at `field` through `each`, which is given the element's name (`field[i]`). */
export function asListOf<T>(
  v: unknown,
  field: string,
  warn: Warn,
  each: (x: unknown, field: string, warn: Warn) => T,
): T[] {
  return asList(v, field).map((x, i) => each(x, `${field}[${i}]`, warn));
}

/** How one key of a block is decoded into the block's options `T`. */
export type KeyDecoder<T> = (target: T, e: BlockEntry, warn: Warn) => void;

/** A block's keys and their decoders; aliases share an entry, written `"host|net"`. */
export type BlockKeys<T> = Record<string, KeyDecoder<T>>;

/**
 * Decodes the map at `field` into `target` key by key, in the order written, and returns `target`. Keys
 * that `keys` does not list warn as unknown fields.
 */
export function decodeBlock<T>(v: unknown, field: string, target: T, warn: Warn, keys: BlockKeys<T>): T {
  const byName = new Map<string, KeyDecoder<T>>();
  for (const [names, decode] of Object.entries(keys)) {
    for (const name of names.split("|")) byName.set(name, decode);
  }
  for (const e of blockEntries(v, field)) {
    const decode = byName.get(e.key);
    if (decode === undefined) unknownField(e, warn);
    else decode(target, e, warn);
  }
  return target;
}

/** A key stored in `target[prop]` after conversion, e.g. `no_advertise: assign("noAdvertise", asBool)`. */
export function assign<T, K extends keyof T>(
  prop: K,
  convert: (v: unknown, field: string, warn: Warn) => T[K],
): KeyDecoder<T> {
  return (target, e, warn) => {
    target[prop] = convert(e.value, e.field, warn);
  };
}

/** A key nats-server knows that changes nothing in this release: accepted with a warning. */
export function noEffect(_target: unknown, e: BlockEntry, warn: Warn): void {
  warn(`${e.field} is accepted but has no effect in this release`);
}

/** A key whose use is an error, with `why` after the option's name. */
export function refused(why: string): KeyDecoder<unknown> {
  return (_target, e) => {
    throw new OptionsError(`${e.field}: ${why}`);
  };
}
