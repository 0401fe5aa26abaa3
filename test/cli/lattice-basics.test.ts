// The `lattice` command line as a whole: help with an example on every command, usage errors and exit codes,
// one-line errors, and the small parsers and formatters every command relies on.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { renderTemplate } from "../../src/cli/command-kit.js";
import { diffConfigs } from "../../src/cli/config-flags.js";
import { splitUrlCredentials } from "../../src/cli/connect-options.js";
import { describeError, Exit } from "../../src/cli/errors.js";
import {
  humanBytes,
  humanCount,
  humanDuration,
  renderTable,
  setJsonMode,
  useColor,
} from "../../src/cli/output.js";
import { parseDuration, parseSince, parseSize, splitPair } from "../../src/cli/parse.js";
import { buildProgram } from "../../src/cli/program.js";
import { lattice } from "./harness.js";

function allCommands(cmd: Command, path: string[] = []): Array<{ path: string[]; cmd: Command }> {
  const out: Array<{ path: string[]; cmd: Command }> = [];
  for (const c of cmd.commands) {
    const p = [...path, c.name()];
    out.push({ path: p, cmd: c }, ...allCommands(c, p));
  }
  return out;
}

function helpOf(cmd: Command): string {
  let text = "";
  cmd.configureOutput({
    writeOut: (s) => {
      text += s;
    },
    writeErr: (s) => {
      text += s;
    },
  });
  cmd.outputHelp();
  return text;
}

describe("lattice help", () => {
  it("every command and subcommand has a description and an example in --help", async () => {
    const program = await buildProgram();
    const commands = allCommands(program);
    assert.ok(commands.length > 60, `only ${commands.length} commands`);
    const names = new Set(commands.map((c) => c.path.join(" ")));
    for (const expected of [
      "pub",
      "sub",
      "request",
      "reply",
      "context add",
      "context select",
      "context ls",
      "context rm",
      "stream ls",
      "stream add",
      "stream info",
      "stream edit",
      "stream rm",
      "stream purge",
      "stream view",
      "stream get",
      "consumer ls",
      "consumer add",
      "consumer info",
      "consumer rm",
      "consumer next",
      "consumer pause",
      "kv ls",
      "kv add",
      "kv put",
      "kv get",
      "kv create",
      "kv update",
      "kv del",
      "kv purge",
      "kv history",
      "kv keys",
      "kv watch",
      "kv rm",
      "kv status",
      "object ls",
      "object add",
      "object put",
      "object get",
      "object info",
      "object rm",
      "object watch",
      "object seal",
      "server info",
      "server ping",
      "server check connection",
      "server check jetstream",
      "server check stream",
      "server report connections",
      "server report jetstream",
      "bench pub",
      "bench sub",
      "bench pubsub",
      "bench req",
      "bench js pub",
      "bench js fetch",
      "bench kv put",
      "bench kv get",
    ]) {
      assert.ok(names.has(expected), `missing command: lattice ${expected}`);
    }
    for (const { path, cmd } of commands) {
      const help = helpOf(cmd);
      assert.ok(cmd.description().length > 0, `lattice ${path.join(" ")} has no description`);
      assert.match(help, /Examples:\n\s+\$ lattice /, `lattice ${path.join(" ")} --help has no example`);
      // Connection options show up on every command.
      assert.match(help, /--server <urls>/, `lattice ${path.join(" ")} --help lacks the connection options`);
    }
  });

  it("--help and --version exit 0 from the real binary; listing/info commands offer --json", async () => {
    const top = await lattice(["--help"]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Exit codes:/);
    const add = await lattice(["stream", "add", "--help"]);
    assert.equal(add.code, 0);
    for (const flag of [
      "--subjects",
      "--max-age",
      "--max-msgs-per-subject",
      "--config <file>",
      "--json",
      "--timeout",
    ]) {
      assert.ok(add.stdout.includes(flag), `stream add --help lacks ${flag}`);
    }
    const version = await lattice(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const program = await buildProgram();
    for (const { path, cmd } of allCommands(program)) {
      const last = path[path.length - 1];
      if (["ls", "info", "status", "history", "keys", "subjects"].includes(last)) {
        assert.ok(
          cmd.options.some((o) => o.long === "--json"),
          `lattice ${path.join(" ")} has no --json`,
        );
      }
    }
  });

  it("`lattice server <flags>` still runs the server's own command line; server info/ping/check/report are client commands", async () => {
    const v = await lattice(["server", "-v"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^nats-server: v/);
    const help = await lattice(["server", "check", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /connection/);
    assert.match(help.stdout, /2 CRITICAL/);
  });
});

describe("lattice usage errors and exit codes", { concurrency: true }, () => {
  it("an unknown command or flag, a missing argument or a bad value exits 2 with one line", async () => {
    for (const args of [
      ["nosuch"],
      ["pub"],
      ["stream", "add", "X", "--max-age", "soon"],
      ["stream", "add", "X", "--storage", "disk"],
      ["kv", "put", "B", "k", "v", "--bogus"],
      ["bench", "pub", "x", "--msgs", "0"],
      ["--timeout", "never", "pub", "x", "y"],
    ]) {
      const r = await lattice(args);
      assert.equal(r.code, Exit.USAGE, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^lattice: error: /, args.join(" "));
      assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(" ")}`);
    }
  });

  it("a server that is not there: exit 3, one line naming the URL", async () => {
    const r = await lattice(["-s", "nats://127.0.0.1:1", "--timeout", "1s", "pub", "x", "y"]);
    assert.equal(r.code, Exit.CONNECT);
    assert.match(
      r.stderr,
      /^lattice: error: cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused\n$/,
    );
  });

  it("destructive commands refuse without --force when there is no terminal to ask on", async () => {
    const offline = ["-s", "nats://127.0.0.1:1"];
    const runs = await Promise.all(
      [
        ["stream", "rm", "X"],
        ["stream", "purge", "X"],
        ["stream", "seal", "X"],
        ["stream", "rmm", "X", "1"],
        ["consumer", "rm", "X", "C"],
        ["kv", "rm", "B"],
        ["kv", "compact", "B"],
        ["object", "rm", "B"],
      ].map((args) => lattice([...offline, ...args])),
    );
    for (const r of runs) {
      assert.equal(r.code, Exit.USAGE, r.stderr);
      assert.match(r.stderr, /refusing without --force/);
    }
  });
});

describe("lattice parsers and formatters", () => {
  it("parses durations, sizes and key:value pairs", () => {
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("2"), 2000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("7d"), 7 * 86_400_000);
    assert.throws(() => parseDuration("soon"), /not a duration/);
    assert.throws(() => parseDuration("5 parsecs"), /not a duration/);
    assert.equal(parseSize("1KiB"), 1024);
    assert.equal(parseSize("10MB"), 10 * 1024 * 1024);
    assert.equal(parseSize("2g"), 2 * 1024 ** 3);
    assert.equal(parseSize("-1"), -1);
    assert.throws(() => parseSize("lots"), /not a size/);
    assert.deepEqual(splitPair("a:b:c"), ["a", "b:c"]);
    assert.deepEqual(splitPair("k=v"), ["k", "v"]);
    assert.throws(() => splitPair("novalue"), /key:value/);
  });

  it("parses --since: a time, a date, or a duration ago", () => {
    assert.equal(parseSince("2025-01-02T03:04:05Z").toISOString(), "2025-01-02T03:04:05.000Z");
    assert.equal(parseSince("2025-01-02").toISOString(), "2025-01-02T00:00:00.000Z");
    const ago = Date.now() - parseSince("1h").getTime();
    assert.ok(ago >= 3_600_000 && ago < 3_660_000, `${ago}`);
    assert.throws(() => parseSince("2025-13-45"), /not a time/);
    assert.throws(() => parseSince("last tuesday"), /neither a time .* nor a duration ago/);
  });

  it("shows configuration changes field by field", () => {
    assert.deepEqual(diffConfigs({ a: 1, b: [1], c: "x" }, { a: 2, b: [1], d: true }), [
      "  a: 1 -> 2",
      '  c: "x" -> (unset)',
      "  d: (unset) -> true",
    ]);
    assert.deepEqual(diffConfigs({ a: { x: 1 } }, { a: { x: 1 } }), []);
  });

  it("takes credentials out of server URLs", () => {
    assert.deepEqual(splitUrlCredentials("nats://a:p%40ss@h1:4222, nats://h2:4222"), {
      servers: ["nats://h1:4222", "nats://h2:4222"],
      user: "a",
      password: "p@ss",
    });
    assert.deepEqual(splitUrlCredentials("tok@h1"), { servers: ["h1"], token: "tok" });
    assert.deepEqual(splitUrlCredentials("nats://h1"), { servers: ["nats://h1"] });
  });

  it("humanises sizes, counts and durations", () => {
    assert.equal(humanBytes(0), "0 B");
    assert.equal(humanBytes(1536), "1.5 KiB");
    assert.equal(humanBytes(3 * 1024 ** 3), "3 GiB");
    assert.equal(humanBytes(-1), "unlimited");
    assert.equal(humanCount(1234567), "1,234,567");
    assert.equal(humanCount(-1, true), "unlimited");
    assert.equal(humanDuration(0.045), "45µs");
    assert.equal(humanDuration(12.34), "12.3ms");
    assert.equal(humanDuration(1250), "1.25s");
    assert.equal(humanDuration(3_723_000), "1h2m");
    assert.equal(humanDuration(90_061_000), "1d1h");
  });

  it("renders aligned tables without colour off a terminal", () => {
    const t = renderTable(
      ["Name", "Messages"],
      [
        ["A", 1000],
        ["B", 2],
      ],
      "Title",
    );
    assert.doesNotMatch(t, /\x1b\[/);
    assert.match(t, /^Title\n\n/);
    assert.match(t, /│ A {4}│ {4}1,000 │/);
    assert.match(t, /│ B {4}│ {8}2 │/);
  });

  it("colours only a terminal, and never with NO_COLOR or --json", () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      assert.equal(useColor(tty), true);
      assert.equal(useColor(pipe), false);
      process.env.NO_COLOR = "1";
      assert.equal(useColor(tty), false);
      delete process.env.NO_COLOR;
      setJsonMode(true);
      assert.equal(useColor(tty), false);
    } finally {
      setJsonMode(false);
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it("expands body templates", () => {
    assert.equal(renderTemplate("n={{Count}} {{ Count }}", { count: 7 }), "n=7 7");
    assert.match(renderTemplate("{{ID}}", { count: 1 }), /^[A-Z0-9]{22}$/);
    assert.match(renderTemplate("{{TimeStamp}}", { count: 1 }), /^\d{4}-\d{2}-\d{2}T/);
    assert.match(renderTemplate("{{Unix}}", { count: 1 }), /^\d{10}$/);
    assert.equal(renderTemplate("{{Random 5 5}}", { count: 1 }).length, 5);
    assert.equal(renderTemplate("got {{Request}}", { count: 1, request: "hi" }), "got hi");
    assert.throws(() => renderTemplate("{{Nope}}", { count: 1 }), /unknown template/);
    assert.equal(renderTemplate("no templates", { count: 1 }), "no templates");
  });

  it("describes errors as one line with the JetStream code and a meaningful exit code", () => {
    assert.deepEqual(describeError(new Error("boom")), { message: "boom", exitCode: Exit.FAILED });
    const fsErr = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), {
      code: "ENOENT",
      syscall: "open",
    });
    assert.equal(describeError(fsErr).exitCode, Exit.FAILED);
  });
});
