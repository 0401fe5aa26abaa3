// Known leaf-node failure cases of nats-server, replayed against Lattice: a triangle of leaf links, a spoke
// that reconnects before its hub noticed the old link died, the servers of one leaf cluster connecting to
// one hub, and interest that must come back (and go away) when a server of a daisy chain restarts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { freePort, startNatsCluster } from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { collect, Env, leafSubs, leafUrl, links, pinned, remoteUp, T } from "./helpers.js";

/** Error, warning and info lines a server logs from now on. */
function captureLog(s: RunningServer): string[] {
  const lines: string[] = [];
  const logger = s.server.logger;
  for (const level of ["error", "warn", "info"] as const) {
    const original = logger[level].bind(logger);
    logger[level] = (msg: string) => {
      lines.push(msg);
      original(msg);
    };
  }
  return lines;
}

/**
 * Publish `probe` messages from every publisher until every collector has seen one from each (interest
 * has converged along whatever path), then forget them.
 */
async function converge(
  subject: string,
  publishers: Record<string, NatsConnection>,
  collectors: string[][],
): Promise<void> {
  const names = Object.keys(publishers);
  const seenAll = () => collectors.every((got) => names.every((n) => got.includes(`probe-${n}`)));
  const deadline = Date.now() + 8000;
  while (!seenAll() && Date.now() < deadline) {
    for (const [n, nc] of Object.entries(publishers)) nc.publish(subject, `probe-${n}`);
    await sleep(100);
  }
  assert.ok(
    seenAll(),
    `interest converged: every subscriber hears every publisher (${collectors.map((c) => [...new Set(c)].join("+")).join(" | ")})`,
  );
  await sleep(300);
  for (const got of collectors) got.length = 0;
}

/** Each publisher sends `n` numbered messages; every collector must get each exactly once. */
async function exactlyOnce(
  subject: string,
  publishers: Record<string, NatsConnection>,
  collectors: Record<string, string[]>,
  n = 10,
): Promise<void> {
  for (const [name, nc] of Object.entries(publishers)) {
    for (let k = 0; k < n; k++) nc.publish(subject, `${name}-${k}`);
    await nc.flush();
  }
  const want = Object.keys(publishers).length * n;
  await waitFor(() => Object.values(collectors).every((got) => got.length >= want), {
    what: `${want} messages at every subscriber`,
  });
  await sleep(400);
  for (const [where, got] of Object.entries(collectors)) {
    assert.equal(got.length, want, `${where} got ${got.length} messages, want ${want}`);
    assert.equal(new Set(got).size, want, `${where} got no message twice`);
  }
}

describe("known leaf-node cases", () => {
  // nats-server #5117 (fixed by PR #5126): B -> A, C -> A and C -> B. C reaches B before A exists, so
  // when A comes up the loop closes through links made in an order the daisy-chain check misses.
  it("a triangle of leaf links is detected as a loop, and every message arrives once", T, async () => {
    const env = new Env(pinned);
    try {
      const portA = await freePort();
      const b = await env.server({
        server_name: "tri-b",
        leafnodes: { listen: "127.0.0.1:-1", reconnect: "1s", remotes: [{ urls: [leafUrl(portA)] }] },
      });
      const c = await env.server({
        server_name: "tri-c",
        leafnodes: {
          listen: "127.0.0.1:-1",
          reconnect: "250ms",
          remotes: [{ urls: [leafUrl(portA)] }, { urls: [leafUrl(b)] }],
        },
      });
      const logB = captureLog(b);
      const logC = captureLog(c);
      await waitFor(() => remoteUp(c, 1), { what: "C to reach B" });
      const a = await env.server({
        server_name: "tri-a",
        leafnodes: { listen: `127.0.0.1:${portA}` },
      });
      const logA = captureLog(a);
      const loopSeen = () => [...logA, ...logB, ...logC].some((l) => l.includes("Loop detected"));
      await waitFor(loopSeen, { timeoutMs: 8000, what: "the loop to be detected" });
      await sleep(500);
      const total = () => links(a) + links(b) + links(c);
      // Three links make six link ends; at least one link is gone and stays gone (30 s back-off).
      assert.ok(total() <= 4, `a link is closed (${links(a)}, ${links(b)}, ${links(c)})`);
      const settled = total();
      await sleep(1000);
      assert.equal(total(), settled, "no link flaps");

      // Which servers still reach each other: the links left form a forest (the loop is gone).
      const servers = { a, b, c };
      const names = new Map(Object.entries(servers).map(([k, s]) => [s.server.name, k]));
      const group = new Map(Object.keys(servers).map((k) => [k, k]));
      const root = (k: string): string => (group.get(k) === k ? k : root(group.get(k)!));
      for (const [k, s] of Object.entries(servers))
        for (const l of s.server.leafnodes!.connections)
          if (l.registered && !l.closed) group.set(root(k), root(names.get(l.remoteName)!));
      const ncs = { a: await env.client(a), b: await env.client(b), c: await env.client(c) };
      const at = { a: collect(ncs.a, "tri.x"), b: collect(ncs.b, "tri.x"), c: collect(ncs.c, "tri.x") };
      for (const nc of Object.values(ncs)) await nc.flush();
      await sleep(500);
      for (let round = 0; round < 3; round++) {
        for (const [k, nc] of Object.entries(ncs)) {
          for (let i = 0; i < 10; i++) nc.publish("tri.x", `${k}-${round}-${i}`);
          await nc.flush();
        }
        await sleep(300);
      }
      await sleep(500);
      for (const [where, got] of Object.entries(at)) {
        assert.equal(new Set(got).size, got.length, `${where} got no message twice`);
        for (const from of Object.keys(servers)) {
          const n = got.filter((m) => m.startsWith(`${from}-`)).length;
          // Interest needs a moment to cross; the last round is after everything has settled.
          const last = got.filter((m) => m.startsWith(`${from}-2-`)).length;
          if (root(from) === root(where)) assert.equal(last, 10, `${where} hears ${from} (${n})`);
          else assert.equal(n, 0, `${where} is cut off from ${from}`);
        }
      }
    } finally {
      await env.close();
    }
  });

  // nats-server #1606: the spoke sees its link die and reconnects while the hub still holds the old one
  // (its side saw nothing). The hub must replace the old link, not call the new one a loop.
  it(
    "a spoke that reconnects before the hub noticed the old link died replaces it, no loop reported",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        // The hub pings rarely (it will not notice the dead link during the test); the spoke pings often.
        const hub = await env.server({ server_name: "early-hub", leafnodes: { listen: "127.0.0.1:-1" } });
        const logHub = captureLog(hub);
        const target = { host: "127.0.0.1", port: hub.server.leafnodes!.port };
        const first = await startTcpProxy({ target });
        const second = await startTcpProxy({ target });
        env.proxies.push(first, second);
        const leaf = await env.server({
          server_name: "early-leaf",
          ping_interval: "250ms",
          ping_max: 2,
          leafnodes: {
            reconnect: "250ms",
            remotes: [{ urls: [first.url("nats-leaf"), second.url("nats-leaf")] }],
          },
        });
        const logLeaf = captureLog(leaf);
        await waitFor(() => remoteUp(leaf) && links(hub) === 1, { what: "the leaf link" });
        const ncH = await env.client(hub);
        const ncL = await env.client(leaf);
        const atHub = collect(ncH, "early.up");
        const atLeaf = collect(ncL, "early.down");
        await ncH.flush();
        await ncL.flush();
        await waitFor(() => leafSubs(hub, "early.down") === 1 && leafSubs(leaf, "early.up") === 1, {
          what: "interest both ways",
        });
        const oldLink = leaf.server.leafnodes!.remoteLinks[0]!.connection;

        // Silence on the first path: the spoke's pings go unanswered, it gives up and dials the second.
        first.cut({ mode: "blackhole" });
        await waitFor(() => remoteUp(leaf) && leaf.server.leafnodes!.remoteLinks[0]!.connection !== oldLink, {
          timeoutMs: 8000,
          what: "the spoke to reconnect through the second path",
        });
        await waitFor(() => links(hub) === 1, { what: "the hub to drop the old link" });
        assert.ok(
          logHub.some((l) => l.includes("Duplicate Remote LeafNode Connection")),
          "the hub closed the old link because the same server came back",
        );
        await waitFor(() => leafSubs(hub, "early.down") === 1 && leafSubs(leaf, "early.up") === 1, {
          what: "interest over the new link",
        });
        const loops = [...logHub, ...logLeaf].filter((l) => l.includes("Loop detected"));
        assert.deepEqual(loops, [], "no loop reported");
        await exactlyOnce("early.up", { leaf: ncL }, { hub: atHub });
        await exactlyOnce("early.down", { hub: ncH }, { leaf: atLeaf });
        // Nothing of the old link stays: one subscription per subject on each side.
        assert.equal(leafSubs(hub, "early.down"), 1);
        assert.equal(leafSubs(leaf, "early.up"), 1);
      } finally {
        await env.close();
      }
    },
  );

  // nats-server #6037: the servers of one cluster each dial the same hub. The hub holds two links from one
  // remote cluster: that is not a loop (a loop is a hub cluster we dial also being one of our leafs).
  it(
    "two servers of one leaf cluster on one hub: both links stay up, every message arrives once",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const hub = await env.server({ server_name: "multi-hub", leafnodes: { listen: "127.0.0.1:-1" } });
        const logHub = captureLog(hub);
        const [p1, p2] = [await freePort(), await freePort()];
        const edge = (name: string, port: number) => ({
          server_name: name,
          cluster: {
            name: "edge",
            listen: `127.0.0.1:${port}`,
            routes: [`nats-route://127.0.0.1:${p1}`, `nats-route://127.0.0.1:${p2}`],
          },
          leafnodes: { reconnect: "250ms", remotes: [{ urls: [leafUrl(hub)] }] },
        });
        const e1 = await env.server(edge("edge-1", p1));
        const e2 = await env.server(edge("edge-2", p2));
        const logEdge = [captureLog(e1), captureLog(e2)];
        await waitFor(
          () =>
            remoteUp(e1) &&
            remoteUp(e2) &&
            links(hub) === 2 &&
            e1.server.cluster!.routes.size === 1 &&
            e2.server.cluster!.routes.size === 1,
          { what: "the routes and both leaf links" },
        );
        await sleep(1000);
        assert.equal(links(hub), 2, "both links stay up");
        const loops = [...logHub, ...logEdge.flat()].filter((l) => l.includes("Loop detected"));
        assert.deepEqual(loops, [], "no loop reported");

        const ncs = { hub: await env.client(hub), e1: await env.client(e1), e2: await env.client(e2) };
        const at = {
          hub: collect(ncs.hub, "multi.x"),
          e1: collect(ncs.e1, "multi.x"),
          e2: collect(ncs.e2, "multi.x"),
        };
        for (const nc of Object.values(ncs)) await nc.flush();
        await converge("multi.x", ncs, Object.values(at));
        await exactlyOnce("multi.x", ncs, at);
        // The hub holds each edge server's interest once, from that server's own link.
        assert.equal(leafSubs(hub, "multi.x"), 2);
      } finally {
        await env.close();
      }
    },
  );

  // #6037, the other shape: the servers of a leaf cluster each connect to a different server of a hub
  // cluster (L1 -> H1, L2 -> H2). A message must still reach every subscriber once, on either side.
  it(
    "a leaf cluster whose servers connect to different servers of a hub cluster: every message arrives once",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const [h1p, h2p, l1p, l2p] = [await freePort(), await freePort(), await freePort(), await freePort()];
        const hub = (name: string, port: number) => ({
          server_name: name,
          cluster: {
            name: "hubs",
            listen: `127.0.0.1:${port}`,
            routes: [`nats-route://127.0.0.1:${h1p}`, `nats-route://127.0.0.1:${h2p}`],
          },
          leafnodes: { listen: "127.0.0.1:-1" },
        });
        const h1 = await env.server(hub("hub-1", h1p));
        const h2 = await env.server(hub("hub-2", h2p));
        const leaf = (name: string, port: number, to: RunningServer) => ({
          server_name: name,
          cluster: {
            name: "leaves",
            listen: `127.0.0.1:${port}`,
            routes: [`nats-route://127.0.0.1:${l1p}`, `nats-route://127.0.0.1:${l2p}`],
          },
          leafnodes: { reconnect: "250ms", remotes: [{ urls: [leafUrl(to)] }] },
        });
        const l1 = await env.server(leaf("leaf-1", l1p, h1));
        const l2 = await env.server(leaf("leaf-2", l2p, h2));
        await waitFor(
          () =>
            remoteUp(l1) &&
            remoteUp(l2) &&
            links(h1) === 1 &&
            links(h2) === 1 &&
            [h1, h2, l1, l2].every((s) => s.server.cluster!.routes.size === 1),
          { what: "the routes and both leaf links" },
        );
        const ncs = {
          h1: await env.client(h1),
          h2: await env.client(h2),
          l1: await env.client(l1),
          l2: await env.client(l2),
        };
        const at = {
          h1: collect(ncs.h1, "split.x"),
          h2: collect(ncs.h2, "split.x"),
          l1: collect(ncs.l1, "split.x"),
          l2: collect(ncs.l2, "split.x"),
        };
        for (const nc of Object.values(ncs)) await nc.flush();
        await converge("split.x", ncs, Object.values(at));
        await exactlyOnce("split.x", ncs, at);
      } finally {
        await env.close();
      }
    },
  );

  // PR #4207 (B hub of C, spoke of A: interest of C's clients did not reach A), #2448 (daisy chain after a
  // restart) and #6148 (interest and its removal after restarts): A <- B <- C, each restarted in turn.
  it("a daisy chain A <- B <- C: interest comes back both ways after each server restarts, none stays stale", {
    timeout: 30_000,
  }, async () => {
    const env = new Env(pinned);
    try {
      const [pa, pb] = [await freePort(), await freePort()];
      const opts = {
        a: { server_name: "daisy-a", leafnodes: { listen: `127.0.0.1:${pa}` } },
        b: {
          server_name: "daisy-b",
          leafnodes: { listen: `127.0.0.1:${pb}`, reconnect: "250ms", remotes: [{ urls: [leafUrl(pa)] }] },
        },
        c: {
          server_name: "daisy-c",
          leafnodes: { reconnect: "250ms", remotes: [{ urls: [leafUrl(pb)] }] },
        },
      };
      const servers: Record<"a" | "b" | "c", RunningServer> = {
        a: await env.server(opts.a),
        b: await env.server(opts.b),
        c: await env.server(opts.c),
      };
      const chainUp = () =>
        waitFor(
          () =>
            remoteUp(servers.b) && remoteUp(servers.c) && links(servers.a) === 1 && links(servers.b) === 2,
          { timeoutMs: 8000, what: "the chain" },
        );
      await chainUp();
      // What the links hold with no client anywhere (internal subjects such as loop detection).
      const baseline = { a: leafSubs(servers.a), b: leafSubs(servers.b), c: leafSubs(servers.c) };

      for (const restarted of ["b", "a", "c"] as const) {
        const old = servers[restarted];
        await old.close();
        servers[restarted] = await env.server(opts[restarted]);
        await chainUp();
        const { a, c } = servers;
        // Fresh clients at both ends, subscribing after the restart: their interest must cross the chain.
        const ncA = await env.client(a);
        const ncC = await env.client(c);
        const atA = collect(ncA, `daisy.a.${restarted}`);
        const atC = collect(ncC, `daisy.c.${restarted}`);
        await ncA.flush();
        await ncC.flush();
        await waitFor(
          () => leafSubs(c, `daisy.a.${restarted}`) === 1 && leafSubs(a, `daisy.c.${restarted}`) === 1,
          { what: `interest across the chain after ${restarted} restarted` },
        );
        await exactlyOnce(`daisy.a.${restarted}`, { c: ncC }, { a: atA }, 5);
        await exactlyOnce(`daisy.c.${restarted}`, { a: ncA }, { c: atC }, 5);
        // Gone again at both ends (#6148: no-interest must cross too), and nothing else is left behind.
        await ncA.close();
        await ncC.close();
        await waitFor(
          () =>
            Object.values(servers).every(
              (s) => leafSubs(s, `daisy.a.${restarted}`) === 0 && leafSubs(s, `daisy.c.${restarted}`) === 0,
            ),
          { what: `interest to go away after ${restarted} restarted` },
        );
        await waitFor(() => (["a", "b", "c"] as const).every((k) => leafSubs(servers[k]) === baseline[k]), {
          what: "the links to hold what they held before any client (nothing stale)",
        });
      }
    } finally {
      await env.close();
    }
  });

  // #6037 with nats-server 2.9.10 as the leaf cluster: its two servers each dial one Lattice hub.
  it("a nats-server leaf cluster of two on one Lattice hub: both links stay up, every message arrives once", {
    ...T,
    skip: !hasNatsServer() && "nats-server is not installed",
  }, async () => {
    const env = new Env(pinned);
    let edge: Awaited<ReturnType<typeof startNatsCluster>> | undefined;
    try {
      const hub = await env.server({ server_name: "ns-multi-hub", leafnodes: { listen: "127.0.0.1:-1" } });
      // 2.9.10 reads the reconnect interval as whole seconds.
      edge = await startNatsCluster({
        servers: 2,
        name: "nsedge",
        extra: `leafnodes { reconnect: 1, remotes: [ { urls: ["${leafUrl(hub)}"] } ] }`,
      });
      const logHub = captureLog(hub);
      await waitFor(() => links(hub) === 2, { timeoutMs: 8000, what: "both nats-server leafs on the hub" });
      await sleep(1500);
      assert.equal(links(hub), 2, "both links stay up");
      assert.deepEqual(
        logHub.filter((l) => l.includes("Loop detected")),
        [],
        "no loop reported",
      );
      const ncs = {
        hub: await env.client(hub),
        e0: await env.client(edge.urls[0]!),
        e1: await env.client(edge.urls[1]!),
      };
      const at = {
        hub: collect(ncs.hub, "nsmulti.x"),
        e0: collect(ncs.e0, "nsmulti.x"),
        e1: collect(ncs.e1, "nsmulti.x"),
      };
      for (const nc of Object.values(ncs)) await nc.flush();
      await converge("nsmulti.x", ncs, Object.values(at));
      await exactlyOnce("nsmulti.x", ncs, at);
    } finally {
      await env.close();
      await edge?.close();
    }
  });
});
