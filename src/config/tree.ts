/**
 * The value tree produced by the parser, plus per-map metadata.
 *
 * Maps are ordinary objects so they print, compare and serialise like JSON. Metadata lives under a
 * private, non-enumerable Symbol property, so `Object.keys`, `for…in`, `JSON.stringify` and
 * `assert.deepStrictEqual` never see it. Read it with the helpers below:
 *
 * - `isUsedAsVariable(map, key)` / `keysUsedAsVariables(map)`: keys of this map that some `$NAME`
 *   reference resolved to. The server reports unknown keys, but must stay quiet about keys that merely
 *   define variables (nats-server does the same).
 * - `keyPosition(map, key)`: file/line/column where the key was written, for error messages about its
 *   value.
 *
 * Keys are stored with `Object.defineProperty`, so a key such as `__proto__` becomes an own data
 * property instead of changing the object's prototype.
 */
import type { SourcePosition } from "./errors.js";

export type ConfigValue = string | number | boolean | Date | ConfigValue[] | ConfigMap;

export interface ConfigMap {
  [key: string]: ConfigValue;
}

interface MapMeta {
  readonly usedAsVariable: Set<string>;
  readonly positions: Map<string, SourcePosition>;
}

const META: unique symbol = Symbol("lattice.config.meta");

type MetaCarrier = { [META]?: MapMeta };

/** A new empty map carrying (hidden) metadata. */
export function createMap(): ConfigMap {
  const map: ConfigMap = {};
  const meta: MapMeta = { usedAsVariable: new Set(), positions: new Map() };
  Object.defineProperty(map, META, { value: meta, enumerable: false, writable: false, configurable: false });
  return map;
}

function metaOf(map: ConfigMap): MapMeta | undefined {
  return (map as MetaCarrier)[META];
}

/** Sets (or replaces) `key`, remembering where it was written. */
export function setEntry(map: ConfigMap, key: string, value: ConfigValue, pos?: SourcePosition): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  if (pos !== undefined) metaOf(map)?.positions.set(key, pos);
}

/** True when `map` has its own key `key` (inherited names such as `toString` do not count). */
export function hasEntry(map: ConfigMap, key: string): boolean {
  return Object.hasOwn(map, key);
}

export function markUsedAsVariable(map: ConfigMap, key: string): void {
  metaOf(map)?.usedAsVariable.add(key);
}

/** True when `key` of `map` was referenced as `$key` somewhere in the configuration. */
export function isUsedAsVariable(map: ConfigMap, key: string): boolean {
  return metaOf(map)?.usedAsVariable.has(key) ?? false;
}

/** All keys of `map` that were referenced as variables. */
export function keysUsedAsVariables(map: ConfigMap): ReadonlySet<string> {
  return metaOf(map)?.usedAsVariable ?? new Set<string>();
}

/** Where `key` of `map` was defined, if the map came from the parser. */
export function keyPosition(map: ConfigMap, key: string): SourcePosition | undefined {
  return metaOf(map)?.positions.get(key);
}

/** A parsed sub-map (not an array, not a Date). */
export function isConfigMap(value: unknown): value is ConfigMap {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Copies `key` (value, position and variable use) from one map to another; used by include. */
export function copyEntry(from: ConfigMap, to: ConfigMap, key: string): void {
  setEntry(to, key, from[key], keyPosition(from, key));
  if (isUsedAsVariable(from, key)) markUsedAsVariable(to, key);
}

/**
 * Deep copy, so that two keys bound through a variable never share mutable objects. `count` is called
 * once per node so the caller can bound the work of repeated expansion.
 */
export function cloneValue(value: ConfigValue, count: () => void): ConfigValue {
  count();
  if (Array.isArray(value)) return value.map((v) => cloneValue(v, count));
  if (value instanceof Date) return new Date(value.getTime());
  if (isConfigMap(value)) {
    const copy = createMap();
    for (const key of Object.keys(value)) {
      setEntry(copy, key, cloneValue(value[key], count), keyPosition(value, key));
      if (isUsedAsVariable(value, key)) markUsedAsVariable(copy, key);
    }
    return copy;
  }
  return value;
}
