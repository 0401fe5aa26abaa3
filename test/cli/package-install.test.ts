// The package as users get it: `npm pack` ships only what runs, and the tarball installed into an empty
// directory gives working `lattice-server` and `lattice` commands through npx.

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Install the tarball the way a user without a lockfile would. Dependencies come from the npm cache
 * (`--offline`); only when the cache lacks one does npm ask the registry (`--prefer-offline`).
 * Undefined when neither works (no cache and no registry): the install cannot be tested here.
 */
async function installOffline(tarball: string, dir: string): Promise<Run | undefined> {
  const base = ["install", "--no-audit", "--no-fund", "--no-update-notifier", tarball];
  const offline = await run("npm", ["--offline", ...base], dir);
  if (offline.code === 0) return offline;
  if (!offline.stderr.includes("ENOTCACHED")) return offline;
  const preferOffline = await run("npm", ["--prefer-offline", ...base], dir);
  return preferOffline.code === 0 ? preferOffline : undefined;
}

describe("the npm package", () => {
  let work: string;
  let pack: PackResult;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "lattice-pack-"));
    // The build under test is already in dist/: pack it as it is (prepack would rebuild it).
    const r = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
    assert.equal(r.code, 0, r.stderr);
    pack = (JSON.parse(r.stdout) as PackResult[])[0];
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it("ships the compiled server, CLI and type declarations, and nothing else", () => {
    const paths = pack.files.map((f) => f.path);
    const stray = paths.filter(
      (p) => !(p === "package.json" || p === "README.md" || /^dist\/src\/.*\.(js|d\.ts)$/.test(p)),
    );
    assert.deepEqual(stray, []);
    for (const p of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/lattice-server.js"])
      assert.ok(paths.includes(p), `${p} is missing`);
    assert.ok(paths.includes("dist/src/cli/lattice.js"));
  });

  it("installs into an empty directory and runs lattice-server and lattice through npx", async (t) => {
    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), '{ "name": "app", "private": true }\n');
    const installed = await installOffline(join(work, pack.filename), app);
    if (installed === undefined) {
      t.skip("the dependencies are neither in the npm cache nor reachable in the registry");
      return;
    }
    assert.equal(installed.code, 0, installed.stderr);

    const serverHelp = await run("npx", ["--no", "--", "lattice-server", "--help"], app);
    assert.equal(serverHelp.code, 0, serverHelp.stderr);
    assert.match(serverHelp.stdout, /Usage: lattice-server/);
    const cliHelp = await run("npx", ["--no", "--", "lattice", "--help"], app);
    assert.equal(cliHelp.code, 0, cliHelp.stderr);
    assert.match(cliHelp.stdout, /Usage: lattice/);

    // A real start, with JetStream, as `npx lattice-server` from the installing project.
    const state = join(app, "state");
    mkdirSync(state);
    const server = spawn(
      "npx",
      [
        "--no",
        "--",
        "lattice-server",
        "-a",
        "127.0.0.1",
        "-p",
        "-1",
        "-js",
        "-sd",
        state,
        "--ports_file_dir",
        state,
      ],
      { cwd: app, detached: true, stdio: "ignore" },
    );
    try {
      const url = await clientUrlFromPortsFile(server, state);
      const kv = await run("npx", ["--no", "--", "lattice", "--server", url, "kv", "add", "CONFIG"], app);
      assert.equal(kv.code, 0, kv.stderr);
      const nc = await connect({ servers: url });
      const reply = await nc.request("$JS.API.INFO", "");
      assert.match(reply.string(), /"streams":1/);
      await nc.close();
    } finally {
      stopGroup(server);
    }
  });
});

/** npx runs the server as its grandchild: signal the whole process group it started in. */
function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

/** The client URL from the ports file the server writes once it is ready. */
async function clientUrlFromPortsFile(child: ChildProcess, dir: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`lattice-server exited with ${child.exitCode}`);
    const file = readdirSync(dir).find((f) => f.endsWith(".ports"));
    if (file !== undefined)
      return (JSON.parse(readFileSync(join(dir, file), "utf8")) as { nats: string[] }).nats[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("lattice-server wrote no ports file");
}
