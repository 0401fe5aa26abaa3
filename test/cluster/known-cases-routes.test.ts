// Known route failure cases of nats-server, replayed against Lattice: routes that drop and come back
// (configured, gossiped and duplicate ones) must restore the full mesh with one route per pair, and a route
// refused for bad credentials must back off instead of spinning.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunningServer } from "../../src/index.js";
import { freePort } from "../helpers/nats-cluster.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { collect, Env, pinned, T } from "./helpers.js";

const routeUrl = (port: number): string => `nats-route://127.0.0.1:${port}`;

/** Every server has exactly one route to every other, and no other route connection is open. */
function fullMesh(servers: RunningServer[]): boolean {
  return servers.every((s) => {
    const c = s.server.cluster!;
    const peers = servers.filter((o) => o !== s).map((o) => o.server.id);
    return (
      c.routes.size === peers.length &&
      c.connections.size === peers.length &&
      peers.every((id) => c.routes.has(id))
    );
  });
}

function meshState(servers: RunningServer[]): string {
  return servers
    .map(
      (s) =>
        `${s.server.name}: ${s.server.cluster!.routes.size} routes, ${s.server.cluster!.connections.size} conns`,
    )
    .join("; ");
}

describe("known route cases", () => {
  // PRs #8454 and #8527: a route dialled through gossip and also configured (or kept after a duplicate was
  // resolved) was not redialled once it dropped, leaving a pair of live servers without a route.
  it("routes that drop, one at a time or all at once, come back: one route for every pair", T, async () => {
    const env = new Env(pinned);
    try {
      const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
      // a names b and c; b names only a (it learns c by gossip); c names a and b: configured, gossiped
      // and crossing dials (duplicates resolved) all happen.
      const node = (name: string, port: number, routes: number[]) => ({
        server_name: name,
        cluster: { name: "mesh", listen: `127.0.0.1:${port}`, routes: routes.map(routeUrl) },
      });
      const a = await env.server(node("mesh-a", pa, [pb, pc]));
      const b = await env.server(node("mesh-b", pb, [pa]));
      const c = await env.server(node("mesh-c", pc, [pa, pb]));
      const all = [a, b, c];
      const meshed = () =>
        waitFor(() => fullMesh(all), { timeoutMs: 8000, what: `the full mesh (${meshState(all)})` });
      await meshed();

      const ncs = await Promise.all(all.map((s) => env.client(s)));
      const got = ncs.map((nc) => collect(nc, "mesh.x"));
      await Promise.all(ncs.map((nc) => nc.flush()));
      /** Each server's client publishes; every subscriber gets each message exactly once. */
      const trafficOk = async (tag: string) => {
        await waitFor(
          () =>
            all.every((s) => {
              const r = s.server.globalAccount.sublist.match("mesh.x");
              return r.plain.filter((sub) => sub.owner.kind === "route").length === 2;
            }),
          { what: `interest from both peers on every server (${tag})` },
        );
        for (const g of got) g.length = 0;
        for (const [i, nc] of ncs.entries()) {
          for (let k = 0; k < 5; k++) nc.publish("mesh.x", `${tag}-${i}-${k}`);
          await nc.flush();
        }
        await waitFor(() => got.every((g) => g.length >= 15), { what: `15 messages at each (${tag})` });
        await sleep(200);
        for (const g of got) {
          assert.equal(g.length, 15, `${tag}: ${g.join(",")}`);
          assert.equal(new Set(g).size, 15);
        }
      };
      await trafficOk("start");

      const routeBetween = (s: RunningServer, peer: RunningServer) =>
        s.server.cluster!.routes.get(peer.server.id)!;
      // One pair at a time, cut from either end.
      const cuts: [RunningServer, RunningServer][] = [
        [a, b],
        [b, c],
        [c, a],
        [b, a],
        [c, b],
      ];
      for (const [i, [s, peer]] of cuts.entries()) {
        routeBetween(s, peer).transport.destroy();
        await sleep(50);
        await meshed();
        await trafficOk(`cut${i}`);
      }
      // Every route at once, twice in a row (the second while the first redials may be under way).
      for (let round = 0; round < 2; round++) {
        for (const s of all) for (const r of [...s.server.cluster!.routes.values()]) r.transport.destroy();
        await sleep(round === 0 ? 100 : 10);
      }
      await meshed();
      await trafficOk("all");
      // Stays that way: no route is replaced behind our back.
      const ids = all.map((s) => [...s.server.cluster!.routes.values()]);
      await sleep(1000);
      assert.ok(fullMesh(all), meshState(all));
      assert.deepEqual(
        all.map((s) => [...s.server.cluster!.routes.values()]),
        ids,
        "the same route objects a second later",
      );
    } finally {
      await env.close();
    }
  });

  // PR #7200 (nats-server #7194): a route refused for bad credentials was redialled in a tight loop.
  it(
    "a route with wrong credentials backs off: few attempts, a bounded log, and it keeps trying",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const guarded = await env.server({
          server_name: "guarded",
          cluster: {
            name: "auth",
            listen: "127.0.0.1:-1",
            authorization: { user: "route", password: "secret" },
          },
        });
        const errors: string[] = [];
        const logger = guarded.server.logger;
        const original = logger.error.bind(logger);
        logger.error = (msg: string) => {
          errors.push(msg);
          original(msg);
        };
        const port = guarded.server.cluster!.port;
        const wrong = await env.server({
          server_name: "wrong",
          cluster: {
            name: "auth",
            listen: "127.0.0.1:-1",
            routes: [`nats-route://route:nope@127.0.0.1:${port}`],
          },
        });
        const connects = () => {
          let n = 0;
          for (const d of wrong.server.cluster!.dialerStats()) n += d.connects;
          return n;
        };
        await waitFor(() => connects() >= 1, { what: "a first attempt" });
        const cpu0 = process.cpuUsage();
        const t0 = Date.now();
        const before = connects();
        const errorsBefore = errors.length;
        await sleep(4000);
        const attempts = connects() - before;
        const cpuMs = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000;
        const elapsed = Date.now() - t0;
        // Back-off doubles from 250 ms to 2 s: about five attempts in four seconds; a spin makes thousands.
        assert.ok(attempts >= 1, "it keeps trying");
        assert.ok(attempts <= 10, `${attempts} attempts in ${elapsed} ms`);
        assert.ok(
          errors.length - errorsBefore <= 2 * attempts + 2,
          `${errors.length - errorsBefore} error lines`,
        );
        assert.ok(cpuMs < elapsed * 0.5, `the process used ${cpuMs.toFixed(0)} ms of CPU in ${elapsed} ms`);
        assert.equal(guarded.server.cluster!.routes.size, 0, "never registered");
        assert.equal(wrong.server.cluster!.routes.size, 0);
      } finally {
        await env.close();
      }
    },
  );
});
