// An account's `jetstream` entry in the config file: `true`/`enabled`, `false`/`disabled`, or a map of
// limits (names and aliases as nats-server reads them; absent limits are unlimited).
import { parseStorageSize } from "../config/units.js";
import { type AccountLimits, UNLIMITED } from "../jetstream/account-limits.js";

export class JsConfigError extends Error {}

const SIZES: Record<
  string,
  "max_memory" | "max_storage" | "memory_max_stream_bytes" | "storage_max_stream_bytes"
> = {
  max_memory: "max_memory",
  max_mem: "max_memory",
  mem: "max_memory",
  memory: "max_memory",
  max_store: "max_storage",
  max_file: "max_storage",
  max_disk: "max_storage",
  store: "max_storage",
  disk: "max_storage",
  mem_max_stream_bytes: "memory_max_stream_bytes",
  memory_max_stream_bytes: "memory_max_stream_bytes",
  disk_max_stream_bytes: "storage_max_stream_bytes",
  store_max_stream_bytes: "storage_max_stream_bytes",
};

const COUNTS: Record<string, "max_streams" | "max_consumers" | "max_ack_pending"> = {
  max_streams: "max_streams",
  streams: "max_streams",
  max_consumers: "max_consumers",
  consumers: "max_consumers",
  max_ack_pending: "max_ack_pending",
};

const REQUIRED = new Set(["max_bytes_required", "max_stream_bytes", "max_bytes"]);

/** Whether the account has JetStream, and its limits when a map gave them (undefined = unlimited). */
export function parseAccountJetStream(
  v: unknown,
  at: string,
): { enabled: boolean; limits: AccountLimits | undefined } {
  if (typeof v === "boolean") return { enabled: v, limits: undefined };
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (s === "enabled" || s === "enable") return { enabled: true, limits: undefined };
    if (s === "disabled" || s === "disable") return { enabled: false, limits: undefined };
    throw new JsConfigError(`${at}: expected 'enabled' or 'disabled' for string value, got '${v}'`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new JsConfigError(`${at}: expected map, bool or string to define JetStream`);
  }
  const limits: { -readonly [K in keyof AccountLimits]: AccountLimits[K] } = { ...UNLIMITED };
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    const k = key.toLowerCase();
    const f = `${at}.${key}`;
    if (SIZES[k] !== undefined) {
      limits[SIZES[k]] = parseStorageSize(val, f);
    } else if (COUNTS[k] !== undefined) {
      if (typeof val !== "number" || !Number.isInteger(val)) {
        throw new JsConfigError(`${f}: expected an integer, got ${JSON.stringify(val)}`);
      }
      limits[COUNTS[k]] = val;
    } else if (REQUIRED.has(k)) {
      if (typeof val !== "boolean")
        throw new JsConfigError(`${f}: expected a boolean, got ${JSON.stringify(val)}`);
      limits.max_bytes_required = val;
    } else {
      throw new JsConfigError(`${f}: unknown field "${key}"`);
    }
  }
  return { enabled: true, limits };
}
