// startCluster (the embedding API): N servers on loopback that form a full route mesh before it resolves,
// messages that cross it, and its refusals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startCluster } from "../../src/index.js";

/** Publish until the subscriber has one (interest reaches the other servers a moment after SUB). */
async function crosses(pub: NatsConnection, sub: NatsConnection, subject: string): Promise<string> {
  const got = new Promise<string>((resolve) => {
    sub.subscribe(subject, { max: 1, callback: (_e, m) => resolve(m.string()) });
  });
  await sub.flush();
  let done = false;
  void got.then(() => {
    done = true;
  });
  const deadline = Date.now() + 5000;
  while (!done && Date.now() < deadline) {
    pub.publish(subject, "across");
    await pub.flush();
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!done) throw new Error(`${subject}: no message crossed the cluster`);
  return got;
}

describe("startCluster", () => {
  it("starts 3 servers that form a full mesh, and a message crosses it", async () => {
    const cluster = await startCluster({ servers: 3 });
    const clients: NatsConnection[] = [];
    try {
      assert.equal(cluster.servers.length, 3);
      assert.equal(new Set(cluster.urls).size, 3);
      const names = cluster.servers.map((s) => s.server.clusterName);
      assert.equal(new Set(names).size, 1);
      assert.match(names[0]!, /^lattice-[0-9a-f]+$/);
      for (const [i, s] of cluster.servers.entries()) {
        assert.equal(s.url, cluster.urls[i]);
        assert.equal(s.server.name, `${names[0]}-${i + 1}`);
        // Every server has a route to each of the others.
        const peers = [...s.server.cluster!.routes.keys()].sort();
        const others = cluster.servers
          .filter((o) => o !== s)
          .map((o) => o.server.id)
          .sort();
        assert.deepEqual(peers, others);
      }
      const [a, b, c] = await Promise.all(cluster.urls.map((url) => connect({ servers: url })));
      clients.push(a!, b!, c!);
      assert.equal(await crosses(a!, c!, "mesh.one"), "across");
      // Request/reply between the two servers that were not routed to each other at start (gossip).
      c!.subscribe("mesh.svc", {
        callback: (_e, m) => {
          m.respond("pong");
        },
      });
      await c!.flush();
      let answer = "";
      for (let i = 0; i < 50 && answer === ""; i++) {
        answer = await b!
          .request("mesh.svc", "ping", { timeout: 200 })
          .then((m) => m.string())
          .catch(() => "");
      }
      assert.equal(answer, "pong");
      // A client given every URL reaches the cluster.
      const any = await connect({ servers: cluster.urls });
      clients.push(any);
      assert.ok(any.info?.connect_urls?.length === 3);
    } finally {
      await Promise.all(clients.map((nc) => nc.close()));
      await cluster.close();
    }
    for (const s of cluster.servers) assert.equal(s.server.cluster!.routes.size, 0);
  });

  it("takes a name and shared options; routes present the cluster's credentials", async () => {
    const cluster = await startCluster({
      servers: 2,
      name: "alpha",
      max_payload: 65536,
      cluster: { authorization: { user: "route", password: "s3cret" } },
    });
    try {
      for (const s of cluster.servers) {
        assert.equal(s.server.clusterName, "alpha");
        assert.equal(s.server.options.maxPayload, 65536);
        assert.equal(s.server.cluster!.routes.size, 1);
      }
      assert.deepEqual(
        cluster.servers.map((s) => s.server.name),
        ["alpha-1", "alpha-2"],
      );
    } finally {
      await cluster.close();
    }
  });

  it("refuses what cannot work, leaving nothing running", async () => {
    await assert.rejects(startCluster({ servers: 0 }), /servers must be a positive integer/);
    await assert.rejects(startCluster({ servers: 2, port: 4222 }), /cannot share a client port/);
    // A refused option stops the servers that had started.
    await assert.rejects(startCluster({ servers: 2, max_payload: "lots" }));
  });
});
