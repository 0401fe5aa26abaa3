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
    const streams = needs(t, "streams", "JetStream streams");
    const consumers = needs(t, "consumers", "JetStream consumers (KV history, keys and watch use them)");

    describe(`lattice kv against ${t.name}`, { concurrency: true }, () => {
      it("add, put, get, create, update (compare and set), del, purge, status, ls, rm", {
        skip: streams,
      }, async () => {
        const b = uniq("CFG");
        const add = await lattice([
          ...s,
          "kv",
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
        ]);
        assert.equal(add.code, 0, add.stderr);
        assert.match(add.stdout, new RegExp(`Information for Key-Value Store Bucket ${b} created`));
        assert.match(add.stdout, /History Kept: 5/);
        assert.match(add.stdout, /TTL: 1h/);
        const again = await lattice([...s, "kv", "add", b]);
        assert.equal(again.code, Exit.FAILED);
        assert.match(again.stderr, /already exists/);

        assert.equal(
          (await lattice([...s, "kv", "put", b, "mode", "fast"])).stdout,
          `Stored ${b} > mode at revision 1\n`,
        );
        const put2 = JSON.parse((await lattice([...s, "kv", "put", b, "mode", "slow", "--json"])).stdout) as {
          revision: number;
        };
        assert.equal(put2.revision, 2);
        assert.equal(
          (await lattice([...s, "kv", "put", b, "blob", "--force-stdin"], { input: "from stdin" })).code,
          0,
        );

        const get = await lattice([...s, "kv", "get", b, "mode"]);
        assert.equal(get.code, 0, get.stderr);
        assert.match(get.stdout, new RegExp(`${b} > mode revision: 2 created @ `));
        assert.match(get.stdout, /\n\nslow\n$/);
        assert.equal((await lattice([...s, "kv", "get", b, "blob", "--raw"])).stdout, "from stdin\n");
        const old = JSON.parse(
          (await lattice([...s, "kv", "get", b, "mode", "--revision", "1", "--json"])).stdout,
        ) as {
          value: string;
          revision: number;
          operation: string;
        };
        assert.deepEqual([old.value, old.revision, old.operation], ["fast", 1, "PUT"]);

        const exists = await lattice([...s, "kv", "create", b, "mode", "x"]);
        assert.equal(exists.code, Exit.FAILED);
        assert.match(
          exists.stderr,
          /^lattice: error: wrong last sequence: 2 \(JetStream error 10071, status 400\)\n$/,
        );
        assert.match(
          (await lattice([...s, "kv", "create", b, "fresh", "new"])).stdout,
          /Created .* > fresh at revision 4/,
        );

        const stale = await lattice([...s, "kv", "update", b, "mode", "x", "1"]);
        assert.equal(stale.code, Exit.FAILED);
        assert.match(stale.stderr, /wrong last sequence: 2 \(JetStream error 10071, status 400\)/);
        const cas = await lattice([...s, "kv", "update", b, "mode", "cas", "2"]);
        assert.equal(cas.code, 0, cas.stderr);
        assert.match(cas.stdout, /from revision 2 to 5/);

        assert.equal((await lattice([...s, "kv", "del", b, "fresh"])).code, Exit.USAGE);
        assert.equal((await lattice([...s, "kv", "del", b, "fresh", "-f"])).code, 0);
        const deleted = await lattice([...s, "kv", "get", b, "fresh"]);
        assert.equal(deleted.code, Exit.FAILED);
        assert.match(deleted.stderr, /key "fresh" in bucket .* was deleted at revision 6/);
        assert.equal((await lattice([...s, "kv", "purge", b, "blob", "-f"])).code, 0);
        const missing = await lattice([...s, "kv", "get", b, "never"]);
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, /key "never" not found in bucket/);

        const status = JSON.parse((await lattice([...s, "kv", "status", b, "--json"])).stdout) as Record<
          string,
          unknown
        >;
        assert.equal(status.bucket, b);
        assert.equal(status.history, 5);
        assert.equal(status.ttl_ms, 3_600_000);
        assert.equal(status.description, "settings");
        assert.equal(status.max_value_size, 1024);

        const ls = await lattice([...s, "kv", "ls"]);
        assert.match(
          ls.stdout,
          /│ Bucket +│ Description +│ Values +│ Size +│ History +│ TTL +│ Last Update +│/,
        );
        assert.match(ls.stdout, new RegExp(`│ ${b} +│ settings +│ +\\d+ │ \\d+ B +│ +5 │ 1h +│`));
        assert.ok((await lattice([...s, "kv", "list", "--names"])).stdout.split("\n").includes(b));

        assert.equal((await lattice([...s, "kv", "rm", b, "-f"])).code, 0);
        const gone = await lattice([...s, "kv", "get", b, "mode"]);
        assert.equal(gone.code, Exit.FAILED);
        assert.equal(
          gone.stderr,
          `lattice: error: no such bucket "${b}" (JetStream error 10059, status 404)\n`,
        );
      });

      it("history, keys and watch", { skip: streams || consumers }, async () => {
        const b = uniq("HIST");
        assert.equal((await lattice([...s, "kv", "add", b, "--history", "3"])).code, 0);
        for (const [k, v] of [
          ["app.a", "1"],
          ["app.a", "2"],
          ["app.b", "x"],
          ["other", "y"],
        ]) {
          assert.equal((await lattice([...s, "kv", "put", b, k, v])).code, 0);
        }
        const hist = await lattice([...s, "kv", "history", b, "app.a"]);
        assert.equal(hist.code, 0, hist.stderr);
        assert.match(hist.stdout, /│ app\.a │ +1 │ PUT │ .* │ +1 │ 1 +│/);
        assert.match(hist.stdout, /│ app\.a │ +2 │ PUT │ .* │ +1 │ 2 +│/);
        const histJson = JSON.parse(
          (await lattice([...s, "kv", "history", b, "app.a", "--json"])).stdout,
        ) as Array<{ value: string }>;
        assert.deepEqual(
          histJson.map((e) => e.value),
          ["1", "2"],
        );
        assert.equal((await lattice([...s, "kv", "keys", b])).stdout, "app.a\napp.b\nother\n");
        assert.deepEqual(JSON.parse((await lattice([...s, "kv", "keys", b, "app.*", "--json"])).stdout), [
          "app.a",
          "app.b",
        ]);

        // watch: the current values first, then live changes.
        const w = background([...s, "kv", "watch", b, "app.>", "--count", "3"]);
        await w.waitFor(/PUT .* > app\.b: x/, "stdout");
        assert.equal((await lattice([...s, "kv", "put", b, "app.c", "live"])).code, 0);
        const r = await w.done();
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /PUT .* > app\.a: 2\n/);
        assert.match(r.stdout, /PUT .* > app\.c: live\n/);
        assert.doesNotMatch(r.stdout, /other/);
      });
    });
  }
});
