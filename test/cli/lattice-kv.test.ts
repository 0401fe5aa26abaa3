// lattice kv ...: against an embedded Lattice and nats-server 2.9.10. Reads and writes need streams; history,
// keys and watch need consumers (ordered consumers under the hood), probed per server.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Exit } from "../../src/cli/errors.js";
import { background, jetStreamTargets, lattice, needs, uniq } from "./harness.js";

const targets = await jetStreamTargets();
after(() => Promise.all(targets.map((t) => t.close())));

describe("lattice kv", { concurrency: true }, () => {
  for (const t of targets) {
    const s = ["-s", t.url];
    const kv = (...args: string[]) => lattice([...s, "kv", ...args]);
    const streams = needs(t, "streams", "JetStream streams");
    const consumers = needs(t, "consumers", "JetStream consumers (KV history, keys and watch use them)");

    describe(`lattice kv against ${t.name}`, { concurrency: true }, () => {
      it("add, put, get, create, update (compare and set), del, purge, status, ls, rm", {
        skip: streams,
      }, async () => {
        const b = uniq("CFG");
        const add = await kv(
          "add",
          b,
          "--history",
          "5",
          "--ttl",
          "1h",
          "--description",
          "settings",
          "--max-value-size",
          "1KiB",
        );
        assert.equal(add.code, 0, add.stderr);
        assert.match(add.stdout, new RegExp(`Information for Key-Value Store Bucket ${b} created`));
        assert.match(add.stdout, /History Kept: 5/);
        assert.match(add.stdout, /TTL: 1h/);
        assert.equal((await kv("put", b, "mode", "fast")).stdout, `Stored ${b} > mode at revision 1\n`);
        assert.equal(
          (JSON.parse((await kv("put", b, "mode", "slow", "--json")).stdout) as { revision: number })
            .revision,
          2,
        );

        // Independent of each other: run together.
        const [again, blob, get, old, exists, stale, fresh] = await Promise.all([
          kv("add", b),
          lattice([...s, "kv", "put", b, "blob", "--force-stdin"], { input: "from stdin" }),
          kv("get", b, "mode"),
          kv("get", b, "mode", "--revision", "1", "--json"),
          kv("create", b, "mode", "x"),
          kv("update", b, "mode", "x", "1"),
          kv("create", b, "fresh", "new"),
        ]);
        assert.equal(again.code, Exit.FAILED);
        assert.match(again.stderr, /already exists/);
        assert.equal(blob.code, 0, blob.stderr);
        assert.equal(get.code, 0, get.stderr);
        assert.match(get.stdout, new RegExp(`${b} > mode revision: 2 created @ `));
        assert.match(get.stdout, /\n\nslow\n$/);
        const o = JSON.parse(old.stdout) as { value: string; revision: number; operation: string };
        assert.deepEqual([o.value, o.revision, o.operation], ["fast", 1, "PUT"]);
        assert.equal(exists.code, Exit.FAILED);
        assert.equal(
          exists.stderr,
          `lattice: error: key "mode" already exists in bucket ${b} (wrong last sequence: 2; JetStream error 10071, status 400)\n`,
        );
        assert.equal(stale.code, Exit.FAILED);
        assert.equal(
          stale.stderr,
          `lattice: error: key "mode" in bucket ${b} is no longer at revision 1 (wrong last sequence: 2; JetStream error 10071, status 400)\n`,
        );
        assert.match(fresh.stdout, /Created .* > fresh at revision \d+/);

        const [cas, blobRaw, noForce] = await Promise.all([
          kv("update", b, "mode", "cas", "2"),
          kv("get", b, "blob", "--raw"),
          kv("del", b, "fresh"),
        ]);
        assert.equal(cas.code, 0, cas.stderr);
        assert.match(cas.stdout, /from revision 2 to \d+/);
        assert.equal(blobRaw.stdout, "from stdin\n");
        assert.equal(noForce.code, Exit.USAGE);
        const [del, purge] = await Promise.all([kv("del", b, "fresh", "-f"), kv("purge", b, "blob", "-f")]);
        assert.equal(del.code, 0, del.stderr);
        assert.equal(purge.code, 0, purge.stderr);

        const [deleted, purged, missing, status, ls, names] = await Promise.all([
          kv("get", b, "fresh"),
          kv("get", b, "blob"),
          kv("get", b, "never"),
          kv("status", b, "--json"),
          kv("ls"),
          kv("list", "--names"),
        ]);
        assert.equal(deleted.code, Exit.FAILED);
        assert.match(deleted.stderr, /key "fresh" in bucket .* was deleted at revision \d+/);
        assert.equal(purged.code, Exit.FAILED);
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, /key "never" not found in bucket/);
        const st = JSON.parse(status.stdout) as Record<string, unknown>;
        assert.equal(st.bucket, b);
        assert.equal(st.history, 5);
        assert.equal(st.ttl_ms, 3_600_000);
        assert.equal(st.description, "settings");
        assert.equal(st.max_value_size, 1024);
        assert.match(
          ls.stdout,
          /│ Bucket +│ Description +│ Values +│ Size +│ History +│ TTL +│ Last Update +│/,
        );
        assert.match(ls.stdout, new RegExp(`│ ${b} +│ settings +│ +\\d+ │ \\d+ B +│ +5 │ 1h +│`));
        assert.ok(names.stdout.split("\n").includes(b));

        assert.equal((await kv("rm", b, "-f")).code, 0);
        const gone = await kv("get", b, "mode");
        assert.equal(gone.code, Exit.FAILED);
        assert.equal(
          gone.stderr,
          `lattice: error: no such bucket "${b}" (JetStream error 10059, status 404)\n`,
        );
      });

      it("history, keys and watch", { skip: streams || consumers }, async () => {
        const b = uniq("HIST");
        assert.equal((await kv("add", b, "--history", "3")).code, 0);
        assert.equal((await kv("put", b, "app.a", "1")).code, 0);
        const puts = await Promise.all([
          kv("put", b, "app.a", "2"),
          kv("put", b, "app.b", "x"),
          kv("put", b, "other", "y"),
        ]);
        for (const p of puts) assert.equal(p.code, 0, p.stderr);

        const w = background([...s, "kv", "watch", b, "app.>", "--count", "3"]);
        const [hist, histJson, keys, keysJson, lsKeys] = await Promise.all([
          kv("history", b, "app.a"),
          kv("history", b, "app.a", "--json"),
          kv("keys", b),
          kv("keys", b, "app.*", "--json"),
          kv("ls", b, "--json"),
        ]);
        assert.deepEqual(JSON.parse(lsKeys.stdout), ["app.a", "app.b", "other"]);
        assert.equal(hist.code, 0, hist.stderr);
        assert.match(hist.stdout, /│ app\.a │ +1 │ PUT │ .* │ +1 │ 1 +│/);
        assert.match(hist.stdout, /│ app\.a │ +\d+ │ PUT │ .* │ +1 │ 2 +│/);
        assert.deepEqual(
          (JSON.parse(histJson.stdout) as Array<{ value: string }>).map((e) => e.value),
          ["1", "2"],
        );
        assert.equal(keys.stdout, "app.a\napp.b\nother\n");
        assert.deepEqual(JSON.parse(keysJson.stdout), ["app.a", "app.b"]);

        // watch: the current values first, then live changes.
        await w.waitFor(/PUT .* > app\.b: x/, "stdout");
        assert.equal((await kv("put", b, "app.c", "live")).code, 0);
        const r = await w.done();
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /PUT .* > app\.a: 2\n/);
        assert.match(r.stdout, /PUT .* > app\.c: live\n/);
        assert.doesNotMatch(r.stdout, /other/);
      });

      it("revert brings an earlier value back over the current revision; compact drops deleted keys", {
        skip: streams || consumers,
      }, async () => {
        const b = uniq("REV");
        assert.equal((await kv("add", b, "--history", "10")).code, 0);
        for (const v of ["one", "two"]) assert.equal((await kv("put", b, "k", v)).code, 0);
        assert.equal((await kv("put", b, "gone", "soon")).code, 0);

        // Without a terminal, a revert needs --force; it shows both values first.
        const [noForce, missing, notValue] = await Promise.all([
          kv("revert", b, "k", "1"),
          kv("revert", b, "k", "99", "-f"),
          kv("revert", b, "k", "0", "-f"),
        ]);
        assert.equal(noForce.code, Exit.USAGE);
        assert.match(noForce.stderr, /Revision 1: one\nCurrent \(revision 2\): two\n/);
        assert.match(noForce.stderr, /refusing without --force/);
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, new RegExp(`no revision 99 of key "k" in bucket ${b}`));
        assert.equal(notValue.code, Exit.USAGE);

        const rev = await kv("revert", b, "k", "1", "-f");
        assert.equal(rev.code, 0, rev.stderr);
        assert.equal(rev.stdout, `Reverted ${b} > k to the value of revision 1: now revision 4\n`);
        assert.equal((await kv("get", b, "k", "--raw")).stdout, "one\n");
        const same = await kv("revert", b, "k", "4", "-f", "--json");
        assert.deepEqual(JSON.parse(same.stdout), { bucket: b, key: "k", revision: 4, unchanged: true });
        const again = await kv("revert", b, "k", "2", "--force", "--json");
        assert.deepEqual(JSON.parse(again.stdout), { bucket: b, key: "k", revision: 5, reverted_to: 2 });

        // A delete is not a value to go back to; the value before it is.
        assert.equal((await kv("del", b, "gone", "-f")).code, 0);
        const del = await kv("revert", b, "gone", "6", "-f");
        assert.equal(del.code, Exit.FAILED);
        assert.match(del.stderr, /revision 6 of key "gone" .* is a delete, not a value/);
        const undelete = await kv("revert", b, "gone", "3", "-f");
        assert.equal(undelete.code, 0, undelete.stderr);
        assert.equal((await kv("get", b, "gone", "--raw")).stdout, "soon\n");

        // compact: deleted keys lose their history (markers younger than --older-than stay).
        assert.equal((await kv("del", b, "gone", "-f")).code, 0);
        const noForceCompact = await kv("compact", b);
        assert.equal(noForceCompact.code, Exit.USAGE);
        const young = await kv("compact", b, "-f", "--json");
        assert.equal(young.code, 0, young.stderr);
        // gone: the put, the delete, the reverted put go; the newest delete marker stays.
        assert.deepEqual(JSON.parse(young.stdout), { bucket: b, purged: 3 });
        const hist = await kv("history", b, "gone", "--json");
        assert.deepEqual(
          (JSON.parse(hist.stdout) as Array<{ operation: string }>).map((e) => e.operation),
          ["DEL"],
        );
        const all = await kv("compact", b, "--older-than", "0s", "-f");
        assert.equal(all.code, 0, all.stderr);
        assert.equal(all.stdout, `Compacted bucket ${b}: removed 1 messages\n`);
        assert.equal((await kv("history", b, "gone")).code, Exit.FAILED);
        // Keys that were never deleted keep all their revisions.
        const kept = await kv("history", b, "k", "--json");
        assert.equal((JSON.parse(kept.stdout) as unknown[]).length, 4);
      });

      it("edit changes only the settings given and shows what changed", { skip: streams }, async () => {
        const b = uniq("EDIT");
        assert.equal((await kv("add", b)).code, 0);
        const e = await kv("edit", b, "--history", "4", "--ttl", "90s", "--description", "tuned");
        assert.equal(e.code, 0, e.stderr);
        assert.match(e.stdout, new RegExp(`^Bucket ${b} was updated:\n`));
        assert.match(e.stdout, / {2}max_msgs_per_subject: 1 -> 4\n/);
        assert.match(e.stdout, / {2}max_age: 0 -> 90000000000\n/);
        assert.match(e.stdout, /History Kept: 4/);
        const [same, nothing, missing, bad] = await Promise.all([
          kv("edit", b, "--json"),
          kv("edit", b),
          kv("edit", uniq("NOPE"), "--history", "2"),
          kv("edit", b, "--history", "0"),
        ]);
        assert.equal(same.code, 0, same.stderr);
        assert.match(nothing.stderr, new RegExp(`Bucket ${b}: nothing to change`));
        const st = JSON.parse(same.stdout) as Record<string, unknown>;
        assert.deepEqual([st.history, st.ttl_ms, st.description], [4, 90_000, "tuned"]);
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, /no such bucket ".*" \(JetStream error 10059, status 404\)/);
        assert.equal(bad.code, Exit.USAGE);
        // The history setting applies: five puts, four kept.
        for (const v of ["1", "2", "3", "4", "5"]) assert.equal((await kv("put", b, "k", v)).code, 0);
        const status = JSON.parse((await kv("status", b, "--json")).stdout) as { values: number };
        assert.equal(status.values, 4);
        // Values that are not UTF-8 come out of --json as base64.
        const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x01]);
        const bin = await lattice([...s, "kv", "put", b, "bin", "-"], { input: bytes });
        assert.equal(bin.code, 0, bin.stderr);
        const got = JSON.parse((await kv("get", b, "bin", "--json")).stdout) as Record<string, unknown>;
        assert.equal(got.value, undefined);
        assert.equal(got.value_base64, bytes.toString("base64"));
      });
    });
  }
});
