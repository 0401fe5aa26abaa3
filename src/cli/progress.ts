// Progress bars on stderr, only when stderr is a terminal (never in pipes, scripts or tests).

import { createRequire } from "node:module";
import { humanBytes, humanCount } from "./output.js";

export interface Progress {
  update(value: number): void;
  increment(by?: number): void;
  stop(): void;
}

const NONE: Progress = { update() {}, increment() {}, stop() {} };

export function progressWanted(disabled: boolean | undefined): boolean {
  return disabled !== true && process.stderr.isTTY === true;
}

/** A bar counting bytes ("12 MiB / 100 MiB") or items ("1,000 / 10,000"). */
export function progressBar(
  total: number,
  unit: "bytes" | "items",
  label: string,
  enabled: boolean,
): Progress {
  if (!enabled || total <= 0) return NONE;
  const fmt = unit === "bytes" ? humanBytes : (n: number) => humanCount(n);
  // Loaded on first use: only commands that draw a bar on a terminal pay for it.
  const { Presets, SingleBar } = createRequire(import.meta.url)(
    "cli-progress",
  ) as typeof import("cli-progress");
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {done} / {all} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 10,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { done: fmt(0), all: fmt(total) });
  let value = 0;
  return {
    update(v: number) {
      value = v;
      bar.update(v, { done: fmt(v) });
    },
    increment(by = 1) {
      value += by;
      bar.update(value, { done: fmt(value) });
    },
    stop() {
      bar.stop();
    },
  };
}
