// The consumer store conformance suite: written once, run against every ConsumerStore implementation.

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ConsumerConfig } from "../../../src/jetstream/consumer/config.js";
import type { ConsumerState } from "../../../src/jetstream/consumer/state.js";
import { decodeConsumerState } from "../../../src/jetstream/consumer/state-codec.js";
import type { ConsumerStore } from "../../../src/jetstream/consumer/store.js";
import { StoreError } from "../../../src/jetstream/store/index.js";

export interface ConsumerStoreHarness {
  name: string;
  create(config: ConsumerConfig): Promise<ConsumerStore>;
  /** Close (as a crash would: no final write) and open again from disk; stores that persist only. */
  reopen?(store: ConsumerStore, config: ConsumerConfig): Promise<ConsumerStore>;
  cleanup(): Promise<void>;
}

export const explicit = (extra: Partial<ConsumerConfig> = {}): ConsumerConfig =>
  ({ durable_name: "c", ack_policy: "explicit", deliver_policy: "all", ...extra }) as ConsumerConfig;

/** What a state says, in a form deepEqual can compare (`due` is runtime only, never stored). */
export function view(st: ConsumerState) {
  const pending = [...st.pending].map(([s, p]) => [s, p.dseq, p.ts]).sort((a, b) => a[0] - b[0]);
  const rdc = [...st.rdc].sort((a, b) => a[0] - b[0]);
  const lss =
    st.lss === undefined ? undefined : { seqs: st.lss.seqs.slice(st.lss.at), resume: st.lss.resume };
  const { dseq, sseq, adflr, asflr, lastDelivered } = st;
  return { dseq, sseq, adflr, asflr, lastDelivered, pending, rdc, lss };
}

export function consumerStoreConformance(h: ConsumerStoreHarness): void {
  describe(`${h.name}: consumer store conformance`, () => {
    afterEach(() => h.cleanup());

    it("applies deliveries and explicit acks, moving the ack floor only past the lowest pending", async () => {
      const s = await h.create(explicit());
      for (let i = 1; i <= 5; i++) s.updateDelivered(i, i * 10, 1, 1000 + i);
      let st = s.state();
      assert.deepEqual([st.dseq, st.sseq, st.lastDelivered, st.pending.size], [6, 51, 50, 5]);
      assert.equal(s.updateAcks(2, 20), true);
      assert.deepEqual([st.adflr, st.asflr], [0, 0], "an ack above the lowest pending leaves the floor");
      assert.equal(s.updateAcks(1, 10), true);
      assert.deepEqual([st.adflr, st.asflr], [2, 29], "the floor moves up to just below the next pending");
      assert.equal(s.updateAcks(1, 10), false, "an ack below the floor acknowledges nothing");
      assert.equal(s.updateAcks(9, 99), false, "an ack of nothing pending acknowledges nothing");
      for (const [d, q] of [
        [3, 30],
        [5, 50],
        [4, 40],
      ])
        s.updateAcks(d, q);
      st = s.state();
      assert.deepEqual([st.adflr, st.asflr, st.pending.size], [5, 50, 0]);
    });

    it("acks everything up to a sequence with ack policy all", async () => {
      const s = await h.create(explicit({ ack_policy: "all" }));
      for (let i = 1; i <= 6; i++) s.updateDelivered(i, i, 1, 5000);
      assert.equal(s.updateAcks(4, 4), true);
      assert.deepEqual(
        view(s.state()).pending.map((p) => p[0]),
        [5, 6],
      );
      assert.deepEqual([s.state().adflr, s.state().asflr], [4, 4]);
      assert.equal(s.updateAcks(3, 3), false);
      s.updateAcks(6, 6);
      assert.deepEqual([s.state().adflr, s.state().asflr, s.state().pending.size], [6, 6, 0]);
    });

    it("counts redeliveries and refreshes pending entries on progress", async () => {
      const s = await h.create(explicit());
      s.updateDelivered(1, 7, 1, 100);
      s.updateDelivered(2, 8, 1, 100);
      s.updateDelivered(3, 7, 2, 200);
      s.updateDelivered(4, 7, 3, 300);
      const st = s.state();
      assert.deepEqual(view(st).pending, [
        [7, 4, 300],
        [8, 2, 100],
      ]);
      assert.equal(st.rdc.get(7), 2);
      assert.deepEqual([st.dseq, st.sseq, st.lastDelivered], [5, 9, 7]);
      // A progress ack: the same delivery (dseq 2) at a later time moves nothing else.
      s.updateDelivered(2, 8, 1, 900);
      assert.deepEqual(view(st).pending, [
        [7, 4, 300],
        [8, 2, 900],
      ]);
      assert.deepEqual([st.dseq, st.lastDelivered], [5, 7]);
      s.updateAcks(4, 7);
      assert.equal(st.rdc.has(7), false);
    });

    it("with ack policy none a delivery is its own ack", async () => {
      const s = await h.create(explicit({ ack_policy: "none" }));
      assert.equal(s.updateDelivered(1, 3, 1, 1), undefined);
      assert.deepEqual([s.state().adflr, s.state().asflr, s.state().pending.size], [1, 3, 0]);
      assert.equal(s.updateAcks(1, 3), false);
    });

    it("round-trips its encoded state, skip lists included", async () => {
      const s = await h.create(explicit());
      const st = s.state();
      st.lss = { seqs: [3, 9, 12, 40], at: 0, resume: 50 };
      s.update(st);
      s.updateDelivered(1, 3, 1, 1_700_000_000_000);
      s.updateDelivered(2, 9, 1, 1_700_000_000_005);
      s.updateDelivered(3, 9, 2, 1_700_000_000_010);
      assert.deepEqual(view(decodeConsumerState(s.encodedState())), view(s.state()));
      assert.deepEqual(view(s.state()).lss, { seqs: [12, 40], resume: 50 });
    });

    it("encodes many pending entries compactly and rejects damage", async () => {
      const s = await h.create(explicit());
      for (let i = 1; i <= 100_000; i++) s.updateDelivered(i, 1000 + i, 1, 1_700_000_000_000 + (i >> 4));
      for (let i = 1; i <= 100_000; i += 3) s.updateDelivered(100_000 + i, 1000 + i, 2, 1_700_000_001_000);
      const enc = s.encodedState();
      assert.ok(enc.length < 12 * 100_000, `${enc.length} bytes for 100k pending`);
      assert.deepEqual(view(decodeConsumerState(enc)), view(s.state()));
      for (const i of [0, 5, 9, 200, enc.length - 1]) {
        const bad = Uint8Array.from(enc);
        bad[i] ^= 0x10;
        assert.throws(
          () => decodeConsumerState(bad),
          (e: unknown) => e instanceof StoreError && e.code === "CORRUPT",
        );
      }
    });

    it("restarts from disk with the state it last saved", { skip: h.reopen === undefined }, async () => {
      const cfg = explicit();
      let s = await h.create(cfg);
      for (let i = 1; i <= 50; i++) s.updateDelivered(i, i, 1, 10_000 + i);
      for (let i = 1; i <= 20; i++) s.updateAcks(i, i);
      s.updateDelivered(51, 30, 2, 20_000);
      await s.saved();
      const before = view(s.state());
      s = await (h.reopen as NonNullable<ConsumerStoreHarness["reopen"]>)(s, cfg);
      assert.deepEqual(view(s.state()), before);
      s.close(true);
    });
  });
}
