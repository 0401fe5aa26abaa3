// File store only: what must survive a restart, and what the block files look like afterwards.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import {
  FileStore,
  type FileStoreOptions,
  MemoryStore,
  type MessageStore,
} from "../../../src/jetstream/store/index.js";
import { removeDir, tempDir } from "./helpers.js";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

/** Everything observable about a store, for before/after comparisons. */
function snapshot(s: MessageStore) {
  const msgs = [];
  for (let m = s.getNext(0); m !== undefined; m = s.getNext(m.seq + 1)) {
    // What a reader sees, not where the bytes lie (a block window here, one array per message in memory).
    msgs.push({
      seq: m.seq,
      subject: m.subject,
      time: m.time,
      subNs: m.subNs,
      timeNs: m.timeNs,
      headers: m.headers && Buffer.from(m.headers),
      data: Buffer.from(m.data),
      ttlMs: m.ttlMs,
    });
  }
  return {
    state: s.state({ deletedDetails: true }),
    subjects: Object.fromEntries(s.subjectsState()),
    msgs,
    next: s.nextExpiry(),
    queries: ["r.1.*", "r.>", "r.*.2", "s.3"].map((f) => [
      s.numPending(s.state().firstSeq + 5, f),
      s.numPending(1, f, true),
      s.nextSeq(s.state().firstSeq + 7, f),
      s.lastSeqsBySubject(f).join(","),
    ]),
  };
}

function blockFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(".blk"));
}

function dirBytes(dir: string): number {
  return blockFiles(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}

describe("file store: persistence", () => {
  let dir = "";
  const open: MessageStore[] = [];
  const reopen = async (opts: Partial<FileStoreOptions> = {}) => {
    const s = await FileStore.open({ blockSize: 4096, ...opts, dir });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => {});
    await removeDir(dir);
  });

  it("reopens with every message, delete, subject and TTL intact", async () => {
    dir = await tempDir();
    let s = await reopen();
    for (let i = 1; i <= 300; i++) {
      const hdr = i % 2 === 0 ? bytes(`NATS/1.0\r\nI: ${i}\r\n\r\n`) : undefined;
      s.appendSync(`s.${i % 5}`, hdr, bytes(`payload-${i}-${"x".repeat(i % 50)}`), {
        ttlMs: i % 100 === 0 ? 3_600_000 : i === 7 ? -1 : undefined,
      });
    }
    await s.flush();
    s.remove(10);
    s.remove(11, { erase: true });
    s.remove(300);
    s.purge({ subject: "s.3" });
    await s.flush();
    const before = snapshot(s);
    assert.equal(before.state.lastSeq, 300);
    assert.equal(s.problems().length, 0);
    await s.close();
    s = await reopen();
    assert.deepEqual(snapshot(s), before);
    assert.deepEqual(s.problems(), []);
    assert.equal((await s.append("s.1", undefined, bytes("next"))).seq, 301);
  });

  it("keeps the sequence across purge, compact, deleting the last message and first_seq", async () => {
    dir = await tempDir();
    let s = await reopen({ firstSeq: 50 });
    await s.close();
    s = await reopen({ firstSeq: 1 });
    assert.deepEqual([s.state().firstSeq, s.state().lastSeq], [50, 49], "first_seq of a new store persists");
    for (let i = 0; i < 20; i++) s.appendSync("a", undefined, bytes(`${i}`));
    s.purge();
    await s.close();
    s = await reopen();
    assert.deepEqual([s.state().messages, s.state().firstSeq, s.state().lastSeq], [0, 70, 69]);
    assert.ok(s.state().lastTimeNs > 0n, "last timestamp survives a purge");
    assert.equal((await s.append("a", undefined, bytes("x"))).seq, 70);
    s.compact(1000);
    await s.close();
    s = await reopen();
    assert.deepEqual([s.state().firstSeq, s.state().lastSeq], [1000, 999]);
    await s.append("a", undefined, bytes("1000"));
    await s.append("a", undefined, bytes("1001"));
    s.remove(1001);
    await s.close();
    s = await reopen();
    assert.deepEqual([s.state().messages, s.state().firstSeq, s.state().lastSeq], [1, 1000, 1001]);
    s.remove(1000);
    await s.close();
    s = await reopen();
    assert.deepEqual([s.state().messages, s.state().firstSeq, s.state().lastSeq], [0, 1002, 1001]);
    assert.equal((await s.append("a", undefined, bytes("x"))).seq, 1002);
  });

  it("unlinks emptied blocks and rewrites mostly-deleted ones", async () => {
    dir = await tempDir();
    let s = await reopen();
    const data = (i: number) => bytes(`${i}:${"d".repeat(90)}`);
    for (let i = 1; i <= 2000; i++) s.appendSync(`k.${i % 10}`, undefined, data(i));
    await s.flush();
    const files = blockFiles(dir).length;
    assert.ok(files > 40, `${files} blocks`);
    s.setLimits({ maxMsgs: 1000 });
    await s.flush();
    await s.flush();
    assert.ok(blockFiles(dir).length < files * 0.6, "blocks of evicted messages are gone");
    const sizeBefore = dirBytes(dir);
    for (let i = 1001; i <= 1900; i++) if (i % 4 !== 0) s.remove(i);
    await s.flush();
    await s.flush();
    assert.ok(dirBytes(dir) < sizeBefore * 0.5, `rewritten: ${dirBytes(dir)} < ${sizeBefore}/2`);
    const check = (st: MessageStore) => {
      for (let i = 1001; i <= 2000; i++) {
        const m = st.get(i);
        if (i <= 1900 && i % 4 !== 0) assert.equal(m, undefined);
        else assert.equal(Buffer.from(m!.data).toString(), `${i}:${"d".repeat(90)}`);
      }
    };
    check(s);
    const before = snapshot(s);
    await s.close();
    s = await reopen();
    check(s);
    assert.deepEqual(snapshot(s), before);
    assert.deepEqual(s.problems(), []);
  });

  it("erase scrubs the payload bytes from disk", async () => {
    dir = await tempDir();
    const s = await reopen();
    for (let i = 0; i < 100; i++) s.appendSync("x", undefined, bytes(`filler-${i}`));
    const { seq } = s.appendSync("x", undefined, bytes("TOP-SECRET-PAYLOAD"));
    s.appendSync("x", undefined, bytes("after"));
    const { seq: kept } = s.appendSync("x", undefined, bytes("KEEP-SECRET"));
    await s.flush();
    const onDisk = () => blockFiles(dir).map((f) => readFileSync(path.join(dir, f)).toString("latin1"));
    assert.ok(onDisk().some((t) => t.includes("TOP-SECRET-PAYLOAD")));
    s.remove(seq, { erase: true });
    s.remove(kept);
    await s.flush();
    await s.flush();
    assert.ok(!onDisk().some((t) => t.includes("TOP-SECRET-PAYLOAD")), "erased");
    assert.ok(
      onDisk().some((t) => t.includes("KEEP-SECRET")),
      "plain delete leaves bytes until compaction",
    );
    assert.equal(Buffer.from(s.get(seq + 1)!.data).toString(), "after");
    await s.close();
    const again = await reopen();
    assert.deepEqual(again.problems(), [], "an erased record is not damage");
    assert.equal(again.get(seq), undefined);
    assert.equal(again.state().messages, 101);
  });

  it("works with relaxed syncing (sync interval)", async () => {
    dir = await tempDir();
    let s = await reopen({ syncIntervalMs: 20 });
    for (let i = 0; i < 500; i++) await s.append("r", undefined, bytes(`${i}`));
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    s = await reopen();
    assert.equal(s.state().messages, 500);
    assert.equal(Buffer.from(s.get(500)!.data).toString(), "499");
  });

  it("serves reads of records still being written", async () => {
    dir = await tempDir();
    const s = await reopen({ readCacheBytes: 0 });
    const a = s.appendSync("w", undefined, bytes("in-flight"));
    assert.equal(Buffer.from(s.get(a.seq)!.data).toString(), "in-flight");
    const p = s.flush();
    const b = s.appendSync("w", undefined, bytes("queued"));
    assert.equal(Buffer.from(s.get(b.seq)!.data).toString(), "queued");
    await p;
    await s.flush();
    assert.equal(Buffer.from(s.get(a.seq)!.data).toString(), "in-flight");
    assert.equal(Buffer.from(s.get(b.seq)!.data).toString(), "queued");
  });

  it("erases and compacts the same block in one turn", async () => {
    dir = await tempDir();
    let s = await reopen();
    for (let i = 1; i <= 300; i++)
      s.appendSync("e", undefined, bytes(`${i === 21 ? "ERASE-ME" : "keep"}-${i}`));
    await s.flush();
    for (let i = 2; i <= 40; i++) if (i % 5 !== 0) s.remove(i, { erase: i === 21 });
    await s.flush();
    await s.flush();
    const onDisk = blockFiles(dir).map((f) => readFileSync(path.join(dir, f)).toString("latin1"));
    assert.ok(!onDisk.some((t) => t.includes("ERASE-ME")));
    assert.equal(Buffer.from(s.get(25)!.data).toString(), "keep-25");
    await s.close();
    s = await reopen();
    assert.deepEqual(s.problems(), []);
    assert.equal(Buffer.from(s.get(25)!.data).toString(), "keep-25");
    assert.equal(s.get(24), undefined);
  });

  it("acknowledges a delete only once an emptied block is gone", async () => {
    dir = await tempDir();
    const s = await reopen();
    for (let i = 1; i <= 200; i++) s.appendSync("u", undefined, bytes(`${i}-${"u".repeat(100)}`));
    await s.flush();
    const first = blockFiles(dir)[0];
    for (let i = 1; i <= 200 && blockFiles(dir).includes(first); i++) {
      s.remove(i);
      await s.flush();
    }
    assert.ok(!blockFiles(dir).includes(first));
  });

  for (const start of [12345, 777, 4242]) {
    it(`matches the memory store under a random mix of operations, across reopens (seed ${start})`, async () => {
      dir = await tempDir();
      let seed = start;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const mem = new MemoryStore();
      let file = await reopen({ blockSize: 2048 });
      let t = 1_700_000_000_000_000_000n;
      for (let round = 0; round < 8; round++) {
        for (let op = 0; op < 500; op++) {
          const r = rand(100);
          if (r < 60) {
            const subject = `r.${rand(12)}.${rand(3)}`;
            const hdr = rand(4) === 0 ? bytes(`NATS/1.0\r\nX: ${rand(1000)}\r\n\r\n`) : undefined;
            const data = bytes("d".repeat(rand(300)));
            t += 1_000_000n;
            const opts = { timeNs: t, ttlMs: rand(10) === 0 ? 5000 : undefined };
            assert.deepEqual(
              file.appendSync(subject, hdr, data, opts),
              mem.appendSync(subject, hdr, data, opts),
            );
          } else if (r < 85) {
            const seq = mem.state().firstSeq + rand(mem.state().lastSeq - mem.state().firstSeq + 1);
            const erase = rand(3) === 0;
            assert.equal(file.remove(seq, { erase }), mem.remove(seq, { erase }));
          } else if (r < 89) {
            const subject = `r.${rand(12)}.*`;
            assert.equal(file.purge({ subject }), mem.purge({ subject }));
          } else if (r < 92) {
            const keep = rand(50);
            assert.equal(file.purge({ keep }), mem.purge({ keep }));
          } else if (r < 94) {
            const seq = mem.state().firstSeq + rand(20);
            assert.equal(file.compact(seq), mem.compact(seq));
          } else if (r < 96) {
            const limits = { maxMsgsPerSubject: 1 + rand(8) };
            assert.equal(file.setLimits(limits), mem.setLimits(limits));
          } else if (r < 97) {
            assert.equal(file.purge(), mem.purge());
          } else if (r < 98) {
            const now = Number(t / 1_000_000n) + rand(8000);
            assert.deepEqual(file.expireDue(now), mem.expireDue(now));
          } else {
            await file.flush();
          }
        }
        await file.flush();
        assert.deepEqual(snapshot(file), snapshot(mem), `round ${round}`);
        await file.close();
        file = await reopen({ blockSize: 2048 });
        assert.deepEqual(file.problems(), []);
        const a = snapshot(file);
        assert.deepEqual(a, snapshot(mem), `round ${round} after reopen`);
      }
    });
  }
});
