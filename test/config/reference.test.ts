/**
 * Differential check against the reference server: for configurations that only use options
 * nats-server knows, `nats-server -t -c file` and parseConfig must agree on accept/reject. Skipped when
 * nats-server is not installed. Inputs where Lattice deliberately differs are listed in the report of
 * src/config (and tested in the other files), not here.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/index.js";

const candidates = [process.env.NATS_SERVER_BIN, "/usr/sbin/nats-server", "/usr/bin/nats-server"];
const referenceBinary = candidates.find((p): p is string => p !== undefined && p !== "" && existsSync(p));

const ACCEPTED = [
  "port: 4222",
  "port 4222\ndebug true",
  "port = 4222; debug: false, trace: off",
  'server_name: "a\\x41b"',
  "server_name: abc#x",
  "server_name: nats://h:4222/x",
  "max_payload: 1MB",
  "max_payload: 1ki",
  "max_pending: 64MB",
  "server_tags: []",
  'server_tags: [a, "b c"]',
  "server_tags [\n  a\n  b,\n  c\n]",
  "cluster { name: x, listen: 127.0.0.1:-1 }",
  "cluster\n{\n  name: x\n}",
  "N: foo\ncluster { name: $N }\nserver_name: $N",
  "N: [a, b]\nserver_tags: $N",
  '{ "port": 4222, "debug": true }',
  "server_name: (\nblock\n)",
  "# comment\n// comment\nport: 1 # trailing\n",
  'authorization { users: [ {user: a, password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG"} ] }',
  'jetstream { store_dir: "/tmp/x", max_mem: 1GB, max_file: 10GB }',
  "websocket { port: -1, no_tls: true }",
  'http: "127.0.0.1:-1"',
  "server_name: 'multi\nline'",
];

const REJECTED = [
  'server_name: "abc',
  "server_name: 'abc",
  "cluster { name: x",
  "server_tags: [a, b",
  'server_name: "a\\qb"',
  'server_name: "a\\u00e9b"',
  'server_name: "a\\x4"',
  "server_name: $NOT_DEFINED_ANYWHERE",
  "server_name: $NAME\nNAME: foo",
  "port:\n4222",
  "server_tags: [a b]",
  "server_tags: [a,,b]",
  "server_name = abc def",
  'server_name: "x" port: 1',
  "server_name: (\nno end\n",
  "max_payload: 9223372036854775808",
  "=1",
];

function referenceAccepts(dir: string, text: string): boolean {
  const file = join(dir, "ref.conf");
  writeFileSync(file, text);
  try {
    execFileSync(referenceBinary as string, ["-t", "-c", file], { stdio: "pipe", timeout: 10_000, env: {} });
    return true;
  } catch {
    return false;
  }
}

function latticeAccepts(text: string): boolean {
  try {
    parseConfig(text, { env: {} });
    return true;
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

describe("config parser agrees with nats-server", { skip: referenceBinary === undefined }, () => {
  it("on accepted and rejected inputs", () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-ref-"));
    try {
      for (const text of ACCEPTED) {
        assert.equal(referenceAccepts(dir, text), true, `reference should accept ${JSON.stringify(text)}`);
        assert.equal(latticeAccepts(text), true, `lattice should accept ${JSON.stringify(text)}`);
      }
      for (const text of REJECTED) {
        assert.equal(referenceAccepts(dir, text), false, `reference should reject ${JSON.stringify(text)}`);
        assert.equal(latticeAccepts(text), false, `lattice should reject ${JSON.stringify(text)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
