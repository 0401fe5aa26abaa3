// Simulation seeds that once failed, replayed exactly (same seed, same number of steps). A seed stands
// for a schedule only as long as the scenario generator (sim/run.ts) draws the same random numbers:
// after changing it, reintroduce the bug, find a failing seed again and update the entry.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { replayCommand, runSimulation } from "./sim/run.js";

const REGRESSIONS: readonly { seed: number; steps: number; what: string }[] = [
  {
    seed: 1280,
    steps: 300,
    what: "a learner (promoted in the candidate's log, not yet in its own) reset its election clock forever and stayed in its dead leader's lease, ignoring every vote request",
  },
];

describe("raft simulation regressions", () => {
  for (const { seed, steps, what } of REGRESSIONS) {
    it(`seed ${seed} (${steps} steps): ${what}`, () => {
      const result = runSimulation({ seed, steps, traceLength: 100 });
      assert.ok(result.ok, `${result.error}\n  replay: ${replayCommand(seed, steps)}`);
    });
  }
});
