import { MemoryStore } from "../../../src/jetstream/store/index.js";
import { storeConformance } from "./conformance.js";

storeConformance({
  name: "memory",
  async create(opts) {
    return new MemoryStore(opts);
  },
  async cleanup() {},
});
