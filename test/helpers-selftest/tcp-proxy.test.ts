import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { sleep, waitFor } from "../helpers/wait.js";

/** A line-less echo server that remembers its open sockets. */
async function startEcho(): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.on("data", (d) => s.write(d));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client socket that collects what it reads and notes how it ended. */
interface Probe {
  socket: net.Socket;
  text(): string;
  closed: boolean;
  error: Error | undefined;
}

/** Connect; with `mayBeRefused`, a connection reset before connect() completes counts as a closed probe. */
async function connectProbe(port: number, mayBeRefused = false): Promise<Probe> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  const probe: Probe = {
    socket,
    text: () => Buffer.concat(chunks).toString("utf8"),
    closed: false,
    error: undefined,
  };
  socket.on("data", (d) => chunks.push(d));
  socket.on("error", (err) => {
    probe.error = err;
  });
  socket.on("close", () => {
    probe.closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (err) => (mayBeRefused ? resolve() : reject(err)));
  });
  return probe;
}

describe("tcp proxy", () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;

  before(async () => {
    echo = await startEcho();
  });
  after(async () => {
    await echo.close();
  });

  it("forwards both ways and counts bytes and connections", async () => {
    const p = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
    try {
      assert.equal(p.url(), `nats://127.0.0.1:${p.port}`);
      assert.equal(p.url("nats-route"), `nats-route://127.0.0.1:${p.port}`);
      const a = await connectProbe(p.port);
      const b = await connectProbe(p.port);
      a.socket.write("hello");
      b.socket.write("world!");
      await waitFor(() => a.text() === "hello" && b.text() === "world!", { timeoutMs: 2000, what: "echo" });
      assert.equal(p.connections, 2);
      assert.equal(p.accepted, 2);
      assert.deepEqual(p.bytes, { toTarget: 11, toClient: 11, droppedToTarget: 0, droppedToClient: 0 });
      // A large transfer goes through intact (backpressure path).
      const big = Buffer.alloc(4 * 1024 * 1024, "x");
      a.socket.write(big);
      await waitFor(() => a.text().length === 5 + big.length, { timeoutMs: 5000, what: "4 MiB echoed" });
      a.socket.end();
      await waitFor(() => a.closed && p.connections === 1, { timeoutMs: 2000, what: "client close to pass" });
      b.socket.destroy();
      await waitFor(() => p.connections === 0 && echo.sockets.size === 0, {
        timeoutMs: 2000,
        what: "all closed",
      });
    } finally {
      await p.close();
    }
  });

  it("cut (reset) closes current connections and refuses new ones until healed", async () => {
    const p = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
    try {
      const a = await connectProbe(p.port);
      a.socket.write("x");
      await waitFor(() => a.text() === "x", { timeoutMs: 2000, what: "echo" });
      p.cut();
      assert.equal(p.mode, "reset");
      await waitFor(() => a.closed, { timeoutMs: 2000, what: "current connection closed" });
      await waitFor(() => echo.sockets.size === 0, { timeoutMs: 2000, what: "target side closed" });
      // New connections are accepted, then closed at once, never reaching the target.
      const b = await connectProbe(p.port, true);
      await waitFor(() => b.closed, { timeoutMs: 2000, what: "new connection closed" });
      assert.equal(echo.sockets.size, 0);
      assert.equal(p.connections, 0);

      p.heal();
      assert.equal(p.mode, "forward");
      const c = await connectProbe(p.port);
      c.socket.write("again");
      await waitFor(() => c.text() === "again", { timeoutMs: 2000, what: "echo after heal" });
      c.socket.destroy();
    } finally {
      await p.close();
    }
  });

  it("cut (blackhole) keeps sockets open but drops every byte, heal resets them", async () => {
    const p = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
    try {
      const a = await connectProbe(p.port);
      a.socket.write("before");
      await waitFor(() => a.text() === "before", { timeoutMs: 2000, what: "echo" });
      p.cut({ mode: "blackhole" });
      assert.equal(p.mode, "blackhole");
      a.socket.write("lost");
      // Bytes from the target side are dropped too.
      for (const s of echo.sockets) s.write("from-target");
      const b = await connectProbe(p.port);
      b.socket.write("held");
      await waitFor(() => p.bytes.droppedToTarget === 8 && p.bytes.droppedToClient === 11, {
        timeoutMs: 2000,
        what: "bytes dropped",
      });
      await sleep(100);
      assert.equal(a.text(), "before");
      assert.equal(b.text(), "");
      assert.equal(a.closed, false);
      assert.equal(b.closed, false);
      assert.equal(p.connections, 2);
      assert.equal(echo.sockets.size, 1, "the held connection never reached the target");

      p.heal();
      await waitFor(() => a.closed && b.closed, { timeoutMs: 2000, what: "blackholed connections reset" });
      const c = await connectProbe(p.port);
      c.socket.write("healed");
      await waitFor(() => c.text() === "healed", { timeoutMs: 2000, what: "echo after heal" });
      c.socket.destroy();
    } finally {
      await p.close();
    }
  });

  it("takes its target later, and closes connections while it has none", async () => {
    const p = await startTcpProxy();
    try {
      assert.equal(p.target, undefined);
      const a = await connectProbe(p.port, true);
      await waitFor(() => a.closed, { timeoutMs: 2000, what: "connection without target closed" });
      p.setTarget({ host: "127.0.0.1", port: echo.port });
      const b = await connectProbe(p.port);
      b.socket.write("late");
      await waitFor(() => b.text() === "late", { timeoutMs: 2000, what: "echo" });
      b.socket.destroy();
    } finally {
      await p.close();
    }
  });

  it("passes a refused target on as a closed connection", async () => {
    const dead = await startEcho();
    const deadPort = dead.port;
    await dead.close();
    const p = await startTcpProxy({ target: { host: "127.0.0.1", port: deadPort } });
    try {
      const a = await connectProbe(p.port, true);
      await waitFor(() => a.closed, { timeoutMs: 2000, what: "connection closed" });
      await waitFor(() => p.connections === 0, { timeoutMs: 2000, what: "pair forgotten" });
    } finally {
      await p.close();
    }
  });

  it("close() destroys every socket and the listener", async () => {
    const p = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
    const a = await connectProbe(p.port);
    a.socket.write("x");
    await waitFor(() => a.text() === "x", { timeoutMs: 2000, what: "echo" });
    p.cut({ mode: "blackhole" });
    const b = await connectProbe(p.port);
    const before = process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    await p.close();
    await p.close(); // idempotent
    await waitFor(() => a.closed && b.closed && echo.sockets.size === 0, {
      timeoutMs: 2000,
      what: "all sockets closed",
    });
    assert.equal(p.connections, 0);
    // The proxy's accepted sockets, its upstream socket and its listener are gone.
    const afterClose = process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
    assert.ok(afterClose <= before - 3, `TCP handles before ${before}, after ${afterClose}`);
    await assert.rejects(connectProbe(p.port));
  });
});
