// An embedded server with JetStream and no store_dir never opens ./data (which may be another server's
// store): it gets a temporary directory of its own, gone after close().
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startServer } from "../../src/index.js";
import { removeDir, tempDir } from "./helpers.js";

describe("embedded JetStream store", () => {
  it("uses a temporary directory of its own unless store_dir is given", { timeout: 20_000 }, async () => {
    const cwd = process.cwd();
    const dir = tempDir();
    try {
      process.chdir(dir);
      // A server that keeps its store in ./data, as the command line does by default.
      const owner = await startServer({ jetstream: { store_dir: "./data" } });
      let nc = await connect({ servers: owner.url });
      await (await jetstreamManager(nc)).streams.add({ name: "OWNED", subjects: ["owned"] });
      await nc.close();
      await owner.close();

      const embedded = await startServer({ jetstream: true });
      const storeDir = embedded.server.options.jetstream?.storeDir ?? "";
      assert.notEqual(storeDir, "./data");
      nc = await connect({ servers: embedded.url });
      const names = await (await jetstreamManager(nc)).streams.names().next();
      assert.deepEqual(names, []);
      await nc.close();
      await embedded.close();
      assert.equal(existsSync(storeDir), false, "the temporary store is removed on close");
      assert.ok(existsSync("data/jetstream/$G/streams/OWNED"), "the other store is untouched");
    } finally {
      process.chdir(cwd);
      removeDir(dir);
    }
  });
});
