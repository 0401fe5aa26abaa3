// Gateways (superclusters) through the official client: two Lattice clusters (east: 2 servers with routes,
// west: 1), messages and requests across, queue geo-affinity, interest removal, handshake refusals; then a
// Lattice cluster gatewayed to a reference nats-server (skipped when it is not installed).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, createInbox, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { GatewayConnection } from "../../src/cluster/gateway.js";
import { encodeCmdPayload, gatewayHash } from "../../src/cluster/gateway-info.js";
import type { RunningServer } from "../../src/index.js";
import { gatewayz } from "../../src/monitor/gatewayz.js";
import { type NatsServerProcess, startNatsServerProcess } from "../helpers/nats-cluster.js";
import { hasNatsServer, RawClient, startLattice } from "../helpers/servers.js";
import { httpJson, sleep, waitFor } from "../helpers/wait.js";

const T = { timeout: 20_000 };

/** A subscription callback answering each request with `text(m)`. */
function answer(text: (m: Msg) => string): (err: Error | null, m: Msg) => void {
  return (_err, m) => {
    m.respond(text(m));
  };
}

function outbound(s: RunningServer, cluster: string): GatewayConnection | undefined {
  for (const o of s.server.gateways?.outboundConnections() ?? []) if (o.name === cluster) return o.connection;
  return undefined;
}

function inboundCount(s: RunningServer, cluster: string): number {
  let n = 0;
  for (const i of s.server.gateways?.inboundConnections() ?? []) if (i.name === cluster) n++;
  return n;
}

/** Whether `s`'s outbound connection to `cluster` holds that cluster's interest in subject (and queue). */
function remoteInterest(s: RunningServer, cluster: string, subject: string, queue?: string): boolean {
  const c = outbound(s, cluster);
  if (c === undefined) return false;
  for (const { sub } of c.remoteSubscriptions())
    if (sub.subject === subject && sub.queue === queue) return true;
  return false;
}

/** Whether `s` knows a queue member of `queue` on `subject` held by a route (a member on a peer server). */
function routeQueueMember(s: RunningServer, subject: string, queue: string): boolean {
  const r = s.server.accounts.get("$G")!.sublist.match(subject);
  return r.queues.some((g) =>
    g.some((sub) => sub.queue === queue && sub.owner.kind === "route" && !sub.closed),
  );
}

function nextMsg(nc: NatsConnection, subject: string, timeoutMs = 5000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${subject}: nothing within ${timeoutMs}ms`)), timeoutMs);
    nc.subscribe(subject, {
      max: 1,
      callback: (_err, m) => {
        clearTimeout(timer);
        resolve(m);
      },
    });
  });
}

/** Publish until the subscriber has one (for interest that propagates through a peer we cannot inspect). */
async function crosses(pub: NatsConnection, sub: NatsConnection, subject: string): Promise<string> {
  let done = false;
  const got = nextMsg(sub, subject, 8000).then((m) => {
    done = true;
    return m.string();
  });
  await sub.flush();
  const deadline = Date.now() + 8000;
  while (!done && Date.now() < deadline) {
    pub.publish(subject, "across");
    await pub.flush();
    await sleep(50);
  }
  return got;
}

/** Requests until one is answered (a remote queue group's interest takes a moment to arrive). */
async function firstAnswer(nc: NatsConnection, subject: string): Promise<string> {
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      return (await nc.request(subject, "", { timeout: 300 })).string();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

async function answers(nc: NatsConnection, subject: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await nc.request(subject, `${i}`, { timeout: 2000 })).string());
  return out;
}

describe("gateways between two Lattice clusters", () => {
  let w1: RunningServer;
  let e1: RunningServer;
  let e2: RunningServer;
  const clients: NatsConnection[] = [];
  const client = async (s: RunningServer): Promise<NatsConnection> => {
    const nc = await connect({ servers: s.url });
    clients.push(nc);
    return nc;
  };

  before(async () => {
    w1 = await startLattice({ server_name: "w1", gateway: { name: "west", listen: "127.0.0.1:-1" } });
    const westUrl = `nats://127.0.0.1:${w1.server.gateways!.port}`;
    // Only e1 is told about west; e2 learns it from e1 over their route, west learns east from inbounds.
    e1 = await startLattice({
      server_name: "e1",
      cluster: { name: "east", listen: "127.0.0.1:-1" },
      gateway: { name: "east", listen: "127.0.0.1:-1", gateways: [{ name: "west", urls: [westUrl] }] },
    });
    e2 = await startLattice({
      server_name: "e2",
      cluster: {
        name: "east",
        listen: "127.0.0.1:-1",
        routes: [`nats-route://127.0.0.1:${e1.server.cluster!.port}`],
      },
      gateway: { name: "east", listen: "127.0.0.1:-1" },
    });
    await waitFor(
      () =>
        outbound(e1, "west") !== undefined &&
        outbound(e2, "west") !== undefined &&
        outbound(w1, "east") !== undefined &&
        inboundCount(w1, "east") === 2 &&
        inboundCount(e1, "west") + inboundCount(e2, "west") === 1,
      { timeoutMs: 10_000, what: "the supercluster to form" },
    );
  });

  after(async () => {
    for (const nc of clients) await nc.close().catch(() => {});
    await Promise.all([e2?.close(), e1?.close(), w1?.close()]);
  });

  it("forms a full mesh from one configured URL: gossip over routes and from inbound connections", T, () => {
    assert.equal(e1.server.clusterName, "east");
    assert.equal(w1.server.clusterName, "west");
    // e2 had no remote configured, west none at all: both connect implicitly.
    const eOut = [...e2.server.gateways!.outboundConnections()];
    assert.deepEqual(
      eOut.map((o) => [o.name, o.configured]),
      [["west", false]],
    );
    assert.deepEqual(
      [...e1.server.gateways!.outboundConnections()].map((o) => [o.name, o.configured]),
      [["west", true]],
    );
    // The route INFO carried each server's gateway URL, so west was told both east URLs.
    const urls = new Set<string>();
    for (const s of [e1, e2]) urls.add(s.server.gateways!.url);
    const westKnows = w1.server.gateways!.remotes.get("east")!;
    for (const u of urls) assert.ok(westKnows.urls.has(u), `west knows ${u}`);
  });

  it("carries messages both ways, headers included", T, async () => {
    const nw = await client(w1);
    const ne = await client(e2);
    const fromEast = nextMsg(nw, "gw.east-to-west");
    await nw.flush();
    await waitFor(() => remoteInterest(e2, "west", "gw.east-to-west"), { what: "west's interest at e2" });
    const h = headers();
    h.set("X-Trip", "east");
    ne.publish("gw.east-to-west", "hello west", { headers: h });
    const m1 = await fromEast;
    assert.equal(m1.string(), "hello west");
    assert.equal(m1.headers?.get("X-Trip"), "east");

    // West to east: the subscriber is on e2, west's outbound goes to one east server; routes do the rest.
    const fromWest = nextMsg(ne, "gw.west-to-east.*");
    await ne.flush();
    await waitFor(() => remoteInterest(w1, "east", "gw.west-to-east.*"), { what: "east's interest at w1" });
    nw.publish("gw.west-to-east.1", "hello east");
    assert.equal((await fromWest).string(), "hello east");
  });

  it(
    "maps the reply of a request whose reply subscription was just made, and routes the answer back",
    T,
    async () => {
      const nw = await client(w1);
      const ne1 = await client(e1);
      const ne2 = await client(e2);
      const seen: string[] = [];
      nw.subscribe("gw.svc", {
        callback: (_e, m) => {
          seen.push(m.reply ?? "");
          m.respond(`west answers ${m.string()}`);
        },
      });
      await nw.flush();
      await waitFor(() => remoteInterest(e1, "west", "gw.svc") && remoteInterest(e2, "west", "gw.svc"));

      // A reply subscription made just before the request: its interest may not be in west yet.
      const inbox = createInbox();
      const reply = nextMsg(ne2, inbox);
      ne2.publish("gw.svc", "e2", { reply: inbox });
      assert.equal((await reply).string(), "west answers e2");
      // The responder saw the reply with e2's prefix (Lattice does not hide it from clients).
      const prefix = `_GR_.${gatewayHash("east")}.${gatewayHash(e2.server.id)}.`;
      assert.equal(seen.at(-1), `${prefix}${inbox}`);

      // The same through the client's request API, from both east servers.
      assert.equal((await ne1.request("gw.svc", "e1", { timeout: 2000 })).string(), "west answers e1");
      assert.equal((await ne2.request("gw.svc", "e2b", { timeout: 2000 })).string(), "west answers e2b");

      // West asking east: the responder is on e2, west's outbound may reach e1 (the reply is then passed on
      // over the route to... west itself is a single server, so it comes straight back).
      ne2.subscribe("gw.east-svc", { callback: answer((m) => `east answers ${m.string()}`) });
      await ne2.flush();
      await waitFor(() => remoteInterest(w1, "east", "gw.east-svc"));
      assert.equal((await nw.request("gw.east-svc", "w", { timeout: 2000 })).string(), "east answers w");
    },
  );

  it("does not map replies of an older subscription: the answer follows interest", T, async () => {
    const nw = await client(w1);
    const ne = await client(e2);
    const seen: string[] = [];
    nw.subscribe("gw.svc-old", {
      callback: (_e, m) => {
        seen.push(m.reply ?? "");
        m.respond("ok");
      },
    });
    const inbox = createInbox();
    const replies = ne.subscribe(inbox);
    await Promise.all([nw.flush(), ne.flush()]);
    await waitFor(() => remoteInterest(e2, "west", "gw.svc-old") && remoteInterest(w1, "east", inbox));
    await sleep(2300);
    ne.publish("gw.svc-old", "", { reply: inbox });
    for await (const m of replies) {
      assert.equal(m.string(), "ok");
      break;
    }
    assert.deepEqual(seen, [inbox]);
  });

  it(
    "serves a queue group in the caller's cluster while it has a member there, else in the other",
    T,
    async () => {
      const nw = await client(w1);
      const ne1 = await client(e1);
      const ne2 = await client(e2);
      nw.subscribe("gw.work", {
        queue: "workers",
        callback: (_e, m) => {
          m.respond("west");
        },
      });
      const eastMember = ne1.subscribe("gw.work", {
        queue: "workers",
        callback: answer(() => "east"),
      });
      await Promise.all([nw.flush(), ne1.flush()]);
      await waitFor(
        () =>
          routeQueueMember(e2, "gw.work", "workers") &&
          remoteInterest(e2, "west", "gw.work", "workers") &&
          remoteInterest(e1, "west", "gw.work", "workers") &&
          remoteInterest(w1, "east", "gw.work", "workers"),
        { what: "queue interest everywhere" },
      );
      // Geo-affinity: east callers are served in east (e2's own cluster has e1's member), west callers in west.
      assert.deepEqual(new Set(await answers(ne2, "gw.work", 20)), new Set(["east"]));
      assert.deepEqual(new Set(await answers(ne1, "gw.work", 10)), new Set(["east"]));
      assert.deepEqual(new Set(await answers(nw, "gw.work", 10)), new Set(["west"]));

      // The east member leaves: once e2 knows, east callers are served by west, none lost.
      eastMember.unsubscribe();
      await ne1.flush();
      await waitFor(() => !routeQueueMember(e2, "gw.work", "workers"), { what: "e2 to drop e1's member" });
      const after = await answers(ne2, "gw.work", 20);
      assert.equal(after.length, 20);
      assert.deepEqual(new Set(after), new Set(["west"]));
      assert.deepEqual(new Set(await answers(ne1, "gw.work", 10)), new Set(["west"]));
    },
  );

  it("tells the other cluster when interest goes away (plain and queue)", T, async () => {
    const nw = await client(w1);
    const ne = await client(e1);
    const plain = nw.subscribe("gw.temp.>");
    const queue = nw.subscribe("gw.tempq", { queue: "g" });
    await nw.flush();
    await waitFor(
      () =>
        remoteInterest(e1, "west", "gw.temp.>") &&
        remoteInterest(e2, "west", "gw.temp.>") &&
        remoteInterest(e1, "west", "gw.tempq", "g"),
    );
    plain.unsubscribe();
    queue.unsubscribe();
    await nw.flush();
    await waitFor(
      () =>
        !remoteInterest(e1, "west", "gw.temp.>") &&
        !remoteInterest(e2, "west", "gw.temp.>") &&
        !remoteInterest(e1, "west", "gw.tempq", "g") &&
        !remoteInterest(e2, "west", "gw.tempq", "g"),
      { what: "RS- to reach east" },
    );
    // Nothing crosses the gateway for it any more.
    const out = outbound(e1, "west")!;
    const before = out.stats.outMsgs;
    ne.publish("gw.temp.x", "nobody");
    ne.publish("gw.tempq", "nobody");
    await ne.flush();
    await sleep(100);
    assert.equal(out.stats.outMsgs, before);
  });

  it("keeps interest while a second subscription on the same subject remains", T, async () => {
    const nw = await client(w1);
    const a = nw.subscribe("gw.two");
    const b = nw.subscribe("gw.two");
    await nw.flush();
    await waitFor(() => remoteInterest(e1, "west", "gw.two"));
    a.unsubscribe();
    await nw.flush();
    await sleep(200);
    assert.ok(remoteInterest(e1, "west", "gw.two"));
    b.unsubscribe();
    await nw.flush();
    await waitFor(() => !remoteInterest(e1, "west", "gw.two"));
  });

  it("reports gateways in /gatewayz", T, () => {
    const now = new Date();
    const z = gatewayz(e1.server, new URLSearchParams(), now) as {
      server_id: string;
      name: string;
      port: number;
      outbound_gateways: Record<string, { configured: boolean; connection: { name: string; cid: number } }>;
      inbound_gateways: Record<string, { configured: boolean; connection: { name: string } }[]>;
    };
    assert.equal(z.server_id, e1.server.id);
    assert.equal(z.name, "east");
    assert.equal(z.port, e1.server.gateways!.port);
    assert.equal(z.outbound_gateways.west?.configured, true);
    assert.equal(z.outbound_gateways.west?.connection.name, w1.server.id);
    const w = gatewayz(w1.server, new URLSearchParams(), now) as typeof z;
    assert.equal(w.outbound_gateways.east?.configured, false);
    assert.equal(w.inbound_gateways.east?.length, 2);
    assert.deepEqual(
      new Set(w.inbound_gateways.east?.map((g) => g.connection.name)),
      new Set([e1.server.id, e2.server.id]),
    );
  });

  it("speaks interest-only mode to an inbound gateway, and publishes what it sends", T, async () => {
    const nw = await client(w1);
    const sub = nextMsg(nw, "gw.raw.in");
    const q = nw.subscribe("gw.raw.q", { queue: "rq" });
    await nw.flush();
    const raw = await RawClient.connect(w1.server.gateways!.port);
    try {
      const info = JSON.parse(/^INFO (.*)\r\n/.exec(raw.text())![1]!) as Record<string, unknown>;
      assert.equal(info.gateway, "west");
      assert.equal(info.gateway_nrp, true);
      assert.equal(info.gateway_iom, true);
      assert.equal(info.headers, true);
      raw.write(
        'CONNECT {"verbose":false,"pedantic":false,"name":"FAKE","gateway":"fake"}\r\nINFO {"server_id":"FAKE","gateway":"fake","gateway_urls":[]}\r\n',
      );
      const g = encodeCmdPayload("$G");
      const text = await raw.waitFor((t) => t.includes(`"gateway_cmd":3,"gateway_cmd_payload":"${g}"`), 3000);
      const start = text.indexOf(`"gateway_cmd":2,"gateway_cmd_payload":"${g}"`);
      const end = text.indexOf(`"gateway_cmd":3,"gateway_cmd_payload":"${g}"`);
      assert.ok(start > 0 && end > start, text);
      const between = text.slice(start, end);
      assert.match(between, /RS\+ \$G gw\.raw\.in\r\n/);
      assert.match(between, /RS\+ \$G gw\.raw\.q rq 1\r\n/);
      // Later interest arrives as it comes.
      const later = nw.subscribe("gw.raw.later");
      await nw.flush();
      await raw.waitFor((t) => t.includes("RS+ $G gw.raw.later\r\n"), 2000);
      later.unsubscribe();
      await nw.flush();
      await raw.waitFor((t) => t.includes("RS- $G gw.raw.later\r\n"), 2000);
      q.unsubscribe();
      await nw.flush();
      await raw.waitFor((t) => t.includes("RS- $G gw.raw.q rq\r\n"), 2000);
      // A message from the other cluster is published here.
      raw.write("RMSG $G gw.raw.in 5\r\nhello\r\n");
      assert.equal((await sub).string(), "hello");
    } finally {
      raw.close();
    }
  });

  it("redials a lost outbound connection", T, async () => {
    const before = outbound(e1, "west")!;
    before.transport.destroy();
    await waitFor(
      () => {
        const now = outbound(e1, "west");
        return now !== undefined && now !== before;
      },
      { timeoutMs: 8000, what: "e1 to reconnect to west" },
    );
    const nw = await client(w1);
    const ne = await client(e1);
    assert.equal(await crosses(ne, nw, "gw.after-reconnect"), "across");
  });
});

interface FakeServer {
  port: number;
  /** Everything received so far. */
  text(): string;
  /** Send to every connection. */
  write(text: string): void;
  close(): Promise<void>;
}

/** A fake server that greets every connection with `greeting` and collects what it is sent. */
async function fakeServer(greeting: string): Promise<FakeServer> {
  let received = "";
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => {
      received += d.toString();
    });
    s.on("error", () => {});
    s.write(greeting);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    text: () => received,
    write: (text) => {
      for (const s of sockets) s.write(text);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

describe("gateway handshake refusals", () => {
  it("refuses a client or route on the gateway port", T, async () => {
    const s = await startLattice({ gateway: { name: "solo", listen: "127.0.0.1:-1" } });
    try {
      const raw = await RawClient.connect(s.server.gateways!.port);
      raw.write('CONNECT {"verbose":false}\r\n');
      const text = await raw.settle();
      assert.match(text, /-ERR 'attempted to connect to gateway port'\r\n/);
      assert.ok(raw.closed);
    } finally {
      await s.close();
    }
  });

  it("rejects an unknown cluster with reject_unknown_cluster", T, async () => {
    const s = await startLattice({
      gateway: { name: "picky", listen: "127.0.0.1:-1", reject_unknown_cluster: true },
    });
    try {
      const raw = await RawClient.connect(s.server.gateways!.port);
      raw.write('CONNECT {"verbose":false,"name":"X","gateway":"stranger"}\r\n');
      const text = await raw.settle();
      assert.match(text, /-ERR 'Connection to gateway "picky" rejected'\r\n/);
    } finally {
      await s.close();
    }
  });

  it("checks the remote's gateway name and port before sending CONNECT", T, async () => {
    const wrongName = await fakeServer('INFO {"server_id":"OTHER","gateway":"other","gateway_iom":true}\r\n');
    const wrongPort = await fakeServer('INFO {"server_id":"CLIENTPORT","max_payload":1048576}\r\n');
    const s = await startLattice({
      gateway: {
        name: "asker",
        listen: "127.0.0.1:-1",
        gateways: [
          { name: "wanted", urls: [`nats://127.0.0.1:${wrongName.port}`] },
          { name: "wanted2", urls: [`nats://127.0.0.1:${wrongPort.port}`] },
        ],
      },
    });
    try {
      await waitFor(() => wrongName.text().includes("-ERR") && wrongPort.text().includes("-ERR"));
      assert.equal(
        wrongName.text().split("\r\n")[0],
        `-ERR 'Connection from "asker" rejected, wanted to connect to "wanted", this is "other"'`,
      );
      assert.equal(
        wrongPort.text().split("\r\n")[0],
        `-ERR 'Attempt to connect to gateway "wanted2" using wrong port'`,
      );
      assert.ok(!wrongName.text().includes("CONNECT"));
    } finally {
      await s.close();
      await wrongName.close();
      await wrongPort.close();
    }
  });

  it("refuses a gateway peer named like a server of its own cluster, both ways", T, async () => {
    const one = await startLattice({
      server_name: "twin",
      gateway: { name: "one", listen: "127.0.0.1:-1" },
    });
    const two = await startLattice({
      server_name: "twin",
      gateway: {
        name: "two",
        listen: "127.0.0.1:-1",
        gateways: [{ name: "one", urls: [`nats://127.0.0.1:${one.server.gateways!.port}`] }],
      },
    });
    try {
      // Give the dialler a few rounds: no connection is ever registered on either side.
      await sleep(1500);
      assert.equal(outbound(two, "one"), undefined);
      assert.equal(inboundCount(one, "two"), 0);
      assert.equal(outbound(one, "two"), undefined);
    } finally {
      await two.close();
      await one.close();
    }
  });

  it("refuses a gateway name that differs from the cluster name", T, async () => {
    await assert.rejects(
      startLattice({
        cluster: { name: "a", listen: "127.0.0.1:-1" },
        gateway: { name: "b", listen: "127.0.0.1:-1" },
      }),
      /cluster name conflicts/,
    );
  });
});

describe("optimistic mode towards a peer that does not promise interest-only", () => {
  it("sends everything except what the peer declined, until it switches the account", T, async () => {
    // An old-style remote gateway: no gateway_iom in its INFO.
    const peer = await fakeServer('INFO {"server_id":"OLD","gateway":"old","headers":true}\r\n');
    const s = await startLattice({
      gateway: {
        name: "new",
        listen: "127.0.0.1:-1",
        gateways: [{ name: "old", urls: [`nats://127.0.0.1:${peer.port}`] }],
      },
    });
    const nc = await connect({ servers: s.url });
    try {
      await waitFor(() => outbound(s, "old") !== undefined);
      assert.match(peer.text(), /^CONNECT \{.*"gateway":"new".*\}\r\nINFO \{.*"gateway_iom":true.*\}\r\n/);
      const sent = async (subject: string): Promise<boolean> => {
        const marker = `RMSG $G ${subject} 2\r\nhi\r\n`;
        const before = peer.text().split(marker).length;
        nc.publish(subject, "hi");
        await nc.flush();
        await sleep(100);
        return peer.text().split(marker).length > before;
      };
      // No interest was ever announced, yet the message goes.
      assert.ok(await sent("opt.a"));
      // RS-: "no interest in this subject"; RS+ takes it back.
      peer.write("RS- $G opt.a\r\n");
      await sleep(100);
      assert.ok(!(await sent("opt.a")));
      assert.ok(await sent("opt.b"));
      peer.write("RS+ $G opt.*\r\n");
      await sleep(100);
      assert.ok(await sent("opt.a"));
      // A-: nothing for the account; A+ undoes it.
      peer.write("A- $G\r\n");
      await sleep(100);
      assert.ok(!(await sent("opt.c")));
      peer.write("A+ $G\r\n");
      await sleep(100);
      assert.ok(await sent("opt.c"));
      // The peer switches $G to interest-only: from then on only what it lists.
      const g = encodeCmdPayload("$G");
      peer.write(
        `INFO {"gateway":"old","gateway_cmd":2,"gateway_cmd_payload":"${g}"}\r\nRS+ $G opt.z\r\nINFO {"gateway":"old","gateway_cmd":3,"gateway_cmd_payload":"${g}"}\r\n`,
      );
      await sleep(100);
      assert.ok(!(await sent("opt.b")));
      assert.ok(await sent("opt.z"));
    } finally {
      await nc.close();
      await s.close();
      await peer.close();
    }
  });
});

describe("gateway interop with nats-server", {
  skip: hasNatsServer() ? false : "nats-server not installed",
}, () => {
  let ref: NatsServerProcess;
  let e1: RunningServer;
  let e2: RunningServer;
  let refId = "";
  const clients: NatsConnection[] = [];
  const client = async (url: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: url });
    clients.push(nc);
    return nc;
  };
  const gz = () =>
    httpJson<{
      outbound_gateways: Record<string, { connection?: { name?: string } }>;
      inbound_gateways: Record<string, unknown[]>;
    }>(`http://127.0.0.1:${ref.monitorPort}/gatewayz`);

  before(async () => {
    ref = await startNatsServerProcess({
      name: "ref1",
      conf: 'http: "127.0.0.1:-1"\ngateway { name: "ref", listen: "127.0.0.1:-1" }',
    });
    const varz = await httpJson<{ server_id: string }>(`http://127.0.0.1:${ref.monitorPort}/varz`);
    refId = varz.server_id;
    e1 = await startLattice({
      server_name: "ie1",
      cluster: { name: "east", listen: "127.0.0.1:-1" },
      gateway: {
        name: "east",
        listen: "127.0.0.1:-1",
        gateways: [{ name: "ref", urls: [`nats://127.0.0.1:${ref.gatewayPort}`] }],
      },
    });
    e2 = await startLattice({
      server_name: "ie2",
      cluster: {
        name: "east",
        listen: "127.0.0.1:-1",
        routes: [`nats-route://127.0.0.1:${e1.server.cluster!.port}`],
      },
      gateway: { name: "east", listen: "127.0.0.1:-1" },
    });
    await waitFor(
      async () => {
        if (outbound(e1, "ref") === undefined || outbound(e2, "ref") === undefined) return false;
        const z = await gz();
        return z.outbound_gateways.east !== undefined && (z.inbound_gateways.east?.length ?? 0) === 2;
      },
      { timeoutMs: 12_000, what: "nats-server and the Lattice cluster to connect both ways" },
    );
  });

  after(async () => {
    for (const nc of clients) await nc.close().catch(() => {});
    await Promise.all([e2?.close(), e1?.close()]);
    await ref?.close();
  });

  it("exchanges messages both ways (nats-server's interest-only mode, headers)", T, async () => {
    const nr = await client(ref.url);
    const ne = await client(e2.url);
    const toRef = nextMsg(nr, "io.to-ref");
    await nr.flush();
    await waitFor(() => remoteInterest(e2, "ref", "io.to-ref") && remoteInterest(e1, "ref", "io.to-ref"));
    const h = headers();
    h.set("X-From", "lattice");
    ne.publish("io.to-ref", "hi ref", { headers: h });
    const m = await toRef;
    assert.equal(m.string(), "hi ref");
    assert.equal(m.headers?.get("X-From"), "lattice");

    // nats-server to Lattice: nats-server only sends what our inbound told it (cmd 2, RS+, cmd 3).
    assert.equal(await crosses(nr, ne, "io.to-lattice"), "across");
    const wild = nextMsg(ne, "io.wild.>");
    await ne.flush();
    await sleep(300);
    nr.publish("io.wild.a.b", "wildcard");
    assert.equal((await wild).string(), "wildcard");
  });

  it("answers requests both ways through mapped replies", T, async () => {
    const nr = await client(ref.url);
    const ne1 = await client(e1.url);
    const ne2 = await client(e2.url);
    nr.subscribe("io.ref-svc", { callback: answer((m) => `ref answers ${m.string()}`) });
    await nr.flush();
    await waitFor(() => remoteInterest(e1, "ref", "io.ref-svc") && remoteInterest(e2, "ref", "io.ref-svc"));
    // Fresh inboxes: the reply is mapped to `_GR_.<east>.<server>.`; nats-server answers straight back to the
    // server that asked, through whichever east server its outbound reaches.
    assert.equal((await ne2.request("io.ref-svc", "e2", { timeout: 3000 })).string(), "ref answers e2");
    assert.equal((await ne1.request("io.ref-svc", "e1", { timeout: 3000 })).string(), "ref answers e1");

    const seen: string[] = [];
    ne2.subscribe("io.east-svc", {
      callback: (_e, m) => {
        seen.push(m.reply ?? "");
        m.respond(`east answers ${m.string()}`);
      },
    });
    await ne2.flush();
    // nats-server maps its fresh reply with its own hashes: ours must compute the same ones.
    assert.equal(await firstAnswer(nr, "io.east-svc"), "east answers ");
    assert.ok(
      seen.some((r) => r.startsWith(`_GR_.${gatewayHash("ref")}.${gatewayHash(refId)}.`)),
      `replies seen: ${seen.join(", ")}`,
    );
    assert.equal((await nr.request("io.east-svc", "ref", { timeout: 3000 })).string(), "east answers ref");
  });

  it("serves queue groups with geo-affinity across the two implementations", T, async () => {
    const nr = await client(ref.url);
    const ne1 = await client(e1.url);
    const ne2 = await client(e2.url);
    // Only nats-server has a member: east callers are served there.
    const refMember = nr.subscribe("io.work", {
      queue: "q",
      callback: (_e, m) => {
        m.respond("ref");
      },
    });
    await nr.flush();
    await waitFor(
      () => remoteInterest(e2, "ref", "io.work", "q") && remoteInterest(e1, "ref", "io.work", "q"),
    );
    assert.deepEqual(new Set(await answers(ne2, "io.work", 10)), new Set(["ref"]));
    // An east member appears: east callers stay in east.
    ne1.subscribe("io.work", {
      queue: "q",
      callback: (_e, m) => {
        m.respond("east");
      },
    });
    await ne1.flush();
    await waitFor(() => routeQueueMember(e2, "io.work", "q"));
    assert.deepEqual(new Set(await answers(ne2, "io.work", 20)), new Set(["east"]));
    assert.deepEqual(new Set(await answers(ne1, "io.work", 10)), new Set(["east"]));
    // ...and nats-server's callers stay with its own member.
    assert.deepEqual(new Set(await answers(nr, "io.work", 10)), new Set(["ref"]));
    // Its member leaves: nats-server sends its callers to east (after our RS+ q reached it long ago).
    refMember.unsubscribe();
    await nr.flush();
    await sleep(200);
    const served = await answers(nr, "io.work", 10);
    assert.deepEqual(new Set(served), new Set(["east"]));
  });

  it("shows the nats-server peer in /gatewayz", T, () => {
    const z = gatewayz(e1.server, new URLSearchParams(), new Date()) as {
      outbound_gateways: Record<string, { configured: boolean; connection: { name: string } }>;
    };
    assert.equal(z.outbound_gateways.ref?.configured, true);
    assert.equal(z.outbound_gateways.ref?.connection.name, refId);
  });
});

describe("a cluster of a Lattice server and a nats-server", {
  skip: hasNatsServer() ? false : "nats-server not installed",
}, () => {
  it(
    "learns gateway URLs and remote clusters over mixed routes, and routes replies to the server that asked",
    T,
    async () => {
      const w = await startLattice({ server_name: "mw", gateway: { name: "west", listen: "127.0.0.1:-1" } });
      const l1 = await startLattice({
        server_name: "ml1",
        cluster: { name: "east", listen: "127.0.0.1:-1" },
        gateway: {
          name: "east",
          listen: "127.0.0.1:-1",
          gateways: [{ name: "west", urls: [`nats://127.0.0.1:${w.server.gateways!.port}`] }],
        },
      });
      let n1: NatsServerProcess | undefined;
      const clients: NatsConnection[] = [];
      try {
        // The nats-server has no remote configured: it learns west from the Lattice server over their route.
        n1 = await startNatsServerProcess({
          name: "mn1",
          conf: [
            'http: "127.0.0.1:-1"',
            `cluster { name: east, listen: "127.0.0.1:-1", routes: ["nats-route://127.0.0.1:${l1.server.cluster!.port}"] }`,
            'gateway { name: east, listen: "127.0.0.1:-1" }',
          ].join("\n"),
        });
        const monitor = n1.monitorPort;
        await waitFor(
          async () => {
            const z = await httpJson<{ outbound_gateways: Record<string, unknown> }>(
              `http://127.0.0.1:${monitor}/gatewayz`,
            );
            return z.outbound_gateways.west !== undefined && inboundCount(w, "east") === 2;
          },
          { timeoutMs: 12_000, what: "the nats-server to connect to west" },
        );
        // West was told the nats-server's gateway URL by the Lattice server (from its route INFO).
        assert.equal(w.server.gateways!.remotes.get("east")!.urls.size, 2);
        const [nn, nw] = await Promise.all([connect({ servers: n1.url }), connect({ servers: w.url })]);
        clients.push(nn!, nw!);
        nw!.subscribe("mixed.svc", { callback: answer((m) => `west answers ${m.string()}`) });
        await nw!.flush();
        // The nats-server maps its fresh inbox to itself; west answers through its one outbound connection,
        // which may reach the Lattice server: then the reply crosses the route to the nats-server.
        assert.equal(await firstAnswer(nn!, "mixed.svc"), "west answers ");
        for (let i = 0; i < 3; i++)
          assert.equal(
            (await nn!.request("mixed.svc", `${i}`, { timeout: 2000 })).string(),
            `west answers ${i}`,
          );
        nn!.subscribe("mixed.east", { callback: answer(() => "nats-server answers") });
        await nn!.flush();
        assert.equal(await firstAnswer(nw!, "mixed.east"), "nats-server answers");
      } finally {
        for (const nc of clients) await nc.close().catch(() => {});
        await n1?.close();
        await l1.close();
        await w.close();
      }
    },
  );
});

/** A CA and one certificate for 127.0.0.1 usable by both ends of a link (serverAuth and clientAuth). */
function makeLinkCerts(): { cert: string; key: string; ca: string; remove(): void } | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "gw-tls-"));
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca-key.pem"), "-out", f("ca.pem")].concat(
      ["-days", "2", "-subj", "/CN=gateway test ca"],
    ),
  );
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    f("key.pem"),
    "-out",
    f("req.csr"),
    "-subj",
    "/CN=gw",
  ]);
  writeFileSync(
    f("ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  run(
    [
      "x509",
      "-req",
      "-in",
      f("req.csr"),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca-key.pem"),
      "-CAcreateserial",
    ].concat(["-out", f("cert.pem"), "-days", "2", "-extfile", f("ext.cnf")]),
  );
  return {
    cert: f("cert.pem"),
    key: f("key.pem"),
    ca: f("ca.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe("gateways over TLS", () => {
  it("connects over TLS both ways (and with nats-server when installed)", T, async (t) => {
    const certs = makeLinkCerts();
    if (certs === undefined) {
      t.skip("openssl not installed");
      return;
    }
    const tls = { cert_file: certs.cert, key_file: certs.key, ca_file: certs.ca };
    const servers: RunningServer[] = [];
    const clients: NatsConnection[] = [];
    let ref: NatsServerProcess | undefined;
    try {
      const w = await startLattice({
        server_name: "tw",
        gateway: { name: "west", listen: "127.0.0.1:-1", tls },
      });
      servers.push(w);
      const remotes = [{ name: "west", urls: [`nats://127.0.0.1:${w.server.gateways!.port}`] }];
      if (hasNatsServer()) {
        ref = await startNatsServerProcess({
          name: "tref",
          conf: `gateway { name: ref, listen: "127.0.0.1:-1", tls { cert_file: "${certs.cert}", key_file: "${certs.key}", ca_file: "${certs.ca}" } }`,
        });
        remotes.push({ name: "ref", urls: [`nats://127.0.0.1:${ref.gatewayPort}`] });
      }
      const e = await startLattice({
        server_name: "te",
        gateway: { name: "east", listen: "127.0.0.1:-1", tls, gateways: remotes },
      });
      servers.push(e);
      await waitFor(
        () => {
          for (const r of remotes)
            if (outbound(e, r.name) === undefined || inboundCount(e, r.name) !== 1) return false;
          return outbound(w, "east") !== undefined;
        },
        { timeoutMs: 10_000, what: "TLS gateways" },
      );
      assert.equal(outbound(e, "west")!.remote?.tls_required, true);
      for (const i of e.server.gateways!.inboundConnections())
        assert.ok(i.connection.transport.tls !== undefined);
      const ne = await connect({ servers: e.url });
      clients.push(ne);
      for (const r of remotes) {
        const nr = await connect({ servers: r.name === "west" ? w.url : ref!.url });
        clients.push(nr);
        nr.subscribe(`tls.${r.name}`, { callback: answer(() => r.name) });
        await nr.flush();
        assert.equal(await firstAnswer(ne, `tls.${r.name}`), r.name);
        ne.subscribe(`tls.back.${r.name}`, { callback: answer(() => "east") });
        await ne.flush();
        assert.equal(await firstAnswer(nr, `tls.back.${r.name}`), "east");
      }
    } finally {
      for (const nc of clients) await nc.close().catch(() => {});
      for (const s of servers.reverse()) await s.close();
      await ref?.close();
      certs.remove();
    }
  });
});
