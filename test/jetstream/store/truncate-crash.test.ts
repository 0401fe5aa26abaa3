// Crash safety of truncate: a child appends and truncates (each step durable before the next) and is
// killed with SIGKILL at a random moment. After a restart every acknowledged message is there, nothing a
// durable truncate removed comes back, and a truncate that was in flight either happened or did not —
// never half (a hole in the tail).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FileStore } from "../../../src/jetstream/store/index.js";
import { removeDir, tempDir } from "./helpers.js";
import { truncPayload } from "./truncate-crash-child.js";

const CHILD = fileURLToPath(new URL("./truncate-crash-child.js", import.meta.url));

/** Run the child until it has printed `lines` lines, then SIGKILL it; returns the complete lines. */
function runAndKill(dir: string, round: number, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(round)], {
      env: { ...process.env, LATTICE_TRUNCATE_CRASH_CHILD: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let killed = false;
    const kill = () => {
      killed = true;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(kill, 8000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (!killed && out.split("\n").length > lines) kill();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`child exited on its own: ${code} ${signal}`));
      resolve(
        out
          .slice(0, out.lastIndexOf("\n") + 1)
          .split("\n")
          .filter((l) => l !== ""),
      );
    });
  });
}

/** seq -> generation of every message the store should hold. */
type Model = Map<number, number>;

function payloadGen(data: Uint8Array): number {
  const m = /^g(\d+)-s(\d+)-/.exec(Buffer.from(data).toString());
  assert.ok(m !== null, "payload is intact");
  return Number(m[1]);
}

describe("file store: truncate crash safety", () => {
  let dir = "";
  after(() => removeDir(dir));

  it("keeps acknowledged appends and truncates across SIGKILL, round after round", async () => {
    dir = await tempDir("lattice-truncate-crash-");
    let model: Model = new Map();
    let modelLast = 0;
    for (const [round, target] of [300, 1200, 700, 2500, 900, 1800].entries()) {
      const lines = await runAndKill(dir, round + 1, target);
      let inFlight: number | undefined;
      for (const l of lines) {
        const [op, a, b] = l.split(" ");
        const seq = Number(a);
        if (op === "A") {
          model.set(seq, Number(b));
          modelLast = Math.max(modelLast, seq);
        } else if (op === "t") {
          inFlight = seq;
        } else if (op === "T") {
          for (const q of [...model.keys()]) if (q > seq) model.delete(q);
          modelLast = seq;
          inFlight = undefined;
        }
      }
      const s = await FileStore.open({ dir, blockSize: 16 * 1024 });
      try {
        assert.deepEqual(
          s.problems().filter((p) => p.kind !== "truncated"),
          [],
          "a killed process leaves no damage (at most an unfinished tail)",
        );
        if (inFlight !== undefined) {
          const tail = [...model.keys()].filter((q) => q > (inFlight as number));
          const kept = tail.filter((q) => s.get(q) !== undefined);
          assert.ok(
            kept.length === 0 || kept.length === tail.length,
            "an unfinished truncate is all or nothing",
          );
          if (kept.length === 0 && tail.length > 0) {
            for (const q of tail) model.delete(q);
          }
          if (kept.length === 0) modelLast = Math.min(modelLast, inFlight);
        }
        for (const [seq, gen] of model) {
          const m = s.get(seq);
          assert.ok(m !== undefined, `acknowledged seq ${seq} is missing`);
          assert.equal(Buffer.from(m.data).toString(), truncPayload(seq, gen), `seq ${seq} is the right one`);
        }
        // Anything else is an append that was written but not yet acknowledged: past what was acknowledged.
        for (let m = s.getNext(0); m !== undefined; m = s.getNext(m.seq + 1)) {
          if (model.has(m.seq)) continue;
          assert.ok(m.seq > modelLast, `seq ${m.seq} came back after a truncate`);
          assert.equal(Buffer.from(m.data).toString(), truncPayload(m.seq, payloadGen(m.data)));
        }
        assert.ok(s.state().lastSeq >= modelLast, "the last sequence is not below what was acknowledged");
        // Start the next round from what is there.
        model = new Map();
        for (let m = s.getNext(0); m !== undefined; m = s.getNext(m.seq + 1))
          model.set(m.seq, payloadGen(m.data));
        modelLast = s.state().lastSeq;
      } finally {
        await s.close();
      }
    }
  });
});
