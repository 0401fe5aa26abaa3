// WebSocketTransport against a real ws peer, without the NATS server: framing, pause/resume, backpressure
// and the emulated drain, and the two ways of closing.

import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { WebSocketTransport } from "../../src/websocket/transport.js";
import { sleep, waitFor } from "./wait.js";

interface Pair {
  transport: WebSocketTransport;
  client: WebSocket;
  /** Server-side data seen through onData, as strings. */
  received: string[];
}

describe("WebSocketTransport", () => {
  let wss: WebSocketServer;
  let url: string;
  const pending: ((t: WebSocketTransport) => void)[] = [];

  before(async () => {
    // As the listener configures it: text frames carry protocol bytes, not necessarily UTF-8.
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0, skipUTF8Validation: true });
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on("connection", (ws, req) => {
      const t = new WebSocketTransport(ws, req);
      pending.shift()?.(t);
    });
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  async function pair(headers: Record<string, string> = {}): Promise<Pair> {
    const got = new Promise<WebSocketTransport>((resolve) => pending.push(resolve));
    const client = new WebSocket(url, { headers });
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
    });
    const transport = await got;
    const received: string[] = [];
    transport.onData((chunk) => {
      assert.ok(Buffer.isBuffer(chunk));
      received.push(chunk.toString("latin1"));
    });
    return { transport, client, received };
  }

  function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
    return new Promise((resolve) =>
      ws.once("message", (data: RawData, isBinary) => resolve({ data: data as Buffer, isBinary })),
    );
  }

  it("reports kind and the peer address", async () => {
    const { transport, client } = await pair();
    assert.equal(transport.kind, "websocket");
    assert.equal(transport.remoteAddress, "127.0.0.1");
    assert.ok(transport.remotePort > 0);
    client.terminate();
  });

  it("takes the client address from a single-IP X-Forwarded-For", async () => {
    const a = await pair({ "X-Forwarded-For": "10.1.2.3" });
    assert.equal(a.transport.remoteAddress, "10.1.2.3");
    a.client.terminate();
    const b = await pair({ "X-Forwarded-For": "not-an-ip" });
    assert.equal(b.transport.remoteAddress, "127.0.0.1");
    b.client.terminate();
  });

  it("sends each write as one binary message", async () => {
    const { transport, client } = await pair();
    const first = nextMessage(client);
    assert.equal(transport.write(Buffer.from("INFO {}\r\n")), true);
    const m = await first;
    assert.equal(m.isBinary, true);
    assert.equal(m.data.toString(), "INFO {}\r\n");
    const msgs: string[] = [];
    client.on("message", (d: RawData) => {
      msgs.push((d as Buffer).toString());
    });
    transport.write(Buffer.from("a"));
    transport.write(Buffer.from("bc"));
    await waitFor(() => msgs.length === 2, 2000, "two messages");
    assert.deepEqual(msgs, ["a", "bc"]);
    client.terminate();
  });

  it("delivers binary and text messages as Buffers, in order", async () => {
    const { client, received } = await pair();
    client.send(Buffer.from("PING\r\n"));
    client.send("PONG\r\n");
    client.send(Buffer.from([0xff, 0x00, 0x80]), { binary: false });
    await waitFor(() => received.length === 3, 2000, "three messages");
    assert.deepEqual(received, ["PING\r\n", "PONG\r\n", "\xff\x00\x80"]);
    client.terminate();
  });

  it("holds incoming messages while paused and releases them on resume", async () => {
    const { transport, client, received } = await pair();
    transport.pause();
    client.send("one");
    client.send("two");
    await sleep(100);
    assert.deepEqual(received, []);
    transport.resume();
    await waitFor(() => received.length === 2, 2000, "released messages");
    client.send("three");
    await waitFor(() => received.length === 3, 2000, "third message");
    assert.deepEqual(received, ["one", "two", "three"]);
    client.terminate();
  });

  it("reports backpressure and emits drain once the peer catches up", async () => {
    const { transport, client } = await pair();
    let drains = 0;
    transport.onDrain(() => {
      drains++;
    });
    let bytes = 0;
    client.on("message", (d: RawData) => {
      bytes += (d as Buffer).length;
    });
    // Stop reading so the kernel buffers fill and ws has to queue.
    client.pause();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    let ok = true;
    while (ok && sent < 256) {
      ok = transport.write(chunk);
      sent++;
    }
    assert.equal(ok, false, "write should report backpressure");
    assert.ok(transport.writableLength > 0);
    assert.equal(drains, 0);
    client.resume();
    await waitFor(() => drains > 0, 10_000, "drain");
    assert.equal(drains, 1);
    assert.equal(transport.writableLength, 0);
    await waitFor(() => bytes === sent * chunk.length, 10_000, "all bytes at the peer");
    client.terminate();
  });

  it("end() flushes what was written, then closes with 1000", async () => {
    const { transport, client } = await pair();
    let closeErr: Error | undefined | null = null;
    transport.onClose((err) => {
      closeErr = err;
    });
    const msgs: string[] = [];
    client.on("message", (d: RawData) => {
      msgs.push((d as Buffer).toString());
    });
    const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
    transport.write(Buffer.from("-ERR 'bye'\r\n"));
    transport.end();
    assert.equal(await closed, 1000);
    assert.deepEqual(msgs, ["-ERR 'bye'\r\n"]);
    await waitFor(() => closeErr !== null, 2000, "onClose");
    assert.equal(closeErr, undefined);
    assert.equal(transport.write(Buffer.from("late")), false);
  });

  it("destroy() cuts the connection without a close frame", async () => {
    const { transport, client } = await pair();
    const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
    transport.destroy();
    assert.equal(await closed, 1006);
  });

  it("onClose reports a normal client close without an error", async () => {
    const { transport, client } = await pair();
    const err = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    client.close(1000);
    assert.equal(await err, undefined);
  });

  it("onClose reports a protocol error from the peer", async () => {
    const { transport, client } = await pair();
    const err = new Promise<Error | undefined>((resolve) => transport.onClose(resolve));
    // An unmasked frame from a client is a protocol violation for the server side.
    const raw = (client as unknown as { _socket: import("node:net").Socket })._socket;
    raw.write(Buffer.from([0x82, 0x01, 0x41]));
    const e = await err;
    assert.ok(e instanceof Error);
  });
});
