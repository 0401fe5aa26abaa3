// One server per JetStream store directory: a second server, in this process or another, refuses to start
// with a message that says why; the directory is free again once its server closes, and a lock left by a
// server killed with -9 is taken over.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startLattice } from "../helpers/servers.js";
import { removeDir, startServerProcess, tempDir } from "./helpers.js";

const SERVER_BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));
const T = { timeout: 30_000 };

describe("store directory lock", () => {
  it("refuses a second embedded server on the same store_dir until the first closes", T, async () => {
    const dir = tempDir();
    try {
      const first = await startLattice({ jetstream: { store_dir: dir } });
      await assert.rejects(
        startLattice({ jetstream: { store_dir: dir } }),
        /is in use by another server in this process; each server needs a store_dir of its own/,
      );
      await first.close();
      const again = await startLattice({ jetstream: { store_dir: dir } });
      await again.close();
    } finally {
      removeDir(dir);
    }
  });

  it(
    "refuses a server process while another holds the directory, and takes over after kill -9",
    T,
    async () => {
      const dir = tempDir();
      const { child } = await startServerProcess(dir);
      try {
        await assert.rejects(
          startLattice({ jetstream: { store_dir: dir } }),
          new RegExp(`in use by another process \\(pid ${child.pid}\\)`),
        );
        // The command line says so too, and exits with an error.
        const cli = spawnSync(process.execPath, [SERVER_BIN, "-js", "-sd", dir, "-p", "-1"], {
          encoding: "utf8",
          timeout: 10_000,
        });
        assert.notEqual(cli.status, 0);
        assert.match(cli.stdout + cli.stderr, /in use by another process/);

        child.kill("SIGKILL");
        await once(child, "exit");
        const after = await startLattice({ jetstream: { store_dir: dir } });
        await after.close();
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        removeDir(dir);
      }
    },
  );
});
