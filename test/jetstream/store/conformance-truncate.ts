// Conformance for `truncate`: run against every MessageStore implementation, like conformance.ts.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  type MessageStore,
  messageSize,
  type RemovedMessage,
  StoreError,
} from "../../../src/jetstream/store/index.js";
import type { StoreHarness } from "./conformance.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Append `n` messages on subjects s.0 .. s.(mod-1), payload "p<seq>". */
async function fill(s: MessageStore, n: number, mod = 2): Promise<void> {
  for (let i = 0; i < n; i++) {
    const seq = s.state().lastSeq + 1;
    s.appendSync(`s.${seq % mod}`, undefined, bytes(`p${seq}`));
  }
  await s.flush();
}

/** Everything a reader can see, for comparing a store with what it should hold. */
function snapshot(s: MessageStore) {
  const msgs: string[] = [];
  for (let m = s.getNext(0); m !== undefined; m = s.getNext(m.seq + 1)) {
    msgs.push(`${m.seq}:${m.subject}:${text(m.data)}`);
  }
  const st = s.state({ deletedDetails: true });
  return { st, msgs, subjects: [...s.subjectsState()].sort(), lastPer: s.lastSeqsBySubject() };
}

function rejectsWith(fn: () => unknown, code: StoreError["code"]): void {
  assert.throws(fn, (err: unknown) => err instanceof StoreError && err.code === code);
}

export function truncateConformance(h: StoreHarness): void {
  describe(`${h.name}: truncate`, () => {
    afterEach(() => h.cleanup());

    it("removes the tail and makes seq the last sequence", async () => {
      const s = await h.create();
      await fill(s, 10);
      const removed: RemovedMessage[] = [];
      s.onRemoved((r) => removed.push(r));
      assert.equal(s.truncate(6), 4);
      assert.deepEqual(
        removed.map((r) => `${r.seq}:${r.subject}:${r.reason}`),
        ["7:s.1:truncate", "8:s.0:truncate", "9:s.1:truncate", "10:s.0:truncate"],
      );
      const st = s.state();
      assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.numDeleted], [1, 6, 6, 0]);
      assert.equal(st.bytes, 6 * messageSize(3, 0, 2));
      assert.equal(st.lastTimeNs, s.get(6)?.timeNs);
      assert.deepEqual([...s.subjectsState()].sort(), [
        ["s.0", 3],
        ["s.1", 3],
      ]);
      assert.equal(s.get(7), undefined);
      assert.equal(s.nextSeq(7), 0);
      assert.equal(s.getLastBySubject("s.1")?.seq, 5);
      assert.equal(s.getLastBySubject("s.*")?.seq, 6);
      assert.deepEqual(s.lastSeqsBySubject(), [5, 6]);
      assert.equal(s.numPending(1, "s.1"), 3);
      assert.equal(s.numPending(1), 6);
      // Sequences continue right after the truncate point.
      const r = s.appendSync("s.9", undefined, bytes("again"));
      assert.equal(r.seq, 7);
      assert.equal(text(s.get(7)?.data), "again");
      assert.equal(s.getLastBySubject("s.9")?.seq, 7);
      assert.deepEqual(s.lastSeqsBySubject("s.*"), [5, 6, 7]);
      await s.flush();
    });

    it("does nothing at or past the last sequence and refuses bad arguments", async () => {
      const s = await h.create();
      await fill(s, 3);
      const before = snapshot(s);
      assert.equal(s.truncate(3), 0);
      assert.equal(s.truncate(99), 0);
      assert.deepEqual(snapshot(s), before);
      rejectsWith(() => s.truncate(-1), "INVALID_ARGUMENT");
      rejectsWith(() => s.truncate(1.5), "INVALID_ARGUMENT");
      rejectsWith(() => s.truncate(Number.NaN), "INVALID_ARGUMENT");
      await s.close();
      rejectsWith(() => s.truncate(1), "CLOSED");
    });

    it("keeps interior deletes and takes the time of the newest message left", async () => {
      const s = await h.create();
      await fill(s, 12, 3);
      s.remove(3);
      s.remove(8);
      s.remove(10);
      assert.equal(s.truncate(8), 3, "9, 11 and 12 were live");
      const st = s.state({ deletedDetails: true });
      assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.numDeleted], [1, 8, 6, 2]);
      assert.deepEqual(st.deleted, [3, 8]);
      assert.equal(st.lastTimeNs, s.get(7)?.timeNs);
      assert.equal(s.appendSync("x", undefined, bytes("9")).seq, 9);
      assert.equal(s.state().numDeleted, 2);
      await s.flush();
    });

    it("below every message empties the store and rewinds its sequence", async () => {
      const s = await h.create({ firstSeq: 100 });
      await fill(s, 5);
      assert.equal(s.truncate(50), 5);
      const st = s.state();
      assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.bytes, st.numSubjects], [51, 50, 0, 0, 0]);
      assert.equal(st.lastTimeNs, 0n);
      assert.equal(s.appendSync("a", undefined, bytes("x")).seq, 51);
      assert.equal(s.truncate(0), 1);
      const empty = s.state();
      assert.deepEqual([empty.firstSeq, empty.lastSeq, empty.messages], [0, 0, 0]);
      assert.equal(s.appendSync("a", undefined, bytes("y")).seq, 1);
      await s.flush();
    });

    it("drops the TTLs of removed messages, also when their sequences are used again", async () => {
      const s = await h.create();
      const now = Date.now();
      s.appendSync("a", undefined, bytes("1"));
      s.appendSync("a", undefined, bytes("2"), { ttlMs: 60_000 });
      s.appendSync("a", undefined, bytes("3"), { ttlMs: 1000 });
      s.appendSync("a", undefined, bytes("4"), { ttlMs: 500 });
      s.truncate(2);
      assert.equal(s.nextExpiry(), (s.get(2)?.time ?? 0) + 60_000);
      s.appendSync("b", undefined, bytes("3 again"));
      s.appendSync("b", undefined, bytes("4 again"));
      assert.deepEqual(s.expireDue(now + 5000), [], "the old deadlines of 3 and 4 are gone");
      assert.equal(s.state().messages, 4);
      assert.equal(s.get(3)?.ttlMs, undefined);
      await s.flush();
    });

    it("keeps limits and per-subject state working afterwards", async () => {
      const s = await h.create();
      for (let i = 1; i <= 20; i++) s.appendSync(i % 2 === 0 ? "kv.a" : "kv.b", undefined, bytes(`${i}`));
      s.truncate(11);
      assert.equal(s.setLimits({ maxMsgsPerSubject: 2 }), 7);
      assert.deepEqual(s.lastSeqsBySubject(), [10, 11]);
      assert.deepEqual([...s.subjectsState()].sort(), [
        ["kv.a", 2],
        ["kv.b", 2],
      ]);
      s.appendSync("kv.a", undefined, bytes("12"));
      assert.deepEqual(s.subjectsState("kv.a").get("kv.a"), 2);
      assert.equal(s.getLastBySubject("kv.a")?.seq, 12);
      assert.equal(s.purge({ subject: "kv.b" }), 2);
      assert.equal(s.state().messages, 2);
      await s.flush();
    });

    it("truncates long streams, again and again, with the same result as never having had the tail", async () => {
      const s = await h.create();
      await fill(s, 3000, 7);
      for (const q of [17, 555, 1001, 2020]) s.remove(q);
      s.truncate(2500);
      await fill(s, 300, 7);
      s.truncate(1200);
      await fill(s, 50, 7);
      s.truncate(1000);
      await fill(s, 10, 7);
      // The reference: the same history without the tails that were cut off.
      const ref = await h.create();
      await fill(ref, 1010, 7);
      for (const q of [17, 555]) ref.remove(q);
      const a = snapshot(s);
      const b = snapshot(ref);
      assert.deepEqual(a.msgs, b.msgs);
      assert.deepEqual(a.subjects, b.subjects);
      assert.deepEqual(a.lastPer, b.lastPer);
      assert.deepEqual(
        [a.st.firstSeq, a.st.lastSeq, a.st.messages, a.st.bytes, a.st.deleted],
        [1, 1010, 1008, b.st.bytes, [17, 555]],
      );
    });

    it("is durable once flushed", { skip: h.reopen === undefined }, async () => {
      let s = await h.create();
      await fill(s, 2000, 5);
      s.remove(1500);
      s.remove(1000);
      s.truncate(1500);
      s.appendSync("after", undefined, bytes("1501"));
      s.truncate(1200);
      await s.flush();
      const before = snapshot(s);
      s = await (h.reopen as NonNullable<StoreHarness["reopen"]>)(s);
      assert.deepEqual(snapshot(s), before);
      assert.deepEqual(s.problems(), []);
      assert.equal(s.appendSync("x", undefined, bytes("y")).seq, 1201);
      s.truncate(0);
      await s.flush();
      s = await (h.reopen as NonNullable<StoreHarness["reopen"]>)(s);
      assert.deepEqual([s.state().firstSeq, s.state().lastSeq, s.state().messages], [0, 0, 0]);
      assert.equal(s.appendSync("x", undefined, bytes("y")).seq, 1);
      await s.flush();
    });
  });
}
