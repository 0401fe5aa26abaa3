import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isLiteralSubject,
  isValidPublishSubject,
  isValidQueueName,
  isValidSubscribeSubject,
} from "../../src/subjects/validate.js";
import { propertySeeds, withSeed } from "./helpers.js";

const VALID_LITERAL = [
  "foo",
  "foo.bar",
  "foo.bar.baz",
  "foo*",
  "*foo",
  "a>b",
  ">a",
  "foo.>bar",
  "foo.b*r",
  "$JS.API.STREAM.INFO.x",
  "_INBOX.abc123",
  "foo-bar_baz:1/2",
  "ünï.côdé.日本",
  "a.b.c.d.e.f.g.h.i.j",
];

const VALID_WILDCARD = ["*", ">", "foo.*", "foo.>", "*.bar", "*.*.>", "foo.*.baz", "*.>", "a.*.*.*"];

const INVALID = [
  "",
  ".",
  "..",
  "foo.",
  ".foo",
  "foo..bar",
  "foo.>.bar",
  ">.foo",
  ">.>",
  "foo bar",
  " foo",
  "foo ",
  "foo\tbar",
  "foo\rbar",
  "foo\nbar",
  "foo\fbar",
  "foo.* ",
  "foo. ",
];

describe("isValidSubscribeSubject", () => {
  it("accepts literal and wildcard subjects", () => {
    for (const s of [...VALID_LITERAL, ...VALID_WILDCARD]) assert.equal(isValidSubscribeSubject(s), true, s);
  });
  it("rejects empty tokens, '>' not last and whitespace", () => {
    for (const s of INVALID) assert.equal(isValidSubscribeSubject(s), false, JSON.stringify(s));
  });
});

describe("isValidPublishSubject", () => {
  it("accepts literal subjects only", () => {
    for (const s of VALID_LITERAL) assert.equal(isValidPublishSubject(s), true, s);
    for (const s of VALID_WILDCARD) assert.equal(isValidPublishSubject(s), false, s);
    for (const s of INVALID) assert.equal(isValidPublishSubject(s), false, JSON.stringify(s));
  });
});

describe("isLiteralSubject", () => {
  it("detects whole-token wildcards only", () => {
    for (const s of VALID_LITERAL) assert.equal(isLiteralSubject(s), true, s);
    for (const s of VALID_WILDCARD) assert.equal(isLiteralSubject(s), false, s);
    assert.equal(isLiteralSubject("a.**.b"), true);
    assert.equal(isLiteralSubject("a.>>"), true);
    assert.equal(isLiteralSubject("*.a"), false);
  });
});

describe("isValidQueueName", () => {
  it("accepts non-empty names without whitespace", () => {
    for (const q of ["q", "workers", "q.with.dots", "g-1_2", "*"]) assert.equal(isValidQueueName(q), true, q);
    for (const q of ["", " ", "a b", "a\tb", "a\r", "\nb", "a\fb"]) {
      assert.equal(isValidQueueName(q), false, JSON.stringify(q));
    }
  });
});

/** Reference implementation: the rules written as plainly as possible. */
function refValid(subject: string): boolean {
  if (/[ \t\r\n\f]/.test(subject)) return false;
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === "") return false;
    if (tokens[i] === ">" && i !== tokens.length - 1) return false;
  }
  return true;
}

function refLiteral(subject: string): boolean {
  return subject.split(".").every((t) => t !== "*" && t !== ">");
}

describe("validation property test", () => {
  const pieces = ["a", "b", "*", ">", ".", ".", "*a", "a>", " ", "\t", "\n", "ü", "."];
  it("agrees with a reference implementation on random strings", () => {
    for (const seed of propertySeeds([5, 6, 7])) {
      withSeed(seed, (rng) => {
        for (let i = 0; i < 20_000; i++) {
          const n = rng.int(7);
          let s = "";
          for (let k = 0; k < n; k++) s += rng.pick(pieces);
          const ctx = JSON.stringify(s);
          assert.equal(isValidSubscribeSubject(s), refValid(s), `subscribe ${ctx}`);
          assert.equal(isLiteralSubject(s), refLiteral(s), `literal ${ctx}`);
          assert.equal(isValidPublishSubject(s), refValid(s) && refLiteral(s), `publish ${ctx}`);
        }
      });
    }
  });
});
