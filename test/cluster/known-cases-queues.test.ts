// Known queue-group failure cases of nats-server, replayed against Lattice: members behind leaf nodes of a
// cluster that other clusters reach through a gateway, members of one group on leafs of two clusters, and
// a caller on a leaf whose cluster has no member.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { freePort } from "../helpers/nats-cluster.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { collect, Env, leafUrl, links, pinned, remoteUp, T } from "./helpers.js";

const routeUrl = (port: number): string => `nats-route://127.0.0.1:${port}`;

/** A queue member answering with its name, counting what it got. */
function member(nc: NatsConnection, subject: string, name: string, counts: Record<string, number>): void {
  counts[name] = 0;
  nc.subscribe(subject, {
    queue: "workers",
    callback: (_e, m) => {
      counts[name]++;
      if (m.reply) m.respond(name);
    },
  });
}

/** Requests until one is answered, then `n` that must all be; returns who answered each of the `n`. */
async function answers(nc: NatsConnection, subject: string, n: number): Promise<string[]> {
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      await nc.request(subject, "warmup", { timeout: 500 });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push((await nc.request(subject, String(k), { timeout: 2000 })).string());
  return out;
}

function outbound(s: RunningServer, cluster: string): boolean {
  for (const o of s.server.gateways?.outboundConnections() ?? []) if (o.name === cluster) return true;
  return false;
}

/** Whether `s`'s outbound gateway to `cluster` holds that cluster's interest in the queue group. */
function gatewayQueueInterest(s: RunningServer, cluster: string, subject: string): boolean {
  for (const o of s.server.gateways?.outboundConnections() ?? []) {
    if (o.name !== cluster) continue;
    for (const { sub } of o.connection.remoteSubscriptions())
      if (sub.subject === subject && sub.queue === "workers") return true;
  }
  return false;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((x, y) => x + y, 0);

describe("known queue-group cases", () => {
  // PR #6377: members of one group on two leafs of a hub cluster; losing one leaf made the hub drop the
  // group's interest across the gateway although the other leaf's member was still there.
  it(
    "members on leafs of two hub servers: another cluster keeps reaching the group when one leaf goes",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const [ph1, ph2, gwH] = [await freePort(), await freePort(), await freePort()];
        const hubServer = (name: string, port: number, peer: number, gwPort: number) => ({
          server_name: name,
          cluster: { name: "H", listen: `127.0.0.1:${port}`, routes: [routeUrl(peer)] },
          gateway: { name: "H", listen: `127.0.0.1:${gwPort}` },
          leafnodes: { listen: "127.0.0.1:-1" },
        });
        const h1 = await env.server(hubServer("q-h1", ph1, ph2, gwH));
        const h2 = await env.server(hubServer("q-h2", ph2, ph1, -1));
        const w = await env.server({
          server_name: "q-w",
          gateway: {
            name: "W",
            listen: "127.0.0.1:-1",
            gateways: [{ name: "H", urls: [`nats://127.0.0.1:${gwH}`] }],
          },
        });
        const l1 = await env.server({
          server_name: "q-l1",
          leafnodes: { remotes: [{ urls: [leafUrl(h1)] }] },
        });
        const l2 = await env.server({
          server_name: "q-l2",
          leafnodes: { remotes: [{ urls: [leafUrl(h2)] }] },
        });
        await waitFor(
          () =>
            remoteUp(l1) &&
            remoteUp(l2) &&
            links(h1) === 1 &&
            links(h2) === 1 &&
            outbound(w, "H") &&
            outbound(h1, "W") &&
            outbound(h2, "W"),
          { timeoutMs: 10_000, what: "the topology" },
        );
        const counts: Record<string, number> = {};
        const ncL1 = await env.client(l1);
        const ncL2 = await env.client(l2);
        member(ncL1, "q.svc", "l1", counts);
        member(ncL2, "q.svc", "l2", counts);
        await ncL1.flush();
        await ncL2.flush();
        const ncW = await env.client(w);
        const first = await answers(ncW, "q.svc", 40);
        assert.ok(
          first.every((x) => x === "l1" || x === "l2"),
          first.join(","),
        );
        await sleep(200);
        assert.equal(sum(counts), 41, `each request reached one member (${JSON.stringify(counts)})`);

        // One leaf goes: the group still has a member in H, so W keeps its interest and reaches it.
        await ncL1.close();
        await l1.close();
        await waitFor(() => links(h1) === 0, { what: "h1 to lose its leaf" });
        await sleep(500);
        assert.ok(gatewayQueueInterest(w, "H", "q.svc"), "W still knows H has the group");
        const after = await answers(ncW, "q.svc", 20);
        assert.deepEqual(
          after,
          Array.from({ length: 20 }, () => "l2"),
        );
      } finally {
        await env.close();
      }
    },
  );

  // PR #6517: members of one group on leafs of two gatewayed clusters, and a plain subscriber that makes
  // every message cross the gateway: a message must still reach one member only.
  it(
    "one group on leafs of two clusters, plain interest across the gateway: each message reaches one member",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const gwA = await freePort();
        const a = await env.server({
          server_name: "dq-a",
          gateway: { name: "A", listen: `127.0.0.1:${gwA}` },
          leafnodes: { listen: "127.0.0.1:-1" },
        });
        const b = await env.server({
          server_name: "dq-b",
          gateway: {
            name: "B",
            listen: "127.0.0.1:-1",
            gateways: [{ name: "A", urls: [`nats://127.0.0.1:${gwA}`] }],
          },
          leafnodes: { listen: "127.0.0.1:-1" },
        });
        const la = await env.server({
          server_name: "dq-la",
          leafnodes: { remotes: [{ urls: [leafUrl(a)] }] },
        });
        const lb = await env.server({
          server_name: "dq-lb",
          leafnodes: { remotes: [{ urls: [leafUrl(b)] }] },
        });
        await waitFor(() => remoteUp(la) && remoteUp(lb) && outbound(a, "B") && outbound(b, "A"), {
          timeoutMs: 10_000,
          what: "the topology",
        });
        const counts: Record<string, number> = {};
        const ncLa = await env.client(la);
        const ncLb = await env.client(lb);
        member(ncLa, "dq.x", "la", counts);
        member(ncLb, "dq.x", "lb", counts);
        await ncLa.flush();
        await ncLb.flush();
        const ncB = await env.client(b);
        const plainB = collect(ncB, "dq.x");
        const plainLb = collect(ncLb, "dq.x");
        await ncB.flush();
        const ncA = await env.client(a);
        // Interest converged: a probe reaches the plain subscribers on the other side of the gateway.
        await waitFor(
          async () => {
            ncA.publish("dq.x", "probe");
            await ncA.flush();
            await sleep(50);
            return plainB.includes("probe") && plainLb.includes("probe");
          },
          { timeoutMs: 8000, what: "plain interest across the gateway" },
        );
        await sleep(300);
        for (const k of Object.keys(counts)) counts[k] = 0;
        plainB.length = 0;
        plainLb.length = 0;
        const ncLa2 = await env.client(la);
        for (const [pub, tag] of [
          [ncA, "a"],
          [ncB, "b"],
          [ncLa2, "la"],
          [ncLb, "lb"],
        ] as const) {
          for (let k = 0; k < 25; k++) pub.publish("dq.x", `${tag}-${k}`);
          await pub.flush();
        }
        await waitFor(() => plainB.length >= 100 && plainLb.length >= 100 && sum(counts) >= 100, {
          what: "every message at the plain subscribers and the group",
        });
        await sleep(500);
        assert.equal(plainB.length, 100);
        assert.equal(plainLb.length, 100);
        assert.equal(sum(counts), 100, `one member per message (${JSON.stringify(counts)})`);
        // Each cluster serves its own publishers from its own leaf's member (geo-affinity).
        assert.ok(counts.la! >= 50 && counts.lb! >= 50, JSON.stringify(counts));
      } finally {
        await env.close();
      }
    },
  );

  // PR #6126: a caller on a leaf (daisy-chained below a hub) whose cluster has no member must be served by
  // another cluster through the gateway; once a member appears on another leaf of its own cluster, that one.
  it(
    "a caller on a leaf whose cluster has no member is served through the gateway, then by its own cluster",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const gwD = await freePort();
        const d = await env.server({
          server_name: "dc-d",
          gateway: { name: "D", listen: `127.0.0.1:${gwD}` },
        });
        const b = await env.server({
          server_name: "dc-b",
          gateway: {
            name: "B",
            listen: "127.0.0.1:-1",
            gateways: [{ name: "D", urls: [`nats://127.0.0.1:${gwD}`] }],
          },
          leafnodes: { listen: "127.0.0.1:-1" },
        });
        // c is a leaf of b and a hub for e: the caller sits on e, two hops below the gateway.
        const c = await env.server({
          server_name: "dc-c",
          leafnodes: { listen: "127.0.0.1:-1", remotes: [{ urls: [leafUrl(b)] }] },
        });
        const e = await env.server({ server_name: "dc-e", leafnodes: { remotes: [{ urls: [leafUrl(c)] }] } });
        const f = await env.server({ server_name: "dc-f", leafnodes: { remotes: [{ urls: [leafUrl(b)] }] } });
        await waitFor(
          () => remoteUp(c) && remoteUp(e) && remoteUp(f) && outbound(b, "D") && outbound(d, "B"),
          { timeoutMs: 10_000, what: "the topology" },
        );
        const counts: Record<string, number> = {};
        const ncD = await env.client(d);
        member(ncD, "dc.svc", "d", counts);
        await ncD.flush();
        const ncE = await env.client(e);
        const viaGateway = await answers(ncE, "dc.svc", 20);
        assert.deepEqual(
          viaGateway,
          Array.from({ length: 20 }, () => "d"),
        );
        assert.equal(counts.d, 21);

        // A member on another leaf of B: B's cluster now has one, so the gateway is no longer used.
        const ncF = await env.client(f);
        member(ncF, "dc.svc", "f", counts);
        await ncF.flush();
        await waitFor(
          async () => (await ncE.request("dc.svc", "probe", { timeout: 1000 })).string() === "f",
          { timeoutMs: 8000, what: "the caller to be served by its own cluster's member" },
        );
        const local = await answers(ncE, "dc.svc", 20);
        assert.deepEqual(
          local,
          Array.from({ length: 20 }, () => "f"),
        );
      } finally {
        await env.close();
      }
    },
  );
});
