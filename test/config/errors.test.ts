import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, parseConfig } from "../../src/config/index.js";

/** Asserts that parsing fails with a ConfigError at line:column whose reason matches. */
function failsAt(text: string, line: number, column: number, reason: RegExp, filename?: string): ConfigError {
  let caught: unknown;
  try {
    parseConfig(text, { env: {}, filename });
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof ConfigError,
    `expected a ConfigError for ${JSON.stringify(text)}, got ${caught}`,
  );
  assert.deepEqual(
    { line: caught.line, column: caught.column },
    { line, column },
    `position for ${JSON.stringify(text)}: ${caught.message}`,
  );
  assert.match(caught.reason, reason);
  assert.equal(caught.message, `${filename ?? "config"}:${line}:${column}: ${caught.reason}`);
  return caught;
}

describe("config errors: positions and messages", () => {
  it("unterminated strings point at the opening quote", () => {
    failsAt('a: 1\nb: "abc', 2, 4, /unterminated string/);
    failsAt("a: 'abc\n\n", 1, 4, /unterminated string/);
    failsAt('a: "abc\\', 1, 4, /unterminated string/);
  });

  it("unterminated maps and arrays point at the opener", () => {
    failsAt("a: 1\nb: {\n  c: 1\n", 2, 4, /unterminated map/);
    failsAt("x: [1, 2", 1, 4, /unterminated array/);
    failsAt("x: [\n  {a: 1}\n", 1, 4, /unterminated array/);
    failsAt("{ a: 1", 1, 1, /unterminated map/);
  });

  it("unterminated block strings point at the parenthesis", () => {
    failsAt("a: (\nfoo\n", 1, 4, /unterminated block string/);
    failsAt("a: (\nfoo\n  )\n", 1, 4, /unterminated block string/);
  });

  it("bad escapes point at the backslash", () => {
    failsAt('a: 1\nb: "x\\qy"', 2, 6, /invalid escape "\\\\q"/);
    failsAt('b: "\\xZZ"', 1, 5, /two hexadecimal digits/);
  });

  it("missing values point at the key", () => {
    failsAt("port:", 1, 1, /missing value for key 'port'/);
    failsAt("a: 1\n  port =\n4222", 2, 3, /missing value for key 'port'/);
    failsAt("a { b }", 1, 5, /missing value for key 'b'/);
    failsAt("a: 1\nport", 2, 1, /missing value for key 'port'/);
    failsAt("port\n\n# not a value\n", 1, 1, /missing value for key 'port'/);
    failsAt("a: [1, }", 1, 8, /unexpected "}" in array/);
  });

  it("unknown variables point at the reference", () => {
    failsAt("a {\n  b: $NOPE\n}", 2, 6, /variable reference for 'NOPE' on line 2 can not be found/);
    failsAt("a: [1, $X]", 1, 8, /variable reference for 'X' on line 1/);
  });

  it("stray closers and trailing garbage point at the offending character", () => {
    failsAt("a: 1\n}", 2, 1, /unexpected '}'/);
    failsAt("a: 1\n  ]", 2, 3, /unexpected ']'/);
    failsAt("a: 1 2", 1, 6, /unexpected "2" after the value of 'a'/);
    failsAt("a: [1] b", 1, 8, /unexpected "b"/);
    failsAt('a: "x"y', 1, 7, /unexpected "y"/);
    failsAt("{ a: 1 } b: 2", 1, 10, /after the closing '}'/);
    failsAt("a: 1 }", 1, 6, /unexpected "}"/);
  });

  it("bad keys and separators", () => {
    failsAt("=1", 1, 1, /expected a key, found "="/);
    failsAt("a: 1\n: 2", 2, 1, /expected a key/);
    failsAt('"a"b: 1', 1, 4, /expected '=', ':' or a space after key 'a'/);
    failsAt("a: {\n  [1]\n}", 2, 3, /expected a key, found "\["/);
  });

  it("bad array separators", () => {
    failsAt("a: [1,,2]", 1, 7, /unexpected ',' in array/);
    failsAt("a: [,1]", 1, 5, /unexpected ',' in array/);
    failsAt("a: [1 2]", 1, 7, /expected ',' or ']' after array element/);
    failsAt("a: [1; 2]", 1, 6, /expected ',' or ']'/);
  });

  it("invalid scalars point at the token", () => {
    failsAt("a: 1\nb:   2023-02-29T00:00:00Z", 2, 6, /invalid datetime/);
    failsAt("n: 99999999999999999999", 1, 4, /out of the 64-bit range/);
  });

  it("counts columns in code points and names the file", () => {
    failsAt('é: "x', 1, 4, /unterminated string/);
    failsAt('😀: "x', 1, 4, /unterminated string/);
    failsAt("a: 1\nb: $NOPE", 2, 4, /NOPE/, "/etc/lattice/server.conf");
  });

  it("rejects absurd nesting with a ConfigError instead of a stack overflow", () => {
    failsAt(`a: ${"[".repeat(5000)}`, 1, 132, /nested more than 128 levels/);
    failsAt(`a: ${"{b: ".repeat(5000)}`, 1, 4 + 128 * 4, /nested more than/);
  });

  it("rejects exponential variable expansion", () => {
    const lines = ["v0: [1, 2, 3, 4]"];
    for (let i = 1; i <= 12; i++) lines.push(`v${i}: [$v${i - 1}, $v${i - 1}, $v${i - 1}, $v${i - 1}]`);
    assert.throws(() => parseConfig(lines.join("\n"), { env: {} }), /variable expansion produces more than/);
  });

  it("exposes file, line, column and reason fields", () => {
    const err = failsAt("\n\n   x: $MISSING", 3, 7, /MISSING/, "a.conf");
    assert.equal(err.name, "ConfigError");
    assert.equal(err.file, "a.conf");
    assert.ok(err instanceof Error);
  });

  it("rejects non-string input with a ConfigError", () => {
    assert.throws(() => parseConfig(42 as unknown as string), ConfigError);
  });
});
