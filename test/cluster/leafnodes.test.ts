// Leaf nodes between Lattice servers: a hub and a leaf exchanging traffic both ways with queue groups that
// prefer the local member, a leaf that keeps working while its hub is away and resyncs with a new one, a
// loop of two servers that are each other's leaf, a daisy chain, and JetStream reached by its domain.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import {
  headers,
  type Msg,
  type NatsConnection,
  RequestError,
  type Subscription,
} from "@nats-io/transport-node";
import { freePort } from "../helpers/nats-cluster.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { callWhile, collect, Env, leafSubs, leafUrl, links, pinned, remoteUp, T } from "./helpers.js";

/** Who answered a `respondWith` reply (`<answer>:<payload>`). */
const byName = (m: Msg): string => m.string().split(":")[0];

function respondWith(nc: NatsConnection, subject: string, answer: string, queue?: string): Subscription {
  return nc.subscribe(subject, {
    queue,
    callback: (_e, m) => {
      const h = headers();
      h.set("X-Echo", m.headers?.get("X-From") ?? "");
      m.respond(`${answer}:${m.string()}`, { headers: h });
    },
  });
}

/** `a...ab...b`: every answer from `first` comes before every answer from `then`, with both present. */
function switched(answers: string[], first: string, then: string): boolean {
  const i = answers.indexOf(then);
  return (
    answers[0] === first &&
    i > 0 &&
    answers.slice(0, i).every((x) => x === first) &&
    answers.slice(i).every((x) => x === then)
  );
}

describe("leaf nodes", () => {
  it(
    "hub and leaf: pub/sub, request-reply and headers both ways; queue groups prefer the local member",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const hub = await env.server({ server_name: "hub", leafnodes: { listen: "127.0.0.1:-1" } });
        const leaf = await env.server({
          server_name: "leaf",
          leafnodes: { remotes: [{ urls: [leafUrl(hub)] }] },
        });
        await waitFor(() => remoteUp(leaf) && links(hub) === 1, { what: "the leaf link" });
        const ncH = await env.client(hub);
        const ncL = await env.client(leaf);

        const atHub = collect(ncH, "to.hub");
        const atLeaf = collect(ncL, "to.leaf");
        respondWith(ncH, "svc.hub", "hub");
        respondWith(ncL, "svc.leaf", "leaf");
        await ncH.flush();
        await ncL.flush();
        await waitFor(() => leafSubs(leaf, "to.hub") === 1 && leafSubs(leaf, "svc.hub") === 1, {
          what: "the leaf to learn the hub's interest",
        });
        await waitFor(() => leafSubs(hub, "to.leaf") === 1 && leafSubs(hub, "svc.leaf") === 1, {
          what: "the hub to learn the leaf's interest",
        });
        for (let k = 0; k < 5; k++) {
          const h = headers();
          h.set("X-N", String(k));
          ncL.publish("to.hub", `up${k}`, { headers: h });
          ncH.publish("to.leaf", `down${k}`, { headers: h });
        }
        await waitFor(() => atHub.length === 5 && atLeaf.length === 5);
        await sleep(100);
        assert.deepEqual(atHub, ["up0", "up1", "up2", "up3", "up4"]);
        assert.deepEqual(atLeaf, ["down0", "down1", "down2", "down3", "down4"]);
        for (const [from, nc, to] of [
          ["leaf", ncL, "hub"],
          ["hub", ncH, "leaf"],
        ] as const) {
          const h = headers();
          h.set("X-From", from);
          const r = await nc.request(`svc.${to}`, "ping", { timeout: 3000, headers: h });
          assert.equal(r.string(), `${to}:ping`);
          assert.equal(r.headers?.get("X-Echo"), from);
        }

        // Both sides subscribe to one subject, then the leaf's goes: the hub must keep its interest at the leaf.
        const sharedAtHub = collect(ncH, "shared.x");
        await ncH.flush();
        await waitFor(() => leafSubs(leaf, "shared.x") === 1);
        const sharedAtLeaf = ncL.subscribe("shared.x");
        await ncL.flush();
        await waitFor(() => leafSubs(hub, "shared.x") === 1);
        sharedAtLeaf.unsubscribe();
        await ncL.flush();
        await waitFor(() => leafSubs(hub, "shared.x") === 0);
        await sleep(100);
        assert.equal(leafSubs(leaf, "shared.x"), 1, "the leaf still knows the hub's subscriber");
        ncL.publish("shared.x", "still there");
        await waitFor(() => sharedAtHub.length === 1, {
          what: "the hub's subscriber to get the leaf's message",
        });

        // A queue group with a member on each side: each side's callers are served by their local member.
        let hubMember = respondWith(ncH, "qsvc", "hub", "workers");
        let leafMember = respondWith(ncL, "qsvc", "leaf", "workers");
        await ncH.flush();
        await ncL.flush();
        await waitFor(
          () => leafSubs(hub, "qsvc", "workers") === 1 && leafSubs(leaf, "qsvc", "workers") === 1,
          {
            what: "both sides to know the other's member",
          },
        );
        for (let k = 0; k < 20; k++) {
          assert.equal((await ncH.request("qsvc", "x", { timeout: 2000 })).string(), "hub:x");
          assert.equal((await ncL.request("qsvc", "x", { timeout: 2000 })).string(), "leaf:x");
        }

        // The leaf's member leaves while leaf callers keep calling: the hub's member takes over, nothing fails.
        let drained = leafMember.drain();
        let run = await callWhile(
          ncL,
          "qsvc",
          drained.then(() => sleep(200)),
          byName,
        );
        assert.deepEqual(run.failures, []);
        assert.ok(
          switched(run.answers, "leaf", "hub") || run.answers.every((x) => x === "hub"),
          run.answers.join(","),
        );
        assert.equal(run.answers.at(-1), "hub");

        // Back, and then the hub's member leaves while hub callers keep calling: the leaf's member takes over.
        leafMember = respondWith(ncL, "qsvc", "leaf", "workers");
        await ncL.flush();
        await waitFor(() => leafSubs(hub, "qsvc", "workers") === 1);
        assert.equal((await ncL.request("qsvc", "x", { timeout: 2000 })).string(), "leaf:x");
        drained = hubMember.drain();
        run = await callWhile(
          ncH,
          "qsvc",
          drained.then(() => sleep(200)),
          byName,
        );
        assert.deepEqual(run.failures, []);
        assert.ok(
          switched(run.answers, "hub", "leaf") || run.answers.every((x) => x === "leaf"),
          run.answers.join(","),
        );
        assert.equal(run.answers.at(-1), "leaf");
        hubMember = respondWith(ncH, "qsvc", "hub", "workers");
        await ncH.flush();
        assert.equal((await ncH.request("qsvc", "x", { timeout: 2000 })).string(), "hub:x");
      } finally {
        await env.close();
      }
    },
  );

  it(
    "a leaf keeps working without its hub, and resyncs interest with a new hub on the same port",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const port = await freePort();
        const hubOpts = { server_name: "hub", leafnodes: { listen: `127.0.0.1:${port}` } };
        const hub = await env.server(hubOpts);
        const leaf = await env.server({
          server_name: "leaf",
          leafnodes: { reconnect: "250ms", remotes: [{ urls: [leafUrl(port)] }] },
        });
        await waitFor(() => remoteUp(leaf) && links(hub) === 1, { what: "the leaf link" });
        const ncH = await env.client(hub);
        collect(ncH, "old.hub");
        await ncH.flush();
        await waitFor(() => leafSubs(leaf, "old.hub") === 1);
        const linkSubsBefore = leafSubs(leaf);

        // The hub goes away: the leaf drops its interest at once, and its clients carry on among themselves.
        await ncH.close();
        await hub.close();
        await waitFor(() => !remoteUp(leaf) && links(leaf) === 0, { what: "the leaf to notice" });
        assert.equal(leafSubs(leaf), 0, "nothing of the hub's interest stays");
        const ncL = await env.client(leaf);
        const ncL2 = await env.client(leaf);
        const local = collect(ncL2, "local.x");
        respondWith(ncL2, "local.svc", "leaf");
        const shares = [0, 0];
        for (const [i, nc] of [ncL, ncL2].entries())
          nc.subscribe("local.q", {
            queue: "g",
            callback: (_e, m) => {
              shares[i]++;
              m.respond("ok");
            },
          });
        const fromHub = collect(ncL2, "leaf.sub");
        await ncL.flush();
        await ncL2.flush();
        ncL.publish("local.x", "offline");
        assert.equal((await ncL.request("local.svc", "q", { timeout: 2000 })).string(), "leaf:q");
        for (let k = 0; k < 100; k++) await ncL.request("local.q", String(k), { timeout: 2000 });
        await waitFor(() => local.length === 1);
        assert.equal(shares[0] + shares[1], 100);
        assert.ok(shares[0] > 0 && shares[1] > 0, `queue shares ${shares}`);

        // A new hub on the same port: the leaf reconnects, interest is resynced both ways.
        const hub2 = await env.server(hubOpts);
        await waitFor(() => remoteUp(leaf) && links(hub2) === 1, {
          timeoutMs: 8000,
          what: "the leaf to reconnect",
        });
        const ncH2 = await env.client(hub2);
        const atHub = collect(ncH2, "new.hub");
        await ncH2.flush();
        await waitFor(() => leafSubs(hub2, "leaf.sub") === 1 && leafSubs(leaf, "new.hub") === 1, {
          what: "interest to be resynced both ways",
        });
        ncH2.publish("leaf.sub", "from the new hub");
        ncL.publish("new.hub", "from the leaf");
        await waitFor(() => fromHub.length === 1 && atHub.length === 1);
        await sleep(100);
        assert.deepEqual(fromHub, ["from the new hub"]);
        assert.deepEqual(atHub, ["from the leaf"]);
        assert.equal(leafSubs(leaf, "old.hub"), 0, "the old hub's interest is gone");
        assert.equal(leafSubs(leaf), linkSubsBefore, "as many link subscriptions as with the old hub");
      } finally {
        await env.close();
      }
    },
  );

  it(
    "two servers that are each other's leaf: the loop is detected, nothing is delivered twice",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const dir = env.dir("lattice-leaf-loop-");
        const [pa, pb] = [await freePort(), await freePort()];
        const opts = (name: string, listen: number, remote: number) => ({
          server_name: name,
          log_file: join(dir, `${name}.log`),
          leafnodes: {
            listen: `127.0.0.1:${listen}`,
            reconnect: "250ms",
            remotes: [{ urls: [leafUrl(remote)] }],
          },
        });
        const a = await env.server(opts("loop-a", pa, pb));
        const b = await env.server(opts("loop-b", pb, pa));
        const logs = () =>
          ["loop-a", "loop-b"]
            .map((n) => {
              try {
                return readFileSync(join(dir, `${n}.log`), "utf8");
              } catch {
                return "";
              }
            })
            .join("\n");
        await waitFor(() => /Loop detected/.test(logs()), {
          timeoutMs: 8000,
          what: "the loop to be detected",
        });
        await sleep(500);
        assert.ok(
          links(a) + links(b) < 4,
          `at least one of the two links is closed (${links(a)}, ${links(b)})`,
        );

        const ncA = await env.client(a);
        const ncB = await env.client(b);
        const atA = collect(ncA, "loop.x");
        const atB = collect(ncB, "loop.x");
        await ncA.flush();
        await ncB.flush();
        await sleep(300);
        for (let k = 0; k < 20; k++) ncA.publish("loop.x", `m${k}`);
        await ncA.flush();
        await waitFor(() => atA.length >= 20);
        await sleep(500);
        assert.equal(atA.length, 20, "the publisher's own server delivers each message once");
        assert.equal(new Set(atA).size, 20);
        assert.equal(new Set(atB).size, atB.length, `B got no message twice (${atB.join(",")})`);
        assert.ok(atB.length <= 20);

        // Both servers still serve their clients.
        for (const nc of [ncA, ncB]) {
          const sub = respondWith(nc, "alive", "yes");
          await nc.flush();
          assert.equal((await nc.request("alive", "?", { timeout: 2000 })).string(), "yes:?");
          sub.unsubscribe();
        }
      } finally {
        await env.close();
      }
    },
  );

  it("a daisy chain A <- B <- C carries messages end to end, exactly once", T, async () => {
    const env = new Env(pinned);
    try {
      const a = await env.server({ server_name: "chain-a", leafnodes: { listen: "127.0.0.1:-1" } });
      const b = await env.server({
        server_name: "chain-b",
        leafnodes: { listen: "127.0.0.1:-1", remotes: [{ urls: [leafUrl(a)] }] },
      });
      const c = await env.server({
        server_name: "chain-c",
        leafnodes: { remotes: [{ urls: [leafUrl(b)] }] },
      });
      await waitFor(() => remoteUp(b) && remoteUp(c) && links(a) === 1 && links(b) === 2, {
        what: "the chain",
      });
      const ncA = await env.client(a);
      const ncC = await env.client(c);
      const atA = collect(ncA, "chain.a");
      const atC = collect(ncC, "chain.c");
      respondWith(ncA, "chain.svc", "a");
      await ncA.flush();
      await ncC.flush();
      await waitFor(() => leafSubs(c, "chain.a") === 1 && leafSubs(c, "chain.svc") === 1, {
        what: "C to learn A's interest through B",
      });
      await waitFor(() => leafSubs(a, "chain.c") === 1, { what: "A to learn C's interest through B" });
      for (let k = 0; k < 10; k++) {
        ncC.publish("chain.a", `c${k}`);
        ncA.publish("chain.c", `a${k}`);
      }
      await waitFor(() => atA.length === 10 && atC.length === 10);
      await sleep(200);
      assert.deepEqual(
        atA,
        Array.from({ length: 10 }, (_, k) => `c${k}`),
      );
      assert.deepEqual(
        atC,
        Array.from({ length: 10 }, (_, k) => `a${k}`),
      );
      assert.equal(
        (await ncC.request("chain.svc", "end to end", { timeout: 3000 })).string(),
        "a:end to end",
      );
    } finally {
      await env.close();
    }
  });

  it("JetStream on a leaf is reached from the hub by its domain, and only by it", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({ server_name: "js-hub", leafnodes: { listen: "127.0.0.1:-1" } });
      const leaf = await env.server({
        server_name: "js-leaf",
        jetstream: { store_dir: env.dir("lattice-leaf-js-"), domain: "edge" },
        leafnodes: { remotes: [{ urls: [leafUrl(hub)] }] },
      });
      await waitFor(() => remoteUp(leaf) && links(hub) === 1, { what: "the leaf link" });
      const ncH = await env.client(hub);
      const ncL = await env.client(leaf);
      await waitFor(() => hub.server.globalAccount.sublist.hasInterest("$JS.edge.API.INFO"), {
        what: "the hub to learn the edge domain API",
      });

      // From the hub, by domain: a stream and a KV bucket on the leaf.
      const jsm = await jetstreamManager(ncH, { domain: "edge" });
      const si = await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
      assert.equal(si.config.name, "ORDERS");
      const js = jetstream(ncH, { domain: "edge" });
      await waitFor(() => hub.server.globalAccount.sublist.hasInterest("orders.1"), {
        what: "the hub to learn the stream's subjects",
      });
      const ack = await js.publish("orders.1", "first");
      assert.equal(ack.stream, "ORDERS");
      assert.equal(ack.domain, "edge");
      const kv = await new Kvm(js).create("cfg");
      await kv.put("color", "blue");
      assert.equal((await kv.get("color"))?.string(), "blue");

      // From a leaf client, without a domain: the same stream and bucket.
      const leafJsm = await jetstreamManager(ncL);
      assert.equal((await leafJsm.streams.info("ORDERS")).state.messages, 1);
      const leafKv = await new Kvm(jetstream(ncL)).open("cfg");
      assert.equal((await leafKv.get("color"))?.string(), "blue");

      // $JS.API from the hub (no domain) does not cross the link: no responders.
      await assert.rejects(
        ncH.request("$JS.API.INFO", "", { timeout: 2000 }),
        (err: unknown) => err instanceof RequestError && err.isNoResponders(),
      );
      assert.equal(hub.server.globalAccount.sublist.hasInterest("$JS.API.INFO"), false);
    } finally {
      await env.close();
    }
  });
});
