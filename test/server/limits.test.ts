import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { RawClient, startLattice } from "../helpers/servers.js";

const C = 'CONNECT {"verbose":false,"pedantic":false}\r\n';

describe("limits", () => {
  it("enforces max_payload with the protocol error", async () => {
    const srv = await startLattice({ max_payload: 1024 });
    try {
      const nc = await connect({ servers: srv.url });
      assert.equal(nc.info?.max_payload, 1024);
      assert.throws(() => nc.publish("big", new Uint8Array(2048)), /payload|max/i);
      await nc.close();
      const raw = await RawClient.connect(srv.port);
      raw.write(`${C}PUB big 2048\r\n`);
      const text = await raw.settle(200);
      assert.match(text, /-ERR 'Maximum Payload Violation'\r\n$/);
      assert.ok(raw.closed);
    } finally {
      await srv.close();
    }
  });

  it("refuses connections above max_connections", async () => {
    const srv = await startLattice({ max_connections: 1 });
    try {
      const first = await RawClient.connect(srv.port);
      first.write(`${C}PING\r\n`);
      await first.waitFor((t) => t.includes("PONG"));
      const second = await RawClient.connect(srv.port);
      const text = await second.settle(200);
      assert.match(text, /-ERR 'maximum connections exceeded'\r\n$/);
      assert.ok(second.closed);
      first.close();
    } finally {
      await srv.close();
    }
  });

  it("closes a slow consumer and keeps everyone else flowing", async () => {
    const srv = await startLattice({ max_pending: 8 * 1024 * 1024, max_payload: 64 * 1024 });
    try {
      // A subscriber that never reads: its socket fills up and its pending bytes pass max_pending.
      const slow = net.connect(srv.port, "127.0.0.1");
      await new Promise<void>((r) => slow.once("data", () => r()));
      slow.write(`${C}SUB load 1\r\nPING\r\n`);
      await new Promise<void>((r) => slow.once("data", () => r()));
      slow.pause();
      let slowClosed = false;
      slow.on("close", () => {
        slowClosed = true;
      });

      const good = await connect({ servers: srv.url });
      let received = 0;
      good.subscribe("load", {
        callback: () => {
          received++;
        },
      });
      await good.flush();
      const pub = await connect({ servers: srv.url });
      const payload = new Uint8Array(1024);
      const N = 40000;
      for (let i = 0; i < N; i++) {
        pub.publish("load", payload);
        if (i % 500 === 0) await pub.flush();
      }
      await pub.flush();
      await good.flush();
      const deadline = Date.now() + 5000;
      while ((received < N || !slowClosed) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(received, N, "the healthy subscriber got every message");
      // The paused socket only notices the close once it reads again.
      slow.resume();
      while (!slowClosed && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 20));
      assert.ok(slowClosed, "the slow consumer was disconnected");
      const closed = srv.server.closed.list().map((c) => c.closeReason);
      assert.ok(closed.includes("Slow Consumer (Pending Bytes)"), closed.join(","));
      slow.destroy();
      await pub.close();
      await good.close();
    } finally {
      await srv.close();
    }
  });

  it("closes a connection that stops answering PINGs", async () => {
    const srv = await startLattice({ ping_interval: "100ms", ping_max: 2 });
    try {
      const raw = await RawClient.connect(srv.port);
      raw.write(`${C}`);
      const text = await raw.waitFor((t) => t.includes("Stale Connection"), 3000);
      assert.match(text, /PING\r\n/);
      assert.match(text, /-ERR 'Stale Connection'\r\n$/);
    } finally {
      await srv.close();
    }
  });
});

describe("restart", () => {
  it("clients reconnect when the server comes back on the same port", async () => {
    const srv = await startLattice();
    const port = srv.port;
    const nc = await connect({ servers: srv.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const got: string[] = [];
    nc.subscribe("after.restart", {
      callback: (_e, m) => {
        got.push(new TextDecoder().decode(m.data));
      },
    });
    await nc.flush();
    await srv.close();
    const again = await startLattice({ port });
    try {
      const deadline = Date.now() + 5000;
      while (got.length === 0 && Date.now() < deadline) {
        nc.publish("after.restart", "back");
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(got.length > 0, "the subscription was restored after reconnect");
      await nc.close();
    } finally {
      await again.close();
    }
  });
});
