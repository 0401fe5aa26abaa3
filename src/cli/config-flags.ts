// What the stream and consumer commands share for their configuration flags: --config files (also the output
// of `info --json`), applying only the flags that were given, metadata entries, and showing what changed.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliError, Exit } from "./errors.js";
import { collect, pairsToRecord } from "./parse.js";

/** Parsed commander options of a configuration command. */
export type Flags = Record<string, unknown>;

/**
 * A JSON configuration file. The output of `lattice stream info --json` (or `consumer info --json`) can be fed
 * back: its "config" member is taken.
 */
export function loadConfigFile<T>(path: string, what: string): Partial<T> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, Exit.USAGE);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    const o = v as Record<string, unknown>;
    return (o.config !== undefined && typeof o.config === "object" ? o.config : o) as Partial<T>;
  } catch (err) {
    throw new CliError(`${path}: invalid ${what} configuration: ${(err as Error).message}`, Exit.USAGE);
  }
}

/** A setter that copies a flag's value onto a configuration field only when the flag was given. */
export function setter(c: Record<string, unknown>): (key: string, v: unknown) => void {
  return (key, v) => {
    if (v !== undefined) c[key] = v;
  };
}

/** Merge `--metadata key=value` entries into the configuration's metadata. */
export function applyMetadata(c: Record<string, unknown>, pairs: unknown): void {
  const md = pairsToRecord(pairs as string[] | undefined);
  if (md !== undefined) c.metadata = { ...((c.metadata as Record<string, string>) ?? {}), ...md };
}

/** --config <file>, first among a configuration command's options. */
export function addConfigFileOption(cmd: Command, what: string): Command {
  return cmd.option("--config <file>", `${what} configuration as JSON (flags override its fields)`);
}

/** --metadata and --json, last among a configuration command's options. */
export function addMetadataAndJsonOptions(cmd: Command, what: string): Command {
  return cmd
    .option("--metadata <key=value>", "metadata entry (repeatable)", collect)
    .option("--json", `print the resulting ${what} information as JSON`);
}

/** "  field: old -> new" for every top-level field that differs. */
export function diffConfigs(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const lines: string[] = [];
  for (const k of [...keys].sort()) {
    const a = JSON.stringify(before[k]);
    const b = JSON.stringify(after[k]);
    if (a !== b) lines.push(`  ${k}: ${a ?? "(unset)"} -> ${b ?? "(unset)"}`);
  }
  return lines;
}
