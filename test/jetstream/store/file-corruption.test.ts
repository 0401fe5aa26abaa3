// Damage done to block files while the store is stopped (or behind its back): detected, reported, never
// served, and everything around it still readable.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import { FileStore, type MessageStore } from "../../../src/jetstream/store/index.js";
import { removeDir, tempDir } from "./helpers.js";

const N = 200;
const payload = (seq: number) => `message-${seq}-${"p".repeat(seq % 40)}`;
const subject = (seq: number) => `c.${seq % 3}`;

function blockPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".blk"))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Every message returned is exactly what was written; returns the sequences that are missing. */
function verify(s: MessageStore, upTo = N): number[] {
  const missing: number[] = [];
  for (let seq = 1; seq <= upTo; seq++) {
    const m = s.get(seq);
    if (m === undefined) {
      missing.push(seq);
      continue;
    }
    assert.equal(m.subject, subject(seq));
    assert.equal(Buffer.from(m.data).toString(), payload(seq));
  }
  return missing;
}

/** Seqs held by each block, read back through a healthy store. */
async function layout(dir: string): Promise<number[][]> {
  const blocks = blockPaths(dir).map((p) => readFileSync(p).toString("latin1"));
  const out: number[][] = blocks.map(() => []);
  for (let seq = 1; seq <= N; seq++) {
    const i = blocks.findIndex((b) => b.includes(payload(seq)));
    out[i].push(seq);
  }
  return out;
}

describe("file store: corruption", () => {
  let dir = "";
  let store: MessageStore | undefined;
  const open = async () => {
    store = await FileStore.open({ dir, blockSize: 2048 });
    return store;
  };
  afterEach(async () => {
    await store?.close().catch(() => {});
    await removeDir(dir);
  });

  async function populate(): Promise<number[][]> {
    dir = await tempDir();
    const s = await open();
    for (let seq = 1; seq <= N; seq++) s.appendSync(subject(seq), undefined, Buffer.from(payload(seq)));
    await s.close();
    const l = await layout(dir);
    assert.ok(l.length >= 5, "several blocks");
    return l;
  }

  it("detects flipped bytes in the middle of a block and serves everything else", async () => {
    const blocks = await populate();
    const victim = blockPaths(dir)[2];
    const buf = readFileSync(victim);
    const mid = buf.length >> 1;
    for (let i = 0; i < 4; i++) buf[mid + i] ^= 0xff;
    writeFileSync(victim, buf);

    const s = await open();
    const problems = s.problems();
    assert.equal(problems.length, 1);
    assert.equal(problems[0].kind, "corrupt");
    assert.equal(problems[0].file, path.basename(victim));
    const missing = verify(s);
    assert.ok(missing.length >= 1 && missing.length <= 2, `lost only the damaged record(s): ${missing}`);
    for (const seq of missing) assert.ok(blocks[2].includes(seq));
    assert.ok(problems[0].afterSeq! < missing[0] && problems[0].beforeSeq! > missing[missing.length - 1]);
    assert.equal(s.state().messages, N - missing.length);
    assert.equal(s.getNext(missing[0])?.seq, missing[missing.length - 1] + 1);
    assert.equal((await s.append("c.0", undefined, Buffer.from("more"))).seq, N + 1);
  });

  it("detects a truncated tail of the last block and continues after the last intact record", async () => {
    await populate();
    const last = blockPaths(dir).at(-1)!;
    const len = readFileSync(last).length;
    truncateSync(last, len - 10);

    let s = await open();
    assert.deepEqual(
      s.problems().map((p) => [p.kind, p.file]),
      [["truncated", path.basename(last)]],
    );
    assert.deepEqual(verify(s), [N]);
    assert.equal(s.state().lastSeq, N - 1);
    assert.equal((await s.append(subject(N), undefined, Buffer.from(payload(N)))).seq, N);
    await s.close();
    s = await open();
    assert.deepEqual(s.problems(), [], "the unreadable tail was cut, new records follow intact ones");
    assert.deepEqual(verify(s), []);
  });

  it("detects a truncated sealed block; later blocks stay readable", async () => {
    const blocks = await populate();
    const victim = blockPaths(dir)[1];
    truncateSync(victim, readFileSync(victim).length - 30);
    const s = await open();
    assert.deepEqual(
      s.problems().map((p) => p.kind),
      ["truncated"],
    );
    assert.deepEqual(verify(s), [blocks[1].at(-1)]);
    assert.equal(s.state().lastSeq, N);
  });

  it("survives a damaged block header", async () => {
    const blocks = await populate();
    const victim = blockPaths(dir)[3];
    const buf = readFileSync(victim);
    buf[5] ^= 0x55;
    writeFileSync(victim, buf);
    const s = await open();
    assert.deepEqual(
      s.problems().map((p) => p.kind),
      ["bad-header"],
    );
    assert.deepEqual(verify(s), [], "only the header record was hit");
    assert.equal(s.getNext(blocks[3][0])?.seq, blocks[3][0]);
  });

  it("treats garbage after the last record as a damaged tail", async () => {
    await populate();
    const last = blockPaths(dir).at(-1)!;
    writeFileSync(last, Buffer.concat([readFileSync(last), Buffer.from("garbage that is not a record")]));
    const s = await open();
    assert.equal(s.problems().length, 1);
    assert.deepEqual(verify(s), []);
    assert.equal((await s.append("c.1", undefined, Buffer.from("x"))).seq, N + 1);
  });

  it("refuses to serve a record damaged after it was loaded", async () => {
    const blocks = await populate();
    const s = await open();
    const victim = blockPaths(dir)[1];
    const buf = readFileSync(victim);
    const target = Buffer.from(payload(blocks[1][3]));
    const at = buf.indexOf(target);
    buf[at + 2] ^= 0x01;
    writeFileSync(victim, buf);
    assert.equal(s.get(blocks[1][3]), undefined);
    assert.deepEqual(
      s.problems().map((p) => p.kind),
      ["corrupt"],
    );
    assert.equal(Buffer.from(s.get(blocks[1][4])!.data).toString(), payload(blocks[1][4]));
  });

  it("refuses a damaged record met by a sequential read, and serves the rest of its window", async () => {
    const blocks = await populate();
    const s = await open();
    const victim = blockPaths(dir)[1];
    const buf = readFileSync(victim);
    const bad = blocks[1][3];
    buf[buf.indexOf(Buffer.from(payload(bad))) + 2] ^= 0x01;
    writeFileSync(victim, buf);
    // In order, as a consumer reads: the block's window is read (and checked) once.
    for (let round = 0; round < 2; round++) {
      for (const seq of blocks[1]) {
        const m = s.get(seq);
        if (seq === bad) assert.equal(m, undefined);
        else assert.equal(Buffer.from(m!.data).toString(), payload(seq));
      }
    }
    assert.deepEqual(
      s.problems().map((p) => p.kind),
      ["corrupt"],
    );
  });

  it("checks the bytes a cached window grows by when they are read from disk", async () => {
    dir = await tempDir();
    const s = await FileStore.open({ dir, blockSize: 1024 * 1024 });
    store = s;
    for (let seq = 1; seq <= 20; seq++) s.appendSync(subject(seq), undefined, Buffer.from(payload(seq)));
    await s.flush();
    for (let seq = 1; seq <= 20; seq++) assert.equal(Buffer.from(s.get(seq)!.data).toString(), payload(seq));
    for (let seq = 21; seq <= 40; seq++) s.appendSync(subject(seq), undefined, Buffer.from(payload(seq)));
    await s.flush();
    const victim = blockPaths(dir)[0];
    const buf = readFileSync(victim);
    buf[buf.indexOf(Buffer.from(payload(30))) + 2] ^= 0x01;
    writeFileSync(victim, buf);
    for (let seq = 21; seq <= 40; seq++) {
      const m = s.get(seq);
      if (seq === 30) assert.equal(m, undefined);
      else assert.equal(Buffer.from(m!.data).toString(), payload(seq));
    }
    assert.deepEqual(
      s.problems().map((p) => p.kind),
      ["corrupt"],
    );
  });
});
