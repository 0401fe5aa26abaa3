import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";

const run = promisify(execFile);
const BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));
const LATTICE = fileURLToPath(new URL("../../src/cli/lattice.js", import.meta.url));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "lattice-cli-"));
}

async function waitForFile(path: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) {
      const text = readFileSync(path, "utf8");
      if (text.length > 0) return text;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} did not appear`);
}

describe("lattice-server command line", () => {
  it("prints a nats-server style version line", async () => {
    const { stdout } = await run("node", [BIN, "-v"]);
    assert.match(stdout, /^nats-server: v\d+\.\d+\.\d+/);
  });

  it("starts from a harness-style config, writes the ports file, serves clients and monitoring", async () => {
    const dir = tempDir();
    const conf = join(dir, "server.conf");
    writeFileSync(
      conf,
      `PASS: "pw"\nhost: 127.0.0.1\nport: -1\nhttp: "127.0.0.1:-1"\nports_file_dir: "${dir}"\n` +
        `server_tags [ "id:x" ]\nauthorization { users: [ { user: a, password: $PASS } ] }\n`,
    );
    const child = spawn("node", [BIN, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    try {
      const ports = JSON.parse(await waitForFile(join(dir, `nats-server_${child.pid}.ports`))) as {
        nats: string[];
        monitoring: string[];
      };
      const nc = await connect({ servers: ports.nats[0], user: "a", pass: "pw" });
      await nc.flush();
      const varz = (await (await fetch(`${ports.monitoring[0]}/varz`)).json()) as { connections: number };
      assert.equal(varz.connections, 1);
      await nc.close();
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shuts down gracefully on SIGTERM and removes its ports file", async () => {
    const dir = tempDir();
    const child = spawn("node", [BIN, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir], {
      stdio: "ignore",
    });
    const portsFile = join(dir, `nats-server_${child.pid}.ports`);
    await waitForFile(portsFile);
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    assert.equal(code, 0);
    assert.equal(existsSync(portsFile), false);
    rmSync(dir, { recursive: true, force: true });
  });

  it("-t reports a bad config file with its line and refuses to start", async () => {
    const dir = tempDir();
    const conf = join(dir, "bad.conf");
    writeFileSync(conf, 'port: 4222\nauthorization {\n  user: "unterminated\n}\n');
    await assert.rejects(run("node", [BIN, "-c", conf, "-t"]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /bad\.conf:3:/);
      return true;
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses invalid option values with a readable message", async () => {
    const dir = tempDir();
    const conf = join(dir, "v.conf");
    writeFileSync(conf, "max_payload: 100MB\nmax_pending: 10MB\n");
    await assert.rejects(run("node", [BIN, "-c", conf, "-t"]), (err: { stderr: string }) => {
      assert.match(err.stderr, /max_payload .* can not be higher than max_pending/);
      return true;
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects unknown flags like nats-server", async () => {
    await assert.rejects(run("node", [BIN, "--no-such-flag"]), (err: { stderr: string }) => {
      assert.match(err.stderr, /flag provided but not defined: -no-such-flag/);
      return true;
    });
  });

  it("warns about blocks for features that are not available yet", async () => {
    const dir = tempDir();
    const conf = join(dir, "c.conf");
    writeFileSync(conf, "mqtt { port: 1883 }\n");
    const { stderr } = await run("node", [BIN, "-c", conf, "-t"]);
    assert.match(stderr, /mqtt.*not available/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("`lattice server` runs the same server", async () => {
    const { stdout } = await run("node", [LATTICE, "server", "-v"]);
    assert.match(stdout, /^nats-server: v/);
  });
});
