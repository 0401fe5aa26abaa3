// A Raft node's storage on disk: what it wrote comes back; a later entry at an index replaces the tail
// from there; a torn tail from a crash is cut off; damage elsewhere is set aside and reported so the node
// starts with its log marked damaged; snapshots start a new generation or compact old segments.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { RaftStorage } from "../../src/raft/storage.js";
import type { Entry, HardState, Snapshot } from "../../src/raft/types.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "lattice-raft-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: "normal",
  data: Buffer.from(text),
});
const hs = (term: number, commit: number, vote = "a"): HardState => ({
  term,
  vote,
  commit,
  logDamaged: false,
});
const config = { voters: ["a", "b", "c"], learners: [] };
const texts = (es: readonly Entry[]) =>
  es.map((e) => `${e.index}/${e.term}/${Buffer.from(e.data).toString()}`);
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".log"))
    .sort();

describe("raft storage", () => {
  it("reads back the hard state and entries it made durable", async () => {
    const dir = tempDir();
    const { storage, state } = RaftStorage.open(dir);
    assert.equal(state.hardState, undefined);
    assert.deepEqual(state.entries, []);
    await storage.persist({ hardState: hs(1, 0), entries: [entry(1, 1), entry(2, 1)] });
    await storage.persist({ hardState: hs(2, 2, "b"), entries: [entry(3, 2)] });
    storage.close();
    const again = RaftStorage.open(dir).state;
    assert.deepEqual(again.hardState, hs(2, 2, "b"));
    assert.deepEqual(texts(again.entries), ["1/1/e1", "2/1/e2", "3/2/e3"]);
    assert.equal(again.damagedAfter, undefined);
    assert.deepEqual(again.problems, []);
  });

  it("replaces the tail from an entry's index on (a follower's conflict resolved by the leader)", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir);
    await storage.persist({ entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) });
    await storage.persist({ hardState: hs(2, 2), entries: [entry(3, 2, "new3"), entry(4, 2, "new4")] });
    storage.close();
    assert.deepEqual(texts(RaftStorage.open(dir).state.entries), [
      "1/1/e1",
      "2/1/e2",
      "3/2/new3",
      "4/2/new4",
    ]);
  });

  it("cuts off a torn tail left by a crash, and keeps appending after it", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir);
    await storage.persist({ hardState: hs(1, 2), entries: [entry(1, 1), entry(2, 1)] });
    storage.close();
    const seg = join(dir, segments(dir)[0]);
    const whole = readFileSync(seg);
    // Half of a third record, as a crash in the middle of a write leaves it.
    const third = Buffer.from(whole.subarray(0, Math.floor(whole.length / 3)));
    third[0] = 1;
    third[1] = 0xfe;
    appendFileSync(seg, third.subarray(0, 12));
    const reopened = RaftStorage.open(dir);
    assert.deepEqual(texts(reopened.state.entries), ["1/1/e1", "2/1/e2"]);
    assert.equal(reopened.state.damagedAfter, undefined);
    assert.match(reopened.state.problems.join(), /unsynced tail of 12 bytes cut off/);
    assert.equal(readFileSync(seg).length, whole.length);
    await reopened.storage.persist({ entries: [entry(3, 1)] });
    reopened.storage.close();
    assert.deepEqual(texts(RaftStorage.open(dir).state.entries), ["1/1/e1", "2/1/e2", "3/1/e3"]);
  });

  it("sets damaged records aside and marks the log damaged after the last good entry", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir);
    await storage.persist({ hardState: hs(1, 1), entries: [entry(1, 1, "first")] });
    await storage.persist({ entries: [entry(2, 1, "second")] });
    await storage.persist({ hardState: hs(1, 3), entries: [entry(3, 1, "third")] });
    storage.close();
    const name = segments(dir)[0];
    const seg = join(dir, name);
    const bytes = readFileSync(seg);
    const at = bytes.indexOf("second");
    bytes[at] ^= 0xff; // rot in the middle: records follow it
    writeFileSync(seg, bytes);

    const reopened = RaftStorage.open(dir);
    assert.equal(reopened.state.damagedAfter, 1);
    assert.deepEqual(texts(reopened.state.entries), ["1/1/first"]);
    assert.match(reopened.state.problems.join(), /checksum mismatch/);
    assert.ok(readdirSync(dir).includes(`${name}.damaged`), "the damaged segment is kept aside");
    // Writes go on in a new segment; the damage does not come back at the next start.
    await reopened.storage.persist({
      hardState: { ...hs(2, 3), logDamaged: true },
      entries: [entry(2, 2, "repaired2"), entry(3, 2, "repaired3")],
    });
    reopened.storage.close();
    const third = RaftStorage.open(dir).state;
    assert.deepEqual(texts(third.entries), ["1/1/first", "2/2/repaired2", "3/2/repaired3"]);
    assert.equal(third.damagedAfter, undefined);
    assert.equal(third.hardState?.logDamaged, true);
  });

  it("notices entries that are gone from the middle of the log", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir, { segmentBytes: 64 });
    for (let i = 1; i <= 6; i++)
      await storage.persist({ hardState: hs(1, i), entries: [entry(i, 1, "x".repeat(40))] });
    storage.close();
    const segs = segments(dir);
    assert.ok(segs.length >= 3);
    rmSync(join(dir, segs[segs.length - 2])); // a segment lost from the middle
    const state = RaftStorage.open(dir).state;
    assert.equal(state.damagedAfter, 4);
    assert.deepEqual(
      state.entries.map((e) => e.index),
      [1, 2, 3, 4],
    );
    assert.match(state.problems.join(), /log gap: entry 5 missing before 6/);
  });

  it("installs a leader's snapshot as a new generation, and compacts behind its own", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 20; i++) await storage.persist({ entries: [entry(i, 1, "y".repeat(30))] });
    const before = segments(dir).length;
    assert.ok(before > 3);
    const own: Snapshot = { meta: { index: 15, term: 1, config }, data: Buffer.from("state@15") };
    storage.compact(own);
    assert.ok(segments(dir).length < before, "segments wholly behind the snapshot are removed");
    storage.close();
    let state = RaftStorage.open(dir).state;
    assert.equal(Buffer.from(state.snapshot?.data ?? []).toString(), "state@15");
    assert.deepEqual(
      state.entries.map((e) => e.index),
      [16, 17, 18, 19, 20],
    );

    const reopened = RaftStorage.open(dir).storage;
    const leaders: Snapshot = { meta: { index: 40, term: 3, config }, data: Buffer.from("state@40") };
    await reopened.persist({ snapshot: leaders, hardState: hs(3, 40), entries: [entry(41, 3)] });
    reopened.close();
    state = RaftStorage.open(dir).state;
    assert.equal(state.snapshot?.meta.index, 40);
    assert.deepEqual(texts(state.entries), ["41/3/e41"]);
    assert.ok(
      segments(dir).every((n) => n.startsWith("wal-00000001-")),
      "older generations are gone",
    );
  });

  it("sets a damaged snapshot aside; the log alone is then checked for what is missing", async () => {
    const dir = tempDir();
    const { storage } = RaftStorage.open(dir);
    await storage.persist({
      snapshot: { meta: { index: 10, term: 2, config }, data: Buffer.from("s") },
      hardState: hs(2, 11),
      entries: [entry(11, 2)],
    });
    storage.close();
    const snap = join(dir, "snapshot");
    const b = readFileSync(snap);
    b[b.length - 1] ^= 0xff;
    writeFileSync(snap, b);
    const state = RaftStorage.open(dir).state;
    assert.equal(state.snapshot, undefined);
    assert.equal(state.damagedAfter, 0);
    assert.deepEqual(state.entries, []);
    assert.ok(readdirSync(dir).includes("snapshot.damaged"));
  });
});
