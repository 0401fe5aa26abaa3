// Route peers scripted on a raw socket. A 2.10+ peer: it announces `route_pool_size` and then dials a dedicated
// `$SYS` route with `route_account`, as nats-server does towards a server without pooling. Lattice carries
// every account on its one route: the dedicated connection is dropped and never displaces the main route,
// and the main route keeps carrying interest and messages both ways. A silent peer: the route is closed
// after `cluster.ping_max` unanswered PINGs.
import assert from "node:assert/strict";
import { connect as dial, type Socket } from "node:net";
import { describe, it } from "node:test";
import { freePort } from "../helpers/nats-cluster.js";
import { httpJson, waitFor } from "../helpers/wait.js";
import { Env, pinned, T } from "./helpers.js";

const CLUSTER = "pooled";
const PEER_ID = "NPOOLEDPEER000000000000000000000000000000000000000000000";

/** One route connection of the scripted peer: the lines it has read, and a way to write. */
class PeerRoute {
  readonly lines: string[] = [];
  closed = false;
  private rest = "";

  private constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      const text = this.rest + chunk;
      const parts = text.split("\r\n");
      this.rest = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<PeerRoute> {
    return new Promise((resolve, reject) => {
      const s = dial({ host: "127.0.0.1", port }, () => resolve(new PeerRoute(s)));
      s.once("error", reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  has(prefix: string): boolean {
    return this.lines.some((l) => l.startsWith(prefix));
  }

  /** The JSON of the first INFO the server sent on this connection. */
  info(): Record<string, unknown> {
    const line = this.lines.find((l) => l.startsWith("INFO "));
    assert.ok(line, "the server's INFO");
    return JSON.parse(line.slice(5)) as Record<string, unknown>;
  }

  /** Introduce this connection as the peer's route with `extra` INFO fields (pool index, dedicated account). */
  handshake(extra: Record<string, unknown>): void {
    const connect = {
      echo: false,
      verbose: false,
      pedantic: false,
      headers: true,
      name: PEER_ID,
      cluster: CLUSTER,
    };
    const info = {
      server_id: PEER_ID,
      server_name: "pooled-peer",
      version: "2.11.0",
      proto: 1,
      host: "127.0.0.1",
      port: 1,
      headers: true,
      cluster: CLUSTER,
      route_pool_size: 3,
      lnoc: true,
      ...extra,
    };
    this.send(`CONNECT ${JSON.stringify(connect)}\r\nINFO ${JSON.stringify(info)}\r\nPING\r\n`);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("routes with a 2.10+ peer that pools and pins accounts", () => {
  it("keeps one route for every account and drops the dedicated $SYS route", T, async () => {
    const env = new Env(pinned);
    const opened: PeerRoute[] = [];
    try {
      const httpPort = await freePort();
      const a = await env.server({
        server_name: "a",
        http: `127.0.0.1:${httpPort}`,
        cluster: { name: CLUSTER, listen: "127.0.0.1:-1" },
      });
      const clusterPort = a.server.cluster?.port;
      assert.ok(clusterPort !== undefined && clusterPort > 0, "a cluster port");
      const nc = await env.client(a);
      const got: string[] = [];
      nc.subscribe("to.lattice", {
        callback: (_e, m) => {
          got.push(m.string());
        },
      });
      await nc.flush();

      // Pool connection 0: the peer's main route.
      const main = await PeerRoute.open(clusterPort);
      opened.push(main);
      await waitFor(() => main.has("INFO "), { what: "the server's route INFO", timeoutMs: 3000 });
      assert.equal(main.info().route_pool_size, undefined, "Lattice announces no pooling");
      main.handshake({ route_pool_idx: 0 });
      await waitFor(() => main.has("PONG"), { what: "PONG on the main route", timeoutMs: 3000 });
      await waitFor(() => main.has("RS+ $G to.lattice"), { what: "the client's interest", timeoutMs: 3000 });

      // The dedicated $SYS route the peer dials next is dropped; the main route stays.
      const sys = await PeerRoute.open(clusterPort);
      opened.push(sys);
      await waitFor(() => sys.has("INFO "), { what: "INFO on the second connection", timeoutMs: 3000 });
      sys.handshake({ route_account: "$SYS" });
      await waitFor(() => sys.closed, { what: "the dedicated route closed", timeoutMs: 3000 });
      assert.equal(main.closed, false, "the main route survives");

      // Messages both ways over the main route, with the account on every proto.
      main.send("RMSG $G to.lattice 5\r\nhello\r\n");
      await waitFor(() => got.includes("hello"), { what: "the peer's message delivered", timeoutMs: 3000 });
      main.send("RS+ $G to.peer\r\nPING\r\n");
      const pongs = main.lines.filter((l) => l === "PONG").length;
      await waitFor(() => main.lines.filter((l) => l === "PONG").length > pongs, {
        what: "the peer's interest processed",
        timeoutMs: 3000,
      });
      nc.publish("to.peer", "hi");
      await nc.flush();
      await waitFor(() => main.has("RMSG $G to.peer 2"), {
        what: "the message routed to the peer",
        timeoutMs: 3000,
      });

      const routez = await httpJson<{ num_routes: number; routes: { remote_id: string }[] }>(
        `http://127.0.0.1:${httpPort}/routez`,
      );
      assert.equal(routez.num_routes, 1, "one route to the peer");
      assert.equal(routez.routes[0]?.remote_id, PEER_ID);
    } finally {
      for (const p of opened) p.close();
      await env.close();
    }
  });
});

describe("route liveness with cluster ping_max", () => {
  it("closes a route whose peer leaves ping_max PINGs unanswered", T, async () => {
    const env = new Env(pinned);
    let peer: PeerRoute | undefined;
    try {
      const a = await env.server({
        server_name: "a",
        cluster: { name: CLUSTER, listen: "127.0.0.1:-1", ping_interval: "100ms", ping_max: 3 },
      });
      const clusterPort = a.server.cluster?.port;
      assert.ok(clusterPort !== undefined && clusterPort > 0, "a cluster port");
      peer = await PeerRoute.open(clusterPort);
      await waitFor(() => peer?.has("INFO ") === true, { what: "the server's route INFO", timeoutMs: 3000 });
      peer.handshake({});
      // The route is up and the peer never answers a PING.
      await waitFor(() => peer?.has("PING") === true, { what: "a PING", timeoutMs: 3000 });
      assert.equal(peer.closed, false);
      await waitFor(() => peer?.closed === true, { what: "the silent route closed", timeoutMs: 5000 });
      const pings = peer.lines.filter((l) => l === "PING").length;
      assert.equal(pings, 3, "ping_max PINGs went unanswered before the route was closed");
    } finally {
      peer?.close();
      await env.close();
    }
  });
});
