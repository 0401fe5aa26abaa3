import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { InterestChange } from "../../src/server/account.js";
import { startLattice } from "../helpers/servers.js";

describe("interest events", () => {
  it("publishes subscription adds and removes, including auto-unsubscribe and disconnects", async () => {
    const srv = await startLattice();
    const events: string[] = [];
    const stop = srv.server.globalAccount.onInterest((_acc, change: InterestChange) => {
      events.push(`${change.kind}:${change.sub.subject}${change.sub.queue ? `/${change.sub.queue}` : ""}`);
    });
    try {
      const nc = await connect({ servers: srv.url });
      const a = nc.subscribe("a.*");
      nc.subscribe("b", { queue: "q" });
      nc.subscribe("c", { max: 1 });
      await nc.flush();
      a.unsubscribe();
      nc.publish("c", "x");
      await nc.flush();
      await nc.close();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(events, ["add:a.*", "add:b/q", "add:c", "remove:a.*", "remove:c", "remove:b/q"]);
    } finally {
      stop();
      await srv.close();
    }
  });
});
