// The README's `lattice` examples, run as written, in order, on a fresh server: a newcomer's first commands
// must not fail on a bucket or stream the README never created.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { lattice, latticeTarget } from "./harness.js";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

/** The commands of the sh block under the README's "The `lattice` command line" heading. */
function readmeCommands(): string[][] {
  const text = readFileSync(README, "utf8");
  const section = text.slice(text.indexOf("## The `lattice` command line"));
  const start = section.indexOf("```sh\n") + "```sh\n".length;
  const block = section.slice(start, section.indexOf("\n```", start));
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "")
    .flatMap((line) => line.split(" && "))
    .map(shellWords);
}

/** Words of a command line, with single quotes as the shell reads them (all the README uses). */
function shellWords(line: string): string[] {
  const words = line.match(/'[^']*'|\S+/g) ?? [];
  return words.map((w) => (w.startsWith("'") ? w.slice(1, -1) : w));
}

const target = await latticeTarget();
const cwd = mkdtempSync(join(tmpdir(), "lattice-readme-"));
after(async () => {
  await target.close();
  rmSync(cwd, { recursive: true, force: true });
});

describe("the README's lattice examples", () => {
  it("run as written, in order, on a fresh server", async () => {
    const commands = readmeCommands();
    assert.ok(commands.length >= 8, `found ${commands.length} commands`);
    writeFileSync(join(cwd, "report.pdf"), "%PDF-1.4 a report\n");
    for (const words of commands) {
      assert.equal(words[0], "lattice");
      const r = await lattice(words.slice(1), {
        cwd,
        env: { NATS_URL: target.url, NATS_TIMEOUT: "3s" },
      });
      assert.equal(r.code, 0, `${words.join(" ")}: ${r.stderr}`);
    }
  });

  it("say how to create a bucket the command needs", async () => {
    const env = { NATS_URL: target.url };
    const kv = await lattice(["kv", "put", "NOT_MADE", "mode", "fast"], { env });
    assert.equal(kv.code, 1);
    assert.match(kv.stderr, /no such bucket "NOT_MADE" .*; create it with: lattice kv add NOT_MADE\n$/);
    const obj = await lattice(["object", "put", "NOT_MADE", README], { env });
    assert.equal(obj.code, 1);
    assert.match(
      obj.stderr,
      /no such object store bucket "NOT_MADE" .*; create it with: lattice object add NOT_MADE\n$/,
    );
  });
});
