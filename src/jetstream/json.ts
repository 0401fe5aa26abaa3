// Go-JSON conventions the clients depend on: RFC 3339 timestamps with nanoseconds (trailing zeros trimmed,
// like Go's RFC3339Nano), and request decoding that fails the way Go's json.Unmarshal does (wrong types,
// fractional integers, unknown enum strings) while ignoring unknown fields.

import { apiError } from "./api-errors.js";

export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Nanoseconds since the epoch as Go marshals a time.Time (UTC, RFC3339Nano); 0 = zero time. */
export function rfc3339(ns: bigint): string {
  if (ns === 0n) return ZERO_TIME;
  const ms = ns / 1_000_000n;
  const sub = ns - ms * 1_000_000n;
  const base = new Date(Number(ms)).toISOString(); // 2024-01-02T03:04:05.123Z
  const frac = `${base.slice(20, 23)}${String(sub).padStart(6, "0")}`.replace(/0+$/, "");
  return `${base.slice(0, 19)}${frac === "" ? "" : `.${frac}`}Z`;
}

export function rfc3339Ms(ms: number): string {
  return rfc3339(BigInt(Math.floor(ms)) * 1_000_000n);
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** Parse an RFC 3339 time to nanoseconds since the epoch; undefined when malformed. */
export function parseRfc3339(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const secs = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(secs)) return undefined;
  const frac = BigInt((m[2] ?? "").padEnd(9, "0") || "0");
  return BigInt(secs) * 1_000_000n + frac;
}

/** Parse a request body: empty means `{}`; anything but a JSON object (or null) is invalid JSON. */
export function parseBody(data: Uint8Array, emptyOk = true): Record<string, unknown> {
  if (data.length === 0) {
    if (emptyOk) return {};
    throw apiError("InvalidJSON");
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
  } catch {
    throw apiError("InvalidJSON");
  }
  if (v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw apiError("InvalidJSON");
  return v as Record<string, unknown>;
}

/** A body that must be a JSON object with some content (Go unmarshal of an empty payload fails). */
export function isBlank(data: Uint8Array): boolean {
  for (const b of data) if (b !== 32 && b !== 9 && b !== 10 && b !== 13) return false;
  return true;
}

// ---- typed field readers: each throws InvalidJSON when the value has the wrong type ----------------

type Obj = Record<string, unknown>;

function bad(): never {
  throw apiError("InvalidJSON");
}

export function optString(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : bad();
}

export function optBool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === "boolean" ? v : bad();
}

const INT64 = 2 ** 63;

/**
 * A Go integer field: a JSON number without fraction, within int64 (Go's unmarshal fails beyond). With
 * `sequence`, an unsigned sequence number or count: no negatives, and exact (at most 2^53 - 1).
 */
export function optInt(o: Obj, key: string, sequence = false): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || Math.abs(v) >= INT64) bad();
  if (sequence && (v < 0 || !Number.isSafeInteger(v))) bad();
  return v;
}

export function optStringArray(o: Obj, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) bad();
  return v as string[];
}

export function optObject(o: Obj, key: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) bad();
  return v as Obj;
}

export function optArray(o: Obj, key: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v : bad();
}

export function optEnum<T extends string>(o: Obj, key: string, allowed: readonly T[]): T | undefined {
  const v = optString(o, key);
  if (v === undefined) return undefined;
  return (allowed as readonly string[]).includes(v) ? (v as T) : bad();
}

/** A map of string to string (`metadata`). */
export function optStringMap(o: Obj, key: string): Record<string, string> | undefined {
  const m = optObject(o, key);
  if (m === undefined) return undefined;
  for (const v of Object.values(m)) if (typeof v !== "string") bad();
  return m as Record<string, string>;
}

/** A time.Time field: RFC 3339 string, returned as nanoseconds. */
export function optTime(o: Obj, key: string): bigint | undefined {
  const v = optString(o, key);
  if (v === undefined) return undefined;
  return parseRfc3339(v) ?? bad();
}

/** Encode bytes as standard base64 (Go's []byte JSON encoding). */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** JSON.stringify with Go's encoding/json HTML escaping (`>` as `\u003e`), byte-compatible with nats-server. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
}
