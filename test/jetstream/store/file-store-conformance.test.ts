import { storeConformance } from "./conformance.js";
import { fileHarness } from "./helpers.js";

storeConformance(fileHarness("file"));
// Small blocks: the same behaviour across many block files, rotations, unlinks and rewrites.
storeConformance(fileHarness("file, 64 KiB blocks", { blockSize: 64 * 1024 }));
