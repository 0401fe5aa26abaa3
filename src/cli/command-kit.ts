// Helpers every command file uses: the action wrapper (errors -> one line + exit code, --json -> no colour),
// examples in --help, confirmation for destructive operations, stdin, and templates in bodies.

import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { CliError, Exit, reportError, usageError } from "./errors.js";
import { setJsonMode } from "./output.js";

/**
 * Wrap a command action: `--json` switches colour off, a thrown error becomes one line on stderr and an exit
 * code, and a returned number becomes the exit code (monitoring checks).
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes positional arguments of any shape
export function action<A extends any[]>(fn: (...args: A) => Promise<unknown>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    if ((cmd.opts() as { json?: boolean }).json === true) setJsonMode(true);
    try {
      const code = await fn(...args);
      if (typeof code === "number") process.exitCode = code;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Adds an "Examples:" block to a command's --help. */
export function examples(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

/** Destructive operations ask on a terminal; without one they need --force. */
export async function confirm(question: string, force: boolean | undefined): Promise<void> {
  if (force === true) return;
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
    throw usageError(`${question.replace(/\?$/, "")}: refusing without --force (no terminal to confirm on)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new CliError("cancelled", Exit.FAILED);
  } finally {
    rl.close();
  }
}

/** Ask a yes/no question on a terminal; false without one. */
export async function askYes(question: string, defaultYes = true): Promise<boolean> {
  if (process.stdin.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} ${defaultYes ? "[Y/n]" : "[y/N]"} `)).trim().toLowerCase();
    if (answer === "") return defaultYes;
    return answer === "y" || answer === "yes";
  } finally {
    rl.close();
  }
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body from the argument, or stdin with --force-stdin (or when the argument is "-"). */
export async function bodyFrom(
  arg: string | undefined,
  forceStdin: boolean | undefined,
): Promise<Uint8Array> {
  if (forceStdin === true || arg === "-") return readStdin();
  return new TextEncoder().encode(arg ?? "");
}

export interface TemplateVars {
  count: number;
  request?: string;
}

const TEMPLATE = /\{\{\s*([A-Za-z]+)((?:\s+-?\d+)*)\s*\}\}/g;

/**
 * Body templates, as the NATS tools have them: {{Count}} (1, 2, ...), {{ID}} (a unique id), {{TimeStamp}}
 * (RFC 3339), {{Unix}}, {{UnixNano}}, {{Time}} (hh:mm:ss), {{Random min max}} (random text of that length),
 * and in `reply`, {{Request}} (the request body).
 */
export function renderTemplate(text: string, vars: TemplateVars): string {
  if (!text.includes("{{")) return text;
  return text.replace(TEMPLATE, (whole, name: string, argText: string) => {
    const args = argText.trim() === "" ? [] : argText.trim().split(/\s+/).map(Number);
    switch (name.toLowerCase()) {
      case "count":
      case "cnt":
        return String(vars.count);
      case "id":
        return randomId(22);
      case "timestamp":
        return new Date().toISOString();
      case "unix":
        return String(Math.floor(Date.now() / 1000));
      case "unixnano":
        return (BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString();
      case "time":
        return new Date().toTimeString().slice(0, 8);
      case "random": {
        const [min = 10, max = min] = args;
        const len = Math.max(0, Math.floor(min + Math.random() * (Math.max(max, min) - min + 1)));
        return randomText(len);
      }
      case "request":
        if (vars.request !== undefined) return vars.request;
        throw usageError(`template ${whole} is only available in reply bodies`);
      default:
        throw usageError(
          `unknown template ${whole} (known: {{Count}}, {{ID}}, {{TimeStamp}}, {{Unix}}, {{UnixNano}}, {{Time}}, {{Random min max}})`,
        );
    }
  });
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomText(len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return s;
}

function randomId(len: number): string {
  return randomText(len).toUpperCase();
}

/** Sleep that a Ctrl-C still interrupts promptly. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves on the first SIGINT/SIGTERM; long-running commands race their work against it. */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
