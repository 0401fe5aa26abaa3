// Interest and work-queue retention: messages leave the stream once every interested consumer (interest)
// or the one consumer (work queue) acknowledged them.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { type JsEnv, removeDir, sleep, startJs, until } from "../helpers.js";

describe("retention", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    js = jetstream(env.nc);
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  const messages = async (s: string) => (await jsm.streams.info(s)).state.messages;

  it("work queue: an ack removes the message", async () => {
    await jsm.streams.add({ name: "WQ", subjects: ["wq.>"], retention: RetentionPolicy.Workqueue });
    for (let i = 0; i < 5; i++) await js.publish("wq.job", `j${i}`);
    await jsm.consumers.add("WQ", { durable_name: "w", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("WQ", "w");
    const iter = await c.fetch({ max_messages: 3, expires: 1000 });
    for await (const m of iter) await m.ackAck();
    assert.equal(await messages("WQ"), 2);
    const si = await jsm.streams.info("WQ");
    assert.equal(si.state.first_seq, 4);
  });

  it("interest: kept until every consumer acked; no interest, not kept", async () => {
    await jsm.streams.add({ name: "IN", subjects: ["in.>"], retention: RetentionPolicy.Interest });
    const pa = await js.publish("in.x", "nobody");
    assert.equal(pa.seq, 1);
    assert.equal(await messages("IN"), 0, "no consumer: not stored, but the sequence is used");
    await jsm.consumers.add("IN", { durable_name: "a", ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add("IN", {
      durable_name: "b",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "in.x",
    });
    await js.publish("in.x", "both");
    await js.publish("in.y", "only a");
    assert.equal(await messages("IN"), 2);
    const a = await js.consumers.get("IN", "a");
    const b = await js.consumers.get("IN", "b");
    const ma = await a.next();
    assert.equal(ma?.seq, 2);
    await ma!.ackAck();
    assert.equal(await messages("IN"), 2, "b still needs seq 2");
    const mb = await b.next();
    await mb!.ackAck();
    assert.equal(await messages("IN"), 1);
    const my = await a.next();
    assert.equal(my?.subject, "in.y");
    await my!.ackAck();
    assert.equal(await messages("IN"), 0);
  });

  it("interest: deleting the last interested consumer drops what it held", async () => {
    await jsm.streams.add({ name: "IN2", subjects: ["in2.>"], retention: RetentionPolicy.Interest });
    await jsm.consumers.add("IN2", { durable_name: "only", ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 3; i++) await js.publish("in2.a", "x");
    assert.equal(await messages("IN2"), 3);
    await jsm.consumers.delete("IN2", "only");
    await until(async () => (await messages("IN2")) === 0);
  });

  it("interest with an ack-none consumer: delivered means done", async () => {
    await jsm.streams.add({ name: "IN3", subjects: ["in3"], retention: RetentionPolicy.Interest });
    await jsm.consumers.add("IN3", { durable_name: "n", ack_policy: AckPolicy.None });
    for (let i = 0; i < 3; i++) await js.publish("in3", "x");
    const c = await js.consumers.get("IN3", "n");
    const iter = await c.fetch({ max_messages: 3, expires: 1000 });
    for await (const _m of iter) {
      // nothing to ack
    }
    await sleep(50);
    assert.equal(await messages("IN3"), 0);
  });
});
