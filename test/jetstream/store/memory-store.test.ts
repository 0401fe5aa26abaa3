import { MemoryStore } from "../../../src/jetstream/store/index.js";
import { type StoreHarness, storeConformance } from "./conformance.js";
import { encodedStateConformance } from "./conformance-encoded-state.js";
import { truncateConformance } from "./conformance-truncate.js";

const memory: StoreHarness = {
  name: "memory",
  async create(opts) {
    return new MemoryStore(opts);
  },
  async cleanup() {},
};

storeConformance(memory);
truncateConformance(memory);
encodedStateConformance(memory);
