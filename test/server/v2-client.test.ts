import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, headers, type NatsConnection, StringCodec } from "nats";
import type { RunningServer } from "../../src/index.js";
import { startLattice } from "../helpers/servers.js";

const sc = StringCodec();

describe("the v2 `nats` client", () => {
  let srv: RunningServer;
  let nc: NatsConnection;
  before(async () => {
    srv = await startLattice();
    nc = await connect({ servers: srv.url });
  });
  after(async () => {
    await nc.close();
    await srv.close();
  });

  it("publishes and subscribes with headers", async () => {
    const sub = nc.subscribe("v2.>", { max: 2 });
    const h = headers();
    h.set("k", "v");
    nc.publish("v2.a", sc.encode("one"));
    nc.publish("v2.b.c", sc.encode("two"), { headers: h });
    const got: string[] = [];
    for await (const m of sub) got.push(`${m.subject}:${sc.decode(m.data)}:${m.headers?.get("k") ?? ""}`);
    assert.deepEqual(got, ["v2.a:one:", "v2.b.c:two:v"]);
  });

  it("does request-reply and sees no responders", async () => {
    nc.subscribe("v2.svc", { callback: (_e, m) => m.respond(sc.encode(`re:${sc.decode(m.data)}`)) });
    const r = await nc.request("v2.svc", sc.encode("q"), { timeout: 2000 });
    assert.equal(sc.decode(r.data), "re:q");
    await assert.rejects(
      nc.request("v2.none", sc.encode("q"), { timeout: 2000 }),
      (e: Error & { code?: string }) => {
        return e.code === "503";
      },
    );
  });
});
