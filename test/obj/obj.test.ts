// Object store through the official @nats-io/obj client: put / get of objects larger than max_payload
// (chunked), info, list, delete, links, watch, seal, status.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj";
import { type JsEnv, removeDir, startJs, until } from "../jetstream/helpers.js";

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 0xff;
  }
  return b;
}

describe("object store", () => {
  let env: JsEnv;
  let os: ObjectStore;

  before(async () => {
    env = await startJs();
    os = await new Objm(env.nc).create("files", { description: "test files" });
  });
  after(async () => {
    await env.close();
    removeDir(env.dir);
  });

  it("puts and gets an object larger than max_payload, digest intact", async () => {
    const data = bytes(5 * 1024 * 1024 + 17);
    const info = await os.putBlob({ name: "big.bin", description: "big" }, data);
    assert.equal(info.size, data.length);
    assert.equal(info.chunks, Math.ceil(data.length / (128 * 1024)));
    const sha = createHash("sha256").update(data).digest("base64url");
    assert.equal(info.digest, `SHA-256=${sha}=`);
    const got = await os.getBlob("big.bin");
    assert.ok(got !== null && Buffer.from(got).equals(Buffer.from(data)));
    const r = await os.get("big.bin");
    let n = 0;
    for await (const chunk of r!.data) n += chunk.length;
    assert.equal(n, data.length);
    assert.ok(!(await r!.error));
  });

  it("info, replace, list, delete", async () => {
    await os.putBlob({ name: "a.txt" }, new TextEncoder().encode("first"));
    await os.putBlob({ name: "a.txt" }, new TextEncoder().encode("second version"));
    const i = await os.info("a.txt");
    assert.equal(i?.size, 14);
    assert.equal(new TextDecoder().decode((await os.getBlob("a.txt"))!), "second version");
    const names = (await os.list()).map((x) => x.name).sort();
    assert.deepEqual(names, ["a.txt", "big.bin"]);
    await os.delete("a.txt");
    assert.equal((await os.info("a.txt"))?.deleted, true);
    assert.equal(await os.getBlob("a.txt"), null);
    assert.deepEqual(
      (await os.list()).map((x) => x.name),
      ["big.bin"],
    );
  });

  it("links to objects and to other buckets", async () => {
    await os.putBlob({ name: "target" }, new TextEncoder().encode("linked"));
    const target = (await os.info("target"))!;
    await os.link("alias", target);
    assert.equal(new TextDecoder().decode((await os.getBlob("alias"))!), "linked");
    const other = await new Objm(env.nc).create("other");
    await other.linkStore("files-link", os);
    const li = await other.info("files-link");
    assert.equal(li?.options?.link?.bucket, "files");
  });

  it("watch reports puts and deletes", async () => {
    const w = await new Objm(env.nc).create("watched");
    const seen: ObjectInfo[] = [];
    const iter = await w.watch({ includeHistory: false });
    const done = (async () => {
      for await (const e of iter) {
        if (e === null) continue;
        seen.push(e);
        if (seen.length === 2) break;
      }
    })();
    await w.putBlob({ name: "x" }, new Uint8Array(10));
    await w.delete("x");
    await done;
    assert.deepEqual(
      seen.map((e) => `${e.name} ${e.deleted === true}`),
      ["x false", "x true"],
    );
  });

  it("seal and status", async () => {
    const s = await new Objm(env.nc).create("sealme");
    await s.putBlob({ name: "one" }, new Uint8Array(100));
    const st = await s.seal();
    assert.equal(st.sealed, true);
    await assert.rejects(s.putBlob({ name: "two" }, new Uint8Array(1)));
    const status = await s.status();
    assert.equal(status.bucket, "sealme");
    assert.ok(status.size > 100);
    assert.equal(status.sealed, true);
    await until(async () => (await s.list()).length === 1);
  });
});
