// The lattice example (examples/lattice): calls stay in their region while it has an instance, move to
// another cluster with no failed call when east's instance stops, and keep working behind a cut leaf link.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runExample } from "../../examples/lattice/lattice.js";

describe("lattice example", () => {
  it("keeps calls in their region, fails over with no failed call, and serves the edge offline", async () => {
    const calls = 600;
    const r = await runExample(calls);
    for (const s of r.steady) {
      assert.equal(s.failed, 0, `${s.region}: failed calls`);
      assert.equal(s.servedBy[s.region], calls, `${s.region}: every call served in its own region`);
    }
    assert.equal(r.failover.failed, 0, "no failed call when east's instance stops");
    assert.ok(r.failover.servedBy.east >= calls / 2 - 1, "east served until it stopped");
    assert.equal(r.failover.servedBy.east + r.failover.servedBy.west + r.failover.servedBy.edge, calls);
    assert.ok(
      r.failover.servedBy.west + r.failover.servedBy.edge > 0,
      "then another cluster served east's calls",
    );
    assert.equal(r.offline.failed, 0, "no failed call behind the cut leaf link");
    assert.equal(r.offline.servedBy.edge, calls);
  });
});
