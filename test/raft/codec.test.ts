// The checksummed encodings: round trips for every record and message type, and corruption detected.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CorruptRecordError,
  crc32c,
  decodeConfEntry,
  decodeEntry,
  decodeEntryRecords,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  type Entry,
  encodeConfEntry,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  type Message,
  type Snapshot,
} from "../../src/raft/index.js";
import { bytes } from "./helpers.js";

const entry: Entry = { index: 2 ** 40 + 7, term: 2 ** 33 + 1, type: "normal", data: bytes("hello") };
const snapshot: Snapshot = {
  meta: { index: 12, term: 3, config: { voters: ["a", "b", "c"], learners: ["é"] } },
  data: bytes("state"),
};

const messages: Message[] = [
  {
    type: "append",
    from: "a",
    to: "b",
    term: 3,
    prevIndex: 4,
    prevTerm: 2,
    entries: [entry],
    commit: 3,
    leaderLast: 9,
  },
  { type: "appendResponse", from: "b", to: "a", term: 3, index: 5, reject: true, hintIndex: 4, hintTerm: 2 },
  { type: "heartbeat", from: "a", to: "b", term: 3, commit: 2 },
  { type: "heartbeatResponse", from: "b", to: "a", term: 3 },
  { type: "vote", from: "a", to: "b", term: 4, lastIndex: 9, lastTerm: 3, transfer: true },
  { type: "preVote", from: "a", to: "b", term: 4, lastIndex: 9, lastTerm: 3, transfer: false },
  { type: "voteResponse", from: "b", to: "a", term: 4, reject: false },
  { type: "preVoteResponse", from: "b", to: "a", term: 4, reject: true },
  { type: "snapshot", from: "a", to: "b", term: 3, snapshot },
  { type: "timeoutNow", from: "a", to: "b", term: 3 },
];

describe("raft codec", () => {
  it("computes CRC-32C", () => {
    assert.equal(crc32c(bytes("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  it("round-trips entries, hard state, snapshots and membership entries", () => {
    assert.deepEqual(decodeEntry(encodeEntry(entry)), entry);
    const hs = { term: 7, vote: "node-1", commit: 99, logDamaged: true };
    assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
    assert.deepEqual(decodeSnapshot(encodeSnapshot(snapshot)), snapshot);
    const conf = {
      change: { type: "promote", node: "d" } as const,
      config: { voters: ["a", "d"], learners: [] },
    };
    assert.deepEqual(decodeConfEntry(encodeConfEntry(conf)), conf);
  });

  it("round-trips every message type", () => {
    for (const m of messages) assert.deepEqual(decodeMessage(encodeMessage(m)), m, m.type);
  });

  it("detects any flipped byte and any truncation", () => {
    const record = encodeMessage(messages[0]!);
    for (let i = 0; i < record.length; i++) {
      const bad = record.slice();
      bad[i] = bad[i]! ^ 0x10;
      assert.throws(() => decodeMessage(bad), CorruptRecordError, `byte ${i}`);
    }
    for (let n = 0; n < record.length; n++) {
      assert.throws(() => decodeMessage(record.subarray(0, n)), CorruptRecordError, `length ${n}`);
    }
  });

  it("reads a log of records up to the first damaged one", () => {
    const records = [1, 2, 3, 4].map((index) =>
      encodeEntry({ index, term: 1, type: "normal", data: bytes(`e${index}`) }),
    );
    const offsets: number[] = [];
    const all = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let offset = 0;
    for (const r of records) {
      offsets.push(offset);
      all.set(r, offset);
      offset += r.length;
    }
    assert.equal(decodeEntryRecords(all).entries.length, 4);
    assert.equal(decodeEntryRecords(all).damagedAt, undefined);
    const rotten = all.slice();
    rotten[offsets[2]! + 12] ^= 1;
    const read = decodeEntryRecords(rotten);
    assert.deepEqual(
      read.entries.map((e) => e.index),
      [1, 2],
    );
    assert.equal(read.damagedAt, offsets[2]);
    const torn = decodeEntryRecords(all.subarray(0, all.length - 3));
    assert.equal(torn.entries.length, 3);
    assert.equal(torn.damagedAt, offsets[3]);
  });
});
