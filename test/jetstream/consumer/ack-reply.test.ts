// The ack reply subject written as bytes, and the record timestamp split into ms and ns without BigInt:
// both checked against the obvious BigInt/string forms over edge cases and random values.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AckReplyWriter } from "../../../src/jetstream/consumer/ack-reply.js";
import { splitTime, splitTimeAt } from "../../../src/jetstream/store/file/record-time.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

describe("AckReplyWriter", () => {
  it("writes the same subject as string formatting, for edge and random values", () => {
    const prefix = "$JS.ACK.ORDERS.worker.";
    const w = new AckReplyWriter(prefix);
    const cases: Array<[number, number, number, number, number, number]> = [
      [1, 1, 1, 0, 0, 0],
      [1, 1, 1, 0, 42, 0],
      [2, 9, 10, 1, 5, 99],
      [1, 999_999_999, 1_000_000_000, 1_700_000_000_123, 7, 0],
      [3, Number.MAX_SAFE_INTEGER, 123_456_789_012, 1_700_000_000_123, 999_999, 1_000_000_001],
    ];
    for (let i = 0; i < 500; i++) {
      const r = (max: number) => Math.floor(Math.random() * max);
      cases.push([1 + r(20), 1 + r(2 ** 40), 1 + r(2 ** 35), r(2 ** 42), r(1_000_000), r(10_000_000)]);
    }
    for (const [dc, sseq, dseq, ms, subNs, pending] of cases) {
      const ns = BigInt(ms) * 1_000_000n + BigInt(subNs);
      const want = `${prefix}${dc}.${sseq}.${dseq}.${ns}.${pending}`;
      assert.equal(text(w.write(dc, sseq, dseq, ms, subNs, pending)), want);
    }
  });

  it("keeps a multi-byte stream or consumer name intact", () => {
    const w = new AckReplyWriter("$JS.ACK.ünï.cödé.");
    assert.equal(text(w.write(1, 2, 3, 4, 5, 6)), "$JS.ACK.ünï.cödé.1.2.3.4000005.6");
  });
});

describe("record timestamps without BigInt", () => {
  it("splitTimeAt splits any 63-bit nanosecond count exactly", () => {
    const buf = Buffer.alloc(16);
    const values = [
      0n,
      1n,
      999_999n,
      1_000_000n,
      2n ** 32n - 1n,
      2n ** 32n,
      1_700_000_000_123_456_789n,
      2n ** 63n - 1n,
    ];
    for (let i = 0; i < 1000; i++)
      values.push(BigInt(Math.floor(Math.random() * 2 ** 31)) * 2n ** 32n + BigInt(i));
    for (const ns of values) {
      buf.writeBigInt64LE(ns, 4);
      splitTimeAt(buf, 4);
      assert.equal(BigInt(splitTime.ms), ns / 1_000_000n, `ms of ${ns}`);
      assert.equal(BigInt(splitTime.subNs), ns % 1_000_000n, `sub-ms of ${ns}`);
    }
  });
});
