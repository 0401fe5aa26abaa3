// Bad disk conditions: an unusable directory, a full disk (simulated by a size limit) and writes that fail
// mid-stream. Callers get a clear StoreError; what was stored before stays intact.

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { FileStore, type MessageStore, StoreError } from "../../../src/jetstream/store/index.js";
import { removeDir, tempDir } from "./helpers.js";

const isRoot = process.getuid?.() === 0;

function isStoreError(code: StoreError["code"], text: RegExp) {
  return (err: unknown) => err instanceof StoreError && err.code === code && text.test(err.message);
}

function intact(s: MessageStore, seqs: number[], body: (seq: number) => string): void {
  for (const seq of seqs) assert.equal(Buffer.from(s.get(seq)!.data).toString(), body(seq), `seq ${seq}`);
}

describe("file store: bad disk conditions", () => {
  let dir = "";
  const open: MessageStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    if (dir) chmodSync(dir, 0o755);
    await removeDir(dir);
  });
  const openStore = async (opts: Partial<Parameters<typeof FileStore.open>[0]> = {}) => {
    const s = await FileStore.open({ blockSize: 4096, ...opts, dir });
    open.push(s);
    return s;
  };

  it("fails to open where the directory cannot be made", async () => {
    dir = await tempDir();
    const file = path.join(dir, "not-a-dir");
    writeFileSync(file, "x");
    await assert.rejects(
      FileStore.open({ dir: path.join(file, "store") }),
      isStoreError("IO", /cannot use store directory .*not-a-dir\/store: ENOTDIR/),
    );
    await assert.rejects(FileStore.open({ dir: file }), isStoreError("IO", /cannot use store directory/));
  });

  it("fails to open a read-only directory", { skip: isRoot && "root ignores permissions" }, async () => {
    dir = await tempDir();
    const ro = path.join(dir, "ro");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    await assert.rejects(FileStore.open({ dir: ro }), isStoreError("IO", /EACCES/));
    chmodSync(ro, 0o755);
  });

  it("refuses appends past the size limit without damage, and recovers when space frees", async () => {
    dir = await tempDir();
    const body = (seq: number) => `${seq}:${"f".repeat(200)}`;
    let s = await openStore({ maxBytesOnDisk: 32 * 1024 });
    const acked: number[] = [];
    let refused: unknown;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      const seq = s.state().lastSeq + 1;
      try {
        await s.append("full", undefined, Buffer.from(body(seq)));
        acked.push(seq);
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(
      isStoreError("STORAGE_FULL", /insufficient storage resources available.*32768 byte limit/)(refused),
      String(refused),
    );
    assert.ok(acked.length > 100);
    const last = acked[acked.length - 1];
    assert.equal(s.state().lastSeq, last, "the refused append took no sequence");
    assert.throws(
      () => s.appendSync("full", undefined, Buffer.from(body(last + 1))),
      isStoreError("STORAGE_FULL", /./),
    );
    s.remove(last - 1, { erase: true }); // deletes still work when full
    await s.flush();
    intact(s, acked.slice(0, -2), body);
    await s.close();
    s = await openStore({ maxBytesOnDisk: 32 * 1024 });
    assert.deepEqual(s.problems(), []);
    intact(s, [...acked.slice(0, -2), last], body);
    assert.equal(s.get(last - 1), undefined);
    s.purge({ seq: last - 20 });
    await s.flush();
    await s.flush();
    const seq = (await s.append("full", undefined, Buffer.from(body(last + 1)))).seq;
    assert.equal(seq, last + 1, "room again once old blocks are gone");
  });

  it("fails appends cleanly when the directory goes away mid-stream, then recovers", async () => {
    dir = await tempDir();
    const store = path.join(dir, "store");
    const away = path.join(dir, "away");
    const body = (seq: number) => `${seq}:${"w".repeat(300)}`;
    let s = await FileStore.open({ dir: store, blockSize: 4096 });
    open.push(s);
    const acked: number[] = [];
    for (let i = 0; i < 30; i++) acked.push((await s.append("w", undefined, Buffer.from(body(i + 1)))).seq);

    // Swap the directory for a file: the open block still works, but a new block cannot be created.
    renameSync(store, away);
    writeFileSync(store, "in the way");
    const failed: number[] = [];
    let error: unknown;
    for (let i = 0; i < 30 && error === undefined; i++) {
      const seq = s.state().lastSeq + 1;
      try {
        await s.append("w", undefined, Buffer.from(body(seq)));
        acked.push(seq);
      } catch (err) {
        error = err;
        failed.push(seq);
      }
    }
    assert.ok(isStoreError("IO", /cannot write to .*store: ENOTDIR/)(error), String(error));
    assert.equal(s.get(failed[0]), undefined, "a failed append is not served");
    assert.ok(s.problems().some((p) => p.kind === "io-error"));

    rmSync(store);
    renameSync(away, store);
    intact(s, acked, body);
    const after = await s.append("w", undefined, Buffer.from(body(failed[0] + 1)));
    assert.ok(after.seq > failed[0]);
    acked.push(after.seq);
    await s.close();

    s = await FileStore.open({ dir: store, blockSize: 4096 });
    open.push(s);
    assert.deepEqual(s.problems(), [], "nothing damaged on disk");
    intact(s, acked, body);
    assert.equal(s.get(failed[0]), undefined);
    assert.equal(s.state().messages, acked.length);
  });

  it("fails appends when the directory becomes read-only", {
    skip: isRoot && "root ignores permissions",
  }, async () => {
    dir = await tempDir();
    const s = await openStore();
    for (let i = 0; i < 10; i++) await s.append("r", undefined, Buffer.from("x".repeat(300)));
    chmodSync(dir, 0o555);
    let error: unknown;
    for (let i = 0; i < 30 && error === undefined; i++) {
      await s.append("r", undefined, Buffer.from("x".repeat(300))).catch((err) => {
        error = err;
      });
    }
    assert.ok(isStoreError("IO", /EACCES/)(error), String(error));
    chmodSync(dir, 0o755);
  });
});
