// Deterministic simulation: thousands of seeded runs of a Raft cluster under random faults (drops,
// delays, duplicates, partitions, crashes losing unsynced writes, rotten disk records) and operations
// (proposals, membership changes, leadership transfers, compactions), with the safety invariants
// checked after every action and liveness checked once faults stop. A failing seed is reported with
// the command that replays it; keep it in regressions.test.ts once fixed.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { replayCommand, runSimulation } from "./sim/run.js";

const SEEDS = 2000;
const STEPS = 300;
const CHUNK = 250;

describe("raft simulation", () => {
  for (let from = 1; from <= SEEDS; from += CHUNK) {
    const to = Math.min(from + CHUNK - 1, SEEDS);
    it(`seeds ${from}-${to}, ${STEPS} steps each`, () => {
      const failures: string[] = [];
      for (let seed = from; seed <= to; seed++) {
        const result = runSimulation({ seed, steps: STEPS });
        if (!result.ok)
          failures.push(`seed ${seed}: ${result.error}\n  replay: ${replayCommand(seed, STEPS)}`);
      }
      assert.deepEqual(failures, []);
    });
  }
});
