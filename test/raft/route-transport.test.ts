// Raft traffic over a cluster's routes: every server reaches every other by group and server id, in order,
// on Lattice's own subjects; messages for a group a server does not run are counted and dropped, and a
// server that leaves stops receiving.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RunningServer, startCluster } from "../../src/index.js";
import { RaftTransport } from "../../src/raft/route-transport.js";
import { waitFor } from "../helpers/wait.js";

function transportOf(s: RunningServer): RaftTransport {
  const sys = s.server.accounts.get(s.server.systemAccountName ?? "$SYS");
  assert.ok(sys, "a system account");
  const t = new RaftTransport(s.server.createInternalClient("raft", sys), s.server.id);
  t.start();
  return t;
}

describe("raft transport over routes", () => {
  it("delivers each group's messages between every pair of servers, in order", {
    timeout: 20_000,
  }, async () => {
    const cluster = await startCluster({ servers: 3 });
    try {
      const servers = cluster.servers;
      const transports = servers.map(transportOf);
      const got = servers.map(() => [] as string[]);
      const channels = transports.map((t, i) =>
        t.join("G1", (from, data) => {
          const text = Buffer.from(data).toString();
          if (text !== "hello") got[i].push(`${from}:${text}`);
        }),
      );
      const ids = servers.map((s) => s.server.id);
      // Interest crosses the routes: wait until every server reaches every other.
      await waitFor(
        () => channels.every((c, i) => ids.every((id, j) => i === j || c.send(id, Buffer.from("hello")))),
        { what: "every pair connected", timeoutMs: 5000 },
      );

      for (let k = 0; k < 200; k++) channels[0].send(ids[1], Buffer.from(String(k)));
      channels[2].send(ids[1], Buffer.from("from-c"));
      await waitFor(() => got[1].length === 201, { what: "201 messages at B", timeoutMs: 5000 });
      const fromA = got[1].filter((m) => m.startsWith(`${ids[0]}:`)).map((m) => m.slice(ids[0].length + 1));
      assert.deepEqual(
        fromA,
        Array.from({ length: 200 }, (_, k) => String(k)),
      );
      assert.ok(got[1].includes(`${ids[2]}:from-c`));

      // A group B does not run: counted and dropped there.
      const other = transports[0].join("G2", () => {});
      const dropped = transports[1].stats.dropped;
      other.send(ids[1], Buffer.from("x"));
      await waitFor(() => transports[1].stats.dropped === dropped + 1, {
        what: "a drop at B",
        timeoutMs: 3000,
      });

      // B leaves the group: nothing more arrives for it.
      channels[1].leave();
      channels[0].send(ids[1], Buffer.from("late"));
      await waitFor(() => transports[1].stats.dropped === dropped + 2, {
        what: "a second drop",
        timeoutMs: 3000,
      });
      assert.equal(got[1].length, 201);

      // C stops: its subscription leaves the other servers and sends to it find no one.
      transports[2].stop();
      await waitFor(() => !channels[0].send(ids[2], Buffer.from("gone")), {
        what: "C unreachable",
        timeoutMs: 5000,
      });
      assert.throws(() => transports[0].join("a.b", () => {}), /not a subject token/);
      for (const t of transports) t.stop();
    } finally {
      await cluster.close();
    }
  });
});
