// Monitoring of routes and leaf nodes: /routez, /leafz, the cluster and leaf sections of /varz, the same
// answers through the system account ($SYS.REQ.SERVER.PING.ROUTEZ...), per-link Prometheus series, and
// `lattice server list` / `server report routes|leafnodes`, on a 2-server cluster and a hub + spoke pair.
// Route fields are compared with nats-server 2.9.10's (which lacks the 2.10+ names and compression).
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type RunningCluster, type RunningServer, startCluster, startServer } from "../../src/index.js";
import { lattice } from "../cli/harness.js";
import { hasNatsServer, startNatsServer, type TestServer } from "../helpers/servers.js";
import { until } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: monitoring JSON under test
type Any = any;

const ACCOUNTS = {
  accounts: {
    SYS: { users: [{ user: "sys", password: "sys" }] },
    APP: { users: [{ user: "a", password: "a" }] },
  },
  system_account: "SYS",
};

const ROUTE_FIELDS = [
  "rid",
  "remote_id",
  "remote_name",
  "did_solicit",
  "is_configured",
  "ip",
  "port",
  "start",
  "last_activity",
  "rtt",
  "uptime",
  "idle",
  "pending_size",
  "in_msgs",
  "out_msgs",
  "in_bytes",
  "out_bytes",
  "subscriptions",
  "compression",
];

/** Fields nats-server added after 2.9 (the reference installed here). */
const NEWER_THAN_29 = new Set(["server_name", "remote_name", "compression", "pool_size", "name", "is_spoke"]);

function monitorUrl(s: RunningServer): string {
  return s.server.listenerUrls().monitoring![0];
}

async function get(s: RunningServer, path: string): Promise<Any> {
  const res = await fetch(`${monitorUrl(s)}${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Answers to a system-account request: `expect` of them, or what came within 3 s. */
async function ask(nc: NatsConnection, subject: string, expect: number): Promise<Any[]> {
  const got: Any[] = [];
  const it = await nc.requestMany(subject, "", { strategy: "count", maxMessages: expect, maxWait: 3000 });
  for await (const m of it) got.push(m.json());
  return got;
}

describe("cluster monitoring", () => {
  let cluster: RunningCluster;
  let s0: RunningServer;
  let s1: RunningServer;
  let hub: RunningServer;
  let spoke: RunningServer;
  const clients: NatsConnection[] = [];

  before(async () => {
    cluster = await startCluster({ servers: 2, name: "mon", http: "127.0.0.1:-1", ...ACCOUNTS });
    [s0, s1] = cluster.servers;
    hub = await startServer({
      server_name: "hub",
      http: "127.0.0.1:-1",
      leafnodes: { listen: "127.0.0.1:-1" },
      ...ACCOUNTS,
    });
    spoke = await startServer({
      server_name: "spoke",
      http: "127.0.0.1:-1",
      leafnodes: {
        // The hub authenticates leaf nodes as clients (no leafnodes authorization): the link binds APP there.
        remotes: [{ url: `nats-leaf://a:a@127.0.0.1:${hub.server.leafnodes!.port}`, account: "APP" }],
      },
      ...ACCOUNTS,
    });
    await until(
      async () => (await get(hub, "/leafz")).leafnodes === 1 && (await get(spoke, "/leafz")).leafnodes === 1,
    );
  });

  after(async () => {
    await Promise.all(clients.map((nc) => nc.close().catch(() => {})));
    await Promise.all([cluster?.close(), hub?.close(), spoke?.close()]);
  });

  async function client(s: RunningServer, user = "a"): Promise<NatsConnection> {
    const nc = await connect({ servers: s.url, user, pass: user });
    clients.push(nc);
    return nc;
  }

  it("/routez: one route on each side, with nats-server's fields and the peer's interest", async () => {
    const sub = await client(s1);
    let received = 0;
    sub.subscribe("mon.x", {
      callback: () => {
        received++;
      },
    });
    sub.subscribe("mon.q", { queue: "workers", callback: () => {} });
    await sub.flush();
    await until(async () => {
      const r = await get(s0, "/routez?subs=1");
      return r.routes[0]?.subscriptions_list?.includes("mon.q") === true;
    });

    const [r0, r1] = [await get(s0, "/routez"), await get(s1, "/routez")];
    for (const [r, self, peer] of [
      [r0, s0, s1],
      [r1, s1, s0],
    ] as const) {
      assert.deepEqual(Object.keys(r), ["server_id", "server_name", "now", "num_routes", "routes"]);
      assert.equal(r.server_id, self.server.id);
      assert.equal(r.server_name, self.server.name);
      assert.equal(r.num_routes, 1);
      const route = r.routes[0];
      assert.deepEqual(Object.keys(route), ROUTE_FIELDS);
      assert.equal(route.remote_id, peer.server.id);
      assert.equal(route.remote_name, peer.server.name);
      assert.equal(route.ip, "127.0.0.1");
      assert.equal(typeof route.port, "number");
      assert.equal(route.compression, "off");
      assert.match(route.rtt, /^\d/);
      assert.ok(!Number.isNaN(Date.parse(route.start)));
    }
    // The second server dialled the first (its configured route); the first accepted it.
    assert.deepEqual([r1.routes[0].did_solicit, r1.routes[0].is_configured], [true, true]);
    assert.deepEqual([r0.routes[0].did_solicit, r0.routes[0].is_configured], [false, false]);
    assert.equal(r1.routes[0].port, s0.server.cluster!.port);

    // Messages that cross are counted on both ends.
    const pub = await client(s0);
    const before0 = r0.routes[0].out_msgs;
    for (let i = 0; i < 3; i++) pub.publish("mon.x", "hello");
    await pub.flush();
    await until(() => received === 3);
    const [a0, a1] = [await get(s0, "/routez"), await get(s1, "/routez")];
    assert.ok(a0.routes[0].out_msgs >= before0 + 3);
    assert.ok(a0.routes[0].out_bytes >= 15);
    assert.ok(a1.routes[0].in_msgs >= 3);

    // subs=1: subjects only; subs=detail: nats-server's sid (account, subject, queue) and the route's id.
    const list = (await get(s0, "/routez?subs=1")).routes[0];
    assert.ok(list.subscriptions_list.includes("mon.x"));
    assert.equal(list.subscriptions, list.subscriptions_list.length);
    const detail = (await get(s0, "/routez?subs=detail")).routes[0];
    assert.equal(detail.subscriptions_list, undefined);
    const x = detail.subscriptions_list_detail.find((d: Any) => d.subject === "mon.x");
    assert.deepEqual(x, { subject: "mon.x", sid: "APP mon.x", msgs: 0, cid: detail.rid });
    const q = detail.subscriptions_list_detail.find((d: Any) => d.subject === "mon.q");
    assert.deepEqual([q.qgroup, q.sid], ["workers", "APP mon.q workers"]);

    const bad = await fetch(`${monitorUrl(s0)}/routez?subs=maybe`);
    assert.equal(bad.status, 400);
    await bad.text();
  });

  it("/varz: the cluster section, routes, remotes and the cluster's connect_urls", async () => {
    const [v0, v1] = [await get(s0, "/varz"), await get(s1, "/varz")];
    const port0 = s0.server.cluster!.port;
    assert.deepEqual(v0.cluster, {
      name: "mon",
      addr: "127.0.0.1",
      cluster_port: port0,
      auth_timeout: 2,
      tls_timeout: 2,
      pool_size: 3,
    });
    assert.deepEqual(v1.cluster.urls, [`127.0.0.1:${port0}`]);
    assert.equal(v1.cluster.cluster_port, s1.server.cluster!.port);
    for (const v of [v0, v1]) {
      assert.deepEqual([v.routes, v.remotes, v.leafnodes], [1, 1, 0]);
      assert.deepEqual(v.leaf, {});
      assert.deepEqual([...v.connect_urls].sort(), [s0.port, s1.port].map((p) => `127.0.0.1:${p}`).sort());
    }
  });

  it("/leafz and /varz on a hub and its spoke", async () => {
    const app = await client(spoke);
    app.subscribe("leaf.in", { callback: () => {} });
    await app.flush();
    await until(async () =>
      (await get(hub, "/leafz?subs=1")).leafs[0].subscriptions_list?.includes("leaf.in"),
    );

    const h = await get(hub, "/leafz?subs=1");
    assert.deepEqual(Object.keys(h), ["server_id", "now", "leafnodes", "leafs"]);
    assert.equal(h.server_id, hub.server.id);
    const link = h.leafs[0];
    assert.deepEqual(Object.keys(link), [
      "name",
      "is_spoke",
      "account",
      "ip",
      "port",
      "rtt",
      "in_msgs",
      "out_msgs",
      "in_bytes",
      "out_bytes",
      "subscriptions",
      "subscriptions_list",
      "compression",
    ]);
    assert.deepEqual([link.name, link.is_spoke, link.account, link.ip], ["spoke", false, "APP", "127.0.0.1"]);
    assert.equal(link.compression, "off");
    assert.equal(link.subscriptions, link.subscriptions_list.length);

    const s = (await get(spoke, "/leafz")).leafs[0];
    assert.deepEqual(
      [s.name, s.is_spoke, s.account, s.port],
      ["hub", true, "APP", hub.server.leafnodes!.port],
    );
    assert.equal(s.subscriptions_list, undefined);
    // acc filters by the local account; none left is null, as nats-server 2.9 writes it.
    assert.equal((await get(spoke, "/leafz?acc=APP")).leafnodes, 1);
    assert.deepEqual((await get(spoke, "/leafz?acc=OTHER")).leafs, null);

    const hv = await get(hub, "/varz");
    assert.deepEqual(hv.leaf, {
      host: "127.0.0.1",
      port: hub.server.leafnodes!.port,
      auth_timeout: 2,
      tls_timeout: 2,
    });
    assert.deepEqual([hv.leafnodes, hv.routes], [1, 0]);
    assert.deepEqual(hv.cluster, {});
    const sv = await get(spoke, "/varz");
    assert.deepEqual(sv.leaf, {
      remotes: [{ local_account: "APP", urls: [`127.0.0.1:${hub.server.leafnodes!.port}`] }],
    });
    assert.equal(sv.leafnodes, 1);
  });

  it("answers $SYS.REQ.SERVER.PING.ROUTEZ / .LEAFZ and $SYS.REQ.SERVER.<id>.ROUTEZ from every server", async () => {
    const sys = await client(s0, "sys");
    const routez = await ask(sys, "$SYS.REQ.SERVER.PING.ROUTEZ", 2);
    assert.deepEqual(routez.map((a) => a.server.name).sort(), ["mon-1", "mon-2"]);
    for (const a of routez) {
      assert.equal(a.server.cluster, "mon");
      assert.equal(a.data.num_routes, 1);
      assert.equal(a.data.server_id, a.server.id);
    }
    // One server by id, reached over the route.
    const one = await ask(sys, `$SYS.REQ.SERVER.${s1.server.id}.ROUTEZ`, 1);
    assert.equal(one.length, 1);
    assert.equal(one[0].data.routes[0].remote_id, s0.server.id);
    const statsz = await ask(sys, "$SYS.REQ.SERVER.PING", 2);
    assert.equal(statsz.length, 2);
    for (const a of statsz) {
      assert.equal(a.statsz.active_servers, 2);
      assert.equal(a.statsz.routes.length, 1);
      assert.deepEqual(Object.keys(a.statsz.routes[0]), ["rid", "name", "sent", "received", "pending"]);
    }
    const hubSys = await client(hub, "sys");
    const leafz = await ask(hubSys, "$SYS.REQ.SERVER.PING.LEAFZ", 1);
    assert.equal(leafz.length, 1);
    assert.equal(leafz[0].data.leafs[0].name, "spoke");
  });

  it("/metrics: per-route and per-leaf series labelled by the remote server", async () => {
    const text = await (await fetch(`${monitorUrl(s0)}/metrics`)).text();
    const route = `{remote_id="${s1.server.id}",remote_name="mon-2"}`;
    assert.match(text, /^lattice_routes 1$/m);
    for (const name of [
      "lattice_route_in_msgs_total",
      "lattice_route_out_msgs_total",
      "lattice_route_in_bytes_total",
      "lattice_route_out_bytes_total",
      "lattice_route_rtt_seconds",
      "lattice_route_subscriptions",
    ])
      assert.ok(text.includes(`\n${name}${route} `), `${name}${route}`);
    const dialer = await (await fetch(`${monitorUrl(s1)}/metrics`)).text();
    assert.ok(
      dialer.includes(
        `lattice_route_reconnects_total{url="nats-route://127.0.0.1:${s0.server.cluster!.port}",remote_id="${s0.server.id}"} 0`,
      ),
    );

    const spokeText = await (await fetch(`${monitorUrl(spoke)}/metrics`)).text();
    const leaf = `{remote_id="${hub.server.id}",remote_name="hub",account="APP",role="spoke"}`;
    assert.match(spokeText, /^lattice_leafnodes 1$/m);
    assert.ok(spokeText.includes(`\nlattice_leaf_in_msgs_total${leaf} `));
    assert.ok(spokeText.includes(`\nlattice_leaf_subscriptions${leaf} `));
    assert.ok(
      spokeText.includes(
        `lattice_leaf_reconnects_total{remote="127.0.0.1:${hub.server.leafnodes!.port}",account="APP"} 0`,
      ),
    );
  });

  it("lattice server list and server report routes|leafnodes show every server", async () => {
    const sys = ["-s", s1.url, "--user", "sys", "--password", "sys"];
    const [list, json, routes, leafs, notSys] = await Promise.all([
      lattice([...sys, "server", "list"]),
      lattice([...sys, "server", "list", "--json", "--expect", "2"]),
      lattice([...sys, "server", "report", "routes"]),
      lattice(["-s", hub.url, "--user", "sys", "--password", "sys", "server", "report", "leafnodes"]),
      lattice(["-s", s0.url, "--user", "a", "--password", "a", "--timeout", "1s", "server", "list"]),
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Servers \(2 answered\)/);
    for (const name of ["mon-1", "mon-2"]) assert.match(list.stdout, new RegExp(`${name}\\s+│\\s+mon\\s`));
    assert.match(list.stdout, /Leafnodes/);
    assert.equal(list.stderr, "");
    assert.equal(json.code, 0, json.stderr);
    const answers = JSON.parse(json.stdout) as Any[];
    assert.deepEqual(
      answers.map((a) => [a.server.name, a.data.cluster.name, a.data.routes, a.data.leafnodes]),
      [
        ["mon-1", "mon", 1, 0],
        ["mon-2", "mon", 1, 0],
      ],
    );
    assert.equal(routes.code, 0, routes.stderr);
    assert.match(routes.stdout, /Routes \(2 on 2 servers\)/);
    assert.match(routes.stdout, /mon-2\s+│\s+mon-1\s+│\s+127\.0\.0\.1:\d+\s+│\s+configured/);
    assert.equal(leafs.code, 0, leafs.stderr);
    assert.match(leafs.stdout, /hub\s+│\s+spoke\s+│\s+spoke\s+│\s+APP/);
    // Not a system-account user: nothing answers, and the error says why.
    assert.equal(notSys.code, 4);
    assert.match(notSys.stderr, /system account/);
  });

  it("has nats-server 2.9.10's route and cluster fields (plus the 2.10+ ones)", {
    skip: !hasNatsServer(),
  }, async () => {
    const free = async () => {
      const srv = net.createServer();
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
      const port = (srv.address() as net.AddressInfo).port;
      await new Promise((r) => srv.close(r));
      return port;
    };
    const [pa, pb] = [await free(), await free()];
    const sysConf = "accounts { SYS { users [{user: sys, password: sys}] } }\nsystem_account: SYS";
    const conf = (own: number, other: number) =>
      `server_name: ref${own}\n${sysConf}\ncluster { name: ref, listen: "127.0.0.1:${own}", routes: ["nats-route://127.0.0.1:${other}"] }`;
    const refs: TestServer[] = [];
    try {
      refs.push(await startNatsServer(conf(pa, pb)), await startNatsServer(conf(pb, pa)));
      const nc = await connect({ servers: refs[0].url, user: "sys", pass: "sys" });
      let ref: Any[] = [];
      let refVarz: Any;
      try {
        await until(async () => {
          ref = await ask(nc, "$SYS.REQ.SERVER.PING.ROUTEZ", 2);
          return ref.length === 2 && ref.every((a) => a.data.num_routes === 1);
        }, 10_000);
        refVarz = (await ask(nc, `$SYS.REQ.SERVER.${ref[1].server.id}.VARZ`, 1))[0].data;
      } finally {
        await nc.close();
      }
      const ours = await get(s1, "/routez");
      // The server that dialled: its cluster section lists the configured route, as both references do.
      const oursVarz = await get(s1, "/varz");
      const extra = (a: string[], b: string[]) => a.filter((k) => !b.includes(k));
      const check = (what: string, mine: string[], theirs: string[]) => {
        assert.deepEqual(extra(theirs, mine), [], `${what}: fields nats-server has and Lattice lacks`);
        assert.deepEqual(
          extra(mine, theirs).filter((k) => !NEWER_THAN_29.has(k)),
          [],
          `${what}: fields Lattice adds`,
        );
      };
      check("routez", Object.keys(ours), Object.keys(ref[0].data));
      check("routez.routes[]", Object.keys(ours.routes[0]), Object.keys(ref[0].data.routes[0]));
      check("varz.cluster", Object.keys(oursVarz.cluster), Object.keys(refVarz.cluster));
      assert.equal(typeof refVarz.connect_urls?.length, "number");
    } finally {
      await Promise.all(refs.map((r) => r.close()));
    }
  });
});
