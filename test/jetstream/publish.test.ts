// Publishing into streams: PubAcks, expectation headers and their errors, dedupe, limits and discard
// policies, max message size, rollups, sealed streams, per-message TTL and delete markers, republish.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DiscardPolicy, StorageType } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { errCode, type JsEnv, pub, sleep, startJs, text, until } from "./helpers.js";

const SEC = 1_000_000_000;

describe("publishing into streams", () => {
  let env: JsEnv;
  before(async () => {
    env = await startJs();
  });
  after(async () => {
    await env.close();
  });

  it("acks with stream and sequence; stores publishes without a reply too", async () => {
    await env.jsm.streams.add({ name: "P", subjects: ["p.>"] });
    const js = env.jsm.jetstream();
    const a = await js.publish("p.a", "one");
    assert.equal(a.stream, "P");
    assert.equal(a.seq, 1);
    assert.equal(a.duplicate, false);
    env.nc.publish("p.b", "no reply");
    await env.nc.flush();
    const b = await js.publish("p.c", "three");
    assert.equal(b.seq, 3);
    const m = await env.jsm.streams.getMessage("P", { seq: 2 });
    assert.equal(m?.string(), "no reply");
    // The raw ack is nats-server's text.
    const raw = await env.nc.request("p.d", "x");
    assert.equal(text(raw), '{"stream":"P", "seq":4}');
  });

  it("acks arrive in sequence order", async () => {
    await env.jsm.streams.add({ name: "ORDER", subjects: ["order"] });
    const js = env.jsm.jetstream();
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => js.publish("order", String(i))));
    assert.deepEqual(
      acks.map((a) => a.seq),
      acks.map((_, i) => i + 1),
    );
  });

  it("dedupes on Nats-Msg-Id inside the window", async () => {
    await env.jsm.streams.add({ name: "DUP", subjects: ["dup"], duplicate_window: 1 * SEC });
    const js = env.jsm.jetstream();
    const a = await js.publish("dup", "x", { msgID: "id-1" });
    const b = await js.publish("dup", "x", { msgID: "id-1" });
    assert.equal(b.seq, a.seq);
    assert.equal(b.duplicate, true);
    const raw = await pub(env.nc, "dup", "x", { "Nats-Msg-Id": "id-1" });
    assert.deepEqual(raw, { stream: "DUP", seq: a.seq, duplicate: true });
    await sleep(1100);
    const c = await js.publish("dup", "x", { msgID: "id-1" });
    assert.equal(c.duplicate, false);
    assert.equal(c.seq, a.seq + 1);
  });

  it("checks expected stream, last sequence, last subject sequence and last msg id", async () => {
    await env.jsm.streams.add({ name: "EXP", subjects: ["exp.>"] });
    const js = env.jsm.jetstream();
    await js.publish("exp.a", "1", { msgID: "m1" });
    await assert.rejects(js.publish("exp.a", "x", { expect: { streamName: "OTHER" } }), (e: Error) => {
      assert.equal(errCode(e), 10060);
      assert.equal(e.message, "expected stream does not match");
      return true;
    });
    await js.publish("exp.a", "2", { expect: { streamName: "EXP", lastSequence: 1 } });
    await assert.rejects(js.publish("exp.a", "x", { expect: { lastSequence: 1 } }), (e: Error) => {
      assert.equal(errCode(e), 10071);
      assert.equal(e.message, "wrong last sequence: 2");
      return true;
    });
    await js.publish("exp.b", "3", { expect: { lastSubjectSequence: 0 } });
    await assert.rejects(js.publish("exp.b", "x", { expect: { lastSubjectSequence: 0 } }), (e: Error) => {
      assert.equal(e.message, "wrong last sequence: 3");
      return true;
    });
    await js.publish("exp.b", "4", { expect: { lastSubjectSequence: 3 }, msgID: "m4" });
    await assert.rejects(js.publish("exp.b", "x", { expect: { lastMsgID: "m1" } }), (e: Error) => {
      assert.equal(errCode(e), 10070);
      assert.equal(e.message, "wrong last msg ID: m4");
      return true;
    });
    await js.publish("exp.c", "5", { expect: { lastMsgID: "m4" } });
    // Expected last sequence for another (wildcard) subject.
    await js.publish("exp.d", "6", {
      expect: { lastSubjectSequence: 5, lastSubjectSequenceSubject: "exp.c" },
    });
    await assert.rejects(
      js.publish("exp.d", "x", { expect: { lastSubjectSequence: 1, lastSubjectSequenceSubject: "exp.*" } }),
      (e: Error) => e.message === "wrong last sequence: 6",
    );
    const r = await pub(env.nc, "exp.a", "x", { "Nats-Expected-Last-Subject-Sequence-Subject": "exp.a" });
    assert.equal(r.error.err_code, 10193);
  });

  it("enforces limits: discard old evicts, discard new refuses", async () => {
    await env.jsm.streams.add({ name: "OLD", subjects: ["old"], max_msgs: 3, storage: StorageType.Memory });
    const js = env.jsm.jetstream();
    for (let i = 0; i < 5; i++) await js.publish("old", String(i));
    let si = await env.jsm.streams.info("OLD");
    assert.equal(si.state.messages, 3);
    assert.equal(si.state.first_seq, 3);

    await env.jsm.streams.add({ name: "NEW", subjects: ["new"], max_msgs: 2, discard: DiscardPolicy.New });
    await js.publish("new");
    await js.publish("new");
    await assert.rejects(js.publish("new"), (e: Error) => {
      assert.equal(errCode(e), 10077);
      assert.equal(e.message, "maximum messages exceeded");
      return true;
    });

    await env.jsm.streams.add({
      name: "PERSUBJ",
      subjects: ["ps.*"],
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.New,
      discard_new_per_subject: true,
    });
    await js.publish("ps.a");
    await js.publish("ps.b");
    await assert.rejects(js.publish("ps.a"), /maximum messages per subject exceeded/);

    // Per-subject limit without discard_new_per_subject keeps the newest per subject.
    await env.jsm.streams.add({
      name: "KVLIKE",
      subjects: ["kv.*"],
      max_msgs_per_subject: 2,
      discard: DiscardPolicy.New,
    });
    for (let i = 0; i < 4; i++) await js.publish("kv.a", String(i));
    si = await env.jsm.streams.info("KVLIKE");
    assert.equal(si.state.messages, 2);

    await env.jsm.streams.add({
      name: "BYTES",
      subjects: ["bytes"],
      max_bytes: 200,
      discard: DiscardPolicy.New,
    });
    await js.publish("bytes", "x".repeat(100));
    await assert.rejects(js.publish("bytes", "x".repeat(100)), /maximum bytes exceeded/);
  });

  it("refuses messages over max_msg_size (headers count)", async () => {
    await env.jsm.streams.add({ name: "SIZE", subjects: ["size"], max_msg_size: 10 });
    const js = env.jsm.jetstream();
    await js.publish("size", "0123456789");
    await assert.rejects(js.publish("size", "0123456789a"), (e: Error) => {
      assert.equal(errCode(e), 10054);
      assert.equal(e.message, "message size exceeds maximum allowed");
      return true;
    });
    const h = headers();
    h.set("k", "v");
    await assert.rejects(js.publish("size", "01234", { headers: h }), (e) => errCode(e) === 10054);
  });

  it("rolls up a subject or the whole stream, only when allowed", async () => {
    await env.jsm.streams.add({ name: "ROLL", subjects: ["roll.*"], allow_rollup_hdrs: true });
    const js = env.jsm.jetstream();
    for (const s of ["a", "a", "b", "a"]) await js.publish(`roll.${s}`);
    let r = await pub(env.nc, "roll.a", "sub", { "Nats-Rollup": "sub" });
    assert.equal(r.seq, 5);
    let si = await env.jsm.streams.info("ROLL", { subjects_filter: ">" });
    assert.deepEqual(si.state.subjects, { "roll.a": 1, "roll.b": 1 });
    r = await pub(env.nc, "roll.c", "all", { "Nats-Rollup": "all" });
    si = await env.jsm.streams.info("ROLL");
    assert.equal(si.state.messages, 1);
    assert.equal(si.state.first_seq, r.seq);
    r = await pub(env.nc, "roll.c", "bad", { "Nats-Rollup": "nope" });
    assert.equal(r.error.err_code, 10111);

    await env.jsm.streams.add({ name: "NOROLL", subjects: ["noroll"] });
    r = await pub(env.nc, "noroll", "x", { "Nats-Rollup": "sub" });
    assert.deepEqual(r, {
      error: { code: 500, err_code: 10111, description: "rollup not permitted" },
      stream: "NOROLL",
      seq: 0,
    });
  });

  it("a sealed stream refuses publishes, deletes and purges", async () => {
    await env.jsm.streams.add({ name: "SEAL", subjects: ["seal"] });
    const js = env.jsm.jetstream();
    await js.publish("seal");
    await env.jsm.streams.update("SEAL", { sealed: true } as never);
    await assert.rejects(js.publish("seal"), (e: Error) => {
      assert.equal(errCode(e), 10109);
      assert.equal(e.message, "invalid operation on sealed stream");
      return true;
    });
    await assert.rejects(env.jsm.streams.purge("SEAL"), (e) => errCode(e) === 10109);
    await assert.rejects(env.jsm.streams.deleteMessage("SEAL", 1), (e) => errCode(e) === 10109);
  });

  it("per-message TTL needs allow_msg_ttl, expires messages and leaves delete markers", async () => {
    await env.jsm.streams.add({ name: "NOTTL", subjects: ["nottl"] });
    let r = await pub(env.nc, "nottl", "x", { "Nats-TTL": "1s" });
    assert.equal(r.error.err_code, 10166);
    assert.equal(r.error.description, "per-message TTL is disabled");

    await env.jsm.streams.add({
      name: "TTL",
      subjects: ["ttl.*"],
      allow_msg_ttl: true,
      subject_delete_marker_ttl: 2 * SEC,
    });
    r = await pub(env.nc, "ttl.a", "x", { "Nats-TTL": "500ms" });
    assert.equal(r.error.err_code, 10165);
    r = await pub(env.nc, "ttl.a", "short", { "Nats-TTL": "1s" });
    assert.equal(r.seq, 1);
    await pub(env.nc, "ttl.b", "forever", { "Nats-TTL": "never" });
    await until(async () => (await env.jsm.streams.getMessage("TTL", { seq: 1 })) === null, 4000);
    // The subject emptied by expiry gets a marker.
    const marker = await env.jsm.streams.getMessage("TTL", { last_by_subj: "ttl.a" });
    assert.ok(marker !== null);
    assert.equal(marker.header.get("Nats-Marker-Reason"), "MaxAge");
    assert.equal(marker.data.length, 0);
    // The marker itself expires, without spawning another.
    await until(
      async () => (await env.jsm.streams.getMessage("TTL", { last_by_subj: "ttl.a" })) === null,
      5000,
    );
    const si = await env.jsm.streams.info("TTL");
    assert.equal(si.state.messages, 1);
    await env.jsm.streams.update("TTL", { subject_delete_marker_ttl: 0 });
    await assert.rejects(
      env.jsm.streams.update("TTL", { allow_msg_ttl: false } as never),
      /message TTL status can not be disabled/,
    );
  });

  it("max_age removes old messages", async () => {
    await env.jsm.streams.add({
      name: "AGE",
      subjects: ["age"],
      max_age: 300_000_000,
      storage: StorageType.Memory,
    });
    const js = env.jsm.jetstream();
    await js.publish("age");
    await until(async () => (await env.jsm.streams.info("AGE")).state.messages === 0, 3000);
  });

  it("republishes stored messages with stream headers", async () => {
    await env.jsm.streams.add({
      name: "RP",
      subjects: ["rp.>"],
      republish: { src: "rp.>", dest: "out.rp.>" },
    });
    const sub = env.nc.subscribe("out.rp.>", { max: 2 });
    const js = env.jsm.jetstream();
    const h = headers();
    h.set("foo", "bar");
    await js.publish("rp.a", "hi", { headers: h });
    await js.publish("rp.b", "there");
    const got = [];
    for await (const m of sub) got.push(m);
    assert.equal(got[0].subject, "out.rp.a");
    assert.equal(got[0].headers?.get("foo"), "bar");
    assert.equal(got[0].headers?.get("Nats-Stream"), "RP");
    assert.equal(got[0].headers?.get("Nats-Subject"), "rp.a");
    assert.equal(got[0].headers?.get("Nats-Sequence"), "1");
    assert.equal(got[0].headers?.get("Nats-Last-Sequence"), "0");
    assert.equal(got[1].headers?.get("Nats-Last-Sequence"), "1");
    assert.equal(text(got[1]), "there");
  });

  it("applies the stream subject transform on ingest", async () => {
    await env.jsm.streams.add({
      name: "XF",
      subjects: ["xf.*.*"],
      subject_transform: { src: "xf.*.*", dest: "xf.$2.$1" },
    });
    const js = env.jsm.jetstream();
    await js.publish("xf.one.two");
    const m = await env.jsm.streams.getMessage("XF", { seq: 1 });
    assert.equal(m?.subject, "xf.two.one");
  });
});

describe("server resource limits", () => {
  it("refuse streams reserving more than the budget and publishes past it", async () => {
    const env = await startJs({ jetstream: { max_mem: 4000, max_file: 10000 } });
    try {
      await assert.rejects(
        env.jsm.streams.add({ name: "BIG", storage: StorageType.Memory, max_bytes: 5000 }),
        (e: Error) => errCode(e) === 10028 && e.message === "insufficient memory resources available",
      );
      await assert.rejects(
        env.jsm.streams.add({ name: "BIGF", max_bytes: 20000 }),
        (e: Error) => errCode(e) === 10047 && e.message === "insufficient storage resources available",
      );
      await env.jsm.streams.add({ name: "MEM", subjects: ["mem"], storage: StorageType.Memory });
      const js = env.jsm.jetstream();
      const payload = "x".repeat(1000);
      await js.publish("mem", payload);
      await js.publish("mem", payload);
      await js.publish("mem", payload);
      await assert.rejects(js.publish("mem", payload), (e: Error) => {
        assert.equal(errCode(e), 10023);
        assert.equal(e.message, "insufficient resources");
        return true;
      });
      // Room comes back once messages go.
      await env.jsm.streams.purge("MEM");
      await js.publish("mem", payload);
    } finally {
      await env.close();
    }
  });
});
