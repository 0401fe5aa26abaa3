// Known reply-routing failure cases of nats-server, replayed against Lattice: replies of a service import
// whose requester and responder sit on different servers of a cluster, replies mapped across gateways when
// neither end is on a server the other cluster's gateway connection reaches, and replies from a leaf node
// behind the responding cluster.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { freePort } from "../helpers/nats-cluster.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { Env, leafUrl, links, pinned, remoteUp, T } from "./helpers.js";

/** Answer every request on `subject` with `<name>:<payload>`, counting the requests seen. */
function serve(nc: NatsConnection, subject: string, name: string, queue?: string): { seen: number } {
  const stats = { seen: 0 };
  nc.subscribe(subject, {
    queue,
    callback: (_e, m) => {
      stats.seen++;
      m.respond(`${name}:${m.string()}`);
    },
  });
  return stats;
}

/** Requests until one is answered (interest may still be crossing), then `n` more that must all be. */
async function askRepeatedly(
  nc: NatsConnection,
  subject: string,
  n: number,
  noMux = false,
): Promise<string[]> {
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      await nc.request(subject, "warmup", { timeout: 500, noMux });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  const out: string[] = [];
  for (let k = 0; k < n; k++)
    out.push((await nc.request(subject, String(k), { timeout: 2000, noMux })).string());
  return out;
}

const routeUrl = (port: number): string => `nats-route://127.0.0.1:${port}`;

describe("known reply cases", () => {
  // nats-server #8316 (PR #8317): a service-import response that reaches the requester's server over a
  // route, bound for a reply subscription on yet another server, was dropped (route to route).
  it(
    "service-import replies cross routes, wherever the requester, its reply subscription and the responder are",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const [p1, p2] = [await freePort(), await freePort()];
        const accounts = {
          A: { users: [{ user: "a", password: "a" }], exports: [{ service: "svc.>" }] },
          B: {
            users: [{ user: "b", password: "b" }],
            imports: [{ service: { account: "A", subject: "svc.>" } }],
          },
        };
        const node = (name: string, port: number) => ({
          server_name: name,
          accounts,
          cluster: { name: "si", listen: `127.0.0.1:${port}`, routes: [routeUrl(p1), routeUrl(p2)] },
        });
        const s1 = await env.server(node("si-1", p1));
        const s2 = await env.server(node("si-2", p2));
        await waitFor(() => s1.server.cluster!.routes.size === 1 && s2.server.cluster!.routes.size === 1, {
          what: "the route",
        });
        const a = { user: "a", pass: "a" };
        const b = { user: "b", pass: "b" };
        const responder = await env.client(s1, a);
        const served = serve(responder, "svc.>", "s1");
        await responder.flush();

        // The plain case: requester on the other server than the responder.
        const req2 = await env.client(s2, b);
        const answers = await askRepeatedly(req2, "svc.one", 10);
        assert.deepEqual(
          answers,
          Array.from({ length: 10 }, (_, k) => `s1:${k}`),
        );

        // The #8316 case: published on one server, the reply subscription on the other.
        const pubOn = { s1: await env.client(s1, b), s2: req2 };
        const inboxOn = { s1: await env.client(s1, b), s2: await env.client(s2, b) };
        for (const [pubAt, inboxAt] of [
          ["s2", "s1"],
          ["s1", "s2"],
        ] as const) {
          const inbox = createInbox();
          const got: string[] = [];
          inboxOn[inboxAt].subscribe(inbox, {
            callback: (_e, m) => {
              got.push(m.string());
            },
          });
          await inboxOn[inboxAt].flush();
          await sleep(200);
          const seenBefore = served.seen;
          for (let k = 0; k < 10; k++) pubOn[pubAt].publish("svc.split", `${pubAt}-${k}`, { reply: inbox });
          await pubOn[pubAt].flush();
          await waitFor(() => got.length >= 10, {
            what: `10 replies for requests from ${pubAt} with the inbox on ${inboxAt} (${got.length})`,
          });
          await sleep(300);
          assert.deepEqual(
            got,
            Array.from({ length: 10 }, (_, k) => `s1:${pubAt}-${k}`),
          );
          assert.equal(served.seen - seenBefore, 10, "each request reached the responder once");
        }
      } finally {
        await env.close();
      }
    },
  );

  // PRs #1183 and #3412: a request that crosses a gateway with a reply subscription made just before (its
  // interest has not reached the other cluster) gets a `_GR_.` reply, which must find the requester's
  // server even when neither end is on a server that the other cluster's gateway connection reaches.
  it(
    "replies cross gateways back to a requester on a server the answering cluster's gateway does not reach",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const [pe1, pe2, pw1, pw2] = [await freePort(), await freePort(), await freePort(), await freePort()];
        const [ge1, gw1] = [await freePort(), await freePort()];
        const member = (
          name: string,
          cluster: string,
          port: number,
          peers: number[],
          gwPort: number,
          other: string,
          otherGw: number,
        ) => ({
          server_name: name,
          cluster: { name: cluster, listen: `127.0.0.1:${port}`, routes: peers.map(routeUrl) },
          gateway: {
            name: cluster,
            listen: `127.0.0.1:${gwPort === 0 ? -1 : gwPort}`,
            gateways: [{ name: other, urls: [`nats://127.0.0.1:${otherGw}`] }],
          },
        });
        const e1 = await env.server(member("gw-e1", "east", pe1, [pe2], ge1, "west", gw1));
        const e2 = await env.server(member("gw-e2", "east", pe2, [pe1], 0, "west", gw1));
        const w1 = await env.server(member("gw-w1", "west", pw1, [pw2], gw1, "east", ge1));
        const w2 = await env.server(member("gw-w2", "west", pw2, [pw1], 0, "east", ge1));
        const all = [e1, e2, w1, w2];
        const outboundTo = (s: RunningServer, cluster: string): string | undefined => {
          for (const o of s.server.gateways?.outboundConnections() ?? [])
            if (o.name === cluster) return o.connection.remote?.server_id;
          return undefined;
        };
        await waitFor(
          () =>
            all.every((s) => s.server.cluster!.routes.size === 1) &&
            [e1, e2].every((s) => outboundTo(s, "west") !== undefined) &&
            [w1, w2].every((s) => outboundTo(s, "east") !== undefined),
          { timeoutMs: 10_000, what: "two clusters of two, gatewayed" },
        );
        // Requester and responder on servers the other cluster's outbound connection does not reach.
        const pairs = [e1, e2].flatMap((e) => [w1, w2].map((w) => [e, w] as const));
        const score = ([e, w]: readonly [RunningServer, RunningServer]) =>
          (outboundTo(e, "west") !== w.server.id ? 2 : 0) + (outboundTo(w, "east") !== e.server.id ? 1 : 0);
        const [east, west] = pairs.sort((x, y) => score(y) - score(x))[0]!;
        assert.notEqual(
          outboundTo(east, "west"),
          west.server.id,
          "the request reaches the responder over a route",
        );

        for (const [asker, answerer, tag] of [
          [east, west, "east-asks"],
          [west, east, "west-asks"],
        ] as const) {
          const responder = await env.client(answerer);
          const served = serve(responder, `gw.svc.${tag}`, answerer.server.name);
          await responder.flush();
          const requester = await env.client(asker);
          // noMux: a new reply subscription per request, the case the `_GR_.` mapping exists for.
          const fresh = await askRepeatedly(requester, `gw.svc.${tag}`, 10, true);
          assert.deepEqual(
            fresh,
            Array.from({ length: 10 }, (_, k) => `${answerer.server.name}:${k}`),
          );
          const shared = await askRepeatedly(requester, `gw.svc.${tag}`, 10);
          assert.equal(shared.length, 10);
          assert.ok(served.seen >= 21 && served.seen <= 30, `each request served once (${served.seen})`);
        }
      } finally {
        await env.close();
      }
    },
  );

  // PR #6931 (nats-server #6894): a request from cluster A crossing a gateway to cluster B and on to a leaf
  // node where the service runs; the leaf's reply must travel back the same way.
  it("a service on a leaf of another cluster answers requests made across the gateway", T, async () => {
    const env = new Env(pinned);
    try {
      const gwA = await freePort();
      const a = await env.server({
        server_name: "lr-a",
        gateway: { name: "A", listen: `127.0.0.1:${gwA}` },
      });
      const b = await env.server({
        server_name: "lr-b",
        gateway: {
          name: "B",
          listen: "127.0.0.1:-1",
          gateways: [{ name: "A", urls: [`nats://127.0.0.1:${gwA}`] }],
        },
        leafnodes: { listen: "127.0.0.1:-1" },
      });
      const leaf = await env.server({
        server_name: "lr-leaf",
        leafnodes: { remotes: [{ urls: [leafUrl(b)] }] },
      });
      await waitFor(
        () =>
          remoteUp(leaf) &&
          links(b) === 1 &&
          [...a.server.gateways!.outboundConnections()].length === 1 &&
          [...b.server.gateways!.outboundConnections()].length === 1,
        { timeoutMs: 10_000, what: "the gateway and the leaf link" },
      );
      const service = await env.client(leaf);
      const served = serve(service, "leaf.svc", "leaf");
      await service.flush();
      const requester = await env.client(a);
      const fresh = await askRepeatedly(requester, "leaf.svc", 10, true);
      assert.deepEqual(
        fresh,
        Array.from({ length: 10 }, (_, k) => `leaf:${k}`),
      );
      const shared = await askRepeatedly(requester, "leaf.svc", 10);
      assert.equal(shared.length, 10);
      assert.ok(served.seen >= 21 && served.seen <= 30, `each request served once (${served.seen})`);
    } finally {
      await env.close();
    }
  });
});
