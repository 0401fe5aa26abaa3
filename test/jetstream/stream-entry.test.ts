// The stream entry codec: what a replicated stream's log carries for one accepted publish.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeStreamEntry,
  emptyEntry,
  encodeStreamEntry,
  StreamEntryError,
} from "../../src/jetstream/stream-entry.js";

describe("stream entries", () => {
  it("round-trip every field, with and without headers", () => {
    const e = emptyEntry();
    e.subject = "orders.eu.ünï";
    e.hdrs = Buffer.from("NATS/1.0\r\nNats-Msg-Id: a1\r\nNats-Rollup: sub\r\n\r\n");
    e.data = Buffer.from("payload");
    e.msgId = "a1";
    e.ttlMs = -1;
    e.rollup = "sub";
    const back = decodeStreamEntry(encodeStreamEntry(e, 42, 1_700_000_000_123_456_789n));
    assert.equal(back.subject, e.subject);
    assert.deepEqual(Buffer.from(back.hdrs ?? []), Buffer.from(e.hdrs));
    assert.equal(Buffer.from(back.data).toString(), "payload");
    assert.equal(back.msgId, "a1");
    assert.equal(back.ttlMs, -1);
    assert.equal(back.rollup, "sub");
    assert.equal(back.seq, 42);
    assert.equal(back.timeNs, 1_700_000_000_123_456_789n);

    const plain = emptyEntry();
    plain.subject = "x";
    plain.data = new Uint8Array(0);
    const p = decodeStreamEntry(encodeStreamEntry(plain, 1, 0n));
    assert.equal(p.hdrs, undefined);
    assert.equal(p.rollup, undefined);
    assert.equal(p.data.length, 0);
  });

  it("refuse damaged input instead of guessing", () => {
    const e = emptyEntry();
    e.subject = "a.b";
    e.data = Buffer.from("hello");
    const good = encodeStreamEntry(e, 7, 1n);
    assert.throws(() => decodeStreamEntry(good.subarray(0, good.length - 1)), StreamEntryError);
    assert.throws(() => decodeStreamEntry(Buffer.concat([good, Buffer.from([0])])), StreamEntryError);
    const newer = Buffer.from(good);
    newer[0] = 9;
    assert.throws(() => decodeStreamEntry(newer), /unknown entry version 9/);
    const zeroSeq = encodeStreamEntry(e, 0, 1n);
    assert.throws(() => decodeStreamEntry(zeroSeq), /bad entry sequence/);
    assert.throws(() => decodeStreamEntry(Buffer.alloc(3)), /too short/);
  });
});
