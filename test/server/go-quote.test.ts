import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goQuote } from "../../src/server/go-quote.js";

// Expected values are what Go's fmt.Sprintf("%q", []byte(...)) prints.
describe("goQuote (Go's %q, as nats-server traces payloads)", () => {
  const cases: Array<[string, number[] | string, string]> = [
    ["plain text", "hello", '"hello"'],
    ["the short escapes", '\x07\b\t\n\v\f\r"\\', '"\\a\\b\\t\\n\\v\\f\\r\\"\\\\"'],
    ["other control bytes and DEL in hex", [0x00, 0x01, 0x1b, 0x7f], '"\\x00\\x01\\x1b\\x7f"'],
    ["printable UTF-8 as is", "é ✓ 日本 😀", '"é ✓ 日本 😀"'],
    ["non-printable runes as \\u", [0xc2, 0x85, 0xe2, 0x80, 0x8b], '"\\u0085\\u200b"'],
    ["bytes that are not UTF-8 in hex", [0x78, 0xe9, 0x01, 0xff], '"x\\xe9\\x01\\xff"'],
    ["a truncated sequence at the end", [0x61, 0xe2, 0x82], '"a\\xe2\\x82"'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const bytes = typeof input === "string" ? new TextEncoder().encode(input) : Uint8Array.from(input);
      assert.equal(goQuote(bytes), expected);
    });
  }
});
