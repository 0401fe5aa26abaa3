// A leaf remote's deny_exports and deny_imports: what the leaf will not send to its hub, and what it will
// neither ask for nor accept from it.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startServer } from "../../src/index.js";
import { sleep, waitFor } from "../helpers/wait.js";

async function received(
  nc: NatsConnection,
  subject: string,
  publish: () => Promise<void>,
): Promise<string[]> {
  const got: string[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_e, m) => {
      got.push(m.subject);
    },
  });
  await nc.flush();
  await sleep(300); // interest reaches the other side
  await publish();
  await sleep(300);
  sub.unsubscribe();
  return got;
}

describe("leaf remote deny rules", () => {
  it("drops denied exports on the way out and denied imports on the way in", async () => {
    const hub = await startServer({ server_name: "hub", leafnodes: { listen: "127.0.0.1:-1" } });
    const leaf = await startServer({
      server_name: "leaf",
      leafnodes: {
        remotes: [
          {
            urls: [`nats-leaf://127.0.0.1:${hub.server.leafnodes!.port}`],
            deny_exports: ["secret.>"],
            deny_imports: ["private.>"],
          },
        ],
      },
    });
    const nh = await connect({ servers: hub.url });
    const nl = await connect({ servers: leaf.url });
    try {
      await waitFor(() => [...leaf.server.leafnodes!.connections].some((l) => l.registered), {
        what: "the leaf link",
      });
      const up = await received(nh, ">", async () => {
        nl.publish("secret.plan", "x");
        nl.publish("public.news", "x");
        await nl.flush();
      });
      assert.deepEqual(up, ["public.news"], "the hub gets what the leaf may export");

      const down = await received(nl, ">", async () => {
        nh.publish("private.note", "x");
        nh.publish("shared.note", "x");
        await nh.flush();
      });
      assert.deepEqual(down, ["shared.note"], "the leaf takes what it may import");
    } finally {
      await nh.close();
      await nl.close();
      await leaf.close();
      await hub.close();
    }
  });
});
