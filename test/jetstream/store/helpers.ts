// Shared helpers for the store tests: temp directories and a file-store harness.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FileStore, type FileStoreOptions, type MessageStore } from "../../../src/jetstream/store/index.js";
import type { StoreHarness } from "./conformance.js";

export async function tempDir(prefix = "lattice-store-"): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Conformance harness for the file store; each store gets its own directory. */
export function fileHarness(name: string, extra: Partial<FileStoreOptions> = {}): StoreHarness {
  const open: Array<{ store: MessageStore; dir: string }> = [];
  return {
    name,
    async create(opts) {
      const dir = await tempDir();
      const store = await FileStore.open({ ...extra, ...opts, dir });
      open.push({ store, dir });
      return store;
    },
    async reopen(store) {
      const i = open.findIndex((o) => o.store === store);
      if (i < 0) throw new Error("not a store of this harness");
      await store.close();
      const reopened = await FileStore.open({ ...extra, dir: open[i].dir });
      open[i].store = reopened;
      return reopened;
    },
    async cleanup() {
      for (const { store, dir } of open.splice(0)) {
        await store.close().catch(() => {});
        await removeDir(dir);
      }
    },
  };
}
