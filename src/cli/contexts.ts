// Saved connection contexts: one JSON file per context under the user's config dir
// ($XDG_CONFIG_HOME/lattice/contexts/<name>.json, ~/.config when XDG_CONFIG_HOME is unset), and the selected
// one's name in $XDG_CONFIG_HOME/lattice/context.txt.

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, usageError } from "./errors.js";

export interface ContextSettings {
  description?: string;
  url?: string;
  user?: string;
  password?: string;
  token?: string;
  nkey?: string;
  creds?: string;
  tlscert?: string;
  tlskey?: string;
  tlsca?: string;
  tlsfirst?: boolean;
  timeout?: string;
  jsDomain?: string;
  /** Monitoring endpoint (http://host:8222) for `server info` / `server report`. */
  monitor?: string;
}

export const CONTEXT_KEYS: ReadonlyArray<keyof ContextSettings> = [
  "description",
  "url",
  "user",
  "password",
  "token",
  "nkey",
  "creds",
  "tlscert",
  "tlskey",
  "tlsca",
  "tlsfirst",
  "timeout",
  "jsDomain",
  "monitor",
];

export function configDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".config");
  return join(base, "lattice");
}

function contextsDir(): string {
  return join(configDir(), "contexts");
}

function selectedFile(): string {
  return join(configDir(), "context.txt");
}

export function validContextName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw usageError(`invalid context name "${name}": use letters, digits, ".", "_" and "-"`);
  }
}

export function contextPath(name: string): string {
  return join(contextsDir(), `${name}.json`);
}

export function contextExists(name: string): boolean {
  return existsSync(contextPath(name));
}

export function loadContext(name: string): ContextSettings {
  validContextName(name);
  const path = contextPath(name);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError(`unknown context "${name}" (see lattice context ls)`);
  }
  try {
    return JSON.parse(text) as ContextSettings;
  } catch (err) {
    throw new CliError(`context "${name}" (${path}) is not valid JSON: ${(err as Error).message}`);
  }
}

export function saveContext(name: string, settings: ContextSettings): string {
  validContextName(name);
  mkdirSync(contextsDir(), { recursive: true, mode: 0o700 });
  const path = contextPath(name);
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // it may hold a password or token
  return path;
}

export function removeContext(name: string): void {
  validContextName(name);
  if (!contextExists(name)) throw new CliError(`unknown context "${name}"`);
  rmSync(contextPath(name));
  if (selectedContext() === name) rmSync(selectedFile(), { force: true });
}

export function listContexts(): string[] {
  try {
    return readdirSync(contextsDir())
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
  } catch {
    return [];
  }
}

export function selectedContext(): string | undefined {
  try {
    const name = readFileSync(selectedFile(), "utf8").trim();
    return name === "" ? undefined : name;
  } catch {
    return undefined;
  }
}

export function selectContext(name: string | undefined): void {
  if (name === undefined) {
    rmSync(selectedFile(), { force: true });
    return;
  }
  if (!contextExists(name)) throw new CliError(`unknown context "${name}" (see lattice context ls)`);
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  writeFileSync(selectedFile(), `${name}\n`);
}
