// Key-value buckets through the official @nats-io/kv client: put / get (by revision too) / create / update
// (CAS) / delete / purge / history / keys / watch variants / status / TTL, plus the error texts compared
// with the reference nats-server when it is installed.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { hasNatsServer, startNatsServer } from "../helpers/servers.js";
import { type JsEnv, removeDir, sleep, startJs, until } from "../jetstream/helpers.js";

async function collect<T>(it: AsyncIterable<T>, n?: number): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) {
    out.push(v);
    if (n !== undefined && out.length >= n) break;
  }
  return out;
}

/** What a client sees from the CAS / create-exists paths, as text. */
async function casScript(nc: NatsConnection): Promise<string[]> {
  const kv = await new Kvm(nc).create(`cas${Date.now()}`);
  const out: string[] = [];
  const r1 = await kv.put("k", "v1");
  out.push(`put ${r1}`);
  try {
    await kv.update("k", "v2", r1 + 5);
  } catch (err) {
    out.push(`update: ${(err as Error).message}`);
  }
  try {
    await kv.create("k", "v3");
  } catch (err) {
    out.push(`create: ${(err as Error).message}`);
  }
  await kv.delete("k");
  out.push(`create after delete ${await kv.create("k", "v4")}`);
  out.push(`update ok ${await kv.update("k", "v5", 3)}`);
  return out;
}

describe("kv", () => {
  let env: JsEnv;
  let kv: KV;

  before(async () => {
    env = await startJs();
    kv = await new Kvm(env.nc).create("cfg", { history: 5 });
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("put, get, get by revision, create, update, delete, purge", async () => {
    const r1 = await kv.put("a.b", "1");
    const r2 = await kv.put("a.b", "2");
    assert.equal(r2, r1 + 1);
    const e = await kv.get("a.b");
    assert.equal(e?.string(), "2");
    assert.equal(e?.revision, r2);
    assert.equal(e?.operation, "PUT");
    assert.equal((await kv.get("a.b", { revision: r1 }))?.string(), "1");
    assert.equal(await kv.get("missing"), null);
    const r3 = await kv.create("new", "n");
    await assert.rejects(kv.create("new", "again"));
    const r4 = await kv.update("new", "n2", r3);
    assert.ok(r4 > r3);
    await assert.rejects(kv.update("new", "n3", r3), /wrong last sequence/);
    await kv.delete("new");
    assert.equal((await kv.get("new"))?.operation, "DEL", "v3 returns the delete marker");
    const deleted = await kv.get("new", { revision: r4 + 1 });
    assert.equal(deleted?.operation, "DEL");
    await kv.purge("a.b");
    assert.equal((await kv.get("a.b"))?.operation, "PURGE");
    const h = await collect(await kv.history({ key: "a.b" }));
    assert.deepEqual(
      h.map((x) => x.operation),
      ["PURGE"],
    );
  });

  it("history keeps up to the bucket's history per key", async () => {
    for (let i = 0; i < 8; i++) await kv.put("hist", `v${i}`);
    const h = await collect(await kv.history({ key: "hist" }));
    assert.deepEqual(
      h.map((x) => x.string()),
      ["v3", "v4", "v5", "v6", "v7"],
    );
  });

  it("keys, with filters", async () => {
    const b = await new Kvm(env.nc).create("keys");
    for (const k of ["x.1", "x.2", "y.1", "z"]) await b.put(k, "v");
    await b.delete("z");
    assert.deepEqual((await collect(await b.keys())).sort(), ["x.1", "x.2", "y.1"]);
    assert.deepEqual((await collect(await b.keys("x.*"))).sort(), ["x.1", "x.2"]);
    assert.deepEqual((await collect(await b.keys(["x.1", "y.>"]))).sort(), ["x.1", "y.1"]);
    const empty = await new Kvm(env.nc).create("nokeys");
    assert.deepEqual(await collect(await empty.keys()), []);
  });

  it("watch: initial values then updates; history; updates only; ignore deletes; by key", async () => {
    const b = await new Kvm(env.nc).create("watch", { history: 10 });
    await b.put("k1", "a");
    await b.put("k1", "b");
    await b.put("k2", "c");
    const w = await b.watch();
    const seen: KvEntry[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(e);
        if (seen.length === 4) break;
      }
    })();
    await until(() => seen.length === 2);
    assert.deepEqual(
      seen.map((e) => `${e.key}=${e.string()}`),
      ["k1=b", "k2=c"],
    );
    assert.equal(seen[1].delta, 0, "last initial value has pending 0");
    await b.put("k3", "d");
    await b.delete("k2");
    await done;
    assert.deepEqual(
      seen.slice(2).map((e) => `${e.key} ${e.operation}`),
      ["k3 PUT", "k2 DEL"],
    );

    const all = await collect(await b.watch({ include: "history" as never }), 5);
    assert.deepEqual(
      all.map((e) => e.string()),
      ["a", "b", "c", "d", ""],
    );

    const upd = await b.watch({ include: "updates" as never, ignoreDeletes: true, key: "k1" });
    const ups: string[] = [];
    const updDone = (async () => {
      for await (const e of upd) {
        ups.push(e.string());
        if (ups.length === 1) break;
      }
    })();
    await sleep(50);
    await b.delete("k1");
    await b.put("k2", "other key");
    await b.put("k1", "fresh");
    await updDone;
    assert.deepEqual(ups, ["fresh"]);
  });

  it("status, values up to max_payload and many keys (host config data pattern)", async () => {
    const b = await new Kvm(env.nc).create("LATTICEDATA_default");
    const big = new Uint8Array(1024 * 1024 - 512).fill(7);
    await b.put("big", big);
    assert.equal((await b.get("big"))?.value.length, big.length);
    const puts = [];
    for (let i = 0; i < 500; i++) puts.push(b.put(`LINKDEF_${i}`, JSON.stringify({ i })));
    await Promise.all(puts);
    assert.equal((await collect(await b.keys())).length, 501);
    const st = await b.status();
    assert.equal(st.bucket, "LATTICEDATA_default");
    assert.equal(st.values, 501);
    assert.equal(st.history, 1);
  });

  it("bucket max_age and per-key TTL", async () => {
    const b = await new Kvm(env.nc).create("ttl", { ttl: 1000 });
    await b.put("x", "v");
    assert.equal((await b.get("x"))?.string(), "v");
    await until(async () => (await b.get("x")) === null, 4000);
    const m = await new Kvm(env.nc).create("marks", { markerTTL: 1000 });
    await m.create("short", "v", "1s");
    assert.equal((await m.get("short"))?.string(), "v");
    await until(async () => (await m.get("short"))?.operation !== "PUT", 5000);
  });

  it("a purge with a TTL expires without leaving a delete marker behind", async () => {
    const b = await new Kvm(env.nc).create("purgettl", { markerTTL: 1000 });
    await b.create("a", "v", "2s");
    await b.delete("a");
    assert.equal((await b.get("a"))?.operation, "DEL");
    await b.purge("a", { ttl: "1s" });
    assert.equal((await b.get("a"))?.operation, "PURGE");
    // The purge is the key's marker: when it expires the key is simply gone, no MaxAge marker follows.
    await until(async () => (await b.get("a")) === null, 4000);
    const st = await env.jsm.streams.info("KV_purgettl");
    assert.equal(st.state.messages, 0);
  });

  it("CAS errors read as nats-server's", {
    skip: !hasNatsServer() && "nats-server not installed",
  }, async () => {
    const mine = await casScript(env.nc);
    const ref = await startNatsServer(`jetstream { store_dir: "${env.dir}/ref" }`);
    try {
      const nc = await connect({ servers: ref.url });
      const theirs = await casScript(nc);
      await nc.close();
      assert.deepEqual(mine, theirs);
    } finally {
      await ref.close();
    }
  });
});
