// Bounded waiting for tests: poll a condition until it holds or a deadline passes, and fetch monitoring
// endpoints (nats-server's or Lattice's /varz, /routez, ...) as JSON with a bounded request.

import http from "node:http";
import https from "node:https";

export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Pause between two evaluations of the predicate (default 50 ms). */
  intervalMs?: number;
  /** What is being waited for, used in the timeout message (default "condition"). */
  what?: string;
}

/**
 * Evaluate `predicate` until it returns true. A predicate that throws counts as false (the last error is
 * attached as `cause` of the timeout error). Throws `Error("timed out after <N>ms waiting for <what>")`.
 * A single evaluation that never settles is cut off at the deadline too.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  opts: WaitForOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 50;
  const what = opts.what ?? "condition";
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        Promise.resolve().then(predicate),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), left);
        }),
      ]);
      if (outcome === true) return;
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timer);
    }
    const pause = Math.min(intervalMs, deadline - Date.now());
    if (pause <= 0) break;
    await sleep(pause);
  }
  throw new Error(
    `timed out after ${timeoutMs}ms waiting for ${what}`,
    lastError === undefined ? undefined : { cause: lastError },
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * GET `url` and parse the body as JSON. Rejects on a non-2xx status, a body that is not JSON, or when no
 * complete answer arrives within `timeoutMs` (default 3000). No keep-alive: nothing stays open afterwards.
 */
export function httpJson<T = unknown>(url: string, timeoutMs = 3000): Promise<T> {
  const u = new URL(url);
  const get = u.protocol === "https:" ? https.get : http.get;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let overall: NodeJS.Timeout | undefined;
    const settle = (err: Error | undefined, value?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      if (err !== undefined) {
        req.destroy();
        reject(err);
      } else resolve(value as T);
    };
    const req = get(u, { agent: false, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err) => settle(err));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          settle(new Error(`GET ${url}: HTTP ${status}: ${body.slice(0, 200)}`));
          return;
        }
        try {
          settle(undefined, JSON.parse(body) as T);
        } catch (err) {
          settle(new Error(`GET ${url}: body is not JSON: ${body.slice(0, 200)}`, { cause: err }));
        }
      });
    });
    req.on("error", (err) => settle(err));
    overall = setTimeout(() => settle(new Error(`GET ${url}: no answer within ${timeoutMs}ms`)), timeoutMs);
  });
}
