// lattice object ...: against an embedded Lattice and nats-server 2.9.10. Putting and inspecting objects needs
// streams; listing, fetching and watching use ordered consumers, probed per server.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Exit } from "../../src/cli/errors.js";
import { background, jetStreamTargets, lattice, needs, uniq } from "./harness.js";

const targets = await jetStreamTargets();
const dir = mkdtempSync(join(tmpdir(), "lattice-cli-obj-"));
after(async () => {
  await Promise.all(targets.map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Big enough for several chunks and for the progress bar threshold (drawn only on a terminal). */
const BIG = randomBytes(1_500_000);
const bigFile = join(dir, "big.bin");
writeFileSync(bigFile, BIG);

describe("lattice object", { concurrency: true }, () => {
  for (const t of targets) {
    const s = ["-s", t.url];
    const obj = (...args: string[]) => lattice([...s, "object", ...args]);
    const streams = needs(t, "streams", "JetStream streams");
    const consumers = needs(t, "consumers", "JetStream consumers (object get, ls and watch use them)");

    describe(`lattice object against ${t.name}`, { concurrency: true }, () => {
      it("add, put a file and stdin, info, bucket ls, rm, seal", { skip: streams }, async () => {
        const b = uniq("FILES");
        const add = await obj("add", b, "--description", "files", "--storage", "memory");
        assert.equal(add.code, 0, add.stderr);
        assert.match(add.stdout, new RegExp(`Information for Object Store Bucket ${b} created`));
        assert.match(add.stdout, /Storage: Memory/);

        const [put, stdin, noName] = await Promise.all([
          obj("put", b, bigFile, "--json"),
          lattice([...s, "object", "put", b, "--name", "notes/hello.txt", "-H", "content-type:text/plain"], {
            input: "hello object\n",
          }),
          obj("put", b),
        ]);
        assert.equal(put.code, 0, put.stderr);
        const info = JSON.parse(put.stdout) as { name: string; size: number; chunks: number; digest: string };
        assert.equal(info.name, "big.bin");
        assert.equal(info.size, BIG.length);
        assert.ok(info.chunks > 1);
        assert.match(info.digest, /^SHA-256=/);
        assert.equal(stdin.code, 0, stdin.stderr);
        assert.match(stdin.stdout, /Object information for .* > notes\/hello\.txt/);
        assert.match(stdin.stdout, /Size: 13 B/);
        assert.equal(noName.code, Exit.USAGE);

        const [oinfo, binfo, ls, missing] = await Promise.all([
          obj("info", b, "notes/hello.txt"),
          obj("info", b, "--json"),
          obj("ls"),
          obj("info", b, "nope"),
        ]);
        assert.match(oinfo.stdout, /Header: content-type: text\/plain/);
        const bi = JSON.parse(binfo.stdout) as Record<string, unknown>;
        assert.equal(bi.bucket, b);
        assert.equal(bi.description, "files");
        assert.equal(bi.sealed, false);
        assert.match(ls.stdout, new RegExp(`│ ${b} +│ files +│ .* │ 1\\.4\\d MiB +│ false +│`));
        assert.equal(missing.code, Exit.FAILED);
        assert.match(missing.stderr, /object "nope" not found/);

        assert.equal((await obj("rm", b, "notes/hello.txt", "-f")).code, 0);
        const [removed, seal] = await Promise.all([
          obj("info", b, "notes/hello.txt"),
          obj("seal", b, "-f", "--json"),
        ]);
        assert.equal(removed.code, Exit.FAILED);
        assert.equal(seal.code, 0, seal.stderr);
        assert.equal((JSON.parse(seal.stdout) as { sealed: boolean }).sealed, true);
        const sealed = await obj("put", b, bigFile, "--name", "again");
        assert.equal(sealed.code, Exit.FAILED);
        assert.match(sealed.stderr, /^lattice: error: .*sealed.* \(JetStream error 10109, status 400\)\n$/);

        assert.equal((await obj("rm", b, "-f")).code, 0);
        const gone = await obj("info", b);
        assert.equal(
          gone.stderr,
          `lattice: error: no such object store bucket "${b}" (JetStream error 10059, status 404)\n`,
        );
      });

      it("get into a file and to stdout, ls objects, watch", { skip: streams || consumers }, async () => {
        const b = uniq("GET");
        assert.equal((await obj("add", b)).code, 0);
        const w = background([...s, "object", "watch", b, "--count", "2"]);
        await w.waitFor(/Watching object store bucket/);
        const puts = await Promise.all([
          obj("put", b, bigFile),
          lattice([...s, "object", "put", b, "-", "--name", "small.txt"], { input: "small" }),
        ]);
        for (const p of puts) assert.equal(p.code, 0, p.stderr);
        const watched = await w.done();
        assert.equal(watched.code, 0, watched.stderr);
        assert.match(watched.stdout, /PUT .* > big\.bin: 1\.4\d MiB\n/);
        assert.match(watched.stdout, /PUT .* > small\.txt: 5 B\n/);

        const out = join(dir, `${b}.bin`);
        const cwd = mkdtempSync(join(dir, "cwd-"));
        const [get, toStdout, toCwd, none, ls, names] = await Promise.all([
          obj("get", b, "big.bin", "-O", out),
          obj("get", b, "small.txt", "-O", "-"),
          lattice([...s, "object", "get", b, "small.txt"], { cwd }),
          obj("get", b, "nope", "-O", join(dir, "nope")),
          obj("ls", b),
          obj("ls", b, "--names", "--json"),
        ]);
        assert.equal(get.code, 0, get.stderr);
        assert.match(get.stderr, /Wrote 1\.4\d MiB to /);
        assert.ok(readFileSync(out).equals(BIG));
        assert.equal(toStdout.stdout, "small");
        // The default file name is the object's, in the working directory.
        assert.equal(toCwd.code, 0, toCwd.stderr);
        assert.equal(readFileSync(join(cwd, "small.txt"), "utf8"), "small");
        assert.equal(none.code, Exit.FAILED);
        assert.equal(existsSync(join(dir, "nope")), false);
        assert.match(ls.stdout, /│ big\.bin +│ 1\.4\d MiB │/);
        assert.match(ls.stdout, /│ small\.txt +│ 5 B +│/);
        assert.deepEqual(JSON.parse(names.stdout), ["big.bin", "small.txt"]);

        const exists = await obj("get", b, "big.bin", "-O", out);
        assert.equal(exists.code, Exit.FAILED);
        assert.match(exists.stderr, /exists: use --force/);
        assert.equal((await obj("get", b, "big.bin", "-O", out, "--force")).code, 0);
      });

      it("link to an object (same or other bucket) and to a whole bucket", {
        skip: streams || consumers,
      }, async () => {
        const a = uniq("LNKA");
        const b = uniq("LNKB");
        for (const x of [a, b]) assert.equal((await obj("add", x)).code, 0);
        const put = await lattice([...s, "object", "put", a, "-", "--name", "v1.txt"], {
          input: "version 1",
        });
        assert.equal(put.code, 0, put.stderr);

        const [same, other, whole] = await Promise.all([
          obj("link", a, "latest", a, "v1.txt"),
          obj("link", b, "from-a", a, "v1.txt", "--json"),
          obj("link", a, "everything-b", b),
        ]);
        assert.equal(same.code, 0, same.stderr);
        assert.match(same.stdout, new RegExp(`Object information for ${a} > latest`));
        assert.match(same.stdout, new RegExp(`Link: ${a} > v1\\.txt`));
        assert.doesNotMatch(same.stdout, /Digest/);
        assert.equal(other.code, 0, other.stderr);
        const info = JSON.parse(other.stdout) as { name: string; bucket: string; options: unknown };
        assert.equal(info.name, "from-a");
        assert.equal(info.bucket, b);
        assert.deepEqual(info.options, { link: { bucket: a, name: "v1.txt" } });
        assert.equal(whole.code, 0, whole.stderr);
        assert.match(whole.stdout, new RegExp(`Link: ${b} \\(whole bucket\\)`));

        const [viaSame, viaOther, viaWhole, linkOfLink, noTarget, noBucket, ls] = await Promise.all([
          obj("get", a, "latest", "-O", "-"),
          obj("get", b, "from-a", "-O", "-"),
          obj("get", a, "everything-b", "-O", "-"),
          obj("link", a, "again", a, "latest"),
          obj("link", a, "nothing", a, "nope"),
          obj("link", a, "x", "NO_SUCH_BUCKET"),
          obj("ls", a),
        ]);
        assert.equal(viaSame.stdout, "version 1");
        assert.equal(viaOther.stdout, "version 1");
        assert.equal(viaWhole.code, Exit.FAILED);
        assert.match(viaWhole.stderr, new RegExp(`links to the whole bucket ${b}`));
        assert.equal(linkOfLink.code, Exit.FAILED);
        assert.match(linkOfLink.stderr, /is itself a link .*: links of links are not allowed/);
        assert.equal(noTarget.code, Exit.FAILED);
        assert.match(noTarget.stderr, new RegExp(`object "nope" not found in bucket ${a}`));
        assert.equal(noBucket.code, Exit.FAILED);
        assert.match(noBucket.stderr, /no such object store bucket "NO_SUCH_BUCKET" \(JetStream error 10059/);
        assert.match(ls.stdout, new RegExp(`│ latest +│ link to ${a} > v1\\.txt +│`));
        assert.match(ls.stdout, new RegExp(`│ everything-b +│ link to ${b} \\(whole bucket\\) +│`));
      });
    });
  }
});
