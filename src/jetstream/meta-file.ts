// A stream's persisted definition: `meta.inf` (JSON: creation time and config) next to `meta.sum` (its
// SHA-256). Each file is replaced atomically (temp file, fsync, rename, fsync of the directory), so a crash
// never leaves a torn definition; a crash between the two renames leaves a stale sum, which load reports
// (and the caller repairs) while still using the intact JSON.

import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export const META_FILE = "meta.inf";
export const META_SUM = "meta.sum";

export interface StreamMeta {
  created: string;
  config: Record<string, unknown>;
}

function checksum(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeMeta(dir: string, meta: StreamMeta): void {
  const text = JSON.stringify(meta);
  writeDurably(join(dir, META_FILE), text);
  writeDurably(join(dir, META_SUM), checksum(text));
  syncDir(dir);
}

/**
 * Read a definition. Throws when `meta.inf` is unreadable or not a definition; `sumOk` is false when the
 * checksum is missing or does not match (damage, or a crash between the two renames).
 */
export function readMeta(dir: string): { meta: StreamMeta; sumOk: boolean } {
  const text = readFileSync(join(dir, META_FILE), "utf8");
  let sum: string | undefined;
  try {
    sum = readFileSync(join(dir, META_SUM), "utf8").trim();
  } catch {
    sum = undefined;
  }
  let meta: StreamMeta;
  try {
    meta = JSON.parse(text) as StreamMeta;
  } catch {
    throw new Error(`${META_FILE} is not valid JSON`);
  }
  if (typeof meta !== "object" || meta === null || typeof meta.config !== "object" || meta.config === null) {
    throw new Error(`${META_FILE} has no stream config`);
  }
  return { meta, sumOk: sum === checksum(text) };
}
