// Capture follows leadership: a stream replica that does not lead takes no publishes on its subjects (the
// leader hands it entries instead); leading again, it captures as before.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JetStreamEngineImpl } from "../../src/jetstream/engine.js";
import { startJs } from "./helpers.js";

describe("stream leadership", () => {
  it("captures publishes only while leading", { timeout: 20_000 }, async () => {
    const env = await startJs();
    try {
      await env.jsm.streams.add({ name: "L", subjects: ["l.>"] });
      const stream = (env.srv.server.jetstream as JetStreamEngineImpl).account("$G")?.stream("L");
      assert.ok(stream);
      assert.equal(stream.leading, true);
      await env.nc.request("l.1", "one");

      stream.setLeader(false);
      await assert.rejects(env.nc.request("l.2", "two", { timeout: 1000 }), /no responders|503/i);
      assert.equal((await env.jsm.streams.info("L")).state.messages, 1);

      stream.setLeader(true);
      const ack = JSON.parse((await env.nc.request("l.3", "three")).string()) as { seq: number };
      assert.equal(ack.seq, 2);
    } finally {
      await env.close();
    }
  });
});
