// Mirrors and sources between streams of one server: copying, filters and subject transforms, late
// origins, info fields, and resuming after a restart without gaps or duplicates.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type JetStreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { api, type JsEnv, rawRequest, removeDir, startJs, tempDir, until } from "./helpers.js";

async function count(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

describe("mirrors and sources", () => {
  let env: JsEnv;
  before(async () => {
    env = await startJs();
    await env.jsm.streams.add({ name: "ORIGIN", subjects: ["orig.>"], allow_direct: true });
    const js = env.jsm.jetstream();
    for (let i = 1; i <= 6; i++) await js.publish(`orig.${i % 2 === 0 ? "even" : "odd"}.${i}`, String(i));
  });
  after(async () => {
    await env.close();
  });

  it("a mirror copies every message with the origin's sequences and follows new ones", async () => {
    const si = await env.jsm.streams.add({ name: "MIR", mirror: { name: "ORIGIN" } });
    assert.equal(si.config.subjects, undefined);
    assert.equal(si.config.duplicate_window, undefined);
    await until(async () => (await count(env.jsm, "MIR")) === 6);
    await env.jsm.jetstream().publish("orig.odd.7", "7");
    await until(async () => (await count(env.jsm, "MIR")) === 7);
    const m = await env.jsm.streams.getMessage("MIR", { seq: 7 });
    assert.equal(m?.subject, "orig.odd.7");
    assert.equal(m?.header.get("Nats-Stream-Source"), "");
    const info = await env.jsm.streams.info("MIR");
    assert.equal(info.mirror?.name, "ORIGIN");
    assert.equal(info.mirror?.lag, 0);
    assert.ok((info.mirror?.active ?? -1) >= 0);
  });

  it("a mirror can start at a sequence, filter and transform subjects, and answer direct gets", async () => {
    await env.jsm.streams.add({ name: "MIR2", mirror: { name: "ORIGIN", opt_start_seq: 3 } });
    await until(async () => (await count(env.jsm, "MIR2")) === 5);
    assert.equal((await env.jsm.streams.info("MIR2")).state.first_seq, 3);

    const si = await env.jsm.streams.add({
      name: "MIR3",
      mirror: { name: "ORIGIN", subject_transforms: [{ src: "orig.even.*", dest: "copy.even.$1" }] },
      allow_direct: true,
      mirror_direct: true,
    });
    assert.deepEqual(si.config.mirror?.subject_transforms, [{ src: "orig.even.*", dest: "copy.even.$1" }]);
    assert.equal(si.config.mirror_direct, true);
    await until(async () => (await count(env.jsm, "MIR3")) === 3);
    const m = await env.jsm.streams.getMessage("MIR3", { last_by_subj: "copy.even.6" });
    assert.equal(m?.seq, 6);
    const d = await rawRequest(env.nc, "$JS.API.DIRECT.GET.MIR3", JSON.stringify({ seq: 4 }));
    assert.equal(d.headers?.get("Nats-Subject"), "copy.even.4");
  });

  it("sources merge filtered, transformed origins and tag each message", async () => {
    await env.jsm.streams.add({ name: "OTHER", subjects: ["other.*"] });
    await env.jsm.jetstream().publish("other.x", "x");
    const si = await env.jsm.streams.add({
      name: "AGG",
      subjects: ["agg.local"],
      sources: [
        { name: "ORIGIN", filter_subject: "orig.even.*" },
        { name: "OTHER", subject_transforms: [{ src: "other.*", dest: "agg.other.$1" }] },
      ],
    });
    assert.equal(si.config.sources?.length, 2);
    await until(async () => (await count(env.jsm, "AGG")) === 4);
    await env.jsm.jetstream().publish("agg.local", "own");
    const m = await env.jsm.streams.getMessage("AGG", { last_by_subj: "agg.other.x" });
    assert.match(m?.header.get("Nats-Stream-Source") ?? "", /^OTHER:\w+ 1$/);
    const e = await env.jsm.streams.getMessage("AGG", { last_by_subj: "orig.even.2" });
    assert.match(e?.header.get("Nats-Stream-Source") ?? "", / 2$/);
    const info = await env.jsm.streams.info("AGG");
    assert.deepEqual(
      info.sources?.map((s) => [s.name, s.lag]),
      [
        ["ORIGIN", 0],
        ["OTHER", 0],
      ],
    );
  });

  it("a source whose origin does not exist yet reports it, then catches up", async () => {
    await env.jsm.streams.add({ name: "WAITS", sources: [{ name: "LATE" }] });
    let info = await api(env.nc, "$JS.API.STREAM.INFO.WAITS");
    assert.deepEqual(info.sources[0].error, { code: 404, err_code: 10059, description: "stream not found" });
    assert.equal(info.sources[0].active, -1);
    await env.jsm.streams.add({ name: "LATE", subjects: ["late"] });
    await env.jsm.jetstream().publish("late", "hi");
    await until(async () => (await count(env.jsm, "WAITS")) === 1);
    info = await api(env.nc, "$JS.API.STREAM.INFO.WAITS");
    assert.equal(info.sources[0].error, undefined);
  });

  it("refuses cycles, mirrors with subjects and mirrors with sources", async () => {
    const r1 = await api(env.nc, "$JS.API.STREAM.CREATE.SELF", { name: "SELF", sources: [{ name: "SELF" }] });
    assert.deepEqual(r1.error, { code: 500, err_code: 10052, description: "detected cycle" });
    await env.jsm.streams.add({ name: "CA", sources: [{ name: "CB" }] });
    const r2 = await api(env.nc, "$JS.API.STREAM.CREATE.CB", { name: "CB", sources: [{ name: "CA" }] });
    assert.equal(r2.error?.description, "detected cycle");
    const r3 = await api(env.nc, "$JS.API.STREAM.CREATE.MS", {
      name: "MS",
      mirror: { name: "ORIGIN" },
      subjects: ["x"],
    });
    assert.equal(r3.error?.err_code, 10034);
    const r4 = await api(env.nc, "$JS.API.STREAM.CREATE.MS", {
      name: "MS",
      mirror: { name: "ORIGIN" },
      sources: [{ name: "OTHER" }],
    });
    assert.equal(r4.error?.err_code, 10031);
  });

  it("accepts wadm's event-consumer layout (workqueue fed by transformed sources)", async () => {
    const age = 70_000_000_000;
    await env.jsm.streams.add({ name: "wasmbus_events", subjects: ["wasmbus.evt.*.>"], max_age: age });
    await env.jsm.streams.add({ name: "wadm_events", subjects: ["wadm.evt.*.>"], max_age: age });
    await env.jsm.streams.add({
      name: "wadm_event_consumer",
      retention: RetentionPolicy.Workqueue,
      max_age: age,
      sources: [
        {
          name: "wasmbus_events",
          subject_transforms: [{ src: "wasmbus.evt.*.>", dest: "wadm_event_consumer.evt.{{wildcard(1)}}.>" }],
        },
        {
          name: "wadm_events",
          subject_transforms: [{ src: "wadm.evt.*.>", dest: "wadm_event_consumer.evt.{{wildcard(1)}}.>" }],
        },
      ],
    });
    const js = env.jsm.jetstream();
    await js.publish("wasmbus.evt.default.host_started", "{}");
    await js.publish("wadm.evt.default.manifest_published", "{}");
    await until(async () => (await count(env.jsm, "wadm_event_consumer")) === 2);
    const si = await env.jsm.streams.info("wadm_event_consumer", { subjects_filter: ">" });
    assert.deepEqual(Object.keys(si.state.subjects ?? {}).sort(), [
      "wadm_event_consumer.evt.default.host_started",
      "wadm_event_consumer.evt.default.manifest_published",
    ]);
  });

  it("mirrors outlive their origin", async () => {
    await env.jsm.streams.add({ name: "TMP", subjects: ["tmp"] });
    await env.jsm.jetstream().publish("tmp");
    await env.jsm.streams.add({ name: "TMPM", mirror: { name: "TMP" } });
    await until(async () => (await count(env.jsm, "TMPM")) === 1);
    await env.jsm.streams.delete("TMP");
    assert.equal(await count(env.jsm, "TMPM"), 1);
  });
});

describe("sources across a restart", () => {
  it("resume exactly where they stopped", async () => {
    const dir = tempDir();
    try {
      let env = await startJs({ dir });
      await env.jsm.streams.add({ name: "SRC", subjects: ["src.*"] });
      await env.jsm.streams.add({
        name: "SINK",
        sources: [{ name: "SRC" }, { name: "SRC", filter_subject: "src.b" }],
      });
      await env.jsm.streams.add({ name: "MIRROR", mirror: { name: "SRC" }, storage: StorageType.File });
      let js = env.jsm.jetstream();
      for (let i = 0; i < 20; i++) await js.publish(i % 2 ? "src.a" : "src.b", String(i));
      await until(
        async () => (await count(env.jsm, "SINK")) === 30 && (await count(env.jsm, "MIRROR")) === 20,
      );
      await env.close();

      env = await startJs({ dir });
      js = env.jsm.jetstream();
      for (let i = 20; i < 30; i++) await js.publish(i % 2 ? "src.a" : "src.b", String(i));
      await until(
        async () => (await count(env.jsm, "SINK")) === 45 && (await count(env.jsm, "MIRROR")) === 30,
      );
      // Every origin message exactly once per source: nothing repeated, nothing missing.
      const seen = new Map<string, number>();
      for (let s = 1; s <= 45; s++) {
        const m = await env.jsm.streams.getMessage("SINK", { seq: s });
        const tag = m?.header.get("Nats-Stream-Source") ?? "";
        seen.set(tag, (seen.get(tag) ?? 0) + 1);
      }
      assert.equal(seen.size, 45);
      const mi = await env.jsm.streams.info("MIRROR");
      assert.equal(mi.state.last_seq, 30);
      await env.close();
    } finally {
      removeDir(dir);
    }
  });
});
