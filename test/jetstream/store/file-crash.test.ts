// Crash safety: a child process appends as fast as it can and is killed with SIGKILL mid-stream. Every
// append it was told is durable must be there, intact, after a restart, and sequences must continue.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FileStore } from "../../../src/jetstream/store/index.js";
import { crashPayload, crashSubject } from "./crash-child.js";
import { removeDir, tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./crash-child.js", import.meta.url));

/** Run the child until it has acknowledged at least `target` appends, then SIGKILL it. */
function runAndKill(
  dir: string,
  target: number,
): Promise<{ appended: number[]; deleting: number[]; deleted: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], {
      env: { ...process.env, LATTICE_STORE_CRASH_CHILD: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let count = 0;
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 8000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      count += chunk.split("\n").length - 1;
      if (!killed && count >= target) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`child exited on its own: ${code} ${signal}`));
      // Only complete lines were acknowledged.
      const lines = out.slice(0, out.lastIndexOf("\n") + 1).split("\n");
      const appended: number[] = [];
      const deleting: number[] = [];
      const deleted: number[] = [];
      for (const l of lines) {
        const seq = Number(l.slice(2));
        if (l.startsWith("A ")) appended.push(seq);
        else if (l.startsWith("R ")) deleting.push(seq);
        else if (l.startsWith("D ")) deleted.push(seq);
      }
      resolve({ appended, deleting, deleted });
    });
  });
}

describe("file store: crash safety", () => {
  let dir = "";
  after(() => removeDir(dir));

  it("keeps every acknowledged append across SIGKILL, round after round", async () => {
    dir = await tempDir("lattice-crash-");
    const deletedEver = new Set<number>();
    const maybeDeleted = new Set<number>();
    let maxAcked = 0;
    for (const target of [500, 3000, 1200, 6000]) {
      const { appended, deleting, deleted } = await runAndKill(dir, target);
      assert.ok(appended.length > 0, "the child acknowledged appends");
      for (const d of deleting) maybeDeleted.add(d);
      for (const d of deleted) deletedEver.add(d);
      const s = await FileStore.open({ dir, blockSize: 64 * 1024 });
      try {
        assert.deepEqual(
          s.problems().filter((p) => p.kind !== "truncated"),
          [],
          "a killed process leaves no damage (at most an unfinished tail)",
        );
        for (const seq of appended) {
          if (maybeDeleted.has(seq)) continue;
          const m = s.get(seq);
          assert.ok(m !== undefined, `acknowledged seq ${seq} is missing`);
          assert.equal(m.subject, crashSubject(seq));
          assert.equal(Buffer.from(m.data).toString(), crashPayload(seq));
        }
        for (const seq of deletedEver) assert.equal(s.get(seq), undefined, `deleted seq ${seq} came back`);
        // Whatever else is there (written but not yet acknowledged) must be intact too.
        for (let m = s.getNext(0); m !== undefined; m = s.getNext(m.seq + 1)) {
          assert.equal(Buffer.from(m.data).toString(), crashPayload(m.seq));
        }
        maxAcked = Math.max(maxAcked, ...appended);
        assert.ok(s.state().lastSeq >= maxAcked);
        const next = s.appendSync(crashSubject(s.state().lastSeq + 1), undefined, Buffer.from("x"));
        assert.ok(next.seq > maxAcked, "no acknowledged sequence is reused");
        s.remove(next.seq);
        await s.flush();
      } finally {
        await s.close();
      }
    }
  });
});
