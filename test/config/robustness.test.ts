/**
 * Randomised robustness: mutated and truncated valid files, and plain garbage, must either parse or fail
 * with a ConfigError: never another exception, never a hang. The inputs run in a worker thread so a hang
 * can be detected and the worker terminated. Set LATTICE_FUZZ_SEED to reproduce or vary a run.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { ConfigError, parseConfig } from "../../src/config/index.js";

interface FuzzRequest {
  seed: number;
  iterations: number;
}

interface FuzzReport {
  parsed: number;
  rejected: number;
  slowestMs: number;
  failure?: { input: string; error: string };
}

const CORPUS = [
  `server_name: n1
listen: 127.0.0.1:4222
http: 127.0.0.1:8222
jetstream { store_dir: "/data/js", max_mem: 1GB, max_file: 10GB }   # unquoted 1G would be 10^9
cluster { name: c1, listen: 127.0.0.1:6222, routes: [ nats://127.0.0.1:6223 ] }
leafnodes { listen: 127.0.0.1:7422 }
websocket { port: 8080, no_tls: true }
authorization { users: [ {user: app, password: $APP_PASS} ] }`,
  `port: -1
http: "127.0.0.1:-1"
websocket {
  port: -1
  no_tls: true
 }
server_tags [
  "id:x"
 ]`,
  `accounts {
  A: { users: [ {user: a, password: a} ], jetstream: enabled,
       exports: [ {stream: "puba.>"}, {service: "q.>", accounts: [B], response_type: single} ] }
  B: { users: [ {user: b, password: b} ],
       imports: [ {stream: {account: A, subject: "puba.>"}, prefix: from_a} ] }
}
system_account: A
PASS: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"
n: 1k; f: 1.5; d: 2024-01-02T03:04:05Z; b: yes
s: "esc \\t \\x41 \\"q\\""; r: 'raw'
blk: (
block text
)
v: $PASS // comment`,
  `{ "port": 4222, "debug": true, "tags": ["a", "b"], "js": { "max_mem": 1024 } }`,
];

const ALPHABET = [
  ..."{}[]()\"'\\$#/:=,;\n\r\t  ",
  ..."abcxyzKMGB0123456789.-_",
  "é",
  "😀",
  "\u0000",
  "include ",
  "$APP_PASS",
  "$X",
  "\\x",
  "//",
  "\n)\n",
];

/** Small deterministic PRNG (mulberry32) so failures are reproducible from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeInput(rand: () => number): string {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const kind = int(5);
  if (kind === 0) {
    let s = "";
    const len = int(80);
    for (let i = 0; i < len; i++) s += pick(ALPHABET);
    return s;
  }
  let s = pick(CORPUS);
  if (kind === 1) return s.slice(0, int(s.length + 1));
  const edits = 1 + int(6);
  for (let i = 0; i < edits; i++) {
    const at = int(s.length + 1);
    const op = int(4);
    if (op === 0) s = s.slice(0, at) + pick(ALPHABET) + s.slice(at);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1 + int(8));
    else if (op === 2) s = s.slice(0, at) + pick(ALPHABET) + s.slice(at + 1);
    else {
      const from = int(s.length);
      s = s.slice(0, at) + s.slice(from, from + int(30)) + s.slice(at);
    }
  }
  return kind === 4 ? s.slice(0, int(s.length + 1)) : s;
}

function runFuzz({ seed, iterations }: FuzzRequest): FuzzReport {
  const rand = prng(seed);
  const env = { APP_PASS: "pw", X: "[1, {a: $APP_PASS}]", LOOP: "$LOOP" };
  const report: FuzzReport = { parsed: 0, rejected: 0, slowestMs: 0 };
  for (let i = 0; i < iterations; i++) {
    const input = makeInput(rand);
    const started = performance.now();
    try {
      const result = parseConfig(input, { env });
      assert.equal(typeof result, "object");
      report.parsed++;
    } catch (err) {
      if (!(err instanceof ConfigError)) {
        report.failure = { input, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
        return report;
      }
      report.rejected++;
    }
    report.slowestMs = Math.max(report.slowestMs, performance.now() - started);
  }
  return report;
}

function fuzzInWorker(request: FuzzRequest, deadlineMs: number): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: request });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`parser did not finish within ${deadlineMs} ms (seed ${request.seed}): hang?`));
    }, deadlineMs);
    worker.once("message", (report: FuzzReport) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(report);
    });
    worker.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

if (!isMainThread && parentPort !== null) {
  parentPort.postMessage(runFuzz(workerData as FuzzRequest));
} else {
  describe("config parser robustness", () => {
    it("returns a result or a ConfigError for random and mutated input, without hanging", async () => {
      const seed = Number(process.env.LATTICE_FUZZ_SEED ?? 20240611);
      const report = await fuzzInWorker({ seed, iterations: 20_000 }, 60_000);
      assert.equal(report.failure, undefined, `seed ${seed}: ${JSON.stringify(report.failure, null, 2)}`);
      assert.ok(report.parsed > 100 && report.rejected > 100, JSON.stringify(report));
      assert.ok(report.slowestMs < 1000, `slowest single parse took ${report.slowestMs} ms`);
    });

    it("every prefix of the corpus parses or fails with a ConfigError", () => {
      for (const text of CORPUS) {
        for (let end = 0; end <= text.length; end++) {
          try {
            parseConfig(text.slice(0, end), { env: { APP_PASS: "pw" } });
          } catch (err) {
            assert.ok(err instanceof ConfigError, `prefix ${JSON.stringify(text.slice(0, end))}: ${err}`);
          }
        }
      }
    });

    it("stays fast on large inputs", () => {
      const entries = Array.from({ length: 50_000 }, (_, i) => `"key${i}": ${i}`);
      let started = performance.now();
      const conf = parseConfig(`{${entries.join(",")}}`, { env: {} });
      assert.equal(Object.keys(conf).length, 50_000);
      assert.ok(performance.now() - started < 3000, "one-line JSON with 50k keys");

      started = performance.now();
      const nested = Array.from({ length: 50_000 }, (_, i) => `"k${i}": {"a": [1, {"b": "c"}]}`);
      assert.equal(Object.keys(parseConfig(`{${nested.join(",")}}`, { env: {} })).length, 50_000);
      assert.ok(performance.now() - started < 3000, "one-line JSON with 50k nested maps");

      started = performance.now();
      const long = "x".repeat(2_000_000);
      assert.equal(parseConfig(`a: "${long}"\nb: ${long}\nc: (\n${long}\n)`, { env: {} }).b, long);
      assert.ok(performance.now() - started < 3000, "long strings");
    });
  });
}
