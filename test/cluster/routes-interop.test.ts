// A mixed cluster, Lattice – nats-server 2.9.10 – Lattice: the reference server routes to a Lattice seed and
// learns the other Lattice server by gossip. Pub/sub, queue groups, request-reply and headers cross every
// pair; the nats-server is killed and restarted and the mesh re-forms; its /routez lists the Lattice servers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, headers, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { type RunningServer, startServer } from "../../src/index.js";
import { freePort, type NatsServerProcess, startNatsServerProcess } from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { httpJson, sleep, waitFor } from "../helpers/wait.js";

const CLUSTER = "mixed";

interface Routez {
  server_id: string;
  num_routes: number;
  routes?: { remote_id: string; ip: string }[];
}

/**
 * Subscribe a set of services on every server, wait until every other server can reach them (a `ready`
 * responder subscribed last answers: interest travels in order on a route), then check pub/sub, headers,
 * request-reply and a queue group across every ordered pair. Unsubscribes what it made.
 */
async function exerciseEveryPair(ncs: NatsConnection[], names: string[], tag: string): Promise<void> {
  const subs: Subscription[] = [];
  const received: string[][] = ncs.map(() => []);
  const queueGot: string[][] = ncs.map(() => []);
  for (const [j, nc] of ncs.entries()) {
    subs.push(
      nc.subscribe(`${tag}.data.${names[j]}`, {
        callback: (_e, m) => {
          received[j].push(`${m.headers?.get("X-From")}:${m.string()}`);
        },
      }),
      nc.subscribe(`${tag}.svc.${names[j]}`, {
        callback: (_e, m) => {
          const h = headers();
          h.set("X-Echo", m.headers?.get("X-From") ?? "");
          h.set("X-Server", names[j]);
          m.respond(`${names[j]} got ${m.string()}`, { headers: h });
        },
      }),
      nc.subscribe(`${tag}.work`, {
        queue: "workers",
        callback: (_e, m) => {
          queueGot[j].push(m.string());
          m.respond(names[j]);
        },
      }),
      nc.subscribe(`${tag}.ready.${names[j]}`, {
        callback: (_e, m) => {
          m.respond("ready");
        },
      }),
    );
    await nc.flush();
  }
  for (const [i, nc] of ncs.entries()) {
    for (const j of ncs.keys()) {
      if (i === j) continue;
      await waitFor(
        async () => {
          try {
            return (await nc.request(`${tag}.ready.${names[j]}`, "", { timeout: 500 })).string() === "ready";
          } catch {
            return false;
          }
        },
        { timeoutMs: 8000, intervalMs: 50, what: `${names[i]} to reach ${names[j]}'s subscriptions` },
      );
    }
  }

  for (const [i, nc] of ncs.entries()) {
    for (const j of ncs.keys()) {
      if (i === j) continue;
      const h = headers();
      h.set("X-From", names[i]);
      nc.publish(`${tag}.data.${names[j]}`, `${names[i]}->${names[j]}`, { headers: h });
      const r = await nc.request(`${tag}.svc.${names[j]}`, `hi from ${names[i]}`, {
        timeout: 3000,
        headers: h,
      });
      assert.equal(r.string(), `${names[j]} got hi from ${names[i]}`);
      assert.equal(r.headers?.get("X-Echo"), names[i], `${names[i]} -> ${names[j]}: header echoed`);
      assert.equal(r.headers?.get("X-Server"), names[j]);
    }
  }
  await waitFor(() => received.every((r) => r.length >= ncs.length - 1), { what: "every pair's message" });
  await sleep(100);
  for (const [j, r] of received.entries()) {
    const want = names.filter((_, i) => i !== j).map((o) => `${o}:${o}->${names[j]}`);
    assert.deepEqual([...r].sort(), want.sort(), `what ${names[j]} received`);
  }

  // The queue group: 300 requests from each server, every member gets a share, none lost or doubled.
  const PER = 300;
  const failures: string[] = [];
  await Promise.all(
    ncs.map(async (nc, i) => {
      for (let k = 0; k < PER; k += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async (_, n) => {
            const id = `${names[i]}-${k + n}`;
            try {
              await nc.request(`${tag}.work`, id, { timeout: 5000 });
            } catch (err) {
              failures.push(`${id}: ${(err as Error).message}`);
            }
          }),
        );
      }
    }),
  );
  assert.deepEqual(failures, []);
  const all = queueGot.flat();
  const total = PER * ncs.length;
  assert.equal(all.length, total);
  assert.equal(new Set(all).size, total);
  for (const [j, g] of queueGot.entries())
    assert.ok(
      g.length >= total * 0.15,
      `${names[j]} took ${g.length} of ${total} (${queueGot.map((x) => x.length)})`,
    );

  for (const s of subs) s.unsubscribe();
  await Promise.all(ncs.map((nc) => nc.flush()));
}

describe("routes interop with nats-server 2.9.10", {
  skip: !hasNatsServer() && "nats-server is not installed",
}, () => {
  it("Lattice – nats-server – Lattice: traffic across every pair, nats-server killed and restarted", {
    timeout: 30_000,
  }, async () => {
    const servers: RunningServer[] = [];
    const clients: NatsConnection[] = [];
    let n: NatsServerProcess | undefined;
    try {
      const [p1, p2, pn, mn] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const seed = `nats-route://127.0.0.1:${p1}`;
      const l1 = await startServer({
        server_name: "l1",
        cluster: { name: CLUSTER, listen: `127.0.0.1:${p1}` },
      });
      servers.push(l1);
      n = await startNatsServerProcess({
        name: "n",
        conf: [
          `http: "127.0.0.1:${mn}"`,
          "cluster {",
          `  name: "${CLUSTER}"`,
          `  listen: "127.0.0.1:${pn}"`,
          `  routes: ["${seed}"]`,
          "}",
        ].join("\n"),
      });
      const l2 = await startServer({
        server_name: "l2",
        cluster: { name: CLUSTER, listen: `127.0.0.1:${p2}`, routes: [seed] },
      });
      servers.push(l2);
      const ns = n;
      const routez = () => httpJson<Routez>(`http://127.0.0.1:${mn}/routez`, 1000);
      const meshed = async (): Promise<boolean> =>
        l1.server.cluster!.routes.size === 2 &&
        l2.server.cluster!.routes.size === 2 &&
        (await routez()).num_routes === 2;
      await waitFor(meshed, { timeoutMs: 10_000, intervalMs: 100, what: "the mixed mesh" });

      // nats-server's /routez lists both Lattice servers; both Lattice servers have a route to it.
      const rz = await routez();
      assert.deepEqual((rz.routes ?? []).map((r) => r.remote_id).sort(), [l1.server.id, l2.server.id].sort());
      for (const l of [l1, l2]) assert.ok(l.server.cluster!.routes.has(rz.server_id));

      const names = ["l1", "n", "l2"];
      const pinned = { ignoreClusterUpdates: true, maxReconnectAttempts: 0 } as const;
      const open = async (): Promise<NatsConnection[]> => {
        const ncs = await Promise.all(
          [l1.url, ns.url, l2.url].map((u) => connect({ servers: u, ...pinned })),
        );
        clients.push(...ncs);
        return ncs;
      };
      let ncs = await open();
      await exerciseEveryPair(ncs, names, "one");

      // kill -9 the nats-server, restart it: the mesh re-forms and traffic flows again.
      await ncs[1].close();
      await ns.kill("SIGKILL");
      await waitFor(() => l1.server.cluster!.routes.size === 1 && l2.server.cluster!.routes.size === 1, {
        what: "the Lattice servers to drop the nats-server",
      });
      await ns.restart();
      await waitFor(meshed, { timeoutMs: 10_000, intervalMs: 100, what: "the mixed mesh to re-form" });
      const rz2 = await routez();
      assert.deepEqual(
        (rz2.routes ?? []).map((r) => r.remote_id).sort(),
        [l1.server.id, l2.server.id].sort(),
      );
      await Promise.all(ncs.map((nc) => nc.close()));
      ncs = await open();
      await exerciseEveryPair(ncs, names, "two");
    } finally {
      await Promise.allSettled(clients.map((nc) => nc.close()));
      await Promise.allSettled(servers.map((s) => s.close()));
      await n?.close();
    }
  });
});
