// Consumer state across restarts (file store): a clean restart and a kill -9 in the middle of a consumer's
// work. No acknowledged message comes back, no unacknowledged message is lost, delivery counts continue.

import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { describe, it } from "node:test";
import { AckPolicy, DeliverPolicy, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { removeDir, sleep, startJs, startServerProcess, tempDir } from "../helpers.js";

describe("consumer state across restarts", () => {
  it("a clean restart keeps floors, pending acks and redelivery counts", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir });
      await env.jsm.streams.add({ name: "RS", subjects: ["rs.>"] });
      let js = jetstream(env.nc);
      for (let i = 1; i <= 10; i++) await js.publish("rs.a", `m${i}`);
      await env.jsm.consumers.add("RS", { durable_name: "d", ack_policy: AckPolicy.Explicit, ack_wait: 1e9 });
      await env.jsm.consumers.add("RS", {
        durable_name: "lps",
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.LastPerSubject,
        filter_subject: "rs.>",
      });
      let c = await js.consumers.get("RS", "d");
      const first: JsMsg[] = [];
      for await (const m of await c.fetch({ max_messages: 4, expires: 1000 })) first.push(m);
      first[0].ack();
      first[1].ack();
      first[2].nak(); // seq 3: queued again; seq 4 left pending
      await sleep(100);
      await env.close();

      env = await startJs({ dir });
      js = jetstream(env.nc);
      const ci = await env.jsm.consumers.info("RS", "d");
      assert.deepEqual([ci.ack_floor.stream_seq, ci.delivered.stream_seq], [2, 4]);
      assert.equal(ci.num_ack_pending, 2);
      assert.equal(ci.num_pending, 6);
      const lps = await env.jsm.consumers.info("RS", "lps");
      assert.equal(lps.num_pending, 1);
      c = await js.consumers.get("RS", "d");
      const seen: string[] = [];
      for await (const m of await c.fetch({ max_messages: 8, expires: 2500 })) {
        seen.push(`${m.seq}:${m.info.deliveryCount}`);
        m.ack();
        if (seen.length === 8) break;
      }
      // 3 and 4 come back as redeliveries (after their ack wait), 5..10 are new.
      assert.deepEqual(seen.slice().sort(), ["10:1", "3:2", "4:2", "5:1", "6:1", "7:1", "8:1", "9:1"]);
      await env.close();
    } finally {
      removeDir(dir);
    }
  });

  it("a work queue picks up where it left off", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir });
      await env.jsm.streams.add({ name: "WQR", subjects: ["wqr"], retention: "workqueue" as never });
      let js = jetstream(env.nc);
      for (let i = 1; i <= 10; i++) await js.publish("wqr", `j${i}`);
      await env.jsm.consumers.add("WQR", { durable_name: "w", ack_policy: AckPolicy.Explicit });
      let c = await js.consumers.get("WQR", "w");
      for await (const m of await c.fetch({ max_messages: 4, expires: 1000 })) await m.ackAck();
      await env.close();
      env = await startJs({ dir });
      js = jetstream(env.nc);
      assert.equal((await env.jsm.streams.info("WQR")).state.messages, 6);
      c = await js.consumers.get("WQR", "w");
      const seqs: number[] = [];
      for await (const m of await c.fetch({ max_messages: 10, expires: 1000 })) {
        seqs.push(m.seq);
        await m.ackAck();
      }
      assert.deepEqual(seqs, [5, 6, 7, 8, 9, 10]);
      assert.equal((await env.jsm.streams.info("WQR")).state.messages, 0);
      await env.close();
    } finally {
      removeDir(dir);
    }
  });

  it("kill -9 in the middle of work: no confirmed ack comes back, nothing unacknowledged is lost", async () => {
    const dir = tempDir();
    const TOTAL = 300;
    let child: ChildProcess | undefined;
    try {
      let url: string;
      ({ child, url } = await startServerProcess(dir));
      let nc = await connect({ servers: url });
      let jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "K9", subjects: ["k9"] });
      let js = jetstream(nc);
      for (let i = 1; i <= TOTAL; i++) await js.publish("k9", `m${i}`);
      await jsm.consumers.add("K9", { durable_name: "w", ack_policy: AckPolicy.Explicit, ack_wait: 1e9 });
      const confirmed = new Set<number>();
      const c = await js.consumers.get("K9", "w");
      // Work through part of the stream: every other message acked (with confirmation), the rest left.
      let n = 0;
      for await (const m of await c.fetch({ max_messages: 150, expires: 3000 })) {
        n++;
        if (m.seq % 2 === 0 && (await m.ackAck())) confirmed.add(m.seq);
        if (n === 150) break;
      }
      assert.ok(confirmed.size >= 70);
      child.kill("SIGKILL");
      await new Promise((r) => child?.once("exit", r));
      await nc.close().catch(() => {});

      ({ child, url } = await startServerProcess(dir));
      nc = await connect({ servers: url });
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      const ci = await jsm.consumers.info("K9", "w");
      assert.ok(ci.num_ack_pending <= 150 - confirmed.size);
      const c2 = await js.consumers.get("K9", "w");
      const got = new Map<number, number>();
      const deadline = Date.now() + 15_000;
      while (got.size < TOTAL - confirmed.size && Date.now() < deadline) {
        for await (const m of await c2.fetch({ max_messages: 100, expires: 1500 })) {
          assert.ok(!confirmed.has(m.seq), `acked seq ${m.seq} delivered again`);
          got.set(m.seq, m.info.deliveryCount);
          await m.ackAck();
        }
      }
      for (let s = 1; s <= TOTAL; s++) {
        if (!confirmed.has(s)) assert.ok(got.has(s), `unacknowledged seq ${s} lost`);
      }
      // Those delivered before the crash come back marked as redeliveries.
      for (let s = 1; s <= 149; s += 2) assert.ok((got.get(s) ?? 0) >= 2, `seq ${s} count ${got.get(s)}`);
      await nc.close();
    } finally {
      child?.kill("SIGKILL");
      removeDir(dir);
    }
  });
});
