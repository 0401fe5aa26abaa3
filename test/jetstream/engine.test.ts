// The engine as a whole: INFO advertises JetStream (and the domain), the domain API prefix works, /jsz
// reports streams and usage, the v2 `nats` client works against it, and consumer requests get an answer.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connect as connectV2, headers as headersV2 } from "nats";
import { startLattice } from "../helpers/servers.js";
import { api, type JsEnv, type Reply, removeDir, startJs, tempDir } from "./helpers.js";

describe("the JetStream engine", () => {
  let env: JsEnv;
  let monitor: string;
  before(async () => {
    env = await startJs({ jetstream: { domain: "hub" }, extra: { http_port: -1 } });
    monitor = env.srv.server.listenerUrls().monitoring?.[0] ?? "";
  });
  after(async () => {
    await env.close();
  });

  it("advertises jetstream and the domain in INFO", () => {
    const info = (env.nc as unknown as { info?: Record<string, unknown> }).info;
    assert.equal(info?.jetstream, true);
    assert.equal(info?.domain, "hub");
  });

  it("answers on the domain prefix and puts the domain in PubAcks and account info", async () => {
    const jsm = await jetstreamManager(env.nc, { domain: "hub" });
    const ai = await jsm.getAccountInfo();
    assert.equal(ai.domain, "hub");
    await jsm.streams.add({ name: "DOM", subjects: ["dom"] });
    const pa = await jsm.jetstream().publish("dom", "x");
    assert.equal(pa.domain, "hub");
    const raw = await env.nc.request("dom", "y");
    assert.equal(new TextDecoder().decode(raw.data), '{"stream":"DOM", "domain":"hub", "seq":2}');
    // `$JS.<domain>.API.$KV.>` maps onto `$KV.>` (KV clients publish through it).
    await jsm.streams.add({ name: "KV_b", subjects: ["$KV.b.>"] });
    const kv = await env.nc.request("$JS.hub.API.$KV.b.key", "v");
    assert.equal(JSON.parse(new TextDecoder().decode(kv.data)).stream, "KV_b");
  });

  it("/jsz reports usage, api counters and stream details", async () => {
    const jsz = (await (
      await fetch(`${monitor}/jsz?accounts=true&streams=true&config=true`)
    ).json()) as Reply;
    assert.equal(jsz.streams, 2);
    assert.equal(jsz.messages, 3);
    assert.ok(jsz.storage > 0);
    assert.ok(jsz.api.total > 0);
    assert.equal(jsz.config.domain, "hub");
    const acc = jsz.account_details[0];
    assert.equal(acc.name, "$G");
    const names = acc.stream_detail.map((s: { name: string }) => s.name).sort();
    assert.deepEqual(names, ["DOM", "KV_b"]);
    assert.equal(acc.stream_detail[0].config.name, acc.stream_detail[0].name);
    const health = await fetch(`${monitor}/healthz`);
    assert.equal(health.status, 200);
  });

  it("answers consumer requests instead of letting them time out", async () => {
    const create = await api(env.nc, "$JS.API.CONSUMER.CREATE.DOM.c0", {
      stream_name: "DOM",
      config: { name: "c0", ack_policy: "explicit" },
    });
    assert.equal(create.type, "io.nats.jetstream.api.v1.consumer_create_response");
    const info = await api(env.nc, "$JS.API.CONSUMER.INFO.DOM.nope");
    assert.equal(info.error.err_code, 10014);
    const names = await api(env.nc, "$JS.API.CONSUMER.NAMES.DOM");
    assert.equal(names.type, "io.nats.jetstream.api.v1.consumer_names_response");
    const missing = await api(env.nc, "$JS.API.CONSUMER.NAMES.NOPE");
    assert.equal(missing.error.err_code, 10059);
  });

  it("emits stream advisories", async () => {
    const sub = env.nc.subscribe("$JS.EVENT.ADVISORY.STREAM.>", { max: 2 });
    await env.jsm.streams.add({ name: "ADV", subjects: ["adv"] });
    await env.jsm.streams.delete("ADV");
    const got: string[] = [];
    for await (const m of sub) got.push(`${m.subject} ${(m.json() as { action: string }).action}`);
    assert.deepEqual(got, [
      "$JS.EVENT.ADVISORY.STREAM.CREATED.ADV create",
      "$JS.EVENT.ADVISORY.STREAM.DELETED.ADV delete",
    ]);
  });

  it("works with the v2 `nats` client", async () => {
    const nc = await connectV2({ servers: env.srv.url });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "V2", subjects: ["v2.>"] });
      const js = nc.jetstream();
      const h = headersV2();
      h.set("x", "y");
      const pa = await js.publish("v2.a", new TextEncoder().encode("hello"), { headers: h, msgID: "one" });
      assert.equal(pa.seq, 1);
      const dup = await js.publish("v2.a", new TextEncoder().encode("hello"), { msgID: "one" });
      assert.equal(dup.duplicate, true);
      const sm = await jsm.streams.getMessage("V2", { last_by_subj: "v2.a" });
      assert.equal(sm.header.get("x"), "y");
      const purged = await jsm.streams.purge("V2");
      assert.equal(purged.purged, 1);
      const names: string[] = [];
      for await (const name of jsm.streams.names()) names.push(name);
      assert.ok(names.includes("V2"));
      await assert.rejects(jsm.streams.info("NOPE"), /stream not found/);
    } finally {
      await nc.close();
    }
  });
});

describe("JetStream per account", () => {
  it("runs in the accounts that enable it, each with its own streams and store", async () => {
    const dir = tempDir();
    const srv = await startLattice({
      jetstream: { store_dir: dir },
      accounts: {
        A: { jetstream: "enabled", users: [{ user: "a", password: "a" }] },
        B: { users: [{ user: "b", password: "b" }] },
      },
    });
    try {
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      const b = await connect({ servers: srv.url, user: "b", pass: "b" });
      const jsa = await jetstreamManager(a);
      await jsa.streams.add({ name: "ONLY_A", subjects: ["x"] });
      assert.equal((await jsa.jetstream().publish("x")).seq, 1);
      await assert.rejects(jetstreamManager(b), (e: Error) => e.name === "JetStreamNotEnabled");
      const r = await api(b, "$JS.API.STREAM.NAMES");
      assert.equal(r.error.err_code, 10039);
      assert.ok(existsSync(join(dir, "jetstream", "A", "streams", "ONLY_A", "meta.inf")));
      await a.close();
      await b.close();
    } finally {
      await srv.close();
      removeDir(dir);
    }
  });
});
