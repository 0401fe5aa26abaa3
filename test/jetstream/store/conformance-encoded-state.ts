// Conformance for `encodedState` / `decodeStreamState`: run against every MessageStore implementation.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { decodeStreamState, type MessageStore, StoreError } from "../../../src/jetstream/store/index.js";
import type { StoreHarness } from "./conformance.js";

const bytes = (s: string) => new TextEncoder().encode(s);

/** The decoded state must say exactly what state() says, deleted sequences included. */
function assertRoundTrip(s: MessageStore): Uint8Array {
  const enc = s.encodedState();
  const d = decodeStreamState(enc);
  const { deleted, ...st } = s.state({ deletedDetails: true });
  const { deletedRanges, ...rest } = d;
  assert.deepEqual(rest, st);
  const expanded: number[] = [];
  for (const [a, b] of deletedRanges) for (let q = a; q <= b; q++) expanded.push(q);
  assert.deepEqual(expanded, deleted);
  return enc;
}

function isCorrupt(err: unknown): boolean {
  return err instanceof StoreError && err.code === "CORRUPT";
}

export function encodedStateConformance(h: StoreHarness): void {
  describe(`${h.name}: encoded state`, () => {
    afterEach(() => h.cleanup());

    it("round-trips empty, plain, deleted, truncated and purged states", async () => {
      const s = await h.create({ firstSeq: 5 });
      assertRoundTrip(s);
      for (let i = 0; i < 40; i++) s.appendSync(`sub.${i % 4}`, undefined, bytes(`m${i}`));
      assertRoundTrip(s);
      for (const q of [5, 9, 10, 11, 30, 44]) s.remove(q);
      assertRoundTrip(s);
      s.truncate(35);
      assertRoundTrip(s);
      s.appendSync("x", undefined, bytes("y"), { seq: 100, timeNs: 1_700_000_000_123_456_789n });
      const d = decodeStreamState(assertRoundTrip(s));
      assert.equal(d.lastTimeNs, 1_700_000_000_123_456_789n);
      s.purge();
      assertRoundTrip(s);
      await s.flush();
    });

    it("rejects damaged input with a clear error", async () => {
      const s = await h.create();
      for (let i = 0; i < 20; i++) s.appendSync("a", undefined, bytes(`${i}`));
      s.remove(7);
      const good = s.encodedState();
      for (let i = 0; i < good.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const bad = Uint8Array.from(good);
          bad[i] ^= bit;
          assert.throws(() => decodeStreamState(bad), isCorrupt, `flipped bit at byte ${i}`);
        }
      }
      assert.throws(() => decodeStreamState(good.subarray(0, good.length - 1)), isCorrupt);
      assert.throws(() => decodeStreamState(new Uint8Array(0)), /too short/);
      assert.throws(() => decodeStreamState(bytes("not a stream state at all")), /bad magic/);
      const future = Uint8Array.from(good);
      future[4] = 99;
      assert.throws(() => decodeStreamState(future), /unsupported version 99/);
      await s.flush();
    });

    it("stays small with millions of interior deletes, in runs or scattered", async () => {
      const s = await h.create();
      s.appendSync("a", undefined, bytes("first"));
      // A mirror-style jump: three million sequences with no message, in one run.
      s.appendSync("a", undefined, bytes("last"), { seq: 3_000_000 });
      assert.equal(s.state().numDeleted, 2_999_998);
      assert.ok(assertRoundTrip(s).length < 64);
      // Every other sequence missing: 100k single deletes, which a bitmap holds in about 25 KiB.
      for (let q = 3_000_002; q < 3_200_000; q += 2) s.appendSync("b", undefined, bytes("x"), { seq: q });
      const enc = assertRoundTrip(s);
      assert.ok(enc.length < 26 * 1024, `${enc.length} bytes`);
      await s.flush();
    });
  });
}
