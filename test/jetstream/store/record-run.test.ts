// verifyRun: one CRC pass over a run of records must agree with checking every record on its own.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  encodeErased,
  encodeMessage,
  encodeTombstone,
  verifyRun,
} from "../../../src/jetstream/store/file/record.js";

/** A deterministic pseudo-random sequence. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function records(rand: () => number, n: number): { buf: Buffer; starts: number[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  let at = 0;
  for (let i = 1; i <= n; i++) {
    const kind = rand();
    let rec: Buffer;
    if (kind < 0.1) rec = encodeTombstone(i, BigInt(i) * 1000n);
    else if (kind < 0.15) rec = encodeErased(i, 44 + Math.floor(rand() * 300), 5n);
    else {
      const data = Buffer.alloc(Math.floor(rand() * (rand() < 0.1 ? 5000 : 200)), i & 0xff);
      const hdrs = rand() < 0.3 ? Buffer.from("NATS/1.0\r\nk: v\r\n\r\n") : undefined;
      rec = encodeMessage(
        i,
        `s.${i % 7}`,
        3 + String(i % 7).length,
        hdrs,
        data,
        1_700_000_000_000 + i,
        i % 1000,
        0,
      );
    }
    starts.push(at);
    parts.push(rec);
    at += rec.length;
  }
  return { buf: Buffer.concat(parts), starts };
}

describe("record runs", () => {
  it("accepts intact runs of mixed records, whole or cut anywhere", () => {
    const rand = rng(7);
    const { buf, starts } = records(rand, 400);
    assert.equal(verifyRun(buf, 0, buf.length), buf.length);
    for (let k = 0; k < 50; k++) {
      const i = Math.floor(rand() * starts.length);
      const cut = Math.floor(rand() * buf.length);
      const from = starts[i];
      if (cut < from) continue;
      // Stops before the record the cut falls in.
      const last = starts.filter((s) => s <= cut).at(-1) ?? 0;
      const expect = cut === buf.length ? buf.length : Math.max(from, last);
      assert.equal(verifyRun(buf, from, cut), expect, `from ${from} cut ${cut}`);
    }
  });

  it("finds the first damaged record, for damage anywhere", () => {
    const rand = rng(99);
    const { buf, starts } = records(rand, 300);
    for (let k = 0; k < 300; k++) {
      const b = Buffer.from(buf);
      const pos = Math.floor(rand() * b.length);
      b[pos] ^= 1 + Math.floor(rand() * 255);
      const victim = starts.filter((s) => s <= pos).at(-1) as number;
      const r = verifyRun(b, 0, b.length);
      // A damaged length field can make the record look cut off by the end of the bytes: the walk stops
      // before it all the same (left unchecked, not accepted).
      const at = r < 0 ? ~r : r;
      assert.equal(at, victim, `damage at ${pos}`);
      if (r >= 0) assert.ok(pos - victim < 4, `damage at ${pos} not found`);
    }
  });

  it("catches damage to two records at once", () => {
    const rand = rng(5);
    const { buf, starts } = records(rand, 200);
    for (let k = 0; k < 200; k++) {
      const b = Buffer.from(buf);
      const p1 = Math.floor(rand() * b.length);
      const p2 = Math.floor(rand() * b.length);
      b[p1] ^= 0x10;
      b[p2] ^= 0x01;
      if (p1 === p2) continue;
      const first = starts.filter((s) => s <= Math.min(p1, p2)).at(-1) as number;
      const r = verifyRun(b, 0, b.length);
      assert.equal(r < 0 ? ~r : r, first);
      if (r >= 0) assert.ok(Math.min(p1, p2) - first < 4);
    }
  });
});
