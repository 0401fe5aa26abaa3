import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { startLattice } from "../helpers/servers.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function collect(nc: NatsConnection, subject: string, count: number, opts: { queue?: string } = {}) {
  const got: string[] = [];
  const sub = nc.subscribe(subject, { queue: opts.queue });
  const done = (async () => {
    for await (const m of sub) {
      got.push(`${m.subject}:${dec.decode(m.data)}`);
      if (got.length === count) break;
    }
  })();
  await nc.flush();
  return { got, done, sub };
}

describe("core messaging through @nats-io/transport-node", () => {
  let srv: RunningServer;
  let nc: NatsConnection;

  before(async () => {
    srv = await startLattice();
    nc = await connect({ servers: srv.url });
  });
  after(async () => {
    await nc.close();
    await srv.close();
  });

  it("delivers to literal and wildcard subscriptions", async () => {
    const literal = await collect(nc, "orders.eu.new", 1);
    const star = await collect(nc, "orders.*.new", 2);
    const fwc = await collect(nc, "orders.>", 3);
    nc.publish("orders.eu.new", "a");
    nc.publish("orders.us.new", "b");
    nc.publish("orders.us.old.x", "c");
    nc.publish("orders", "not delivered to orders.>");
    await Promise.all([literal.done, star.done, fwc.done]);
    assert.deepEqual(literal.got, ["orders.eu.new:a"]);
    assert.deepEqual(star.got, ["orders.eu.new:a", "orders.us.new:b"]);
    assert.deepEqual(fwc.got, ["orders.eu.new:a", "orders.us.new:b", "orders.us.old.x:c"]);
  });

  it("carries headers end to end", async () => {
    const sub = nc.subscribe("hdr.test", { max: 1 });
    const h = headers();
    h.set("X-Trace", "abc");
    h.append("X-Multi", "1");
    h.append("X-Multi", "2");
    nc.publish("hdr.test", enc.encode("body"), { headers: h });
    for await (const m of sub) {
      assert.equal(m.headers?.get("X-Trace"), "abc");
      assert.deepEqual(m.headers?.values("X-Multi"), ["1", "2"]);
      assert.equal(dec.decode(m.data), "body");
    }
  });

  it("answers requests and reports no responders", async () => {
    const svc = nc.subscribe("svc.echo", {
      callback: (_err, m) => {
        m.respond(enc.encode(`echo:${dec.decode(m.data)}`));
      },
    });
    await nc.flush();
    const r = await nc.request("svc.echo", enc.encode("hi"), { timeout: 2000 });
    assert.equal(dec.decode(r.data), "echo:hi");
    const r2 = await nc.request("svc.echo", enc.encode("old"), { timeout: 2000, noMux: true });
    assert.equal(dec.decode(r2.data), "echo:old");
    svc.unsubscribe();
    const started = Date.now();
    await assert.rejects(nc.request("svc.nobody", enc.encode("x"), { timeout: 5000 }), (err: Error) =>
      /no responders/i.test(`${err.message} ${String((err as { cause?: unknown }).cause ?? "")}`),
    );
    assert.ok(Date.now() - started < 2000, "no-responders must not wait for the timeout");
  });

  it("stops delivering after the auto-unsubscribe limit", async () => {
    const got: string[] = [];
    const sub = nc.subscribe("auto.unsub", {
      max: 3,
      callback: (_e, m) => {
        got.push(dec.decode(m.data));
      },
    });
    for (let i = 0; i < 10; i++) nc.publish("auto.unsub", String(i));
    await nc.flush();
    await sub.closed;
    assert.deepEqual(got, ["0", "1", "2"]);
  });

  it("does not echo to the publisher when echo is off", async () => {
    const quiet = await connect({ servers: srv.url, noEcho: true });
    const own: string[] = [];
    quiet.subscribe("echo.test", {
      callback: (_e, m) => {
        own.push(dec.decode(m.data));
      },
    });
    const other = await collect(nc, "echo.test", 2);
    await quiet.flush();
    quiet.publish("echo.test", "from-quiet");
    nc.publish("echo.test", "from-other");
    await other.done;
    await quiet.flush();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(own, ["from-other"]);
    await quiet.close();
  });

  it("spreads a queue group evenly (chi-square) and skips members that left", async () => {
    const members = await Promise.all([0, 1, 2].map(() => connect({ servers: srv.url })));
    const counts = [0, 0, 0];
    const subs = members.map((m, i) =>
      m.subscribe("work.q", {
        queue: "workers",
        callback: () => {
          counts[i]++;
        },
      }),
    );
    const plain = await collect(nc, "work.q", 3000);
    await Promise.all(members.map((m) => m.flush()));
    const N = 3000;
    for (let i = 0; i < N; i++) nc.publish("work.q", "job");
    await plain.done;
    await Promise.all(members.map((m) => m.flush()));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      N,
      "each message goes to exactly one member",
    );
    const expected = N / 3;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 13.8, `chi-square ${chi2.toFixed(2)} for ${counts} (p<0.001 at 2 dof)`);
    // A member that leaves takes nothing with it: the rest get everything.
    subs[0].unsubscribe();
    await members[0].flush();
    const before = counts.slice();
    for (let i = 0; i < 300; i++) nc.publish("work.q", "job");
    await nc.flush();
    await Promise.all(members.map((m) => m.flush()));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(counts[0], before[0]);
    assert.equal(counts[1] + counts[2] - before[1] - before[2], 300);
    await Promise.all(members.map((m) => m.close()));
  });

  it("drains: pending messages are processed before close", async () => {
    const nc2 = await connect({ servers: srv.url });
    let seen = 0;
    nc2.subscribe("drain.test", {
      callback: () => {
        seen++;
      },
    });
    await nc2.flush();
    for (let i = 0; i < 500; i++) nc.publish("drain.test", "x");
    await nc.flush();
    await nc2.drain();
    assert.equal(seen, 500);
  });
});
