import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ConfigError,
  type ConfigMap,
  isUsedAsVariable,
  keyPosition,
  parseConfig,
  parseConfigFile,
} from "../../src/config/index.js";

describe("config include", () => {
  let dir = "";
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "lattice-config-"));
    mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("merges an included file's keys at the point of inclusion", () => {
    write("sub/a.conf", "server_name: fromsub\nmax_payload: 2KB\n");
    const main = write("main.conf", "server_name: first\ninclude ./sub/a.conf\nport: 4222\n");
    assert.deepEqual(parseConfigFile(main, { env: {} }), {
      server_name: "fromsub",
      max_payload: 2048,
      port: 4222,
    });
    const later = write("later.conf", "include ./sub/a.conf\nserver_name: last\n");
    assert.equal(parseConfigFile(later, { env: {} }).server_name, "last");
  });

  it("accepts double-quoted, single-quoted and bare paths, any case of the keyword", () => {
    write("sub/b.conf", "b: 1");
    for (const line of [
      'include "sub/b.conf"',
      "include 'sub/b.conf'",
      "include sub/b.conf",
      "INCLUDE sub/b.conf",
    ]) {
      const main = write("q.conf", `${line} # comment\nz: 2`);
      assert.deepEqual(parseConfigFile(main, { env: {} }), { b: 1, z: 2 }, line);
    }
  });

  it("includes into nested maps", () => {
    write("sub/users.conf", "users: [ {user: a, password: b} ]\ntimeout: 2");
    const main = write("nested.conf", "authorization {\n  include sub/users.conf\n}\n");
    assert.deepEqual(parseConfigFile(main, { env: {} }), {
      authorization: { users: [{ user: "a", password: "b" }], timeout: 2 },
    });
  });

  it("resolves nested includes relative to the including file", () => {
    write("sub/deeper/leaf.conf", "leaf: true");
    write("sub/mid.conf", "include deeper/leaf.conf\nmid: 1");
    const main = write("top.conf", "include sub/mid.conf");
    assert.deepEqual(parseConfigFile(main, { env: {} }), { leaf: true, mid: 1 });
  });

  it("accepts absolute include paths", () => {
    const abs = write("sub/abs.conf", "abs: yes");
    assert.deepEqual(parseConfig(`include "${abs}"`, { env: {} }), { abs: true });
  });

  it("resolves relative to the working directory when parsing text without a filename", () => {
    write("sub/cwd.conf", "from_cwd: 1");
    const saved = process.cwd();
    process.chdir(dir);
    try {
      assert.deepEqual(parseConfig("include sub/cwd.conf", { env: {} }), { from_cwd: 1 });
    } finally {
      process.chdir(saved);
    }
  });

  it("resolves relative to the filename option's directory", () => {
    write("sub/rel.conf", "rel: 1");
    assert.deepEqual(
      parseConfig("include rel.conf", { filename: join(dir, "sub", "virtual.conf"), env: {} }),
      {
        rel: 1,
      },
    );
  });

  it("lets the includer use variables defined by the included file, and tracks that use", () => {
    write("sub/vars.conf", "PASS: secret");
    const main = write("vars-main.conf", "include sub/vars.conf\nauthorization { password: $PASS }");
    const conf = parseConfigFile(main, { env: {} });
    assert.deepEqual(conf, { PASS: "secret", authorization: { password: "secret" } });
    assert.equal(isUsedAsVariable(conf, "PASS"), true);
  });

  it("parses an included file on its own: it cannot see the includer's keys", () => {
    write("sub/needs.conf", "server_name: $N");
    const main = write("needs-main.conf", "N: foo\ninclude sub/needs.conf");
    assert.throws(
      () => parseConfigFile(main, { env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.file === join(dir, "sub/needs.conf") &&
        err.line === 1 &&
        err.column === 14 &&
        /variable reference for 'N' on line 1 can not be found/.test(err.message),
    );
    assert.deepEqual(parseConfigFile(main, { env: { N: "env" } }), { N: "foo", server_name: "env" });
  });

  it("records positions of included keys in the included file", () => {
    write("sub/pos.conf", "\n  pos: 1");
    const conf = parseConfigFile(write("pos-main.conf", "include sub/pos.conf"), { env: {} });
    assert.deepEqual(keyPosition(conf, "pos"), { file: join(dir, "sub/pos.conf"), line: 2, column: 3 });
  });

  it("reports a missing include file at the include's path", () => {
    const main = write("missing.conf", "a: 1\ninclude  nope.conf\n");
    assert.throws(
      () => parseConfigFile(main, { env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.file === main &&
        err.line === 2 &&
        err.column === 10 &&
        err.message.startsWith(`${main}:2:10: include file 'nope.conf' not found`),
    );
  });

  it("reports syntax errors with the included file's name and position", () => {
    write("sub/broken.conf", "ok: 1\nbad: [1, 2\n");
    const main = write("broken-main.conf", "include sub/broken.conf");
    assert.throws(
      () => parseConfigFile(main, { env: {} }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.file === join(dir, "sub/broken.conf") &&
        err.line === 2 &&
        err.column === 6,
    );
  });

  it("detects include cycles", () => {
    write("cycle-a.conf", "include cycle-b.conf");
    write("cycle-b.conf", "include cycle-a.conf");
    assert.throws(() => parseConfigFile(join(dir, "cycle-a.conf"), { env: {} }), /include cycle/);
    const self = write("self.conf", "include self.conf");
    assert.throws(() => parseConfigFile(self, { env: {} }), /include cycle/);
  });

  it("rejects include without a path and a directory as path", () => {
    assert.throws(() => parseConfig("include", { env: {} }), ConfigError);
    assert.throws(() => parseConfig("include ;", { env: {} }), /include needs a file name/);
    assert.throws(() => parseConfig(`include "${dir}"`, { env: {} }), /is a directory/);
  });

  it("treats `include:` and `include =` as an ordinary key", () => {
    assert.deepEqual(parseConfig("include: x.conf\n", { env: {} }), { include: "x.conf" });
    assert.deepEqual(parseConfig("include = x.conf\n", { env: {} }), { include: "x.conf" });
    assert.deepEqual(parseConfig('"include" x.conf\n', { env: {} }), { include: "x.conf" });
  });

  it("reports a missing top-level file as a ConfigError without a position", () => {
    const path = join(dir, "does-not-exist.conf");
    assert.throws(
      () => parseConfigFile(path),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.file === path &&
        err.line === 0 &&
        err.message === `${path}: configuration file not found`,
    );
  });

  it("parses a JSON file", () => {
    const path = write("conf.json", JSON.stringify({ port: 4222, jetstream: { max_mem: "1G" } }, null, 2));
    const conf: ConfigMap = parseConfigFile(path, { env: {} });
    assert.deepEqual(conf, { port: 4222, jetstream: { max_mem: "1G" } });
  });
});
