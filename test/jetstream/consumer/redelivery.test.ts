// Redelivery after ack_wait and backoff, max_deliver with its advisory, +TERM with its advisory, and
// Lattice's opt-in dead-letter subject.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AckPolicy, type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import { createInbox, type Msg } from "@nats-io/transport-node";
import { type JsEnv, removeDir, sleep, startJs, until } from "../helpers.js";

const td = new TextDecoder();

describe("redelivery", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    js = jetstream(env.nc);
    await jsm.streams.add({ name: "R", subjects: ["r.>"] });
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("redelivers after ack_wait with growing delivery counts", async () => {
    await js.publish("r.wait", "x");
    const inbox = createInbox();
    const got: { at: number; count: string }[] = [];
    const sub = env.nc.subscribe(inbox, {
      callback: (_e, m) => void got.push({ at: Date.now(), count: m.reply!.split(".")[4] }),
    });
    await jsm.consumers.add("R", {
      name: "aw",
      deliver_subject: inbox,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 400_000_000,
      filter_subject: "r.wait",
    });
    await until(() => got.length >= 3, 3000);
    sub.unsubscribe();
    assert.deepEqual(
      got.slice(0, 3).map((g) => g.count),
      ["1", "2", "3"],
    );
    const gap = got[1].at - got[0].at;
    assert.ok(gap >= 350 && gap < 1000, `gap ${gap}`);
    const ci = await jsm.consumers.info("R", "aw");
    assert.equal(ci.num_redelivered, 1);
    assert.equal(ci.num_ack_pending, 1);
  });

  it("follows backoff, stops at max_deliver and sends the advisory", async () => {
    await js.publish("r.bo", "y");
    const advisories: Msg[] = [];
    const adv = env.nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.R.bo", {
      callback: (_e, m) => void advisories.push(m),
    });
    const inbox = createInbox();
    const times: number[] = [];
    const sub = env.nc.subscribe(inbox, { callback: () => void times.push(Date.now()) });
    const ci = await jsm.consumers.add("R", {
      name: "bo",
      deliver_subject: inbox,
      ack_policy: AckPolicy.Explicit,
      backoff: [200_000_000, 600_000_000],
      max_deliver: 3,
      filter_subject: "r.bo",
    });
    assert.equal(ci.config.ack_wait, 200_000_000, "the first backoff is the ack wait");
    await until(() => advisories.length === 1, 4000);
    await sleep(300);
    sub.unsubscribe();
    adv.unsubscribe();
    assert.equal(times.length, 3);
    const g1 = times[1] - times[0];
    const g2 = times[2] - times[1];
    assert.ok(g1 >= 180 && g1 < 500, `first gap ${g1}`);
    assert.ok(g2 >= 550 && g2 < 1000, `second gap ${g2}`);
    const a = JSON.parse(td.decode(advisories[0].data));
    assert.equal(a.type, "io.nats.jetstream.advisory.v1.max_deliver");
    assert.equal(a.stream, "R");
    assert.equal(a.consumer, "bo");
    assert.equal(a.stream_seq, 2);
    assert.equal(a.deliveries, 3);
    const info = await jsm.consumers.info("R", "bo");
    assert.equal(info.num_ack_pending, 0);
  });

  it("+TERM stops redelivery and sends MSG_TERMINATED", async () => {
    await js.publish("r.term", "z");
    const advisories: Msg[] = [];
    const adv = env.nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.R.t", {
      callback: (_e, m) => void advisories.push(m),
    });
    await jsm.consumers.add("R", {
      durable_name: "t",
      ack_policy: AckPolicy.Explicit,
      ack_wait: 300_000_000,
      filter_subject: "r.term",
    });
    const c = await js.consumers.get("R", "t");
    const m = await c.next();
    m!.term("bad input");
    await until(() => advisories.length === 1);
    const a = JSON.parse(td.decode(advisories[0].data));
    assert.equal(a.type, "io.nats.jetstream.advisory.v1.terminated");
    assert.equal(a.stream_seq, 3);
    assert.equal(a.deliveries, 1);
    assert.equal(a.reason, "bad input");
    assert.equal(await c.next({ expires: 1000 }), null);
    adv.unsubscribe();
  });

  it("dead-letters exhausted and terminated messages when asked to", async () => {
    await jsm.streams.add({ name: "DLQ", subjects: ["dlq.>"] });
    await js.publish("r.dl", "dead");
    await js.publish("r.dl", "termed");
    // The option is a Lattice extension, passed through the client as an extra config field.
    await jsm.consumers.add("R", {
      durable_name: "dl",
      ack_policy: AckPolicy.Explicit,
      ack_wait: 200_000_000,
      max_deliver: 1,
      filter_subject: "r.dl",
      dead_letter_subject: "dlq.orders",
    } as never);
    const c = await js.consumers.get("R", "dl");
    const first = await c.next();
    assert.equal(first?.string(), "dead");
    const second = await c.next();
    second!.term("nope");
    await until(async () => (await jsm.streams.info("DLQ")).state.messages === 2, 3000);
    const d1 = await jsm.streams.getMessage("DLQ", { seq: 1 });
    const d2 = await jsm.streams.getMessage("DLQ", { seq: 2 });
    const byReason = new Map([d1!, d2!].map((d) => [d.header.get("Nats-Dead-Letter-Reason"), d]));
    const exhausted = byReason.get("max_deliveries")!;
    assert.equal(exhausted.string(), "dead");
    assert.equal(exhausted.header.get("Nats-Dead-Letter-Stream"), "R");
    assert.equal(exhausted.header.get("Nats-Dead-Letter-Consumer"), "dl");
    assert.equal(exhausted.header.get("Nats-Dead-Letter-Subject"), "r.dl");
    assert.equal(exhausted.header.get("Nats-Dead-Letter-Sequence"), "4");
    assert.equal(exhausted.header.get("Nats-Dead-Letter-Deliveries"), "1");
    const termed = byReason.get("terminated")!;
    assert.equal(termed.string(), "termed");
    assert.equal(termed.header.get("Nats-Dead-Letter-Term-Reason"), "nope");
    // Off by default: the consumer config echoes the option only when set.
    const info = await jsm.consumers.info("R", "dl");
    assert.equal((info.config as unknown as Record<string, string>).dead_letter_subject, "dlq.orders");
    const plain = await jsm.consumers.info("R", "t");
    assert.equal((plain.config as unknown as Record<string, unknown>).dead_letter_subject, undefined);
  });
});
