// Push consumers through the official clients: deliver subject and queue groups, idle heartbeats and flow
// control (raw view of the status messages), push_bound, ordered push consumers, replay original.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  ReplayPolicy,
} from "@nats-io/jetstream";
import { createInbox, type Msg } from "@nats-io/transport-node";
import { type JsEnv, removeDir, sleep, startJs, until } from "../helpers.js";

describe("push consumers", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    js = jetstream(env.nc);
    await jsm.streams.add({ name: "PS", subjects: ["ps.>"] });
    for (let i = 1; i <= 20; i++) await js.publish(`ps.${i % 4}`, `v${i}`);
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("delivers to the deliver subject with the stream subject and an ack reply", async () => {
    const inbox = createInbox();
    const got: Msg[] = [];
    const sub = env.nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    const ci = await jsm.consumers.add("PS", {
      durable_name: "raw",
      deliver_subject: inbox,
      ack_policy: AckPolicy.Explicit,
      filter_subject: "ps.1",
    });
    assert.equal(ci.push_bound, true);
    await until(() => got.length === 5);
    assert.deepEqual(
      got.map((m) => m.subject),
      ["ps.1", "ps.1", "ps.1", "ps.1", "ps.1"],
    );
    assert.match(got[0].reply ?? "", /^\$JS\.ACK\.PS\.raw\.1\.1\.1\.\d+\.4$/);
    assert.match(got[4].reply ?? "", /^\$JS\.ACK\.PS\.raw\.1\.17\.5\.\d+\.0$/);
    for (const m of got) m.respond();
    sub.unsubscribe();
    await sleep(50);
    const info = await jsm.consumers.info("PS", "raw");
    assert.equal(info.push_bound, undefined);
    assert.equal(info.num_ack_pending, 0);
  });

  it("sends idle heartbeats and flow-control requests and resumes when they are answered", async () => {
    const inbox = createInbox();
    const statuses: string[] = [];
    let data = 0;
    const sub = env.nc.subscribe(inbox, {
      callback: (_e, m) => {
        if (m.headers?.code === 100) {
          statuses.push(m.headers.description);
          if (m.reply) m.respond();
        } else data++;
      },
    });
    await jsm.consumers.add("PS", {
      name: "hb",
      deliver_subject: inbox,
      ack_policy: AckPolicy.None,
      idle_heartbeat: 200_000_000,
      flow_control: true,
    });
    await until(() => data === 20 && statuses.includes("Idle Heartbeat"), 3000);
    sub.unsubscribe();
    // Flow control: a large backlog stalls until the FC request is answered.
    await jsm.streams.add({ name: "BIG", subjects: ["big"] });
    const payload = new Uint8Array(256 * 1024);
    for (let i = 0; i < 24; i++) await js.publish("big", payload);
    const inbox2 = createInbox();
    let fcSeen = 0;
    let received = 0;
    let answer = false;
    const pendingFc: Msg[] = [];
    const sub2 = env.nc.subscribe(inbox2, {
      callback: (_e, m) => {
        if (m.headers?.code === 100 && m.headers.description === "FlowControl Request") {
          fcSeen++;
          if (answer) m.respond();
          else pendingFc.push(m);
        } else if (m.headers?.code !== 100) received++;
      },
    });
    await jsm.consumers.add("BIG", {
      name: "fc",
      deliver_subject: inbox2,
      ack_policy: AckPolicy.None,
      idle_heartbeat: 1_000_000_000,
      flow_control: true,
    });
    await sleep(300);
    assert.ok(fcSeen >= 1);
    assert.ok(received < 24, `stalled before the end (got ${received})`);
    answer = true;
    for (const m of pendingFc) m.respond();
    await until(() => received === 24, 5000);
    sub2.unsubscribe();
  });

  it("queue groups share the work", async () => {
    const ds = createInbox();
    const counts = [0, 0];
    const subs = [0, 1].map((i) =>
      env.nc.subscribe(ds, {
        queue: "q",
        callback: (_e, m) => {
          counts[i]++;
          m.respond();
        },
      }),
    );
    await jsm.consumers.add("PS", {
      durable_name: "grp",
      deliver_subject: ds,
      deliver_group: "q",
      ack_policy: AckPolicy.Explicit,
    });
    await until(() => counts[0] + counts[1] === 20);
    for (const s of subs) s.unsubscribe();
  });

  it("official push consumer API: consume() with acks", async () => {
    await jsm.consumers.add("PS", {
      durable_name: "official",
      deliver_subject: createInbox(),
      ack_policy: AckPolicy.Explicit,
      filter_subject: "ps.2",
    });
    const c = await js.consumers.getPushConsumer("PS", "official");
    const msgs = await c.consume();
    const seqs: number[] = [];
    for await (const m of msgs) {
      seqs.push(m.seq);
      m.ack();
      if (m.info.pending === 0) break;
    }
    assert.deepEqual(seqs, [2, 6, 10, 14, 18]);
  });

  it("ordered push consumers", async () => {
    const c = await js.consumers.getPushConsumer("PS", { filter_subjects: ["ps.3"] });
    const msgs = await c.consume();
    const seen: string[] = [];
    for await (const m of msgs) {
      seen.push(m.string());
      if (m.info.pending === 0) break;
    }
    assert.deepEqual(seen, ["v3", "v7", "v11", "v15", "v19"]);
  });

  it("replay original keeps the original spacing", async () => {
    await jsm.streams.add({ name: "RP", subjects: ["rp"] });
    await js.publish("rp", "a");
    await sleep(400);
    await js.publish("rp", "b");
    const inbox = createInbox();
    const times: number[] = [];
    const sub = env.nc.subscribe(inbox, { callback: () => void times.push(Date.now()) });
    await jsm.consumers.add("RP", {
      name: "orig",
      deliver_subject: inbox,
      ack_policy: AckPolicy.None,
      replay_policy: ReplayPolicy.Original,
      deliver_policy: DeliverPolicy.All,
    });
    await until(() => times.length === 2, 3000);
    assert.ok(times[1] - times[0] >= 300, `gap ${times[1] - times[0]} ms`);
    sub.unsubscribe();
  });

  it("a filter equal to the stream's subjects still skips messages kept from subjects it no longer has", async () => {
    await jsm.streams.add({ name: "COV", subjects: ["cov.>", "old.>"] });
    await js.publish("cov.1", "a");
    await js.publish("old.1", "b");
    await jsm.streams.update("COV", { subjects: ["cov.>"] });
    const inbox = createInbox();
    const got: string[] = [];
    const sub = env.nc.subscribe(inbox, { callback: (_e, m) => void got.push(m.subject) });
    await jsm.consumers.add("COV", {
      name: "cov",
      deliver_subject: inbox,
      ack_policy: AckPolicy.None,
      filter_subject: "cov.>",
    });
    await js.publish("cov.2", "c");
    await until(() => got.length === 2, 3000);
    await sleep(100);
    assert.deepEqual(got, ["cov.1", "cov.2"]);
    // Once only covered subjects are left, the same consumer keeps delivering exactly those.
    await jsm.streams.purge("COV", { filter: "old.>" });
    await js.publish("cov.3", "d");
    await until(() => got.length === 3, 3000);
    assert.deepEqual(got, ["cov.1", "cov.2", "cov.3"]);
    const ci = await jsm.consumers.info("COV", "cov");
    assert.equal(ci.num_pending, 0);
    assert.equal(ci.delivered.stream_seq, 4);
    sub.unsubscribe();
    await jsm.streams.delete("COV");
  });
});
