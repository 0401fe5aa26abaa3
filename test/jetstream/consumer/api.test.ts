// CONSUMER.* API through the official v3 client (create / update / info / list / names / delete / pause)
// and raw requests for exact error codes and texts.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamApiError,
  type JetStreamManager,
  jetstream,
} from "@nats-io/jetstream";
import { api, errCode, type JsEnv, removeDir, startJs } from "../helpers.js";

describe("consumer API", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
    const js = jetstream(env.nc);
    for (let i = 0; i < 5; i++) await js.publish(`orders.${i % 2 === 0 ? "new" : "old"}`, `o${i}`);
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("creates a durable pull consumer with nats-server's defaults", async () => {
    const ci = await jsm.consumers.add("ORDERS", { durable_name: "d1", ack_policy: AckPolicy.Explicit });
    assert.equal(ci.name, "d1");
    assert.equal(ci.stream_name, "ORDERS");
    assert.equal(ci.num_pending, 5);
    assert.equal(ci.config.ack_wait, 30_000_000_000);
    assert.equal(ci.config.max_deliver, -1);
    assert.equal(ci.config.max_waiting, 512);
    assert.equal(ci.config.max_ack_pending, 1000);
    assert.equal(ci.config.deliver_policy, "all");
    assert.equal(ci.config.replay_policy, "instant");
    assert.equal(ci.config.num_replicas, 0);
    assert.equal(ci.config.deliver_subject, undefined, "a pull consumer omits deliver_subject");
    assert.deepEqual(ci.delivered, { consumer_seq: 0, stream_seq: 0 });
    assert.deepEqual(ci.ack_floor, { consumer_seq: 0, stream_seq: 0 });
  });

  it("counts num_pending per filter and deliver policy", async () => {
    const f = await jsm.consumers.add("ORDERS", { name: "f1", filter_subject: "orders.new" });
    assert.equal(f.num_pending, 3);
    const fs = await jsm.consumers.add("ORDERS", {
      name: "f2",
      filter_subjects: ["orders.new", "orders.old"],
      ack_policy: AckPolicy.None,
    });
    assert.equal(fs.num_pending, 5);
    const last = await jsm.consumers.add("ORDERS", { name: "l1", deliver_policy: DeliverPolicy.Last });
    assert.equal(last.num_pending, 1);
    const lps = await jsm.consumers.add("ORDERS", {
      name: "lps",
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subject: "orders.>",
    });
    assert.equal(lps.num_pending, 2);
    const nw = await jsm.consumers.add("ORDERS", { name: "n1", deliver_policy: DeliverPolicy.New });
    assert.equal(nw.num_pending, 0);
    const seq = await jsm.consumers.add("ORDERS", {
      name: "s1",
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 4,
    });
    assert.equal(seq.num_pending, 2);
    for (const n of ["f1", "f2", "l1", "lps", "n1", "s1"]) await jsm.consumers.delete("ORDERS", n);
  });

  it("create is idempotent, a different config is 10148, update of a missing one is 10149", async () => {
    const a = await jsm.consumers.add("ORDERS", { durable_name: "same", ack_policy: AckPolicy.Explicit });
    const b = await jsm.consumers.add("ORDERS", { durable_name: "same", ack_policy: AckPolicy.Explicit });
    assert.equal(a.created, b.created);
    await assert.rejects(
      jsm.consumers.add("ORDERS", { durable_name: "same", ack_policy: AckPolicy.Explicit, max_deliver: 3 }),
      (err) => errCode(err) === 10148 && (err as Error).message === "consumer already exists",
    );
    const r = await api(env.nc, "$JS.API.CONSUMER.CREATE.ORDERS.nope", {
      stream_name: "ORDERS",
      config: { name: "nope", ack_policy: "explicit" },
      action: "update",
    });
    assert.equal(r.error.err_code, 10149);
    assert.equal(r.error.description, "consumer does not exist");
    // An allowed update (create-or-update via the client's update()).
    const u = await jsm.consumers.update("ORDERS", "same", { max_deliver: 3, description: "x" });
    assert.equal(u.config.max_deliver, 3);
    assert.equal(u.config.description, "x");
    // A change nats-server refuses: 10012 with its text.
    await assert.rejects(
      jsm.consumers.update("ORDERS", "same", { ack_policy: AckPolicy.None } as never),
      (err) => errCode(err) === 10012 && (err as Error).message === "ack policy can not be updated",
    );
    await jsm.consumers.delete("ORDERS", "same");
  });

  it("answers subject/body mismatches with nats-server's errors", async () => {
    const cases: [string, unknown, number, string][] = [
      [
        "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.x",
        { stream_name: "ORDERS", config: {} },
        10018,
        "consumer expected to be durable but a durable name was not set",
      ],
      [
        "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.x",
        { stream_name: "ORDERS", config: { durable_name: "y" } },
        10017,
        "consumer name in subject does not match durable name in request",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS",
        { stream_name: "ORDERS", config: { durable_name: "y" } },
        10020,
        "consumer expected to be ephemeral but a durable name was set in request",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c.orders.new",
        { stream_name: "ORDERS", config: { name: "c", filter_subject: "orders.old" } },
        10131,
        "Consumer create request did not match filtered subject from create subject",
      ],
      [
        "$JS.API.CONSUMER.CREATE.OTHER.c",
        { stream_name: "ORDERS", config: { name: "c" } },
        10056,
        "stream name in subject does not match request",
      ],
      [
        "$JS.API.CONSUMER.CREATE.NOPE.c",
        { stream_name: "NOPE", config: { name: "c" } },
        10059,
        "stream not found",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", max_deliver: 2, backoff: [1e9, 2e9] } },
        10116,
        "max deliver is required to be > length of backoff values",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", idle_heartbeat: 1e9 } },
        10088,
        "consumer idle heartbeat requires a push based consumer",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", deliver_subject: "d.*" } },
        10079,
        "consumer deliver subject has wildcards",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", deliver_subject: "orders.x" } },
        10081,
        "consumer deliver subject forms a cycle",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", deliver_subject: "dd", flow_control: true } },
        10108,
        "consumer with flow control also needs heartbeats",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", deliver_policy: "by_start_sequence" } },
        10094,
        "consumer delivery policy is deliver by start sequence, but optional start sequence is not set",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { name: "c", filter_subjects: ["orders.>", "orders.new"] } },
        10138,
        "consumer subject filters cannot overlap",
      ],
      [
        "$JS.API.CONSUMER.CREATE.ORDERS.c",
        { stream_name: "ORDERS", config: { ack_wait: "x" } },
        10025,
        "invalid JSON",
      ],
    ];
    for (const [subject, body, code, text] of cases) {
      const r = await api(env.nc, subject, body);
      assert.equal(r.type, "io.nats.jetstream.api.v1.consumer_create_response");
      assert.equal(r.error?.err_code, code, `${subject} ${JSON.stringify(body)}: ${JSON.stringify(r)}`);
      assert.equal(r.error.description, text);
    }
  });

  it("info, names, list and delete", async () => {
    await jsm.consumers.add("ORDERS", { durable_name: "b", ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add("ORDERS", { durable_name: "a", ack_policy: AckPolicy.Explicit });
    const names: string[] = [];
    for await (const ci of jsm.consumers.list("ORDERS")) names.push(ci.name);
    assert.deepEqual(names, ["a", "b", "d1"]);
    const raw = await api(env.nc, "$JS.API.CONSUMER.NAMES.ORDERS");
    assert.deepEqual(raw.consumers, ["a", "b", "d1"]);
    assert.equal(raw.total, 3);
    assert.equal(raw.limit, 1024);
    assert.equal((await jsm.consumers.info("ORDERS", "a")).name, "a");
    assert.equal(await jsm.consumers.delete("ORDERS", "a"), true);
    await assert.rejects(
      jsm.consumers.info("ORDERS", "a"),
      (err) => (err as JetStreamApiError).code === 10014 && (err as Error).message === "consumer not found",
    );
    await assert.rejects(jsm.consumers.delete("ORDERS", "a"), (err) => errCode(err) === 10014);
    const si = await jsm.streams.info("ORDERS");
    assert.equal(si.state.consumer_count, 2);
    const ai = await jsm.getAccountInfo();
    assert.equal(ai.consumers, 2);
  });

  it("work-queue streams enforce explicit ack, deliver all and unique filters", async () => {
    await jsm.streams.add({ name: "WQ", subjects: ["wq.>"], retention: "workqueue" as never });
    await assert.rejects(
      jsm.consumers.add("WQ", { durable_name: "w0", ack_policy: AckPolicy.None }),
      (err) => errCode(err) === 10084,
    );
    await jsm.consumers.add("WQ", {
      durable_name: "w1",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "wq.a",
    });
    await assert.rejects(
      jsm.consumers.add("WQ", { durable_name: "w2", ack_policy: AckPolicy.Explicit }),
      (err) => errCode(err) === 10099,
    );
    await assert.rejects(
      jsm.consumers.add("WQ", { durable_name: "w3", ack_policy: AckPolicy.Explicit, filter_subject: "wq.*" }),
      (err) => errCode(err) === 10100,
    );
    await assert.rejects(
      jsm.consumers.add("WQ", {
        durable_name: "w4",
        ack_policy: AckPolicy.Explicit,
        filter_subject: "wq.b",
        deliver_policy: DeliverPolicy.New,
      }),
      (err) => errCode(err) === 10101,
    );
    await jsm.streams.delete("WQ");
  });

  it("pauses and resumes a consumer", async () => {
    await jsm.consumers.add("ORDERS", { durable_name: "p", ack_policy: AckPolicy.Explicit });
    const until = new Date(Date.now() + 60_000);
    const r = await jsm.consumers.pause("ORDERS", "p", until);
    assert.equal(r.paused, true);
    assert.ok((r as unknown as { pause_remaining: number }).pause_remaining > 50_000_000_000);
    const ci = await jsm.consumers.info("ORDERS", "p");
    assert.equal((ci as unknown as { paused: boolean }).paused, true);
    // A paused pull consumer does not hand out messages.
    const c = await jetstream(env.nc).consumers.get("ORDERS", "p");
    assert.equal(await c.next({ expires: 1000 }), null);
    const res = await jsm.consumers.resume("ORDERS", "p");
    assert.equal(res.paused, false);
    const m = await c.next({ expires: 2000 });
    assert.equal(m?.seq, 1);
    m?.ack();
  });

  it("takes defaults from the stream's consumer limits; pedantic requests must set them", async () => {
    await jsm.streams.add({
      name: "LIM",
      subjects: ["lim"],
      consumer_limits: { max_ack_pending: 10, inactive_threshold: 60_000_000_000 },
    });
    const ci = await jsm.consumers.add("LIM", { name: "a", ack_policy: AckPolicy.Explicit });
    assert.equal(ci.config.max_ack_pending, 10);
    assert.equal(ci.config.inactive_threshold, 60_000_000_000);
    await assert.rejects(
      jsm.consumers.add("LIM", { name: "b", ack_policy: AckPolicy.Explicit }, { pedantic: true }),
      (err: JetStreamApiError) =>
        err.code === 10157 &&
        err.message === "pedantic mode: max_ack_pending must be set if it's configured in stream limits",
    );
    const neg = await api(env.nc, "$JS.API.CONSUMER.CREATE.LIM.c", {
      stream_name: "LIM",
      config: { name: "c", ack_policy: "explicit", max_ack_pending: 5, max_deliver: -5 },
      pedantic: true,
    });
    assert.equal(neg.error.err_code, 10157);
    assert.equal(neg.error.description, "pedantic mode: max_deliver must be set to -1");
    // Without pedantic the same request is adjusted.
    const ok = await api(env.nc, "$JS.API.CONSUMER.CREATE.LIM.c", {
      stream_name: "LIM",
      config: { name: "c", ack_policy: "explicit", max_ack_pending: 5, max_deliver: -5 },
    });
    assert.equal(ok.config.max_deliver, -1);
    await jsm.streams.delete("LIM");
  });

  it("an ephemeral consumer without interest goes away after inactive_threshold", async () => {
    const ci = await jsm.consumers.add("ORDERS", {
      inactive_threshold: 500_000_000,
      ack_policy: AckPolicy.None,
    });
    assert.equal(ci.name.length, 8);
    assert.equal(ci.config.inactive_threshold, 500_000_000);
    await new Promise((r) => setTimeout(r, 2000));
    await assert.rejects(jsm.consumers.info("ORDERS", ci.name), (err) => errCode(err) === 10014);
    // Ephemerals get nats-server's 5 s default stamped in their config.
    const e = await api(env.nc, "$JS.API.CONSUMER.CREATE.ORDERS", {
      stream_name: "ORDERS",
      config: { ack_policy: "none", deliver_subject: "eph.in" },
    });
    assert.equal(e.config.inactive_threshold, 5_000_000_000);
    assert.equal(e.push_bound, undefined);
  });
});
