// A stream on disk: `<streams dir>/<name>/` with the definition (meta.inf + meta.sum, see meta-file.ts)
// and the file store in `msgs/`. Memory streams have no directory (like nats-server, they don't survive
// a restart).

import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { normalizeConfig } from "./config-check.js";
import { parseRfc3339, rfc3339 } from "./json.js";
import { readMeta, writeMeta } from "./meta-file.js";
import { FileStore, MemoryStore, type MessageStore } from "./store/index.js";
import { storeLimits } from "./stream.js";
import { configJson, decodeStreamConfig, type StreamConfig } from "./stream-config.js";

export function saveDefinition(dir: string, created: bigint, config: StreamConfig): void {
  writeMeta(dir, { created: rfc3339(created), config: configJson(config) });
}

/** Read and validate a stream's definition; throws with the reason. `sumOk` false = checksum mismatch. */
export function readDefinition(dir: string): { config: StreamConfig; created: bigint; sumOk: boolean } {
  const { meta, sumOk } = readMeta(dir);
  const config = normalizeConfig(decodeStreamConfig(meta.config));
  const created = parseRfc3339(String(meta.created)) ?? BigInt(Date.now()) * 1_000_000n;
  return { config, created, sumOk };
}

export function openStore(
  config: StreamConfig,
  dir: string | undefined,
  syncIntervalMs: number,
): Promise<MessageStore> {
  if (dir === undefined)
    return Promise.resolve(new MemoryStore({ firstSeq: config.first_seq, limits: storeLimits(config) }));
  return FileStore.open({
    dir: join(dir, "msgs"),
    firstSeq: config.first_seq,
    limits: storeLimits(config),
    syncIntervalMs,
  });
}

/** Make the directory and write the definition for a new file stream (removing both on failure). */
export async function createStreamDir(
  dir: string,
  created: bigint,
  config: StreamConfig,
  syncIntervalMs: number,
): Promise<MessageStore> {
  try {
    mkdirSync(dir, { recursive: true });
    saveDefinition(dir, created, config);
    return await openStore(config, dir, syncIntervalMs);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Move a directory that failed to load out of the streams dir (kept for inspection); returns where. */
export function setAside(dir: string, damagedRoot: string, name: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  mkdirSync(damagedRoot, { recursive: true });
  const aside = join(damagedRoot, `${name}-${Date.now()}`);
  renameSync(dir, aside);
  return aside;
}
