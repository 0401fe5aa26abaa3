// The store conformance suite: written once, run against every MessageStore implementation.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  type MessageStore,
  messageSize,
  type RemovedMessage,
  StoreError,
  type StoreLimits,
} from "../../../src/jetstream/store/index.js";

export interface StoreHarness {
  name: string;
  create(opts?: { firstSeq?: number; limits?: StoreLimits }): Promise<MessageStore>;
  /** Close a store `create` made and open it again from what it left (stores that persist only). */
  reopen?(store: MessageStore): Promise<MessageStore>;
  /** Remove whatever `create` made (called after every test). */
  cleanup(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : dec.decode(b));

function size(subject: string, data: string, headers = ""): number {
  return messageSize(subject.length, headers.length, data.length);
}

async function fill(s: MessageStore, subjects: string[]): Promise<void> {
  for (const [i, subj] of subjects.entries()) s.appendSync(subj, undefined, bytes(`m${i + 1}`));
  await s.flush();
}

function rejectsWith(fn: () => unknown, code: StoreError["code"]): void {
  assert.throws(fn, (err: unknown) => err instanceof StoreError && err.code === code);
}

export function storeConformance(h: StoreHarness): void {
  describe(`${h.name}: store conformance`, () => {
    afterEach(() => h.cleanup());

    it("appends and gets messages with headers, data and timestamps", async () => {
      const s = await h.create();
      const before = Date.now();
      const hdr = bytes("NATS/1.0\r\nA: b\r\n\r\n");
      const r1 = await s.append("a.b", hdr, bytes("one"));
      const payload = bytes("two");
      const r2 = s.appendSync("a.c", undefined, payload);
      payload[0] = 0x58; // the store copied it
      await s.flush();
      assert.equal(r1.seq, 1);
      assert.equal(r2.seq, 2);
      assert.ok(r2.timeNs >= r1.timeNs, "timestamps never go backwards");
      const m1 = s.get(1)!;
      assert.equal(m1.subject, "a.b");
      assert.equal(text(m1.headers), "NATS/1.0\r\nA: b\r\n\r\n");
      assert.equal(text(m1.data), "one");
      assert.equal(m1.timeNs, r1.timeNs);
      assert.equal(m1.time, Number(r1.timeNs / 1_000_000n));
      assert.ok(m1.time >= before - 1 && m1.time <= Date.now() + 1);
      const m2 = s.get(2)!;
      assert.equal(m2.headers, undefined);
      assert.equal(text(m2.data), "two");
      assert.equal(s.get(3), undefined);
      assert.equal(s.get(0), undefined);
      const empty = await s.append("e", bytes(""), bytes(""));
      assert.equal(s.get(empty.seq)?.data.length, 0);
      // An empty header block is no header block (as in nats-server, where a zero-length one is absent).
      assert.equal(s.get(empty.seq)?.headers, undefined);
    });

    it("keeps explicit timestamps and sequences (mirrors) and refuses going back", async () => {
      const s = await h.create();
      const t = 1_700_000_000_123_456_789n;
      await s.append("m", undefined, bytes("x"), { seq: 10, timeNs: t });
      assert.equal(s.get(10)?.timeNs, t);
      assert.equal(s.get(10)?.time, 1_700_000_000_123);
      assert.deepEqual(
        [s.state().firstSeq, s.state().lastSeq, s.state().numDeleted],
        [10, 10, 0],
        "a gap before the first message is not a deletion",
      );
      await s.append("m", undefined, bytes("y"), { seq: 15 });
      assert.equal(s.state().numDeleted, 4);
      rejectsWith(() => s.appendSync("m", undefined, bytes("z"), { seq: 15 }), "BAD_SEQUENCE");
      assert.equal((await s.append("m", undefined, bytes("z"))).seq, 16);
    });

    it("reports stream state", async () => {
      const s = await h.create();
      assert.deepEqual(
        { ...s.state(), lastTimeNs: 0n },
        {
          messages: 0,
          bytes: 0,
          firstSeq: 0,
          firstTime: 0,
          firstTimeNs: 0n,
          lastSeq: 0,
          lastTime: 0,
          lastTimeNs: 0n,
          numSubjects: 0,
          numDeleted: 0,
        },
      );
      await fill(s, ["a", "b", "a", "c"]);
      const st = s.state();
      assert.equal(st.messages, 4);
      assert.equal(st.bytes, size("a", "m1") * 4);
      assert.equal(st.firstSeq, 1);
      assert.equal(st.lastSeq, 4);
      assert.equal(st.numSubjects, 3);
      assert.equal(st.firstTimeNs, s.get(1)?.timeNs);
      assert.equal(st.lastTimeNs, s.get(4)?.timeNs);
      assert.equal(st.firstTime, s.get(1)?.time);
    });

    it("starts at a configured first sequence", async () => {
      const s = await h.create({ firstSeq: 100 });
      assert.deepEqual([s.state().firstSeq, s.state().lastSeq], [100, 99]);
      assert.equal((await s.append("x", undefined, bytes("1"))).seq, 100);
    });

    it("deletes messages, tracking first/last sequence and deleted details", async () => {
      const s = await h.create();
      await fill(s, ["a", "b", "c", "d", "e"]);
      const seen: RemovedMessage[] = [];
      s.onRemoved((r) => seen.push(r));
      assert.equal(s.remove(3), true);
      assert.equal(s.remove(3), false);
      assert.equal(s.remove(99), false);
      assert.equal(s.get(3), undefined);
      assert.deepEqual(seen, [{ seq: 3, subject: "c", reason: "delete" }]);
      let st = s.state({ deletedDetails: true });
      assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numDeleted], [4, 1, 5, 1]);
      assert.deepEqual(st.deleted, [3]);
      assert.equal(st.numSubjects, 4);
      s.remove(1);
      s.remove(5, { erase: true });
      await s.flush();
      st = s.state({ deletedDetails: true });
      assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numDeleted], [2, 2, 5, 2]);
      assert.deepEqual(st.deleted, [3, 5]);
      assert.equal(s.getNext(3)?.seq, 4);
      s.remove(2);
      s.remove(4);
      st = s.state();
      assert.deepEqual([st.messages, st.bytes, st.firstSeq, st.lastSeq, st.numDeleted], [0, 0, 6, 5, 0]);
      assert.equal((await s.append("f", undefined, bytes("6"))).seq, 6);
    });

    it("purges everything, by subject, up to a sequence and keeping the newest", async () => {
      const s = await h.create();
      await fill(s, ["a.1", "b.1", "a.2", "b.2", "a.1", "c"]);
      assert.equal(s.purge({ subject: "a.*" }), 3);
      assert.deepEqual([...s.subjectsState().keys()].sort(), ["b.1", "b.2", "c"]);
      assert.equal(s.purge({ subject: "nothing" }), 0);
      assert.equal(s.purge({ seq: 4 }), 1, "removes seq 2 only");
      assert.equal(s.state().firstSeq, 4);
      assert.equal(s.purge({ keep: 1 }), 1);
      assert.deepEqual([s.state().messages, s.state().firstSeq], [1, 6]);
      assert.equal(s.purge(), 1);
      const st = s.state();
      assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numSubjects], [0, 7, 6, 0]);
      assert.equal((await s.append("x", undefined, bytes("7"))).seq, 7);
      assert.equal(s.get(7)?.subject, "x");
      rejectsWith(() => s.purge({ seq: 3, keep: 1 }), "INVALID_ARGUMENT");
    });

    it("purges by subject with keep and with seq", async () => {
      const s = await h.create();
      await fill(s, ["k.a", "k.b", "k.a", "k.b", "k.a", "z"]);
      assert.equal(s.purge({ subject: "k.>", keep: 2 }), 3, "keeps the two newest matching");
      assert.deepEqual(s.lastSeqsBySubject(), [4, 5, 6]);
      assert.equal(s.purge({ subject: "k.a", seq: 5 }), 0);
      assert.equal(s.purge({ subject: "k.>", seq: 5 }), 1);
      assert.deepEqual(s.lastSeqsBySubject(), [5, 6]);
      assert.equal(s.purge({ subject: ">" }), 2, "'>' purges all");
    });

    it("compacts below a sequence and past the last one", async () => {
      const s = await h.create();
      await fill(s, ["a", "b", "c", "d", "e"]);
      assert.equal(s.compact(3), 2);
      assert.deepEqual([s.state().firstSeq, s.state().messages], [3, 3]);
      assert.equal(s.compact(3), 0);
      assert.equal(s.compact(100), 3);
      const st = s.state();
      assert.deepEqual([st.messages, st.firstSeq, st.lastSeq], [0, 100, 99]);
      assert.equal((await s.append("x", undefined, bytes("1"))).seq, 100);
    });

    it("enforces max messages and max bytes by discarding old", async () => {
      const s = await h.create({ limits: { maxMsgs: 3 } });
      const seen: RemovedMessage[] = [];
      s.onRemoved((r) => seen.push(r));
      await fill(s, ["a", "b", "c", "d", "e"]);
      assert.deepEqual([s.state().messages, s.state().firstSeq], [3, 3]);
      assert.deepEqual(
        seen.map((r) => [r.seq, r.reason]),
        [
          [1, "limit"],
          [2, "limit"],
        ],
      );
      const one = size("a", "m1");
      assert.equal(s.setLimits({ maxBytes: one * 2 }), 1);
      assert.deepEqual([s.state().messages, s.state().bytes], [2, one * 2]);
      rejectsWith(() => s.appendSync("big", undefined, new Uint8Array(one * 3)), "MAX_BYTES");
      assert.equal(s.state().lastSeq, 5, "a refused message takes no sequence");
    });

    it("refuses new messages with discard new", async () => {
      const s = await h.create({ limits: { maxMsgs: 2, discard: "new" } });
      await fill(s, ["a", "b"]);
      rejectsWith(() => s.appendSync("c", undefined, bytes("m3")), "MAX_MSGS");
      await assert.rejects(s.append("c", undefined, bytes("m3")), /maximum messages exceeded/);
      assert.deepEqual([s.state().messages, s.state().lastSeq], [2, 2]);
      s.setLimits({ maxBytes: size("a", "m1") * 3, discard: "new" });
      s.appendSync("c", undefined, bytes("m3"));
      rejectsWith(() => s.appendSync("d", undefined, bytes("m4")), "MAX_BYTES");
      s.remove(1);
      assert.equal(s.appendSync("d", undefined, bytes("m4")).seq, 4);
    });

    it("enforces max messages per subject", async () => {
      const s = await h.create({ limits: { maxMsgsPerSubject: 2 } });
      await fill(s, ["k", "k", "j", "k", "j", "k"]);
      assert.deepEqual(Object.fromEntries(s.subjectsState()), { k: 2, j: 2 });
      assert.deepEqual(s.lastSeqsBySubject(), [5, 6]);
      assert.equal(s.getNext(1, "k")?.seq, 4);
      assert.equal(s.setLimits({ maxMsgsPerSubject: 1 }), 2);
      assert.deepEqual(Object.fromEntries(s.subjectsState()), { k: 1, j: 1 });
      s.setLimits({ maxMsgsPerSubject: 1, discard: "new", discardNewPerSubject: true });
      rejectsWith(() => s.appendSync("k", undefined, bytes("x")), "MAX_MSGS_PER_SUBJECT");
      assert.equal(s.appendSync("new", undefined, bytes("x")).seq, 7);
      s.setLimits({ maxMsgsPerSubject: 1, discard: "new" });
      assert.equal(s.appendSync("k", undefined, bytes("x")).seq, 8, "without per-subject discard new: evict");
      assert.equal(s.subjectsState().get("k"), 1);
    });

    it("expires messages past max age", async () => {
      const s = await h.create({ limits: { maxAgeMs: 1000 } });
      await fill(s, ["a", "b", "c"]);
      const t = s.get(1)!.time;
      assert.equal(s.nextExpiry(), t + 1000);
      assert.deepEqual(s.expireDue(t + 500), []);
      const gone = s.expireDue(s.get(3)!.time + 1000);
      assert.deepEqual(
        gone.map((r) => [r.seq, r.subject, r.reason]),
        [
          [1, "a", "max-age"],
          [2, "b", "max-age"],
          [3, "c", "max-age"],
        ],
      );
      assert.equal(s.state().messages, 0);
      assert.equal(s.nextExpiry(), undefined);
    });

    it("expires per-message TTLs; 'never' outlives max age", async () => {
      const s = await h.create({ limits: { maxAgeMs: 10_000 } });
      const seen: RemovedMessage[] = [];
      s.onRemoved((r) => seen.push(r));
      const a = await s.append("t.short", undefined, bytes("1"), { ttlMs: 1000 });
      await s.append("t.long", undefined, bytes("2"), { ttlMs: 60_000 });
      await s.append("t.never", undefined, bytes("3"), { ttlMs: -1 });
      await s.append("t.plain", undefined, bytes("4"));
      const t0 = s.get(a.seq)!.time;
      assert.equal(s.get(1)?.ttlMs, 1000);
      assert.equal(s.get(4)?.ttlMs, undefined);
      assert.equal(s.nextExpiry(), t0 + 1000);
      assert.deepEqual(
        s.expireDue(t0 + 1000).map((r) => [r.seq, r.reason]),
        [[1, "ttl"]],
      );
      assert.deepEqual(seen, [{ seq: 1, subject: "t.short", reason: "ttl" }]);
      const later = s.get(4)!.time + 10_000;
      assert.deepEqual(
        s.expireDue(later).map((r) => [r.seq, r.reason]),
        [[4, "max-age"]],
        "a message with its own TTL is governed by it, not by max age",
      );
      assert.deepEqual(
        s.expireDue(s.get(2)!.time + 60_000).map((r) => [r.seq, r.reason]),
        [[2, "ttl"]],
      );
      assert.deepEqual(s.expireDue(t0 + 10_000_000), []);
      assert.equal(s.get(3)?.subject, "t.never");
      assert.equal(s.nextExpiry(), undefined);
    });

    it("finds the next message matching filters", async () => {
      const s = await h.create();
      await fill(s, ["orders.new", "orders.paid", "users.1", "orders.new", "users.2", "x"]);
      assert.equal(s.getNext(1)?.seq, 1);
      assert.equal(s.getNext(0)?.seq, 1);
      assert.equal(s.getNext(2, "orders.new")?.seq, 4);
      assert.equal(s.getNext(2, "orders.*")?.seq, 2);
      assert.equal(s.getNext(3, "orders.>")?.seq, 4);
      assert.equal(s.getNext(1, "users.*")?.seq, 3);
      assert.equal(s.getNext(1, ">")?.seq, 1);
      assert.equal(s.getNext(5, ["x", "orders.paid"])?.seq, 6);
      assert.equal(s.getNext(1, ["users.2", "orders.paid"])?.seq, 2);
      assert.equal(s.getNext(5, "orders.>"), undefined);
      assert.equal(s.getNext(7), undefined);
      assert.equal(s.nextSeq(1, "nope.*"), 0);
      s.remove(4);
      assert.equal(s.getNext(2, "orders.new"), undefined);
      assert.equal(s.nextSeq(2, "*.new"), 0);
    });

    it("finds sparse filter matches without walking every message", async () => {
      const s = await h.create();
      for (let i = 0; i < 50_000; i++) s.appendSync(`busy.${i % 10}`, undefined, bytes("x"));
      s.appendSync("rare.1", undefined, bytes("y"));
      for (let i = 0; i < 10_000; i++) s.appendSync("busy.0", undefined, bytes("x"));
      s.appendSync("rare.2", undefined, bytes("y"));
      await s.flush();
      const t = performance.now();
      for (let i = 0; i < 1000; i++) {
        assert.equal(s.nextSeq(1, "rare.*"), 50_001);
        assert.equal(s.nextSeq(50_002, "rare.>"), 60_002);
        assert.equal(s.nextSeq(1, "rare.2"), 60_002);
      }
      assert.ok(performance.now() - t < 1000, "3000 sparse lookups take well under a second");
      assert.equal(s.numPending(1, "rare.*"), 2);
    });

    it("counts pending messages per filter", async () => {
      const s = await h.create();
      await fill(s, ["a.1", "a.2", "b.1", "a.1", "b.2", "a.1"]);
      assert.equal(s.numPending(1), 6);
      assert.equal(s.numPending(4), 3);
      assert.equal(s.numPending(7), 0);
      assert.equal(s.numPending(1, "a.1"), 3);
      assert.equal(s.numPending(5, "a.1"), 1);
      assert.equal(s.numPending(1, "a.*"), 4);
      assert.equal(s.numPending(1, ["a.1", "b.>"]), 5);
      assert.equal(s.numPending(1, ["a.1", "a.*"]), 4, "overlapping filters count a message once");
      assert.equal(s.numPending(1, ">"), 6);
      assert.equal(s.numPending(1, undefined, true), 4, "last per subject: 4 subjects");
      assert.equal(s.numPending(5, "a.*", true), 1);
      assert.equal(s.numPending(4, "b.*", true), 1);
      s.remove(6);
      assert.equal(s.numPending(1, "a.1"), 2);
      assert.equal(s.numPending(5), 1);
    });

    it("gets the last message by subject, literal or wildcard, optionally up to a seq", async () => {
      const s = await h.create();
      await fill(s, ["kv.a", "kv.b", "kv.a", "other", "kv.b"]);
      assert.equal(s.getLastBySubject("kv.a")?.seq, 3);
      assert.equal(s.getLastBySubject("kv.*")?.seq, 5);
      assert.equal(s.getLastBySubject(">")?.seq, 5);
      assert.equal(s.getLastBySubject("kv.b", 4)?.seq, 2);
      assert.equal(s.getLastBySubject("kv.>", 4)?.seq, 3);
      assert.equal(s.getLastBySubject(">", 4)?.seq, 4);
      assert.equal(s.getLastBySubject("none"), undefined);
      assert.deepEqual(s.lastSeqsBySubject("kv.*"), [3, 5]);
      assert.deepEqual(s.lastSeqsBySubject(["kv.a", "other"]), [3, 4]);
      assert.deepEqual(s.lastSeqsBySubject("kv.*", 2), [1, 2]);
      s.remove(3);
      assert.equal(s.getLastBySubject("kv.a")?.seq, 1);
    });

    it("stays fast with 100k subjects", async () => {
      const s = await h.create();
      const n = 100_000;
      for (let i = 0; i < n; i++) s.appendSync(`kv.bucket.key${i}`, undefined, bytes(`v${i}`));
      for (let i = 0; i < n; i += 10) s.appendSync(`kv.bucket.key${i}`, undefined, bytes(`w${i}`));
      await s.flush();
      assert.equal(s.state().numSubjects, n);
      let t = performance.now();
      for (let i = 0; i < n; i++) {
        const m = s.getLastBySubject(`kv.bucket.key${i}`)!;
        if (i % 10 === 0) assert.equal(m.seq, n + i / 10 + 1);
        else assert.equal(m.seq, i + 1);
      }
      const perLookupUs = ((performance.now() - t) * 1000) / n;
      assert.ok(perLookupUs < 50, `last-by-subject took ${perLookupUs.toFixed(1)} µs each`);
      t = performance.now();
      assert.equal(s.numPending(1, "kv.bucket.>", true), n);
      assert.equal(s.numPending(1, "kv.bucket.key5"), 1);
      assert.equal(s.subjectsState("kv.bucket.key9*").size, 0);
      assert.equal(s.subjectsState("kv.bucket.*").size, n);
      assert.equal(s.lastSeqsBySubject("kv.>").length, n);
      assert.ok(performance.now() - t < 2000, "wildcard summaries over 100k subjects");
      s.setLimits({ maxMsgsPerSubject: 1 });
      assert.equal(s.state().messages, n);
    });

    it("finds the first sequence at or after a time", async () => {
      const s = await h.create();
      const base = 1_700_000_000_000n * 1_000_000n;
      for (let i = 0; i < 5; i++) {
        s.appendSync("t", undefined, bytes(`${i}`), { timeNs: base + BigInt(i) * 1_000_000_000n });
      }
      const t0 = Number(base / 1_000_000n);
      assert.equal(s.seqForTime(t0 - 1), 1);
      assert.equal(s.seqForTime(t0 + 1500), 3);
      assert.equal(s.seqForTime(t0 + 4000), 5);
      assert.equal(s.seqForTime(t0 + 9000), 6);
    });

    it("refuses to work once closed", async () => {
      const s = await h.create();
      await s.append("a", undefined, bytes("1"));
      await s.close();
      rejectsWith(() => s.appendSync("a", undefined, bytes("2")), "CLOSED");
      rejectsWith(() => s.remove(1), "CLOSED");
      await s.close();
    });
  });
}
