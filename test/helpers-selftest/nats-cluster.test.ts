import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  freePort,
  type NatsCluster,
  startNatsCluster,
  startNatsServerProcess,
} from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { httpJson, waitFor } from "../helpers/wait.js";

const skip = hasNatsServer() ? false : "nats-server (reference) is not installed";
const dec = new TextDecoder();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Publish on `pub` until a message arrives on `sub` (subscription interest takes a moment to cross routes). */
async function deliversAcross(pub: NatsConnection, sub: NatsConnection, subject: string): Promise<string> {
  const s = sub.subscribe(subject, { max: 1 });
  await sub.flush();
  const got = (async () => {
    for await (const m of s) return dec.decode(m.data);
    return "";
  })();
  let received: string | undefined;
  void got.then((v) => {
    received = v;
  });
  let n = 0;
  await waitFor(
    async () => {
      pub.publish(subject, `hello ${n++}`);
      await pub.flush();
      await new Promise((r) => setTimeout(r, 50));
      return received !== undefined;
    },
    { timeoutMs: 5000, intervalMs: 50, what: `a message on ${subject} across the route` },
  );
  return received ?? "";
}

describe("reference nats-server helpers", { skip }, () => {
  it("freePort gives distinct free loopback ports", async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    assert.equal(new Set(ports).size, ports.length);
    for (const p of ports) {
      const srv = net.createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(p, "127.0.0.1", resolve);
      });
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  it("a single server reports its ports, including leaf node and gateway ones", async () => {
    const s = await startNatsServerProcess({
      name: "single",
      conf: [
        "http: 127.0.0.1:-1",
        "accounts { SYS { users: [{ user: sys, password: sys }] } }",
        "system_account: SYS",
        "cluster { name: single, listen: 127.0.0.1:-1 }",
        "gateway { name: single, listen: 127.0.0.1:-1 }",
        "leafnodes { listen: 127.0.0.1:-1 }",
        "websocket { listen: 127.0.0.1:-1, no_tls: true }",
      ].join("\n"),
    });
    try {
      for (const p of [s.port, s.clusterPort, s.leafPort, s.gatewayPort, s.monitorPort, s.websocketPort]) {
        assert.ok(typeof p === "number" && p > 0, `port ${p}`);
      }
      const varz = await httpJson<{
        port: number;
        cluster: { cluster_port: number };
        leaf: { port: number };
        gateway: { port: number };
      }>(`http://127.0.0.1:${s.monitorPort}/varz`);
      assert.equal(varz.port, s.port);
      assert.equal(varz.cluster.cluster_port, s.clusterPort);
      assert.equal(varz.leaf.port, s.leafPort);
      assert.equal(varz.gateway.port, s.gatewayPort);
      assert.equal(s.url, `nats://127.0.0.1:${s.port}`);

      // SIGHUP (config reload) leaves it running; restart keeps the client port.
      const { port, pid } = s;
      await s.kill("SIGHUP");
      assert.ok(s.running);
      await s.restart();
      assert.notEqual(s.pid, pid);
      assert.equal(s.port, port);
      assert.ok(!isAlive(pid));
    } finally {
      await s.close();
    }
    assert.ok(!s.running);
    assert.ok(!existsSync(s.dir), "temp dir removed");
  });

  it("a bad config fails with the server's own message", async () => {
    await assert.rejects(
      startNatsServerProcess({
        name: "bad",
        conf: "leafnodes { listen: 127.0.0.1:-1 }\ngateway { listen: x }",
      }),
      /nats-server bad: exited.*--- log ---.*could not parse address string "x"/s,
    );
  });

  it("a 3-node route mesh forms, routes messages, and re-forms after a kill -9 and restart", async () => {
    let cluster: NatsCluster | undefined;
    const conns: NatsConnection[] = [];
    try {
      cluster = await startNatsCluster({ servers: 3, name: "ref" });
      const [s0, s1, s2] = cluster.servers;
      assert.deepEqual(
        cluster.servers.map((s) => s.name),
        ["ref-0", "ref-1", "ref-2"],
      );
      for (const s of cluster.servers) {
        const routez = await httpJson<{ num_routes: number }>(`http://127.0.0.1:${s.monitorPort}/routez`);
        assert.equal(routez.num_routes, 2);
      }

      const nc0 = await connect({ servers: s0.url, timeout: 5000 });
      const nc2 = await connect({ servers: s2.url, timeout: 5000 });
      conns.push(nc0, nc2);
      assert.match(await deliversAcross(nc0, nc2, "selftest.route"), /^hello \d+$/);

      const { pid, clusterPort, monitorPort, port } = s1;
      await s1.kill("SIGKILL");
      assert.ok(!s1.running);
      assert.ok(!isAlive(pid));
      await waitFor(
        async () => {
          const counts = await Promise.all(
            [s0, s2].map((s) => httpJson<{ num_routes: number }>(`http://127.0.0.1:${s.monitorPort}/routez`)),
          );
          return counts.every((c) => c.num_routes === 1);
        },
        { timeoutMs: 5000, what: "the survivors to drop the dead route" },
      );

      await s1.restart();
      assert.equal(s1.clusterPort, clusterPort);
      assert.equal(s1.monitorPort, monitorPort);
      assert.equal(s1.port, port);
      await cluster.waitForMesh(10_000);

      const nc1 = await connect({ servers: s1.url, timeout: 5000 });
      conns.push(nc1);
      assert.match(await deliversAcross(nc1, nc2, "selftest.after-restart"), /^hello \d+$/);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      const pids = cluster?.servers.map((s) => s.pid) ?? [];
      await cluster?.close();
      for (const pid of pids) assert.ok(!isAlive(pid), `server ${pid} still running`);
    }
  });

  it("a route through the tcp proxy breaks on cut (reset, blackhole) and re-forms on heal", async () => {
    const proxy = await startTcpProxy();
    const common = ['ping_interval: "250ms"', "ping_max: 2"].join("\n");
    const a = await startNatsServerProcess({
      name: "px-a",
      conf: `http: 127.0.0.1:-1\n${common}\ncluster { name: px, listen: 127.0.0.1:-1, no_advertise: true }`,
    });
    // b solicits the route through the proxy; a only accepts it, so all route traffic crosses the proxy.
    proxy.setTarget({ host: "127.0.0.1", port: a.clusterPort! });
    const b = await startNatsServerProcess({
      name: "px-b",
      conf: `http: 127.0.0.1:-1\n${common}\ncluster { name: px, listen: 127.0.0.1:-1, no_advertise: true, routes: ["${proxy.url("nats-route")}"] }`,
    });
    const routes = async (s: typeof a) =>
      (await httpJson<{ num_routes: number }>(`http://127.0.0.1:${s.monitorPort}/routez`)).num_routes;
    const meshed = async () => (await routes(a)) === 1 && (await routes(b)) === 1;
    const split = async () => (await routes(a)) === 0 && (await routes(b)) === 0;
    try {
      await waitFor(meshed, { timeoutMs: 5000, what: "route through the proxy" });
      assert.equal(proxy.connections, 1);

      proxy.cut({ mode: "reset" });
      await waitFor(split, { timeoutMs: 5000, what: "route to drop after a reset cut" });
      proxy.heal();
      await waitFor(meshed, { timeoutMs: 5000, what: "route to re-form after heal" });

      proxy.cut({ mode: "blackhole" });
      await waitFor(split, { timeoutMs: 8000, what: "stale route to be noticed after a blackhole cut" });
      assert.ok(proxy.bytes.droppedToTarget > 0 || proxy.bytes.droppedToClient > 0);
      proxy.heal();
      await waitFor(meshed, { timeoutMs: 5000, what: "route to re-form after heal" });
    } finally {
      await Promise.all([a.close(), b.close(), proxy.close()]);
    }
  });
});
