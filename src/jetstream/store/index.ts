// The JetStream message store: one interface (types.ts), a memory and a file implementation.

import { FileStore, type FileStoreOptions } from "./file/file-store.js";
import { MemoryStore, type MemoryStoreOptions } from "./memory-store.js";
import type { MessageStore } from "./types.js";

export { type DecodedStreamState, decodeStreamState } from "./encoded-state.js";
export { FileStore, type FileStoreOptions } from "./file/file-store.js";
export { MemoryStore, type MemoryStoreOptions } from "./memory-store.js";
export * from "./types.js";

export type StoreConfig =
  | ({ storage: "memory" } & MemoryStoreOptions)
  | ({ storage: "file" } & FileStoreOptions);

/** Open the store a stream's `storage` setting asks for. */
export async function openStore(config: StoreConfig): Promise<MessageStore> {
  return config.storage === "memory" ? new MemoryStore(config) : FileStore.open(config);
}
