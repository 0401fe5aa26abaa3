import { HttpError } from "./types.js";

// Query-parameter decoding with nats-server's rules and error texts (they come from Go's strconv), so
// scripts that probe for a 400 see the same message. An absent or empty parameter is the zero value.

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function fail(kind: string, name: string, fn: string, value: string, why: string): never {
  throw new HttpError(
    400,
    `Error decoding ${kind} for '${name}': strconv.${fn}: parsing ${JSON.stringify(value)}: ${why}`,
  );
}

export function decodeBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === "") return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return fail("boolean", name, "ParseBool", v, "invalid syntax");
}

export function decodeInt(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === "") return 0;
  if (!/^[+-]?\d+$/.test(v)) fail("int", name, "Atoi", v, "invalid syntax");
  const n = BigInt(v);
  if (n > INT64_MAX || n < -INT64_MAX - 1n) fail("int", name, "Atoi", v, "value out of range");
  return Number(n);
}

export function decodeUint(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === "") return 0;
  if (!/^\d+$/.test(v)) fail("uint64", name, "ParseUint", v, "invalid syntax");
  if (BigInt(v) > UINT64_MAX) fail("uint64", name, "ParseUint", v, "value out of range");
  return Number(v);
}

/** nats-server's paging: a negative offset is 0, a non-positive limit is the default. */
export function paging(q: URLSearchParams, defaultLimit: number): { offset: number; limit: number } {
  const offset = decodeInt(q, "offset");
  const limit = decodeInt(q, "limit");
  return { offset: Math.max(0, offset), limit: limit > 0 ? limit : defaultLimit };
}
