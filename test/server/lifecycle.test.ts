import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { RawClient, startLattice } from "../helpers/servers.js";

describe("server lifecycle", () => {
  it("lame-duck mode announces itself, refuses new clients, then closes the rest", async () => {
    const srv = await startLattice({ lame_duck_duration: "600ms", lame_duck_grace_period: "200ms" });
    const nc = await connect({ servers: srv.url, reconnect: false });
    const statuses: string[] = [];
    (async () => {
      for await (const s of nc.status()) statuses.push(s.type);
    })();
    const raw = await RawClient.connect(srv.port);
    raw.write('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
    await raw.waitFor((t) => t.includes("PONG"));
    const done = srv.server.enterLameDuckMode();
    const ldmInfo = await raw.waitFor((t) => t.includes('"ldm":true'), 1000);
    assert.match(ldmInfo, /INFO \{[^\r]*"ldm":true/);
    await assert.rejects(RawClient.connect(srv.port).then((c) => c.settle(100)));
    await done;
    await nc.closed();
    assert.ok(statuses.includes("ldm"), statuses.join(","));
    assert.ok(raw.closed);
    const reasons = srv.server.closed.list().map((c) => c.closeReason);
    assert.ok(reasons.includes("Lame Duck Mode"), reasons.join(","));
  });

  it("shutdown closes every client with a reason and stops listening", async () => {
    const srv = await startLattice();
    const nc = await connect({ servers: srv.url, reconnect: false });
    await nc.flush();
    await srv.close();
    await nc.closed();
    assert.deepEqual(
      srv.server.closed.list().map((c) => c.closeReason),
      ["Server Shutdown"],
    );
    await assert.rejects(RawClient.connect(srv.port));
  });
});
