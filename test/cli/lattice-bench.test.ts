// lattice bench ...: small runs (the point is correctness of the harness and its report, not speed) against
// Lattice, and the JetStream/KV benchmarks against nats-server 2.9.10 too.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { background, jetStreamTargets, lattice, needs, uniq } from "./harness.js";

const targets = await jetStreamTargets();
after(() => Promise.all(targets.map((t) => t.close())));
const lat = targets[0];

interface Group {
  name: string;
  total: {
    msgs: number;
    msgs_per_sec: number;
    latency_us?: { p50: number; p99: number; max: number; count: number };
  };
  clients: Array<{ client: string; msgs: number }>;
}

function groups(stdout: string): Group[] {
  return (JSON.parse(stdout) as { groups: Group[] }).groups;
}

describe("lattice bench", { concurrency: true }, () => {
  const s = ["-s", lat.url];

  it("pub: per-client rows, a total, throughput; no latency for fire-and-forget", async () => {
    const r = await lattice([
      ...s,
      "bench",
      "pub",
      uniq("b.pub"),
      "--msgs",
      "2000",
      "--size",
      "64",
      "--clients",
      "2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NATS publish: subject "b\.pub\d+_\d+", 2,000 msgs of 64 B, 2 clients/);
    assert.match(
      r.stdout,
      /│ Client +│ Messages │ Duration │ Msgs\/sec │ Throughput │ p50 +│ p90 +│ p99 +│ p99\.9 +│ Max +│/,
    );
    assert.match(r.stdout, /│ pub #1 +│ +1,000 │/);
    assert.match(r.stdout, /│ Total +│ +2,000 │ .* │ [\d.]+ [KM]?i?B\/s +│ - +│/);
  });

  it("pubsub: every subscriber gets every message; end-to-end latency percentiles", async () => {
    const r = await lattice([
      ...s,
      "bench",
      "pubsub",
      uniq("b.ps"),
      "--msgs",
      "2000",
      "--subs",
      "2",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [pubs, subs] = groups(r.stdout);
    assert.equal(pubs.name, "Publishers");
    assert.equal(pubs.total.msgs, 2000);
    assert.equal(subs.total.msgs, 4000);
    assert.deepEqual(
      subs.clients.map((c) => c.msgs),
      [2000, 2000],
    );
    const l = subs.total.latency_us!;
    assert.equal(l.count, 4000);
    assert.ok(l.p50 > 0 && l.p50 <= l.p99 && l.p99 <= l.max);
  });

  it("sub waits for publishers elsewhere", async () => {
    const subject = uniq("b.sub");
    const sub = background([...s, "bench", "sub", subject, "--msgs", "500", "--json"]);
    await sub.waitFor(/Waiting for 500 messages/);
    assert.equal((await lattice([...s, "bench", "pub", subject, "--msgs", "500"])).code, 0);
    const r = await sub.done();
    assert.equal(r.code, 0, r.stderr);
    const [g] = groups(r.stdout);
    assert.equal(g.total.msgs, 500);
    assert.equal(g.total.latency_us?.count, 500);
  });

  it("req: round trips with built-in responders, or external ones (lattice reply)", async () => {
    const r = await lattice([
      ...s,
      "bench",
      "req",
      uniq("b.req"),
      "--msgs",
      "300",
      "--clients",
      "2",
      "--responders",
      "2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NATS request\/reply: .* 2 built-in responders/);
    assert.match(r.stdout, /│ Total +│ +300 │/);
    assert.match(r.stdout, /Latency: request to reply round trip\./);
    const subject = uniq("b.ext");
    const reply = background([...s, "reply", subject, "--echo", "-q", "--count", "50"]);
    await reply.waitFor(/Listening/);
    const ext = await lattice([...s, "bench", "req", subject, "--msgs", "50", "--responders", "0", "--json"]);
    assert.equal(ext.code, 0, ext.stderr);
    assert.equal(groups(ext.stdout)[0].total.msgs, 50);
    assert.equal((await reply.done()).code, 0);
  });

  for (const t of targets) {
    const ts = ["-s", t.url];
    it(`js pub (stream created, cleaned up) against ${t.name}`, {
      skip: needs(t, "streams", "JetStream streams"),
    }, async () => {
      const stream = uniq("BENCH");
      const r = await lattice([
        ...ts,
        "bench",
        "js",
        "pub",
        uniq("bjs"),
        "--stream",
        stream,
        "--msgs",
        "500",
        "--batch",
        "50",
        "--storage",
        "memory",
        "--cleanup",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [g] = groups(r.stdout);
      assert.equal(g.total.msgs, 500);
      assert.equal(g.total.latency_us?.count, 500);
      assert.equal(
        (await lattice([...ts, "stream", "info", stream])).code,
        1,
        "the bench stream was removed",
      );
    });

    it(`js fetch (fills the stream first) against ${t.name}`, {
      skip: needs(t, "consumers", "JetStream consumers"),
    }, async () => {
      const stream = uniq("FETCH");
      const r = await lattice([
        ...ts,
        "bench",
        "js",
        "fetch",
        uniq("bjf"),
        "--stream",
        stream,
        "--msgs",
        "500",
        "--batch",
        "100",
        "--storage",
        "memory",
        "--cleanup",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /JetStream fetch: .* stream FETCH\d+_\d+ \(created\), batches of 100/);
      assert.match(r.stdout, /│ fetch #1 +│ +500 │/);
    });

    it(`kv put and kv get against ${t.name}`, {
      skip: needs(t, "streams", "JetStream streams"),
    }, async () => {
      const bucket = uniq("BB");
      const put = await lattice([
        ...ts,
        "bench",
        "kv",
        "put",
        "--bucket",
        bucket,
        "--msgs",
        "200",
        "--keys",
        "20",
        "--json",
      ]);
      assert.equal(put.code, 0, put.stderr);
      const [w] = groups(put.stdout);
      assert.equal(w.name, "Writers");
      assert.equal(w.total.msgs, 200);
      const get = await lattice([
        ...ts,
        "bench",
        "kv",
        "get",
        "--bucket",
        bucket,
        "--msgs",
        "200",
        "--keys",
        "20",
        "--clients",
        "2",
        "--cleanup",
      ]);
      assert.equal(get.code, 0, get.stderr);
      assert.match(get.stdout, /KV get: bucket BB\d+_\d+, 200 ops, 20 keys/);
      assert.match(get.stdout, /│ Total +│ +200 │/);
      assert.equal((await lattice([...ts, "kv", "status", bucket])).code, 1, "the bench bucket was removed");
    });
  }
});
