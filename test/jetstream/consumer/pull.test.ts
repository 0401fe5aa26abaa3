// Pull consumers through the official v3 client (fetch / next / consume) and raw MSG.NEXT requests for the
// status messages: 404 / 408 / 409 / 100 with their exact descriptions and Nats-Pending-* headers, ack
// subjects with exact delivered / pending counts, and the ack kinds (+ACK, -NAK [delay], +WPI, +TERM,
// +NXT, double ack).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AckPolicy, type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import { createInbox, type Msg } from "@nats-io/transport-node";
import { type JsEnv, removeDir, sleep, startJs } from "../helpers.js";

const te = new TextEncoder();

/** Send a raw pull request and collect what arrives on the inbox within `ms`. */
async function rawPull(
  env: JsEnv,
  consumer: string,
  body: unknown,
  ms: number,
  stream = "P",
): Promise<Msg[]> {
  const inbox = createInbox();
  const got: Msg[] = [];
  const sub = env.nc.subscribe(inbox, {
    callback: (_e, m) => {
      got.push(m);
    },
  });
  env.nc.publish(
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    typeof body === "string" ? te.encode(body) : te.encode(JSON.stringify(body)),
    { reply: inbox },
  );
  await sleep(ms);
  sub.unsubscribe();
  return got;
}

function status(m: Msg): string {
  return `${m.headers?.code ?? 0} ${m.headers?.description ?? ""}`.trim();
}

describe("pull consumers", () => {
  let env: JsEnv;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    env = await startJs();
    jsm = env.jsm;
    js = jetstream(env.nc);
    await jsm.streams.add({ name: "P", subjects: ["p.>"] });
    for (let i = 1; i <= 10; i++) await js.publish(`p.${i}`, `m${i}`);
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("fetches batches with exact ack subjects and pending counts", async () => {
    await jsm.consumers.add("P", { durable_name: "f", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("P", "f");
    const iter = await c.fetch({ max_messages: 4, expires: 2000 });
    const seen: string[] = [];
    for await (const m of iter) {
      seen.push(
        `${m.subject} ${m.string()} ${m.info.deliverySequence}/${m.info.streamSequence} p=${m.info.pending}`,
      );
      assert.equal(m.info.deliveryCount, 1);
      assert.equal(m.info.stream, "P");
      assert.equal(m.info.consumer, "f");
      m.ack();
    }
    assert.deepEqual(seen, ["p.1 m1 1/1 p=9", "p.2 m2 2/2 p=8", "p.3 m3 3/3 p=7", "p.4 m4 4/4 p=6"]);
    await sleep(50);
    const ci = await c.info();
    assert.equal(ci.num_pending, 6);
    assert.equal(ci.num_ack_pending, 0);
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq], [4, 4]);
    assert.deepEqual([ci.delivered.consumer_seq, ci.delivered.stream_seq], [4, 4]);
    // next() and a double ack
    const m = await c.next();
    assert.equal(m?.seq, 5);
    assert.equal(await m?.ackAck(), true);
  });

  it("answers no_wait with 404 No Messages and expiry with 408 Request Timeout + pending headers", async () => {
    await jsm.consumers.add("P", {
      durable_name: "s",
      ack_policy: AckPolicy.Explicit,
      deliver_policy: "new" as never,
    });
    const a = await rawPull(env, "s", { batch: 3, no_wait: true }, 200);
    assert.deepEqual(a.map(status), ["404 No Messages"]);
    const b = await rawPull(env, "s", { batch: 3, expires: 300_000_000 }, 600);
    assert.deepEqual(b.map(status), ["408 Request Timeout"]);
    assert.equal(b[0].headers?.get("Nats-Pending-Messages"), "3");
    assert.equal(b[0].headers?.get("Nats-Pending-Bytes"), "0");
    const c = await rawPull(env, "s", { batch: 1, expires: 1_000_000_000, idle_heartbeat: 200_000_000 }, 500);
    assert.ok(c.length >= 1 && status(c[0]) === "100 Idle Heartbeat", c.map(status).join());
    assert.equal(c[0].headers?.get("Nats-Last-Consumer"), "0");
    const d = await rawPull(env, "s", { batch: 1, expires: 100_000_000, idle_heartbeat: 100_000_000 }, 200);
    assert.deepEqual(d.map(status), ["400 Bad Request - heartbeat value too large"]);
  });

  it("enforces request limits with 409s", async () => {
    await jsm.consumers.add("P", {
      durable_name: "lim",
      ack_policy: AckPolicy.Explicit,
      max_batch: 2,
      max_expires: 1_000_000_000,
      max_bytes: 100,
      max_waiting: 1,
    });
    assert.deepEqual((await rawPull(env, "lim", { batch: 5 }, 100)).map(status), [
      "409 Exceeded MaxRequestBatch of 2",
    ]);
    assert.deepEqual((await rawPull(env, "lim", { batch: 1, expires: 5_000_000_000 }, 100)).map(status), [
      "409 Exceeded MaxRequestExpires of 1s",
    ]);
    assert.deepEqual((await rawPull(env, "lim", { batch: 1, max_bytes: 1000 }, 100)).map(status), [
      "409 Exceeded MaxRequestMaxBytes of 100",
    ]);
    // A message larger than the request's max_bytes ends it.
    const big = await rawPull(env, "lim", { batch: 1, max_bytes: 10 }, 100);
    assert.deepEqual(big.map(status), ["409 Message Size Exceeds MaxBytes"]);
    assert.equal(big[0].headers?.get("Nats-Pending-Bytes"), "10");
  });

  it("a push consumer refuses pulls; a missing consumer gets no responders", async () => {
    await jsm.consumers.add("P", { durable_name: "push", deliver_subject: "push.here" });
    assert.deepEqual((await rawPull(env, "push", { batch: 1 }, 100)).map(status), [
      "409 Consumer is push based",
    ]);
    assert.deepEqual((await rawPull(env, "missing", { batch: 1 }, 100)).map(status), ["503"]);
  });

  it("max_waiting: extra requests get 409 Exceeded MaxWaiting", async () => {
    await jsm.consumers.add("P", {
      durable_name: "mw",
      ack_policy: AckPolicy.Explicit,
      max_waiting: 1,
      deliver_policy: "new" as never,
    });
    const inbox = createInbox();
    const got: Msg[] = [];
    const sub = env.nc.subscribe(`${inbox}.*`, {
      callback: (_e, m) => {
        got.push(m);
      },
    });
    const req = te.encode(JSON.stringify({ batch: 1, expires: 1_000_000_000 }));
    env.nc.publish("$JS.API.CONSUMER.MSG.NEXT.P.mw", req, { reply: `${inbox}.1` });
    env.nc.publish("$JS.API.CONSUMER.MSG.NEXT.P.mw", req, { reply: `${inbox}.2` });
    await sleep(200);
    assert.deepEqual(
      got.map((m) => `${m.subject.slice(-1)} ${status(m)}`),
      ["2 409 Exceeded MaxWaiting"],
    );
    const ci = await jsm.consumers.info("P", "mw");
    assert.equal(ci.num_waiting, 1);
    sub.unsubscribe();
  });

  it("naks (now and with delay), in-progress, term and +NXT", async () => {
    await jsm.consumers.add("P", {
      durable_name: "k",
      ack_policy: AckPolicy.Explicit,
      ack_wait: 5_000_000_000,
      filter_subjects: ["p.1", "p.2", "p.3"],
    });
    const c = await js.consumers.get("P", "k");
    const m1 = await c.next();
    assert.equal(m1?.seq, 1);
    m1!.nak();
    const again = await c.next();
    assert.equal(again?.seq, 1);
    assert.equal(again?.redelivered, true);
    assert.equal(again?.info.deliveryCount, 2);
    again!.nak(300);
    const m2 = await c.next();
    assert.equal(m2?.seq, 2, "the delayed one waits");
    m2!.working();
    m2!.term("no good");
    const m3 = await c.next();
    assert.equal(m3?.seq, 3);
    m3!.ack();
    const late = await c.next({ expires: 2000 });
    assert.equal(late?.seq, 1, "the delayed redelivery comes once its delay is over");
    assert.equal(late?.info.deliveryCount, 3);
    late!.ack();
    const info = await c.info();
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_redelivered, 0);
    // +NXT: ack this one and ask for the next on the same inbox.
    await jsm.consumers.add("P", { durable_name: "nxt", ack_policy: AckPolicy.Explicit });
    const inbox = createInbox();
    const got: Msg[] = [];
    env.nc.subscribe(inbox, {
      callback: (_e, m) => {
        got.push(m);
      },
      max: 2,
    });
    env.nc.publish("$JS.API.CONSUMER.MSG.NEXT.P.nxt", te.encode("1"), { reply: inbox });
    await sleep(100);
    assert.equal(got.length, 1);
    env.nc.publish(got[0].reply!, te.encode("+NXT 1"), { reply: inbox });
    await sleep(100);
    assert.equal(got.length, 2);
    assert.notEqual(got[0].reply, got[1].reply);
  });

  it("max_ack_pending holds deliveries until acks come back", async () => {
    await jsm.consumers.add("P", { durable_name: "map", ack_policy: AckPolicy.Explicit, max_ack_pending: 2 });
    const c = await js.consumers.get("P", "map");
    const take = async () => {
      const got = [];
      for await (const m of await c.fetch({ max_messages: 5, expires: 1000 })) got.push(m);
      return got;
    };
    const first = await take();
    assert.deepEqual(
      first.map((m) => m.seq),
      [1, 2],
    );
    assert.equal((await take()).length, 0, "nothing while two acks are outstanding");
    for (const m of first) m.ack();
    const next = await take();
    assert.deepEqual(
      next.map((m) => m.seq),
      [3, 4],
    );
  });

  it("consume() keeps pulling as messages arrive", async () => {
    await jsm.consumers.add("P", { durable_name: "cons", ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get("P", "cons");
    const msgs = await c.consume({ max_messages: 3 });
    const seen: number[] = [];
    const done = (async () => {
      for await (const m of msgs) {
        seen.push(m.seq);
        m.ack();
        if (m.seq === 12) break;
      }
    })();
    await sleep(100);
    await js.publish("p.11", "m11");
    await js.publish("p.12", "m12");
    await done;
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("ordered pull consumers read everything in order", async () => {
    const c = await js.consumers.get("P", { filter_subjects: ["p.1", "p.2", "p.3"] });
    const iter = await c.fetch({ max_messages: 10, expires: 1000 });
    const seen: string[] = [];
    for await (const m of iter) seen.push(m.subject);
    assert.deepEqual(seen, ["p.1", "p.2", "p.3"]);
  });
});
