// lattice init --layout legacy: wadm ≤ 0.12's streams, on a fresh server (the two layouts overlap).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { lattice, latticeTarget, type Target } from "./harness.js";

describe("lattice init --layout legacy", () => {
  let t: Target;
  before(async () => {
    t = await latticeTarget();
  });
  after(async () => {
    await t.close();
  });

  it("creates wadm_mirror as a work-queue stream of host events", async () => {
    const r = await lattice(["-s", t.url, "init", "--layout", "legacy", "--memory"]);
    assert.equal(r.code, 0, r.stderr);
    const nc = await connect({ servers: t.url });
    try {
      const jsm = await jetstreamManager(nc);
      const mirror = await jsm.streams.info("wadm_mirror");
      assert.deepEqual(mirror.config.subjects, ["wasmbus.evt.*.>"]);
      assert.equal(mirror.config.retention, "workqueue");
      assert.equal(mirror.config.storage, "memory");
      const events = await jsm.streams.info("wadm_events");
      assert.deepEqual(events.config.subjects, ["wadm.evt.*"]);
    } finally {
      await nc.close();
    }
  });
});
