// The API's changes go through the account's admin: a recording admin in its place sees every create,
// update, purge, delete and consumer change the official client makes, and the answers are what it returns.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AckPolicy } from "@nats-io/jetstream";
import { type JetStreamAdmin, LocalAdmin } from "../../src/jetstream/admin.js";
import type { JetStreamEngineImpl } from "../../src/jetstream/engine.js";
import { startJs } from "./helpers.js";

/** A LocalAdmin that writes down each call before applying it. */
function recording(inner: LocalAdmin, calls: string[]): JetStreamAdmin {
  const note = <T>(call: string, then: () => T): T => {
    calls.push(call);
    return then();
  };
  return {
    createStream: (body) => note(`createStream ${String(body.name)}`, () => inner.createStream(body)),
    updateStream: (name, body) => note(`updateStream ${name}`, () => inner.updateStream(name, body)),
    deleteStream: (name) => note(`deleteStream ${name}`, () => inner.deleteStream(name)),
    purgeStream: (s, r) => note(`purgeStream ${s.name} keep=${r.keep ?? 0}`, () => inner.purgeStream(s, r)),
    deleteMessage: (s, seq, erase) =>
      note(`deleteMessage ${s.name} ${seq} ${erase}`, () => inner.deleteMessage(s, seq, erase)),
    createConsumer: (s, c, a, p) =>
      note(`createConsumer ${s.name} ${c.durable_name ?? ""}`, () => inner.createConsumer(s, c, a, p)),
    deleteConsumer: (s, name) =>
      note(`deleteConsumer ${s.name} ${name}`, () => inner.deleteConsumer(s, name)),
    pauseConsumer: (s, c, until) =>
      note(`pauseConsumer ${s.name} ${c.name} ${until > 0n}`, () => inner.pauseConsumer(s, c, until)),
  };
}

describe("the JetStream admin seam", () => {
  it("carries every change the API makes", { timeout: 20_000 }, async () => {
    const env = await startJs();
    try {
      const acc = (env.srv.server.jetstream as JetStreamEngineImpl).account("$G");
      assert.ok(acc, "JetStream is enabled for the global account");
      const calls: string[] = [];
      acc.admin = recording(new LocalAdmin(acc), calls);

      await env.jsm.streams.add({ name: "S", subjects: ["s.>"] });
      await env.jsm.streams.update("S", { subjects: ["s.>", "t.>"] });
      for (let i = 0; i < 3; i++) await env.nc.request("s.x", `m${i}`);
      await env.jsm.streams.deleteMessage("S", 1);
      await env.jsm.consumers.add("S", { durable_name: "D", ack_policy: AckPolicy.Explicit });
      await env.jsm.consumers.pause("S", "D", new Date(Date.now() + 60_000));
      assert.equal((await env.jsm.consumers.info("S", "D")).paused, true);
      await env.jsm.consumers.delete("S", "D");
      const purged = await env.jsm.streams.purge("S", { keep: 1 });
      assert.equal(purged.purged, 1);
      await env.jsm.streams.delete("S");

      assert.deepEqual(calls, [
        "createStream S",
        "updateStream S",
        "deleteMessage S 1 true",
        "createConsumer S D",
        "pauseConsumer S D true",
        "deleteConsumer S D",
        "purgeStream S keep=1",
        "deleteStream S",
      ]);
    } finally {
      await env.close();
    }
  });
});
