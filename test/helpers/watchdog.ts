// A test process whose event loop stops turning (a synchronous loop, a blocking call) cannot report
// anything: node:test's own timeouts are timers too. This watchdog runs in a worker thread, sees the main
// thread's heartbeat stop, and writes straight to stderr (fd 2, no event loop needed) what the process
// was doing: the label the tests last set (e.g. the commands they had running).

import { writeSync } from "node:fs";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const BEAT_MS = 500;
const STALL_MS = 20_000;
const LABEL_BYTES = 8192;

interface Shared {
  /** Marks the watchdog's own worker: other workers (whose processes load this module too) are left alone. */
  watchdog: true;
  beat: SharedArrayBuffer;
  label: SharedArrayBuffer;
}

let label: Uint8Array | undefined;
let labelLength: Int32Array | undefined;

/** Start the watchdog once per process (later calls do nothing). */
export function startWatchdog(): void {
  if (!isMainThread || label !== undefined) return;
  const shared: Shared = {
    watchdog: true,
    beat: new SharedArrayBuffer(8),
    label: new SharedArrayBuffer(LABEL_BYTES + 4),
  };
  const beat = new Int32Array(shared.beat);
  label = new Uint8Array(shared.label, 4);
  labelLength = new Int32Array(shared.label, 0, 1);
  setInterval(() => Atomics.add(beat, 0, 1), BEAT_MS).unref();
  const worker = new Worker(new URL(import.meta.url), { workerData: shared });
  worker.unref();
}

/** What the process is doing now, shown if its event loop stalls. */
export function setWatchdogLabel(text: string): void {
  if (label === undefined || labelLength === undefined) return;
  const bytes = new TextEncoder().encode(text.slice(0, LABEL_BYTES / 3));
  label.set(bytes);
  Atomics.store(labelLength, 0, bytes.length);
}

function watch(shared: Shared): void {
  const beat = new Int32Array(shared.beat);
  const text = new Uint8Array(shared.label, 4);
  const length = new Int32Array(shared.label, 0, 1);
  let last = Atomics.load(beat, 0);
  let since = Date.now();
  let reported = false;
  setInterval(() => {
    const now = Atomics.load(beat, 0);
    if (now !== last) {
      if (reported) writeSync(2, `watchdog: pid ${process.pid} event loop running again\n`);
      last = now;
      since = Date.now();
      reported = false;
      return;
    }
    if (reported || Date.now() - since < STALL_MS) return;
    reported = true;
    const doing = new TextDecoder().decode(text.slice(0, Atomics.load(length, 0)));
    writeSync(
      2,
      `watchdog: pid ${process.pid} event loop blocked for ${Math.round((Date.now() - since) / 1000)} s; ` +
        `last label: ${doing || "(none)"}\n`,
    );
  }, BEAT_MS);
}

if (!isMainThread && parentPort !== null && (workerData as Partial<Shared> | null)?.watchdog === true) {
  watch(workerData as Shared);
}
