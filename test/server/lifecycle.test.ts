import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { freePort } from "../helpers/nats-cluster.js";
import { RawClient, startLattice } from "../helpers/servers.js";

describe("server lifecycle", () => {
  it("lame-duck mode announces itself, refuses new clients, then closes the rest", async () => {
    const srv = await startLattice({ lame_duck_duration: "600ms", lame_duck_grace_period: "200ms" });
    const nc = await connect({ servers: srv.url, reconnect: false });
    const statuses: string[] = [];
    (async () => {
      for await (const s of nc.status()) statuses.push(s.type);
    })();
    const raw = await RawClient.connect(srv.port);
    raw.write('CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n');
    await raw.waitFor((t) => t.includes("PONG"));
    const done = srv.server.enterLameDuckMode();
    const ldmInfo = await raw.waitFor((t) => t.includes('"ldm":true'), 1000);
    assert.match(ldmInfo, /INFO \{[^\r]*"ldm":true/);
    await assert.rejects(RawClient.connect(srv.port).then((c) => c.settle(100)));
    await done;
    await nc.closed();
    assert.ok(statuses.includes("ldm"), statuses.join(","));
    assert.ok(raw.closed);
    const reasons = srv.server.closed.list().map((c) => c.closeReason);
    assert.ok(reasons.includes("Lame Duck Mode"), reasons.join(","));
  });

  it("shutdown closes every client with a reason and stops listening", async () => {
    const srv = await startLattice();
    const nc = await connect({ servers: srv.url, reconnect: false });
    await nc.flush();
    await srv.close();
    await nc.closed();
    assert.deepEqual(
      srv.server.closed.list().map((c) => c.closeReason),
      ["Server Shutdown"],
    );
    await assert.rejects(RawClient.connect(srv.port));
  });

  it("shutdown frees the client, monitoring and WebSocket ports before slow clients drain", async () => {
    const [port, http, ws] = [await freePort(), await freePort(), await freePort()];
    const opts = {
      port,
      http: `127.0.0.1:${http}`,
      websocket: { host: "127.0.0.1", port: ws, no_tls: true },
    };
    const srv = await startLattice(opts);
    const stuck = await subscriberThatNeverReads(port, "flood");
    const nc = await connect({ servers: srv.url });
    const chunk = new Uint8Array(512 * 1024);
    for (let i = 0; i < 40; i++) nc.publish("flood", chunk);
    await nc.flush();
    const closing = srv.close();
    // A supervisor restarts the server on the same ports while the old one still drains `stuck`.
    const again = await startLattice(opts);
    assert.equal(again.port, port);
    await again.close();
    await closing;
    stuck.destroy();
    await nc.close().catch(() => {});
  });
});

/** A raw client subscribed to `subject` that stops reading, so the server's writes to it back up. */
async function subscriberThatNeverReads(port: number, subject: string): Promise<net.Socket> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("data", resolve));
  socket.write(`CONNECT {"verbose":false}\r\nSUB ${subject} 1\r\nPING\r\n`);
  await new Promise((resolve) => socket.once("data", resolve));
  socket.pause();
  return socket;
}
