import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, type ConfigMap, parseConfig } from "../../src/config/index.js";

const parse = (text: string): ConfigMap => parseConfig(text, { env: {} });

describe("config syntax: separators, terminators, comments", () => {
  it("accepts '=', ':' and whitespace between key and value", () => {
    assert.deepEqual(parse("a = 1\nb: 2\nc 3\nd=4\ne:5\nf\t6"), { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 });
  });

  it("ends values at newline, ',' or ';' and ignores empty entries", () => {
    assert.deepEqual(parse("a: 1, b: 2; c: 3\n;;\n,d: 4,,"), { a: 1, b: 2, c: 3, d: 4 });
  });

  it("skips # and // comments, including after values", () => {
    const text =
      "# header\n// another\na: 1 # trailing\nb: x // trailing\n  # indented\nc: [1, # inside\n 2]";
    assert.deepEqual(parse(text), { a: 1, b: "x", c: [1, 2] });
  });

  it("keeps # inside an unquoted value and // inside URLs", () => {
    assert.deepEqual(parse("a: abc#x\nb: nats://h:4222/x\nc: #fff"), {
      a: "abc#x",
      b: "nats://h:4222/x",
      c: "#fff",
    });
  });

  it("handles CRLF line endings and a UTF-8 BOM", () => {
    assert.deepEqual(parse("\ufeffa: 1\r\nb: two\r\nc {\r\n  d: 3\r\n}\r\n"), {
      a: 1,
      b: "two",
      c: { d: 3 },
    });
  });

  it("parses empty and comment-only documents to an empty map", () => {
    assert.deepEqual(parse(""), {});
    assert.deepEqual(parse("  \n# only a comment\n// and another\n"), {});
  });

  it("lets a later duplicate key replace the earlier one", () => {
    assert.deepEqual(parse("a: 1\na: 2\nb { x: 1 }\nb { y: 2 }"), { a: 2, b: { y: 2 } });
  });

  it("keeps the spelling of keys", () => {
    assert.deepEqual(Object.keys(parse("Port: 1\nMAX_payload: 2\nport: 3")), ["Port", "MAX_payload", "port"]);
  });

  it("accepts quoted keys and keys with punctuation", () => {
    assert.deepEqual(parse(`"a b": 1\n'c d' 2\n"e": 3\na.b-c/d: 4\n"foo.*": "bar.$1"`), {
      "a b": 1,
      "c d": 2,
      e: 3,
      "a.b-c/d": 4,
      "foo.*": "bar.$1",
    });
  });

  it("stores a key named __proto__ as data, not as the prototype", () => {
    const conf = parse("__proto__: 1\nconstructor: 2");
    assert.equal(Object.getPrototypeOf(conf), Object.prototype);
    assert.deepEqual(Object.keys(conf), ["__proto__", "constructor"]);
    assert.equal(Object.getOwnPropertyDescriptor(conf, "__proto__")?.value, 1);
  });
});

describe("config syntax: numbers, booleans, dates", () => {
  it("applies size suffixes, case-insensitively", () => {
    const conf = parse(
      "k: 1k\nK: 2K\nkb: 1kb\nki: 1Ki\nkib: 1KiB\nm: 1m\nmb: 1MB\nmi: 1mi\nmib: 1MiB\n" +
        "g: 1g\ngb: 1GB\ngi: 1gi\ngib: 1gib\nt: 1t\ntb: 1tb\np: 1P\npb: 1PB\ne: 1e\neb: 1EB\nneg: -2k",
    );
    assert.deepEqual(conf, {
      k: 1000,
      K: 2000,
      kb: 1024,
      ki: 1024,
      kib: 1024,
      m: 1_000_000,
      mb: 1024 ** 2,
      mi: 1024 ** 2,
      mib: 1024 ** 2,
      g: 1e9,
      gb: 1024 ** 3,
      gi: 1024 ** 3,
      gib: 1024 ** 3,
      t: 1e12,
      tb: 1024 ** 4,
      p: 1e15,
      pb: 1024 ** 5,
      e: 1e18,
      eb: 1024 ** 6,
      neg: -2000,
    });
  });

  it("distinguishes 1M (10^6) from 1MB (2^20)", () => {
    const conf = parse("max_payload: 1M\nmax_pending: 1MB");
    assert.equal(conf.max_payload, 1_000_000);
    assert.equal(conf.max_pending, 1_048_576);
  });

  it("parses integers, negatives and floats", () => {
    assert.deepEqual(parse("a: 4222\nb: -1\nc: 010\nd: 1.5\ne: -0.25\nf: 0\ng: -0\nh: 1e3"), {
      a: 4222,
      b: -1,
      c: 10,
      d: 1.5,
      e: -0.25,
      f: 0,
      g: 0,
      h: 1000,
    });
    assert.ok(Object.is(parse("g: -0").g, 0));
  });

  it("keeps tokens that only start with a digit as strings", () => {
    assert.deepEqual(parse("a: 3secret\nb: 1x\nc: 0x10\nd: 1_000\ne: 1.2.3\nf: 1:2\ng: 1.5k\nh: 12ab"), {
      a: "3secret",
      b: "1x",
      c: "0x10",
      d: "1_000",
      e: "1.2.3",
      f: "1:2",
      g: "1.5k",
      h: "12ab",
    });
  });

  it("keeps IPs, host:port and URLs as strings", () => {
    assert.deepEqual(
      parse("a: 127.0.0.1\nb: 127.0.0.1:4222\nc: 0.0.0.0:-1\nd: nats://10.0.0.1:4222\ne: ::1"),
      {
        a: "127.0.0.1",
        b: "127.0.0.1:4222",
        c: "0.0.0.0:-1",
        d: "nats://10.0.0.1:4222",
        e: "::1",
      },
    );
  });

  it("recognises true/false/yes/no/on/off in any case, unquoted only", () => {
    assert.deepEqual(parse("a: true\nb: FALSE\nc: Yes\nd: no\ne: ON\nf: oFf\ng: 'true'\nh: \"no\"\ni: nil"), {
      a: true,
      b: false,
      c: true,
      d: false,
      e: true,
      f: false,
      g: "true",
      h: "no",
      i: "nil",
    });
  });

  it("parses ISO-8601 Zulu datetimes to Date", () => {
    const conf = parse("a: 2024-02-29T01:02:03Z\nb: 2024-01-02");
    assert.ok(conf.a instanceof Date);
    assert.equal((conf.a as Date).toISOString(), "2024-02-29T01:02:03.000Z");
    assert.equal(conf.b, "2024-01-02");
  });

  it("rejects impossible datetimes and integers outside int64", () => {
    assert.throws(() => parse("a: 2023-02-29T00:00:00Z"), /invalid datetime/);
    assert.throws(() => parse("a: 2024-13-01T00:00:00Z"), /invalid datetime/);
    assert.throws(() => parse("a: 9223372036854775808"), /out of the 64-bit range/);
    assert.throws(() => parse("a: 8eb"), /out of the 64-bit range/);
    assert.equal(parse("a: 9223372036854775807").a, 2 ** 63 - 1);
  });
});

describe("config syntax: strings", () => {
  it("decodes escapes in double-quoted strings", () => {
    assert.equal(parse(String.raw`a: "t\tn\nr\rq\"b\\x\x41"`).a, 't\tn\nr\rq"b\\xA');
  });

  it("decodes consecutive \\x escapes as UTF-8 bytes", () => {
    assert.equal(parse(String.raw`a: "caf\xc3\xa9"`).a, "café");
    assert.equal(parse(String.raw`a: "a\xffb"`).a, "a\ufffdb");
  });

  it("rejects unknown escapes, including \\u (as nats-server does)", () => {
    assert.throws(() => parse(String.raw`a: "x\qy"`), /invalid escape "\\\\q"/);
    assert.throws(() => parse(String.raw`a: "\u0041"`), /invalid escape "\\\\u"/);
    assert.throws(() => parse(String.raw`a: "\x4"`), /two hexadecimal digits/);
  });

  it("takes single-quoted strings raw", () => {
    assert.equal(parse(String.raw`a: 'x\ny "z" $V'`).a, String.raw`x\ny "z" $V`);
  });

  it("allows quoted strings to span lines", () => {
    assert.equal(parse('a: "one\ntwo"').a, "one\ntwo");
    assert.equal(parse("a: 'one\ntwo'").a, "one\ntwo");
  });

  it("keeps non-ASCII text", () => {
    assert.deepEqual(parse('é: "ü"\nname: 日本'), { é: "ü", name: "日本" });
  });

  it("reads unquoted strings up to whitespace or a terminator", () => {
    assert.deepEqual(parse("a: x=y:z{w(v\nb: x,c: y;d: z"), { a: "x=y:z{w(v", b: "x", c: "y", d: "z" });
  });

  it("reads block strings up to a ')' alone on a line", () => {
    assert.equal(parse("a: (\nline one\n  line (two)\n)\nb: 1").a, "\nline one\n  line (two)\n");
    assert.equal(parse("a (\nx\n)").a, "\nx\n");
    assert.equal(parse("a: ( first\nx)\n)  \nb: 2").a, " first\nx)\n");
    assert.equal(parse("a: (\r\nx\r\n)\r\nb: 2").b, 2);
  });

  it("treats $ inside quotes, mid-word and bcrypt hashes literally", () => {
    assert.deepEqual(parse(`a: "$HOME"\nb: 'x$Y'\nc: x$Y\nd: $2a$11$abcdefghijklmnopqrstuv`), {
      a: "$HOME",
      b: "x$Y",
      c: "x$Y",
      d: "$2a$11$abcdefghijklmnopqrstuv",
    });
  });
});

describe("config syntax: maps and arrays", () => {
  it("parses nested maps with or without a separator", () => {
    assert.deepEqual(parse("a { b: 1 }\nc: { d { e: 2 } }\nf = {}\ng{h: 3}"), {
      a: { b: 1 },
      c: { d: { e: 2 } },
      f: {},
      g: { h: 3 },
    });
  });

  it("allows a map's or array's opener on the next line", () => {
    assert.deepEqual(parse("cluster\n{\n  name: x\n}\nroutes\n[\n  a\n]"), {
      cluster: { name: "x" },
      routes: ["a"],
    });
  });

  it("parses arrays separated by commas and/or newlines", () => {
    assert.deepEqual(parse("a: [1, 2, 3]\nb [\n x\n y,\n z\n]\nc: []\nd: [1,]\ne: [ 1\n , 2 ]"), {
      a: [1, 2, 3],
      b: ["x", "y", "z"],
      c: [],
      d: [1],
      e: [1, 2],
    });
  });

  it("parses nested arrays and maps inside arrays", () => {
    assert.deepEqual(
      parse("a: [[1, 2], [3]]\nb: [{x: 1}, {y: [true]}]\nc [\n {\n  u: a\n }\n {\n  u: b\n }\n]"),
      {
        a: [[1, 2], [3]],
        b: [{ x: 1 }, { y: [true] }],
        c: [{ u: "a" }, { u: "b" }],
      },
    );
  });

  it("accepts a top level wrapped in braces (JSON)", () => {
    const json = JSON.stringify({ port: 4222, debug: true, tags: ["a", "b"], js: { max_mem: 1024 }, x: 1.5 });
    assert.deepEqual(parse(json), {
      port: 4222,
      debug: true,
      tags: ["a", "b"],
      js: { max_mem: 1024 },
      x: 1.5,
    });
    assert.deepEqual(parse('{\n  "a": null\n}\n# trailing comment\n'), { a: "null" });
  });

  it("rejects entries separated only by spaces on one line", () => {
    assert.throws(() => parse("a: 1 b: 2"), ConfigError);
    assert.throws(() => parse("a { b: 1 c: 2 }"), ConfigError);
    assert.throws(() => parse("a: [1 2]"), ConfigError);
    assert.throws(() => parse("a: [1; 2]"), ConfigError);
  });
});
