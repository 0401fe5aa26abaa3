// Stream CRUD through the official v3 client: every config field round-trips, defaults and omissions match
// nats-server, create is idempotent, update rules hold, lists page and filter.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamUpdateConfig,
} from "@nats-io/jetstream";
import { api, errCode, type JsEnv, startJs } from "./helpers.js";

const SEC = 1_000_000_000;

/** Some update fields (sealed...) are not in the client's update type. */
const upd = (o: Record<string, unknown>) => o as Partial<StreamUpdateConfig>;

describe("stream create / info / update / delete", () => {
  let env: JsEnv;
  before(async () => {
    env = await startJs();
  });
  after(async () => {
    await env.close();
  });

  it("$JS.API.INFO reports limits, usage and api counters", async () => {
    const ai = await env.jsm.getAccountInfo();
    assert.equal(ai.limits.max_memory, -1);
    assert.equal(ai.limits.max_streams, -1);
    assert.equal(ai.streams, 0);
    assert.equal(typeof ai.api.total, "number");
    const raw = await api(env.nc, "$JS.API.INFO");
    assert.equal(raw.type, "io.nats.jetstream.api.v1.account_info_response");
  });

  it("applies nats-server defaults and omits zero fields", async () => {
    const r = await api(env.nc, "$JS.API.STREAM.CREATE.DEF", { name: "DEF" });
    assert.equal(r.type, "io.nats.jetstream.api.v1.stream_create_response");
    assert.equal(r.did_create, true);
    assert.deepEqual(r.config, {
      name: "DEF",
      subjects: ["DEF"],
      retention: "limits",
      max_consumers: -1,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msgs_per_subject: -1,
      max_msg_size: -1,
      discard: "old",
      storage: "file",
      num_replicas: 1,
      duplicate_window: 120 * SEC,
      compression: "none",
      allow_direct: false,
      mirror_direct: false,
      sealed: false,
      deny_delete: false,
      deny_purge: false,
      allow_rollup_hdrs: false,
      consumer_limits: {},
      allow_msg_ttl: false,
    });
    assert.deepEqual(Object.keys(r.state), [
      "messages",
      "bytes",
      "first_seq",
      "first_ts",
      "last_seq",
      "last_ts",
      "consumer_count",
    ]);
    assert.equal(r.state.first_ts, "0001-01-01T00:00:00Z");
    assert.match(r.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it("round-trips every config field", async () => {
    const cfg: Partial<StreamConfig> & { name: string } = {
      name: "ALL",
      description: "every field",
      subjects: ["all.>", "every.*"],
      retention: RetentionPolicy.Limits,
      max_consumers: 10,
      max_msgs: 1000,
      max_bytes: 1024 * 1024,
      max_age: 3600 * SEC,
      max_msgs_per_subject: 5,
      max_msg_size: 4096,
      discard: DiscardPolicy.New,
      discard_new_per_subject: true,
      storage: StorageType.Memory,
      num_replicas: 1,
      no_ack: false,
      duplicate_window: 30 * SEC,
      placement: { cluster: "c1", tags: ["a", "b"] },
      allow_direct: true,
      allow_rollup_hdrs: true,
      deny_delete: true,
      deny_purge: false,
      republish: { src: "all.>", dest: "repub.all.>", headers_only: true },
      subject_transform: { src: "every.*", dest: "every.$1.x" },
      first_seq: 100,
      metadata: { owner: "tests", team: "js" },
      compression: "s2" as StreamConfig["compression"],
      consumer_limits: { inactive_threshold: 5 * SEC, max_ack_pending: 100 },
      allow_msg_ttl: true,
      subject_delete_marker_ttl: 60 * SEC,
    };
    const si = await env.jsm.streams.add(cfg);
    for (const [k, v] of Object.entries(cfg)) {
      if (k === "no_ack") continue;
      assert.deepEqual((si.config as unknown as Record<string, unknown>)[k], v, `field ${k}`);
    }
    const info = await env.jsm.streams.info("ALL");
    assert.deepEqual(info.config, si.config);
    assert.equal(info.state.first_seq, 100);
    assert.equal(info.state.last_seq, 99);
    // Identical create is idempotent (no did_create), a different one is refused.
    const again = await api(env.nc, "$JS.API.STREAM.CREATE.ALL", si.config);
    assert.equal(again.error, undefined);
    assert.equal(again.did_create, undefined);
    await assert.rejects(env.jsm.streams.add({ ...cfg, max_msgs: 1 }), (e) => errCode(e) === 10058);
  });

  it("update changes limits and subjects and keeps the rest", async () => {
    await env.jsm.streams.add({ name: "UPD", subjects: ["upd.a"] });
    const si = await env.jsm.streams.update("UPD", {
      subjects: ["upd.a", "upd.b"],
      max_msgs: 5,
      description: "d",
    });
    assert.deepEqual(si.config.subjects, ["upd.a", "upd.b"]);
    assert.equal(si.config.max_msgs, 5);
    assert.equal(si.config.description, "d");
    const js = env.jsm.jetstream();
    const pa = await js.publish("upd.b", "x");
    assert.equal(pa.stream, "UPD");
  });

  it("update refuses what nats-server refuses, with its texts", async () => {
    await env.jsm.streams.add({
      name: "RULES",
      subjects: ["rules"],
      deny_delete: true,
      storage: StorageType.File,
    });
    const cases: [Record<string, unknown>, number, string][] = [
      [{ storage: StorageType.Memory }, 10052, "stream configuration update can not change storage type"],
      [{ deny_delete: false }, 10052, "stream configuration update can not cancel deny message deletes"],
      [
        { retention: RetentionPolicy.Workqueue },
        10052,
        "stream configuration update can not change retention policy to/from workqueue",
      ],
      [{ subjects: ["upd.a"] }, 10065, "subjects overlap with an existing stream"],
      [{ mirror: { name: "UPD" } }, 10034, "stream mirrors can not contain subjects"],
      [{ mirror: { name: "UPD" }, subjects: [] }, 10055, "stream mirror configuration can not be updated"],
      [{ num_replicas: 3 }, 10074, "replicas > 1 not supported in non-clustered mode"],
    ];
    for (const [change, code, text] of cases) {
      await assert.rejects(env.jsm.streams.update("RULES", upd(change)), (e: Error) => {
        assert.equal(errCode(e), code, JSON.stringify(change));
        assert.equal(e.message, text);
        return true;
      });
    }
    // Sealing turns on deny delete/purge and discard new; it can't be undone.
    const sealed = await env.jsm.streams.update("RULES", upd({ sealed: true }));
    assert.equal(sealed.config.sealed, true);
    assert.equal(sealed.config.deny_purge, true);
    assert.equal(sealed.config.discard, DiscardPolicy.New);
    await assert.rejects(
      env.jsm.streams.update("RULES", upd({ sealed: false })),
      /can not unseal a sealed stream/,
    );
    const r = await api(env.nc, "$JS.API.STREAM.UPDATE.NOPE", { name: "NOPE" });
    assert.equal(r.error.err_code, 10059);
    assert.equal(r.type, "io.nats.jetstream.api.v1.stream_update_response");
  });

  it("names and list page, filter by subject and report empty the nats-server way", async () => {
    const empty = await api(env.nc, "$JS.API.STREAM.NAMES", { subject: "no.such.subject" });
    assert.deepEqual(empty, {
      type: "io.nats.jetstream.api.v1.stream_names_response",
      total: 0,
      offset: 0,
      limit: 1024,
      streams: null,
    });
    const emptyList = await api(env.nc, "$JS.API.STREAM.LIST", { subject: "no.such.subject" });
    assert.deepEqual(emptyList.streams, []);
    assert.equal(emptyList.limit, 256);
    for (let i = 0; i < 5; i++) await env.jsm.streams.add({ name: `PAGE${i}`, subjects: [`page.${i}`] });
    const names: string[] = [];
    for await (const n of env.jsm.streams.names("page.*")) names.push(n);
    assert.deepEqual(names.sort(), ["PAGE0", "PAGE1", "PAGE2", "PAGE3", "PAGE4"]);
    const infos: string[] = [];
    for await (const si of env.jsm.streams.list("page.3")) infos.push(si.config.name);
    assert.deepEqual(infos, ["PAGE3"]);
    const off = await api(env.nc, "$JS.API.STREAM.NAMES", { offset: 1000 });
    assert.equal(off.offset, off.total);
    assert.equal(off.streams, null);
    const found = await env.jsm.streams.find("page.2");
    assert.equal(found, "PAGE2");
  });

  it("delete removes the stream and then reports stream not found", async () => {
    await env.jsm.streams.add({ name: "GONE", subjects: ["gone"] });
    assert.equal(await env.jsm.streams.delete("GONE"), true);
    await assert.rejects(env.jsm.streams.info("GONE"), (e: Error) => {
      assert.equal(e.message, "stream not found");
      assert.equal(errCode(e), 10059);
      return true;
    });
    await assert.rejects(env.jsm.streams.delete("GONE"), (e) => errCode(e) === 10059);
    const nonEmpty = await api(env.nc, "$JS.API.STREAM.DELETE.UPD", { x: 1 });
    assert.equal(nonEmpty.error.err_code, 10038);
    await env.jsm.streams.info("UPD");
  });

  it("stream info lists subjects and deleted sequences on request", async () => {
    await env.jsm.streams.add({ name: "SUBJ", subjects: ["subj.>"] });
    const js = env.jsm.jetstream();
    for (const s of ["a", "b", "b", "c", "c", "c"]) await js.publish(`subj.${s}`);
    await env.jsm.streams.deleteMessage("SUBJ", 2);
    const si = await env.jsm.streams.info("SUBJ", { subjects_filter: ">", deleted_details: true });
    assert.deepEqual(si.state.subjects, { "subj.a": 1, "subj.b": 1, "subj.c": 3 });
    assert.deepEqual(si.state.deleted, [2]);
    assert.equal(si.state.num_deleted, 1);
    assert.equal(si.state.num_subjects, 3);
    const raw = await api(env.nc, "$JS.API.STREAM.INFO.SUBJ", { subjects_filter: "subj.c" });
    assert.equal(raw.total, 1);
    assert.equal(raw.limit, 100000);
    assert.deepEqual(raw.state.subjects, { "subj.c": 3 });
  });
});
