// Leaf nodes between Lattice and nats-server 2.9.10, in both roles: a Lattice leaf on a nats-server hub, and a
// nats-server leaf on a Lattice hub. Pub/sub, request-reply, headers and queue groups (local member first,
// the other side's once it is gone) both ways; the nats-server side is restarted and traffic resumes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, headers, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { type RunningServer, startServer } from "../../src/index.js";
import { freePort, type NatsServerProcess, startNatsServerProcess } from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { httpJson, sleep, waitFor } from "../helpers/wait.js";
import { callWhile, pinned, T } from "./helpers.js";

interface Leafz {
  leafnodes: number;
  leafs?: { account: string }[];
}

/** Until a request to `subject` gets an answer (interest reached the other side). */
async function reachable(nc: NatsConnection, subject: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await nc.request(subject, "", { timeout: 500 });
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 8000, intervalMs: 50, what },
  );
}

/** Answers from `first` (possibly none), then only from `then`, ending with `then`. */
function handedOver(answers: string[], first: string, then: string): boolean {
  const i = answers.indexOf(then);
  return i >= 0 && answers.slice(0, i).every((x) => x === first) && answers.slice(i).every((x) => x === then);
}

/** Traffic between a hub client and a leaf client, both ways, for subjects under `tag`. */
async function exercise(hubNc: NatsConnection, leafNc: NatsConnection, tag: string): Promise<void> {
  const sides = [
    { name: "hub", nc: hubNc, other: "leaf" },
    { name: "leaf", nc: leafNc, other: "hub" },
  ] as const;
  const subs: Subscription[] = [];
  const got: Record<string, string[]> = { hub: [], leaf: [] };
  const member = (name: string, nc: NatsConnection): Subscription =>
    nc.subscribe(`${tag}.q`, {
      queue: "workers",
      callback: (_e, m) => {
        m.respond(name);
      },
    });
  const members: Record<string, Subscription> = {};
  for (const { name, nc } of sides) {
    subs.push(
      nc.subscribe(`${tag}.to.${name}`, {
        callback: (_e, m) => {
          got[name].push(`${m.headers?.get("X-From")}:${m.string()}`);
        },
      }),
      nc.subscribe(`${tag}.svc.${name}`, {
        callback: (_e, m) => {
          const h = headers();
          h.set("X-Echo", m.headers?.get("X-From") ?? "");
          m.respond(`${name} got ${m.string()}`, { headers: h });
        },
      }),
    );
    members[name] = member(name, nc);
    // Subscribed last: once the other side reaches it, it knows everything above.
    subs.push(
      nc.subscribe(`${tag}.ready.${name}`, {
        callback: (_e, m) => {
          m.respond("ready");
        },
      }),
    );
    await nc.flush();
  }
  for (const { nc, other } of sides)
    await reachable(nc, `${tag}.ready.${other}`, `the ${other}'s subscriptions`);

  for (const { name, nc, other } of sides) {
    for (let k = 0; k < 3; k++) {
      const h = headers();
      h.set("X-From", name);
      nc.publish(`${tag}.to.${other}`, `m${k}`, { headers: h });
    }
    const h = headers();
    h.set("X-From", name);
    const r = await nc.request(`${tag}.svc.${other}`, "ping", { timeout: 3000, headers: h });
    assert.equal(r.string(), `${other} got ping`);
    assert.equal(r.headers?.get("X-Echo"), name);
  }
  await waitFor(() => got.hub.length === 3 && got.leaf.length === 3);
  await sleep(100);
  assert.deepEqual(got.hub, ["leaf:m0", "leaf:m1", "leaf:m2"]);
  assert.deepEqual(got.leaf, ["hub:m0", "hub:m1", "hub:m2"]);

  // Queue group: each side's callers are served by their own member while it exists...
  for (const { name, nc } of sides)
    for (let k = 0; k < 10; k++)
      assert.equal((await nc.request(`${tag}.q`, "", { timeout: 2000 })).string(), name);
  // ...and by the other side's once it is gone, without a failed request.
  for (const { name, nc, other } of sides) {
    const run = await callWhile(
      nc,
      `${tag}.q`,
      members[name].drain().then(() => sleep(200)),
    );
    assert.deepEqual(run.failures, [], `${name} callers while its member left`);
    assert.ok(handedOver(run.answers, name, other), `${name} callers: ${run.answers.join(",")}`);
    // Back again before the other side's member leaves.
    members[name] = member(name, nc);
    subs.push(
      nc.subscribe(`${tag}.back.${name}`, {
        callback: (_e, m) => {
          m.respond("back");
        },
      }),
    );
    await nc.flush();
    await reachable(
      sides.find((s) => s.name === other)!.nc,
      `${tag}.back.${name}`,
      `the ${name}'s member again`,
    );
  }
  for (const s of [...subs, ...Object.values(members)]) s.unsubscribe();
  await Promise.all([hubNc.flush(), leafNc.flush()]);
}

describe("leaf nodes interop with nats-server 2.9.10", {
  skip: !hasNatsServer() && "nats-server is not installed",
}, () => {
  it("a Lattice leaf on a nats-server hub; the hub restarts and traffic resumes", T, async () => {
    let hub: NatsServerProcess | undefined;
    let leaf: RunningServer | undefined;
    const clients: NatsConnection[] = [];
    try {
      const [leafPort, monitor] = [await freePort(), await freePort()];
      hub = await startNatsServerProcess({
        name: "ns-hub",
        conf: [`http: "127.0.0.1:${monitor}"`, `leafnodes { listen: "127.0.0.1:${leafPort}" }`].join("\n"),
      });
      leaf = await startServer({
        server_name: "lattice-leaf",
        leafnodes: { reconnect: "250ms", remotes: [{ urls: [`nats-leaf://127.0.0.1:${leafPort}`] }] },
      });
      const l = leaf;
      const leafz = () => httpJson<Leafz>(`http://127.0.0.1:${monitor}/leafz`, 1000);
      const linked = async () =>
        l.server.leafnodes!.remoteLinks[0]?.connection?.registered === true &&
        (await leafz()).leafnodes === 1;
      await waitFor(linked, {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the Lattice leaf on the nats-server hub",
      });
      // 2.9.10's /leafz names no server; the link is in $G, and Lattice knows the hub by name.
      assert.equal((await leafz()).leafs?.[0]?.account, "$G");
      assert.equal(l.server.leafnodes!.remoteLinks[0]?.connection?.remoteName, "ns-hub");

      const open = async () => {
        const ncs = await Promise.all([hub!.url, l.url].map((u) => connect({ servers: u, ...pinned })));
        clients.push(...ncs);
        return ncs;
      };
      let [hubNc, leafNc] = await open();
      await exercise(hubNc, leafNc, "one");

      await hubNc.close();
      await hub.restart();
      await waitFor(linked, {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the leaf to reconnect to the restarted hub",
      });
      [hubNc, leafNc] = await open();
      await exercise(hubNc, leafNc, "two");
    } finally {
      await Promise.allSettled(clients.map((nc) => nc.close()));
      await leaf?.close();
      await hub?.close();
    }
  });

  it("a nats-server leaf on a Lattice hub; the leaf restarts and traffic resumes", T, async () => {
    let hub: RunningServer | undefined;
    let leaf: NatsServerProcess | undefined;
    const clients: NatsConnection[] = [];
    try {
      hub = await startServer({ server_name: "lattice-hub", leafnodes: { listen: "127.0.0.1:-1" } });
      const h = hub;
      const monitor = await freePort();
      leaf = await startNatsServerProcess({
        name: "ns-leaf",
        conf: [
          `http: "127.0.0.1:${monitor}"`,
          `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${h.server.leafnodes!.port}" } ] }`,
        ].join("\n"),
      });
      const hubLinks = () => [...h.server.leafnodes!.connections].filter((c) => c.registered && !c.closed);
      const linked = async () =>
        hubLinks().length === 1 &&
        (await httpJson<Leafz>(`http://127.0.0.1:${monitor}/leafz`, 1000)).leafnodes === 1;
      await waitFor(linked, {
        timeoutMs: 8000,
        intervalMs: 100,
        what: "the nats-server leaf on the Lattice hub",
      });
      assert.equal(hubLinks()[0]?.remoteName, "ns-leaf");

      const open = async () => {
        const ncs = await Promise.all([h.url, leaf!.url].map((u) => connect({ servers: u, ...pinned })));
        clients.push(...ncs);
        return ncs;
      };
      let [hubNc, leafNc] = await open();
      await exercise(hubNc, leafNc, "one");

      await leafNc.close();
      await leaf.restart();
      await waitFor(linked, { timeoutMs: 8000, intervalMs: 100, what: "the restarted leaf to reconnect" });
      [hubNc, leafNc] = await open();
      await exercise(hubNc, leafNc, "two");
    } finally {
      await Promise.allSettled(clients.map((nc) => nc.close()));
      await leaf?.close();
      await hub?.close();
    }
  });
});
