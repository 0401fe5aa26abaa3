// Message tracing (2.11): `traceDestination` / `traceOnly` of the official client. A traced message is
// delivered as usual and a trace event (nats-server's JSON shape: server, request headers and size, "in" and
// "eg" events) goes to the destination; a trace-only message reaches nobody, yet reports who it would have.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { startLattice } from "../helpers/servers.js";
import { removeDir, tempDir } from "../jetstream/helpers.js";

interface TraceEvent {
  server: { id: string; ver: string; seq: number };
  request: { header: Record<string, string[]>; msgsize: number };
  events: Array<{
    type: string;
    kind: number;
    cid: number;
    name: string;
    acc?: string;
    subj?: string;
    sub?: string;
    queue?: string;
  }>;
}

async function collect(nc: NatsConnection, subject: string, n: number): Promise<TraceEvent[]> {
  const sub = nc.subscribe(subject, { max: n });
  await nc.flush();
  return (async () => {
    const out: TraceEvent[] = [];
    for await (const m of sub) out.push((m as Msg).json<TraceEvent>());
    return out;
  })();
}

describe("message tracing", () => {
  let srv: RunningServer;
  let nc: NatsConnection;
  let app: NatsConnection;

  before(async () => {
    srv = await startLattice();
    nc = await connect({ servers: srv.url, name: "publisher" });
    app = await connect({ servers: srv.url, name: "app" });
  });
  after(async () => {
    await nc.close();
    await app.close();
    await srv.close();
  });

  it("delivers a traced message and reports its way in and out; trace-only delivers nothing", async () => {
    const got: string[] = [];
    app.subscribe("orders.new", {
      callback: (_e, m) => {
        got.push(m.string());
      },
    });
    app.subscribe("orders.*", { queue: "workers", callback: () => {} });
    await app.flush();
    const pending = collect(nc, "traces.2", 2);
    nc.publish("orders.new", "first", { traceDestination: "traces.2" });
    nc.publish("orders.new", "second", { traceDestination: "traces.2", traceOnly: true });
    const [t1, t2] = await pending;
    await app.flush();
    assert.deepEqual(got, ["first"], "the trace-only message is not delivered");
    for (const t of [t1, t2]) {
      assert.equal(t.server.id, srv.server.id);
      assert.equal(t.server.ver, "2.11.0");
      assert.deepEqual(t.request.header["Nats-Trace-Dest"], ["traces.2"]);
      const [ingress, ...egress] = t.events;
      assert.equal(ingress.type, "in");
      assert.equal(ingress.name, "publisher");
      assert.equal(ingress.acc, "$G");
      assert.equal(ingress.subj, "orders.new");
      assert.deepEqual(egress.map((e) => [e.type, e.kind, e.name, e.sub, e.queue]).sort(), [
        ["eg", 0, "app", "orders.*", "workers"],
        ["eg", 0, "app", "orders.new", undefined],
      ]);
    }
    assert.deepEqual(t2.request.header["Nats-Trace-Only"], ["true"]);
    assert.ok(t2.server.seq > t1.server.seq);
  });

  it("a trace-only request reaches its responder's trace, not the responder", async () => {
    let served = 0;
    app.subscribe("svc", {
      callback: (_e, m) => {
        served++;
        m.respond("ok");
      },
    });
    await app.flush();
    const pending = collect(nc, "svc.traces", 2);
    const r = await nc.request("svc", "", { timeout: 2000, traceDestination: "svc.traces" });
    assert.equal(r.string(), "ok");
    await assert.rejects(
      nc.request("svc", "", { timeout: 500, traceDestination: "svc.traces", traceOnly: true }),
    );
    const traces = await pending;
    assert.equal(served, 1);
    assert.equal(traces.length, 2);
    assert.equal(traces[1].events.filter((e) => e.type === "eg").length, 1);
  });

  it("a stream that stores a traced message shows as a JetStream event; trace-only stores nothing", async () => {
    const dir = tempDir();
    const js = await startLattice({ jetstream: { store_dir: dir } });
    const c = await connect({ servers: js.url });
    try {
      const jsm = await jetstreamManager(c);
      await jsm.streams.add({ name: "TRACED", subjects: ["traced.>"] });
      const pending = collect(c, "tr.js", 2);
      c.publish("traced.a", "1", { traceDestination: "tr.js" });
      c.publish("traced.a", "2", { traceDestination: "tr.js", traceOnly: true });
      const [t1, t2] = await pending;
      for (const t of [t1, t2]) {
        const stored = t.events.find((e) => e.type === "js") as unknown as {
          stream: string;
          subject: string;
        };
        assert.deepEqual([stored.stream, stored.subject], ["TRACED", "traced.a"]);
      }
      assert.equal((await jsm.streams.info("TRACED")).state.messages, 1);
    } finally {
      await c.close();
      await js.close();
      removeDir(dir);
    }
  });

  it("a header that only looks like the trace header routes the message as before", async () => {
    const got: Msg[] = [];
    app.subscribe("plain", {
      callback: (_e, m) => {
        got.push(m);
      },
    });
    await app.flush();
    const h = headers();
    h.set("Nats-Trace-Destination-Not", "x");
    nc.publish("plain", "p", { headers: h });
    await nc.flush();
    await app.flush();
    assert.equal(got.length, 1);
    assert.equal(got[0].headers?.get("Nats-Trace-Destination-Not"), "x");
  });
});
