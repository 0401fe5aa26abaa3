// Persistence: an embedded server restarted on the same store dir has its file streams, messages, config
// and dedupe window back, with sequences continuing; memory streams are gone like nats-server's. A server
// process killed with SIGKILL loses no acknowledged message.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { api, pub, type Reply, removeDir, sleep, startJs, startServerProcess, tempDir } from "./helpers.js";

describe("restart on the same store directory", () => {
  it("brings back file streams, messages, config and dedupe ids; sequences continue", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir });
      await env.jsm.streams.add({
        name: "KEEP",
        subjects: ["keep.*"],
        max_msgs_per_subject: 3,
        description: "survives",
        metadata: { a: "b" },
      });
      await env.jsm.streams.add({ name: "VOLATILE", subjects: ["vol"], storage: StorageType.Memory });
      let js = env.jsm.jetstream();
      for (let i = 0; i < 10; i++) await js.publish(`keep.${i % 2}`, String(i), { msgID: `id-${i}` });
      await js.publish("vol");
      await env.jsm.streams.deleteMessage("KEEP", 9);
      const before = await env.jsm.streams.info("KEEP");
      await env.close();

      env = await startJs({ dir });
      const after = await env.jsm.streams.info("KEEP");
      assert.deepEqual(after.config, before.config);
      assert.equal(after.created, before.created);
      assert.deepEqual(after.state, { ...before.state, consumer_count: 0 });
      await assert.rejects(env.jsm.streams.info("VOLATILE"), /stream not found/);
      js = env.jsm.jetstream();
      // The dedupe window survived: a retried publish is still a duplicate.
      const dup = await js.publish("keep.1", "9", { msgID: "id-9" });
      assert.equal(dup.duplicate, true);
      const next = await js.publish("keep.0", "new");
      assert.equal(next.seq, 11);
      // Last msg id is restored too.
      const r = await pub(env.nc, "keep.0", "x", { "Nats-Expected-Last-Msg-Id": "id-9" });
      assert.equal(r.error?.err_code, 10070);
      await env.close();
    } finally {
      removeDir(dir);
    }
  });

  it("reports a stream whose definition is damaged, and keeps serving the others", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir, extra: { http_port: -1 } });
      await env.jsm.streams.add({ name: "GOOD", subjects: ["good"] });
      await env.jsm.streams.add({ name: "BAD", subjects: ["bad"] });
      await env.close();
      const meta = join(dir, "jetstream", "$G", "streams", "BAD", "meta.inf");
      writeFileSync(meta, readFileSync(meta, "utf8").slice(0, 20));
      env = await startJs({ dir, extra: { http_port: -1 } });
      await env.jsm.streams.info("GOOD");
      await assert.rejects(env.jsm.streams.info("BAD"), /stream not found/);
      const monitor = env.srv.server.listenerUrls().monitoring?.[0];
      assert.ok(monitor);
      const health = await fetch(`${monitor}/healthz`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { error: string };
      assert.match(body.error, /BAD/);
      const jsz = (await (await fetch(`${monitor}/jsz`)).json()) as { store_problems?: { stream: string }[] };
      assert.equal(jsz.store_problems?.[0]?.stream, "BAD");
      await env.close();
    } finally {
      removeDir(dir);
    }
  });
});

describe("damaged message data", () => {
  it("loads the stream, serves the intact messages and lists the damage in /jsz", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir, extra: { http_port: -1 } });
      await env.jsm.streams.add({ name: "ROT", subjects: ["rot"] });
      const js = env.jsm.jetstream();
      for (let i = 0; i < 20; i++) await js.publish("rot", `message number ${i} `.repeat(4));
      await env.close();
      const msgs = join(dir, "jetstream", "$G", "streams", "ROT", "msgs");
      const block = readdirSync(msgs).find((f) => f.endsWith(".blk"));
      assert.ok(block);
      const buf = readFileSync(join(msgs, block));
      for (let i = Math.floor(buf.length / 2); i < Math.floor(buf.length / 2) + 8; i++) buf[i] ^= 0xff;
      writeFileSync(join(msgs, block), buf);

      env = await startJs({ dir, extra: { http_port: -1 } });
      const si = await env.jsm.streams.info("ROT");
      assert.ok(si.state.messages >= 18 && si.state.messages < 20, `messages ${si.state.messages}`);
      assert.equal(
        (await env.jsm.streams.getMessage("ROT", { seq: 1 }))?.string(),
        "message number 0 ".repeat(4),
      );
      const monitor = env.srv.server.listenerUrls().monitoring?.[0];
      const jsz = (await (await fetch(`${monitor}/jsz?accounts=true&streams=true`)).json()) as Reply;
      assert.equal(jsz.store_problems?.[0]?.stream, "ROT");
      assert.ok(jsz.account_details[0].stream_detail[0].store_problems.length > 0);
      assert.equal((await fetch(`${monitor}/healthz`)).status, 200);
      await env.close();
    } finally {
      removeDir(dir);
    }
  });
});

describe("kill -9", () => {
  it("every acknowledged message survives and sequences continue", async () => {
    const dir = tempDir();
    try {
      let { child, url } = await startServerProcess(dir);
      let nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "CRASH", subjects: ["crash.>"] });
      const js = jetstream(nc);
      const acked = new Map<number, string>();
      let stop = false;
      const worker = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const payload = `w${w}-${i}`;
          try {
            const pa = await js.publish(`crash.${w}`, payload, { timeout: 2000 });
            acked.set(pa.seq, payload);
          } catch {
            return;
          }
        }
      };
      const workers = [0, 1, 2, 3, 4, 5, 6, 7].map(worker);
      while (acked.size < 2000) await sleep(5);
      child.kill("SIGKILL");
      stop = true;
      await Promise.all(workers);
      await nc.close().catch(() => {});

      ({ child, url } = await startServerProcess(dir));
      nc = await connect({ servers: url });
      const jsm2 = await jetstreamManager(nc);
      const si = await jsm2.streams.info("CRASH");
      const maxAcked = Math.max(...acked.keys());
      assert.ok(si.state.last_seq >= maxAcked, `last_seq ${si.state.last_seq} < acked ${maxAcked}`);
      let checked = 0;
      for (const [seq, payload] of acked) {
        if (seq % 7 !== 0 && seq !== maxAcked) continue; // a sample, plus the newest
        const m = await jsm2.streams.getMessage("CRASH", { seq });
        assert.equal(m?.string(), payload, `seq ${seq}`);
        checked++;
      }
      assert.ok(checked > 100);
      // Every acked sequence is there: count them against the stream's sequences.
      const raw = await api(nc, "$JS.API.STREAM.INFO.CRASH", { deleted_details: true });
      const deleted = new Set<number>(raw.state.deleted ?? []);
      for (const seq of acked.keys())
        assert.ok(!deleted.has(seq) && seq >= raw.state.first_seq, `seq ${seq} lost`);
      const pa = await jetstream(nc).publish("crash.after", "x");
      assert.equal(pa.seq, si.state.last_seq + 1);
      await nc.close();
      child.kill("SIGKILL");
    } finally {
      removeDir(dir);
    }
  });
});
