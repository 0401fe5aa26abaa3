// The websocket listener inside a running server: real NATS clients over websocket talking to TCP clients,
// the handshake rules on the wire, compression, timeouts and shutdown.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { type RawData, WebSocket } from "ws";
import { defaultOptions, defaultWebSocketOptions } from "../../src/server/options.js";
import { Server } from "../../src/server/server.js";
import { WebSocketListener } from "../../src/websocket/listener.js";
import {
  rawRequest,
  startWsServer,
  tcpClient,
  upgradeHeaders,
  type WsTestServer,
  wsClient,
} from "./helpers.js";
import { sleep, waitFor } from "./wait.js";

const enc = new TextEncoder();

/** Subscribe and resolve with the first `count` messages. */
async function collect(nc: NatsConnection, subject: string, count: number): Promise<() => Promise<Msg[]>> {
  const sub = nc.subscribe(subject, { max: count });
  const done = (async () => {
    const got: Msg[] = [];
    for await (const m of sub) got.push(m);
    return got;
  })();
  await nc.flush();
  return () => done;
}

/** A raw ws client: the frames the server sends, as strings, plus whether each was binary. */
async function rawWs(url: string, opts: { origin?: string } = {}) {
  const ws = new WebSocket(url, { origin: opts.origin, perMessageDeflate: false });
  const frames: { text: string; binary: boolean }[] = [];
  ws.on("message", (data: RawData, binary) => {
    frames.push({ text: (data as Buffer).toString(), binary });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const all = () => frames.map((f) => f.text).join("");
  return { ws, frames, all };
}

describe("websocket listener", () => {
  let s: WsTestServer;
  let ws: NatsConnection;
  let tcp: NatsConnection;

  before(async () => {
    s = await startWsServer();
    // Sequential on purpose: nats.js keeps one process-wide transport factory, set by each connect call.
    ws = await wsClient(s.wsUrl, { name: "ws-client" });
    tcp = await tcpClient(s.natsUrl);
  });
  after(async () => {
    await ws?.close();
    await tcp?.close();
    await s?.server.shutdown();
  });

  it("reports its url as ws://host:port", () => {
    assert.match(s.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(s.wsPort > 0);
    assert.notEqual(s.wsPort, s.server.port);
  });

  it("registers websocket connections as clients", async () => {
    const c = [...s.server.clients.values()].find((x) => x.connect?.name === "ws-client");
    assert.ok(c, "websocket client is known to the server");
    assert.equal(c.transport.kind, "websocket");
    assert.equal(c.transport.remoteAddress, "127.0.0.1");
  });

  it("delivers from a websocket publisher to a TCP subscriber", async () => {
    const got = await collect(tcp, "ws.to.tcp", 3);
    await ws.flush();
    for (const m of ["a", "b", "c"]) ws.publish("ws.to.tcp", m);
    const msgs = await got();
    assert.deepEqual(
      msgs.map((m) => m.string()),
      ["a", "b", "c"],
    );
  });

  it("delivers from a TCP publisher to a websocket subscriber", async () => {
    const got = await collect(ws, "tcp.to.ws.*", 2);
    await tcp.flush();
    tcp.publish("tcp.to.ws.one", "1");
    tcp.publish("tcp.to.ws.two", "2");
    const msgs = await got();
    assert.deepEqual(
      msgs.map((m) => `${m.subject}=${m.string()}`),
      ["tcp.to.ws.one=1", "tcp.to.ws.two=2"],
    );
  });

  it("keeps order across many small messages in both directions", async () => {
    const n = 5000;
    const toTcp = await collect(tcp, "order.tcp", n);
    const toWs = await collect(ws, "order.ws", n);
    await ws.flush();
    for (let i = 0; i < n; i++) {
      ws.publish("order.tcp", String(i));
      tcp.publish("order.ws", String(i));
    }
    const [a, b] = await Promise.all([toTcp(), toWs()]);
    assert.deepEqual(
      a.map((m) => Number(m.string())),
      [...Array(n).keys()],
    );
    assert.deepEqual(
      b.map((m) => Number(m.string())),
      [...Array(n).keys()],
    );
  });

  it("answers requests across transports", async () => {
    const tcpSvc = tcp.subscribe("svc.tcp", {
      callback: (_err, m) => {
        m.respond(`tcp:${m.string()}`);
      },
    });
    const wsSvc = ws.subscribe("svc.ws", {
      callback: (_err, m) => {
        m.respond(`ws:${m.string()}`);
      },
    });
    await tcp.flush();
    await ws.flush();
    const r1 = await ws.request("svc.tcp", "ping", { timeout: 2000 });
    assert.equal(r1.string(), "tcp:ping");
    const r2 = await tcp.request("svc.ws", "ping", { timeout: 2000 });
    assert.equal(r2.string(), "ws:ping");
    const r3 = await ws.request("svc.ws", "self", { timeout: 2000 });
    assert.equal(r3.string(), "ws:self");
    tcpSvc.unsubscribe();
    wsSvc.unsubscribe();
  });

  it("reports no responders to a websocket requester", async () => {
    await assert.rejects(ws.request("svc.nobody", "x", { timeout: 2000 }), /no responders/i);
  });

  it("carries headers both ways", async () => {
    const toTcp = await collect(tcp, "hdr.tcp", 1);
    const toWs = await collect(ws, "hdr.ws", 1);
    await ws.flush();
    const h = headers();
    h.set("X-Trace", "abc");
    h.append("X-Multi", "1");
    h.append("X-Multi", "2");
    ws.publish("hdr.tcp", enc.encode("from ws"), { headers: h });
    tcp.publish("hdr.ws", enc.encode("from tcp"), { headers: h });
    for (const [m] of [await toTcp(), await toWs()]) {
      assert.equal(m.headers?.get("X-Trace"), "abc");
      assert.deepEqual(m.headers?.values("X-Multi"), ["1", "2"]);
    }
    assert.equal((await toTcp())[0].string(), "from ws");
    assert.equal((await toWs())[0].string(), "from tcp");
  });

  it("carries ~1 MiB payloads both ways intact", async () => {
    const payload = randomBytes(1_000_000);
    const toTcp = await collect(tcp, "big.tcp", 2);
    const toWs = await collect(ws, "big.ws", 2);
    await ws.flush();
    ws.publish("big.tcp", payload);
    ws.publish("big.tcp", payload);
    tcp.publish("big.ws", payload);
    tcp.publish("big.ws", payload);
    for (const m of [...(await toTcp()), ...(await toWs())]) {
      assert.equal(m.data.length, payload.length);
      assert.ok(Buffer.from(m.data).equals(payload));
    }
  });

  it("accepts a client on any path", async () => {
    const nc = await wsClient(`${s.wsUrl}/some/path?x=1`);
    const r = tcp.subscribe("path.check", {
      max: 1,
      callback: (_e, m) => {
        m.respond("ok");
      },
    });
    await tcp.flush();
    assert.equal((await nc.request("path.check", "", { timeout: 2000 })).string(), "ok");
    r.unsubscribe();
    await nc.close();
  });

  it("sends binary frames and accepts text frames", async () => {
    const c = await rawWs(s.wsUrl);
    await waitFor(() => c.all().includes("\r\n"), 2000, "INFO");
    assert.match(c.frames[0].text, /^INFO \{/);
    assert.equal(c.frames[0].binary, true);
    c.ws.send('CONNECT {"verbose":false}\r\nPING\r\n');
    await waitFor(() => c.all().includes("PONG\r\n"), 2000, "PONG");
    assert.ok(c.frames.every((f) => f.binary));
    // A protocol line split across two text messages is still one line.
    c.ws.send("SUB raw.");
    c.ws.send("text 1\r\nPING\r\n");
    await waitFor(() => c.all().split("PONG\r\n").length === 3, 2000, "second PONG");
    tcp.publish("raw.text", "hi");
    await waitFor(() => c.all().includes("MSG raw.text 1 2\r\nhi\r\n"), 2000, "MSG");
    c.ws.close();
  });

  it("closes a websocket client that breaks the protocol with an -ERR first", async () => {
    const c = await rawWs(s.wsUrl);
    const closed = new Promise<number>((resolve) => c.ws.once("close", (code) => resolve(code)));
    c.ws.send("CONNECT {}\r\nBOGUS\r\n");
    await closed;
    assert.match(c.all(), /-ERR 'Unknown Protocol Operation'/);
  });

  it("forgets a websocket client that goes away", async () => {
    const before = s.server.clients.size;
    const nc = await wsClient(s.wsUrl);
    await waitFor(() => s.server.clients.size === before + 1, 2000, "client registered");
    await nc.close();
    await waitFor(() => s.server.clients.size === before, 2000, "client removed");
    const c = await rawWs(s.wsUrl);
    await waitFor(() => s.server.clients.size === before + 1, 2000, "raw client registered");
    c.ws.terminate();
    await waitFor(() => s.server.clients.size === before, 2000, "raw client removed");
  });

  it("answers non-websocket HTTP requests like nats-server", async () => {
    const plain = await rawRequest(s.wsPort, "GET", "/", {});
    assert.equal(plain.status, 400);
    assert.equal(plain.body, "Bad Request\n");
    assert.equal(plain.headers["sec-websocket-version"], "13");
    const post = await rawRequest(s.wsPort, "POST", "/", upgradeHeaders());
    assert.equal(post.status, 405);
    const noKey = await rawRequest(s.wsPort, "GET", "/", upgradeHeaders({ "Sec-WebSocket-Key": "" }));
    assert.equal(noKey.status, 400);
    const v8 = await rawRequest(s.wsPort, "GET", "/", upgradeHeaders({ "Sec-WebSocket-Version": "8" }));
    assert.equal(v8.status, 400);
    const ok = await rawRequest(s.wsPort, "GET", "/", upgradeHeaders());
    assert.equal(ok.status, 101);
    assert.equal(ok.upgraded, true);
    assert.equal(ok.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert.equal(ok.headers["sec-websocket-extensions"], undefined, "compression is off by default");
  });
});

describe("websocket origin checks", () => {
  it("rejects origins not in allowed_origins with 403", async () => {
    const s = await startWsServer({ allowedOrigins: ["http://good.example", "https://app.example:8443"] });
    try {
      const bad = await rawRequest(s.wsPort, "GET", "/", upgradeHeaders({ Origin: "http://evil.example" }));
      assert.equal(bad.status, 403);
      assert.equal(bad.body, "Forbidden\n");
      const wrongPort = await rawRequest(
        s.wsPort,
        "GET",
        "/",
        upgradeHeaders({ Origin: "https://app.example" }),
      );
      assert.equal(wrongPort.status, 403);
      await assert.rejects(wsClient(s.wsUrl, { origin: "http://evil.example" }));
      assert.equal(s.server.clients.size, 0);

      const good = await wsClient(s.wsUrl, { origin: "http://good.example" });
      await good.flush();
      await good.close();
      const app = await wsClient(s.wsUrl, { origin: "https://app.example:8443" });
      await app.flush();
      await app.close();
      // Non-browser clients send no Origin and are let through.
      const none = await wsClient(s.wsUrl);
      await none.flush();
      await none.close();
    } finally {
      await s.server.shutdown();
    }
  });

  it("with same_origin, accepts only the listener's own host and port", async () => {
    const s = await startWsServer({ sameOrigin: true });
    try {
      const same = await wsClient(s.wsUrl, { origin: `http://127.0.0.1:${s.wsPort}` });
      await same.flush();
      await same.close();
      await assert.rejects(wsClient(s.wsUrl, { origin: "http://127.0.0.1:1" }));
      const other = await rawRequest(
        s.wsPort,
        "GET",
        "/",
        upgradeHeaders({ Origin: "http://elsewhere.example" }),
      );
      assert.equal(other.status, 403);
    } finally {
      await s.server.shutdown();
    }
  });
});

describe("websocket compression", () => {
  it("negotiates permessage-deflate without context takeover when enabled", async () => {
    const s = await startWsServer({ compression: true });
    let socket: WebSocket | undefined;
    const nc = await wsClient(s.wsUrl, {
      compression: true,
      onSocket: (w) => {
        socket = w;
      },
    });
    const tcp = await tcpClient(s.natsUrl);
    try {
      assert.ok(socket);
      assert.equal(socket.extensions, "permessage-deflate");
      const text = "compressible ".repeat(50_000);
      const toWs = await collect(nc, "z.ws", 1);
      const toTcp = await collect(tcp, "z.tcp", 1);
      await nc.flush();
      tcp.publish("z.ws", text);
      nc.publish("z.tcp", text);
      assert.equal((await toWs())[0].string(), text);
      assert.equal((await toTcp())[0].string(), text);
      const r = await rawRequest(
        s.wsPort,
        "GET",
        "/",
        upgradeHeaders({ "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" }),
      );
      assert.equal(r.status, 101);
      // The exact answer nats-server gives.
      assert.equal(
        r.headers["sec-websocket-extensions"],
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      );
    } finally {
      await nc.close();
      await tcp.close();
      await s.server.shutdown();
    }
  });

  it("does not negotiate compression when disabled", async () => {
    const s = await startWsServer({ compression: false });
    let socket: WebSocket | undefined;
    const nc = await wsClient(s.wsUrl, {
      compression: true,
      onSocket: (w) => {
        socket = w;
      },
    });
    try {
      await nc.flush();
      assert.equal(socket?.extensions, "");
    } finally {
      await nc.close();
      await s.server.shutdown();
    }
  });
});

describe("websocket listener lifecycle", () => {
  it("refuses to start without no_tls", async () => {
    const opts = {
      ...defaultOptions(),
      host: "127.0.0.1",
      port: -1,
      quiet: true,
      websocket: { ...defaultWebSocketOptions(), host: "127.0.0.1", port: -1, noTls: false },
    };
    // Built by hand rather than with launchServer so the half-started server can be shut down.
    const server = new Server(opts);
    server.extraListeners.push(new WebSocketListener());
    try {
      await assert.rejects(server.start(), /websocket requires TLS configuration/);
    } finally {
      await server.shutdown();
    }
  });

  it("uses the advertise address in its url", async () => {
    const s = await startWsServer({ advertise: "ws.example.com:443" });
    try {
      assert.equal(s.wsUrl, "ws://ws.example.com:443");
    } finally {
      await s.server.shutdown();
    }
  });

  it("closes websocket clients and the port on shutdown", async () => {
    const s = await startWsServer();
    const nc = await wsClient(s.wsUrl);
    await nc.flush();
    const raw = await rawWs(s.wsUrl);
    const rawClosed = new Promise<number>((resolve) => raw.ws.once("close", (code) => resolve(code)));
    const start = Date.now();
    await s.server.shutdown();
    assert.ok(Date.now() - start < 2000, `shutdown took ${Date.now() - start}ms`);
    await nc.closed();
    assert.equal(await rawClosed, 1000);
    const refused = await new Promise<boolean>((resolve) => {
      const sock = net.connect(s.wsPort, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(false);
      });
      sock.once("error", () => resolve(true));
    });
    assert.ok(refused, "websocket port is closed");
  });

  it("drops a connection that does not finish its handshake in time", async () => {
    const s = await startWsServer({ handshakeTimeoutMs: 300 });
    try {
      const sock = net.connect(s.wsPort, "127.0.0.1");
      await new Promise<void>((resolve) => sock.once("connect", () => resolve()));
      const start = Date.now();
      sock.write("GET / HTTP/1.1\r\nHost: x\r\n"); // never finishes the headers
      await new Promise<void>((resolve) => sock.once("close", () => resolve()));
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed}ms`);
      // A completed handshake is not cut by the timer.
      const nc = await wsClient(s.wsUrl);
      await sleep(500);
      await nc.flush();
      await nc.close();
    } finally {
      await s.server.shutdown();
    }
  });

  it("closes a websocket slow consumer once its unsent bytes pass max_pending", async () => {
    const s = await startWsServer({}, { maxPending: 512 * 1024 });
    const tcp = await tcpClient(s.natsUrl);
    try {
      const raw = await rawWs(s.wsUrl);
      raw.ws.send("CONNECT {}\r\nSUB slow 1\r\nPING\r\n");
      await waitFor(() => raw.all().includes("PONG"), 2000, "PONG");
      // Stop reading: the kernel buffers fill, then ws's. Each round stays under max_pending by itself,
      // so only bytes piling up in the transport (writableLength) can trip the limit.
      raw.ws.pause();
      const chunk = new Uint8Array(32 * 1024);
      const deadline = Date.now() + 20_000;
      let rounds = 0;
      while (s.server.closed.size === 0 && Date.now() < deadline) {
        for (let i = 0; i < 4; i++) tcp.publish("slow", chunk);
        await tcp.flush();
        rounds++;
      }
      const closed = s.server.closed.list();
      assert.equal(closed.length, 1, "one connection closed");
      assert.equal(closed[0].transport.kind, "websocket");
      assert.equal(closed[0].closeReason, "Slow Consumer (Pending Bytes)");
      assert.ok(rounds > 4, `closed after ${rounds} rounds`);
      raw.ws.terminate();
    } finally {
      await tcp.close();
      await s.server.shutdown();
    }
  });
});
