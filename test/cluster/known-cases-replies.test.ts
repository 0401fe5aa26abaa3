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
});
