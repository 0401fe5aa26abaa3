// The v2 `nats` client's JetStream API against Lattice: push subscriptions (durable, queue, ordered),
// pull subscriptions, fetch, and its KV view.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AckPolicy, connect, consumerOpts, createInbox, type NatsConnection, StringCodec } from "nats";
import type { RunningServer } from "../../../src/index.js";
import { startLattice } from "../../helpers/servers.js";
import { removeDir, sleep, tempDir } from "../helpers.js";

const sc = StringCodec();

describe("v2 client", () => {
  let srv: RunningServer;
  let nc: NatsConnection;
  let dir: string;

  before(async () => {
    dir = tempDir();
    srv = await startLattice({ jetstream: { store_dir: dir } });
    nc = await connect({ servers: srv.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "V2", subjects: ["v2.>"] });
    const js = nc.jetstream();
    for (let i = 1; i <= 6; i++) await js.publish(`v2.${i % 2 === 0 ? "even" : "odd"}`, sc.encode(`m${i}`));
  });
  after(async () => {
    await nc.close();
    await srv.close();
    removeDir(dir);
  });

  it("push subscription with a durable and manual acks", async () => {
    const js = nc.jetstream();
    const opts = consumerOpts();
    opts.durable("push2");
    opts.deliverTo(createInbox());
    opts.manualAck();
    opts.ackExplicit();
    opts.filterSubject("v2.odd");
    const sub = await js.subscribe("v2.odd", opts);
    const got: string[] = [];
    for await (const m of sub) {
      got.push(sc.decode(m.data));
      m.ack();
      if (m.info.pending === 0) break;
    }
    assert.deepEqual(got, ["m1", "m3", "m5"]);
  });

  it("pull subscription and fetch", async () => {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add("V2", { durable_name: "pull2", ack_policy: AckPolicy.Explicit });
    const batch = js.fetch("V2", "pull2", { batch: 4, expires: 1000 });
    const seqs: number[] = [];
    for await (const m of batch) {
      seqs.push(m.seq);
      m.ack();
    }
    assert.deepEqual(seqs, [1, 2, 3, 4]);
    const psub = await js.pullSubscribe("v2.>", { config: { durable_name: "pull2" } });
    const more: number[] = [];
    const done = (async () => {
      for await (const m of psub) {
        more.push(m.seq);
        m.ack();
        if (more.length === 2) break;
      }
    })();
    psub.pull({ batch: 2, expires: 1000 });
    await done;
    assert.deepEqual(more, [5, 6]);
  });

  it("ordered consumer", async () => {
    const js = nc.jetstream();
    const opts = consumerOpts();
    opts.orderedConsumer();
    const sub = await js.subscribe("v2.even", opts);
    const got: string[] = [];
    for await (const m of sub) {
      got.push(sc.decode(m.data));
      if (m.info.pending === 0) break;
    }
    assert.deepEqual(got, ["m2", "m4", "m6"]);
  });

  it("KV view: put, get, watch", async () => {
    const js = nc.jetstream();
    const kv = await js.views.kv("v2kv");
    await kv.put("a", sc.encode("1"));
    await kv.put("b", sc.encode("2"));
    assert.equal(sc.decode((await kv.get("a"))!.value), "1");
    const w = await kv.watch();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(`${e.key}=${sc.decode(e.value)}`);
        if (seen.length === 3) break;
      }
    })();
    await sleep(50);
    await kv.put("c", sc.encode("3"));
    await done;
    assert.deepEqual(seen, ["a=1", "b=2", "c=3"]);
  });
});
