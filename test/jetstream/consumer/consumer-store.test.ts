// The consumer store conformance suite against both stores, and the file store's own promises: damaged
// or half-written state files, and the state files older versions wrote.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import type { ConsumerConfig } from "../../../src/jetstream/consumer/config.js";
import { FileConsumerStore } from "../../../src/jetstream/consumer/file-consumer-store.js";
import { ConsumerState } from "../../../src/jetstream/consumer/state.js";
import { MemoryConsumerStore } from "../../../src/jetstream/consumer/store.js";
import { consumerStoreConformance, explicit, view } from "./store-conformance.js";

const dirs: string[] = [];
const stores: FileConsumerStore[] = [];
const noError = (err: Error) => assert.fail(err);

function open(dir: string, config: ConsumerConfig): FileConsumerStore {
  const s = new FileConsumerStore(dir, config, noError, 5);
  stores.push(s);
  return s;
}

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), "lattice-consumer-store-"));
  dirs.push(d);
  return d;
}

async function cleanup(): Promise<void> {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

consumerStoreConformance({ name: "memory", create: async (c) => new MemoryConsumerStore(c), cleanup });
consumerStoreConformance({
  name: "file",
  create: async (c) => open(join(newDir(), "c"), c),
  async reopen(store, c) {
    const dir = (store as FileConsumerStore).dir;
    store.close();
    return open(dir, c);
  },
  cleanup,
});

describe("file consumer store: damage and crashes", () => {
  afterEach(cleanup);

  async function saved(dir: string, deliveries: number): Promise<ReturnType<typeof view>> {
    const s = open(dir, explicit());
    for (let i = s.state().dseq; i <= deliveries; i++) s.updateDelivered(i, i, 1, 1000 + i);
    await s.saved();
    const v = view(s.state());
    s.close();
    return v;
  }

  it("falls back to the previous state when the current file is damaged, and reports it", async () => {
    const dir = join(newDir(), "c");
    const first = await saved(dir, 3);
    await saved(dir, 6);
    const f = join(dir, "o.dat");
    const b = readFileSync(f);
    b[b.length >> 1] ^= 0xff;
    writeFileSync(f, b);
    const s = open(dir, explicit());
    assert.equal(s.damaged, true);
    assert.equal(s.restored, true);
    assert.deepEqual(view(s.state()), first);
  });

  it("starts over, reporting it, when no state file is usable", async () => {
    const dir = join(newDir(), "c");
    await saved(dir, 3);
    await saved(dir, 4);
    for (const n of ["o.dat", "o.dat.prev"]) writeFileSync(join(dir, n), "garbage");
    const s = open(dir, explicit());
    assert.deepEqual([s.damaged, s.restored], [true, false]);
    assert.deepEqual(view(s.state()), view(new ConsumerState()));
  });

  it("ignores a write that a crash cut short (a left-over temporary file)", async () => {
    const dir = join(newDir(), "c");
    const last = await saved(dir, 5);
    writeFileSync(join(dir, "o.dat.tmp"), readFileSync(join(dir, "o.dat")).subarray(0, 7));
    const s = open(dir, explicit());
    assert.equal(s.damaged, false);
    assert.deepEqual(view(s.state()), last);
  });

  it("reads the JSON state files older versions wrote", async () => {
    const dir = join(newDir(), "c");
    const st = new ConsumerState();
    st.dseq = 4;
    st.sseq = 10;
    st.adflr = 1;
    st.asflr = 5;
    st.pending.set(7, { dseq: 2, ts: 123, due: 0 });
    st.rdc.set(7, 1);
    const text = st.encodeLegacy();
    const { createHash } = await import("node:crypto");
    open(dir, explicit()).close();
    writeFileSync(join(dir, "o.dat"), `${text}\n${createHash("sha256").update(text).digest("hex")}\n`);
    const s = open(dir, explicit());
    assert.deepEqual(view(s.state()), view(st));
    // The next write is the binary form.
    s.updateAcks(2, 7);
    await s.saved();
    assert.equal(readFileSync(join(dir, "o.dat")).subarray(0, 4).toString(), "LTCS");
    assert.ok(existsSync(join(dir, "o.dat.prev")));
  });
});
