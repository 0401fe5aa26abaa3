// Loaded into every test file's process (`node --import`): when a file hangs, say why before the runner kills
// it. The runner's file timeout ends the process without a word, so a hung test would otherwise leave nothing
// behind. Two cases:
//   - the event loop stopped turning: the watchdog thread reports it (watchdog.ts);
//   - a promise never settled: shortly before the file timeout, list what is still open (sockets with their
//     ports, servers, timers), which tells a server that will not close from a client that never answers.

import { writeSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { isMainThread } from "node:worker_threads";
import { startWatchdog } from "./watchdog.js";

/** The runner's --test-timeout for a file (package.json), less a margin to write the report. */
const REPORT_AFTER_MS = 105_000;

function describeHandle(h: unknown): string {
  const name = (h as object)?.constructor?.name ?? typeof h;
  if (name === "Socket" || name === "TLSSocket") {
    const s = h as Socket;
    if (s.remoteAddress === undefined) return "pipe (stdio)";
    return `${name} ${s.localAddress ?? "?"}:${s.localPort ?? "?"} -> ${s.remoteAddress ?? "?"}:${s.remotePort ?? "?"}${s.destroyed ? " (destroyed)" : ""}`;
  }
  if (name === "Server") {
    const a = (h as Server).address();
    return `Server ${typeof a === "object" && a !== null ? a.port : String(a)}`;
  }
  return name;
}

// The runner itself (started with --test) and worker threads load this too; only test files' main threads report.
if (isMainThread && !process.execArgv.includes("--test")) {
  startWatchdog();
  setTimeout(() => {
    const handles =
      (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
    writeSync(
      2,
      `hang report: pid ${process.pid} (${process.argv[1] ?? "?"}) still running after ${REPORT_AFTER_MS / 1000} s\n` +
        `  resources: ${process.getActiveResourcesInfo().join(", ")}\n` +
        handles.map((h) => `  handle: ${describeHandle(h)}\n`).join(""),
    );
  }, REPORT_AFTER_MS).unref();
}
