// Simulation seeds that once failed, replayed exactly (same seed, same number of steps).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { replayCommand, runSimulation } from "./sim/run.js";

const REGRESSIONS: readonly { seed: number; steps: number; what: string }[] = [
  {
    seed: 26,
    steps: 200,
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
