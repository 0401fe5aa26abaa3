import { storeConformance } from "./conformance.js";
import { encodedStateConformance } from "./conformance-encoded-state.js";
import { truncateConformance } from "./conformance-truncate.js";
import { fileHarness } from "./helpers.js";

for (const h of [
  fileHarness("file"),
  // Small blocks: the same behaviour across many block files, rotations, unlinks and rewrites.
  fileHarness("file, 64 KiB blocks", { blockSize: 64 * 1024 }),
]) {
  storeConformance(h);
  truncateConformance(h);
  encodedStateConformance(h);
}
