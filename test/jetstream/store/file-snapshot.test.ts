// The index snapshot written at a clean close: the next open loads it instead of scanning, ends up in the
// same state, and never trusts it once the blocks changed (damage is then found by the scan as before).

import assert from "node:assert/strict";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { FileStore, type MessageStore } from "../../../src/jetstream/store/index.js";
import { removeDir, tempDir } from "./helpers.js";

const SNAP = "index.snap";
const payload = (seq: number) => `snap-${seq}-${"q".repeat(seq % 31)}`;
const subject = (seq: number) => `s.${seq % 7}`;

function fill(s: MessageStore, n: number): void {
  for (let i = 1; i <= n; i++)
    s.appendSync(subject(i), undefined, Buffer.from(payload(i)), i % 50 === 0 ? { ttlMs: -1 } : undefined);
}

function sameState(a: MessageStore, b: MessageStore): void {
  const sa = a.state({ deletedDetails: true });
  const sb = b.state({ deletedDetails: true });
  assert.deepEqual(sb, sa);
  assert.deepEqual([...b.subjectsState()].sort(), [...a.subjectsState()].sort());
  for (let m = a.getNext(0); m !== undefined; m = a.getNext(m.seq + 1)) {
    const n = b.get(m.seq);
    assert.ok(n !== undefined, `seq ${m.seq}`);
    assert.equal(n.subject, m.subject);
    assert.equal(n.timeNs, m.timeNs);
    assert.equal(n.ttlMs, m.ttlMs);
    assert.equal(Buffer.from(n.data).toString(), Buffer.from(m.data).toString());
  }
}

describe("file store: index snapshot", () => {
  let dir = "";
  const open: MessageStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    await removeDir(dir);
    await removeDir(`${dir}-copy`);
  });
  const openStore = async () => {
    const s = await FileStore.open({ dir, blockSize: 8 * 1024 });
    open.push(s);
    return s;
  };

  it("is written at close, consumed at open, and restores the same state", async () => {
    dir = await tempDir();
    const a = await openStore();
    fill(a, 1500);
    for (let seq = 3; seq < 1500; seq += 11) a.remove(seq);
    a.purge({ seq: 40 });
    await a.flush();
    await a.close();
    assert.ok(existsSync(path.join(dir, SNAP)), "snapshot written at a clean close");

    // The same blocks without the snapshot: a store rebuilt by scanning, to compare with.
    const copy = `${dir}-copy`;
    cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith(SNAP) });
    const b = await openStore();
    assert.ok(!existsSync(path.join(dir, SNAP)), "snapshot removed once read");
    assert.deepEqual(b.problems(), []);
    const scanned = await FileStore.open({ dir: copy, blockSize: 8 * 1024 });
    open.push(scanned);
    assert.deepEqual(scanned.problems(), []);
    sameState(scanned, b);
    assert.equal(b.appendSync("s.new", undefined, Buffer.from("after")).seq, 1501);
  });

  it("restores state that then works like a scanned store", async () => {
    dir = await tempDir();
    const a = await openStore();
    fill(a, 400);
    a.remove(10);
    await a.close();
    const b = await openStore();
    assert.equal(b.state().messages, 399);
    assert.equal(b.get(10), undefined);
    assert.equal(Buffer.from(b.get(11)?.data ?? []).toString(), payload(11));
    assert.equal(b.getLastBySubject(subject(400))?.seq, 400);
    b.remove(11);
    const r = await b.append("s.x", undefined, Buffer.from("y"));
    assert.equal(r.seq, 401);
    await b.close();
    const c = await openStore();
    assert.equal(c.get(11), undefined);
    assert.equal(c.state().messages, 399);
    assert.equal(c.state().lastSeq, 401);
  });

  it("is ignored when a block was damaged after it was written", async () => {
    dir = await tempDir();
    const a = await openStore();
    fill(a, 300);
    await a.close();
    assert.ok(existsSync(path.join(dir, SNAP)));
    // Flip one payload byte: same size, and possibly the same mtime tick.
    const blk = readdirSync(dir)
      .filter((n) => n.endsWith(".blk"))
      .sort()[0];
    const file = path.join(dir, blk);
    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from(payload(5)));
    assert.ok(at > 0);
    bytes[at + 2] ^= 0xff;
    writeFileSync(file, bytes);
    const b = await openStore();
    assert.ok(
      b.problems().some((p) => p.kind === "corrupt"),
      "the scan reports the damage at open",
    );
    assert.equal(b.get(5), undefined, "a damaged record is never served");
    assert.equal(Buffer.from(b.get(6)?.data ?? []).toString(), payload(6));
  });

  it("is not written when the store is deleted", async () => {
    dir = await tempDir();
    const a = await FileStore.open({ dir: path.join(dir, "s") });
    fill(a, 10);
    await a.delete();
    assert.ok(!existsSync(path.join(dir, "s")));
  });
});
