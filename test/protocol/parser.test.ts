// Parser unit tests. Where a case is malformed, the expectation is what nats-server 2.9.10 was observed to do
// with the same bytes (sent in one write): which -ERR, or a silent close, or nothing.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Parser } from "../../src/protocol/parser.js";
import { bytes, type Call, calls, DEFAULT_LIMITS, parseChunks, Recorder } from "./helpers.js";

const UNKNOWN: Call = ["error", "unknown_operation", "Unknown Protocol Operation"];
const BAD_ARGS: Call = ["error", "bad_arguments", undefined];
const MAX_PAYLOAD: Call = ["error", "max_payload", "Maximum Payload Violation"];
const MAX_CONTROL: Call = ["error", "max_control_line", "maximum control line exceeded"];
const CLIENT_ERR: Call = ["error", "client_error", undefined];

describe("Parser: ops", () => {
  it("parses every client op", () => {
    const input =
      'CONNECT {"verbose":false}\r\n' +
      'INFO {"x":1}\r\n' +
      "SUB foo 1\r\n" +
      "SUB foo.* workers 2\r\n" +
      "PUB foo 5\r\nhello\r\n" +
      "PUB foo _INBOX.a 3\r\nabc\r\n" +
      "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
      "HPUB foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n" +
      "UNSUB 1\r\n" +
      "UNSUB 2 10\r\n" +
      "PING\r\n" +
      "PONG\r\n";
    assert.deepEqual(calls(input), [
      ["connect", '{"verbose":false}'],
      ["info", '{"x":1}'],
      ["sub", "foo", undefined, "1"],
      ["sub", "foo.*", "workers", "2"],
      ["pub", "foo", undefined, "hello"],
      ["pub", "foo", "_INBOX.a", "abc"],
      ["hpub", "foo", undefined, "NATS/1.0\r\n\r\n", "hi"],
      ["hpub", "foo", "rep", "NATS/1.0\r\n\r\n", ""],
      ["unsub", "1", undefined],
      ["unsub", "2", 10],
      ["ping"],
      ["pong"],
    ]);
  });

  it("matches op names case-insensitively", () => {
    const input =
      "pub a 1\r\nx\r\nPuB a 1\r\nx\r\npUB a 1\r\nx\r\n" +
      "hpub a 0 0\r\n\r\nHpUb a 0 0\r\n\r\n" +
      "sub a 1\r\nSuB a 2\r\nunsub 1\r\nUnSuB 2\r\n" +
      "connect {}\r\nCoNnEcT {}\r\ninfo {}\r\niNfO {}\r\n" +
      "ping\r\nPiNg\r\npong\r\npOnG\r\n+ok\r\n+Ok\r\n";
    const got = calls(input).map((c) => c[0]);
    assert.deepEqual(got, [
      ...["pub", "pub", "pub", "hpub", "hpub", "sub", "sub", "unsub", "unsub"],
      ...["connect", "connect", "info", "info", "ping", "ping", "pong", "pong"],
    ]);
  });

  it("accepts \\n-only line ends for control lines", () => {
    assert.deepEqual(calls("CONNECT {}\nSUB foo 1\nPUB foo 2\nhi\r\nUNSUB 1 3\nPING\nPONG\nINFO {}\n"), [
      ["connect", "{}"],
      ["sub", "foo", undefined, "1"],
      ["pub", "foo", undefined, "hi"],
      ["unsub", "1", 3],
      ["ping"],
      ["pong"],
      ["info", "{}"],
    ]);
  });

  it("splits arguments on runs of spaces and tabs", () => {
    assert.deepEqual(calls("sub\tfoo \t q  1\nPuB foo\t\t5\nhello\r\nPUB   a \t r\t 1  \r\nx\r\n"), [
      ["sub", "foo", "q", "1"],
      ["pub", "foo", undefined, "hello"],
      ["pub", "a", "r", "x"],
    ]);
    assert.deepEqual(calls("HPUB\t a\tr \t0\t\t1 \r\nx\r\nUNSUB\t\t7 \t 8\t\r\n"), [
      ["hpub", "a", "r", "", "x"],
      ["unsub", "7", 8],
    ]);
  });

  it("passes CONNECT/INFO arguments verbatim, trailing spaces included", () => {
    assert.deepEqual(calls('connect\t \t{"a": 1}   \r\n'), [["connect", '{"a": 1}   ']]);
    // nats-server needs no space after CONNECT/INFO at all.
    assert.deepEqual(calls('CONNECT{"verbose":false}\r\nINFO{}\r\n'), [
      ["connect", '{"verbose":false}'],
      ["info", "{}"],
    ]);
  });

  it("hands out an empty CONNECT as is, for the server's JSON check to close silently", () => {
    // nats-server: "CONNECT\r\n" / "CONNECT \r\n" -> unexpected end of JSON input, silent close.
    assert.deepEqual(calls("CONNECT\r\n"), [["connect", "\r"]]);
    assert.deepEqual(calls("CONNECT \r\n"), [["connect", "\r"]]);
    // "CONNECTX {}" is CONNECT with the argument "X {}" (invalid JSON there too).
    assert.deepEqual(calls("CONNECTX {}\r\n"), [["connect", "X {}"]]);
  });

  it("accepts anything after PING/PONG up to \\n", () => {
    assert.deepEqual(calls("PING foo bar\r\nPINGPONG\nPONGxx\r\nPING\r\r\nPING\r\n"), [
      ["ping"],
      ["ping"],
      ["pong"],
      ["ping"],
      ["ping"],
    ]);
  });

  it("ignores +OK from clients, with anything after it", () => {
    assert.deepEqual(calls("+OK\r\n+okxx yy\r\n+oK\nPING\r\n"), [["ping"]]);
  });

  it("decodes subjects, replies, queues and sids as UTF-8", () => {
    const input = Buffer.from("SUB föö.日本 q✓ sïd\r\nPUB föö.日本 réply 2\r\nhi\r\n", "utf8");
    assert.deepEqual(calls(input), [
      ["sub", "föö.日本", "q✓", "sïd"],
      ["pub", "föö.日本", "réply", "hi"],
    ]);
    // Invalid UTF-8 becomes U+FFFD (nats-server keeps raw bytes; strings here are UTF-8 by design).
    assert.deepEqual(calls(bytes("SUB f\xff 1\r\n")), [["sub", "f\ufffd", undefined, "1"]]);
  });

  it("keeps control bytes other than separators in arguments", () => {
    assert.deepEqual(calls(bytes("SUB f\x00 1\r\n")), [["sub", "f\x00", undefined, "1"]]);
  });

  it("treats UNSUB max that is not 1-9 digits as absent", () => {
    // nats-server: max parses to -1 and the subscription is removed at once, as with no max.
    assert.deepEqual(
      calls("UNSUB 1 abc\r\nUNSUB 2 -5\r\nUNSUB 3 1000000000\r\nUNSUB 4 0\r\nUNSUB 5 999999999\r\n"),
      [
        ["unsub", "1", undefined],
        ["unsub", "2", undefined],
        ["unsub", "3", undefined],
        ["unsub", "4", 0],
        ["unsub", "5", 999999999],
      ],
    );
  });

  it("accepts sizes with leading zeros up to 9 digits", () => {
    assert.deepEqual(calls("PUB foo 000000005\r\nhello\r\n"), [["pub", "foo", undefined, "hello"]]);
    assert.deepEqual(calls("PUB foo 0000000005\r\nhello\r\n"), [BAD_ARGS]);
  });

  it("keeps payloads opaque, whatever they contain", () => {
    assert.deepEqual(calls("PUB a 9\r\nPING\r\n\r\n\n\r\nPING\r\n"), [
      ["pub", "a", undefined, "PING\r\n\r\n\n"],
      ["ping"],
    ]);
  });

  it("requires the trailer after zero-length payloads too", () => {
    assert.deepEqual(calls("PUB foo 0\r\n\r\nPING\r\n"), [["pub", "foo", undefined, ""], ["ping"]]);
    assert.deepEqual(calls("PUB foo 0\r\nPING\r\n"), [UNKNOWN]);
    assert.deepEqual(calls("HPUB foo 0 0\r\n\r\n"), [["hpub", "foo", undefined, "", ""]]);
  });

  it("gives a zero-copy view into the input when the frame is complete", () => {
    const input = bytes("PUB a 3\r\nabc\r\nHPUB b 2 3\r\nhhp\r\n");
    const seen: [Buffer, number, number, number][] = [];
    const rec = new Recorder();
    rec.onPub = (_s, _r, buf, start, end) => void seen.push([buf, start, -1, end]);
    rec.onHpub = (_s, _r, buf, start, hdr, end) => void seen.push([buf, start, hdr, end]);
    new Parser(rec, DEFAULT_LIMITS).parse(input);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]![0], input);
    assert.deepEqual(seen[0]!.slice(1), [9, -1, 12]);
    assert.equal(seen[1]![0], input);
    assert.deepEqual(seen[1]!.slice(1), [26, 2, 29]);
  });
});

describe("Parser: nats-server quirks kept for parity", () => {
  it("starts the arguments at the first byte after the spaces, even \\r or \\n", () => {
    // nats-server: "SUB \nfoo 1\r\n" subscribes to foo with sid 1 (+OK), as \n is an argument separator.
    assert.deepEqual(calls("SUB \nfoo 1\r\n"), [["sub", "foo", undefined, "1"]]);
    // ...so "SUB \n" alone waits for more input instead of failing.
    assert.deepEqual(calls("SUB \n"), []);
    // PUB splits on spaces/tabs only: the subject is "\nfoo" (accepted, delivered to nobody).
    assert.deepEqual(calls("PUB \nfoo 1\r\nx\r\n"), [["pub", "\nfoo", undefined, "x"]]);
    // "SUB \r\n": the argument is "\r", no arguments -> silent close.
    assert.deepEqual(calls("SUB \r\n"), [BAD_ARGS]);
  });

  it("drops the byte before \\n once a \\r was seen in the arguments", () => {
    // nats-server: "SUB foo\r1 2\n" -> SUB foo, sid 1 (the "2" is dropped, \r separates).
    assert.deepEqual(calls("SUB foo\r1 2\n"), [["sub", "foo", undefined, "1"]]);
    // "SUB foo\r 1\r\n" -> SUB foo 1.
    assert.deepEqual(calls("SUB foo\r 1\r\n"), [["sub", "foo", undefined, "1"]]);
    // "UNSUB 1\r5 6\n" -> UNSUB 1 with max 5 (verified: two messages still delivered).
    assert.deepEqual(calls("UNSUB 1\r5 6\n"), [["unsub", "1", 5]]);
    // PUB does not split on \r: "PUB foo\r 12\n" publishes 1 byte to "foo\r".
    assert.deepEqual(calls("PUB foo\r 12\nx\r\n"), [["pub", "foo\r", undefined, "x"]]);
    // HPUB likewise: header size "0\r" is bad -> silent close.
    assert.deepEqual(calls("HPUB foo 0\r 12\nx\r\n"), [BAD_ARGS]);
  });
});

describe("Parser: errors", () => {
  it("reports unknown ops at the first bad byte, without waiting for \\n", () => {
    for (const input of [
      "FOO\r\n",
      "PUX",
      "PUBX foo 1\r\n",
      "SUBX 1\r\n",
      "UNSUBX 1\r\n",
      "PIN\r\n",
      "PO\n",
    ]) {
      assert.deepEqual(calls(input), [UNKNOWN], JSON.stringify(input));
    }
    for (const input of ["+O\n", "+\n", "+OX\r\n", "-ERX\r\n", "-ERR\r\n", "HX", "CONX", "INFX"]) {
      assert.deepEqual(calls(input), [UNKNOWN], JSON.stringify(input));
    }
  });

  it("rejects blank lines and leading whitespace", () => {
    for (const input of ["\r\n", "\n", " PING\r\n", "\tPING\r\n"]) {
      assert.deepEqual(calls(input), [UNKNOWN], JSON.stringify(input));
    }
  });

  it("requires a space or tab after PUB/HPUB/SUB/UNSUB", () => {
    for (const input of ["PUB\r\n", "HPUB\r\n", "SUB\r\n", "UNSUB\r\n", "PUB\n"]) {
      assert.deepEqual(calls(input), [UNKNOWN], JSON.stringify(input));
    }
  });

  it("rejects ops only servers may send", () => {
    // nats-server fails at the first byte for M, R, L, A; HMSG only once its line is complete.
    for (const input of ["MSG foo 1 5\r\nhello\r\n", "M", "msg", "RS+ foo\r\n", "LS+ x\r\n", "A+ foo\r\n"]) {
      assert.deepEqual(calls(input), [UNKNOWN], JSON.stringify(input));
    }
    assert.deepEqual(calls("HMSG foo 1 2 2"), []);
    assert.deepEqual(calls("HMSG foo 1 2 2\r\nhi\r\n"), [UNKNOWN]);
  });

  it("closes silently on wrong argument counts", () => {
    const cases = [
      "PUB foo\r\n",
      "PUB foo a b 5\r\n",
      "PUB  \t \r\n",
      "HPUB foo 12\r\n",
      "HPUB foo a b 12 14\r\n",
      "SUB foo\r\n",
      "SUB foo q 1 2\r\n",
      "UNSUB \r\n",
      "UNSUB 1 2 3\r\n",
    ];
    for (const input of cases) assert.deepEqual(calls(input), [BAD_ARGS], JSON.stringify(input));
  });

  it("closes silently on bad sizes", () => {
    const cases = [
      "PUB foo abc\r\n",
      "PUB foo -1\r\n",
      "PUB foo +5\r\n",
      "PUB foo 5x\r\n",
      "PUB foo 1000000000\r\n",
      "HPUB foo x 14\r\n",
      "HPUB foo -1 14\r\n",
      "HPUB foo 12 x\r\n",
      "HPUB foo 0000000012 14\r\n",
      "HPUB foo 12 10\r\n",
      // Header size above total wins over max payload, as in nats-server.
      "HPUB foo 2000000 1048577\r\n",
      // A bad header size wins over a total above max payload.
      "HPUB foo x 2000000\r\n",
    ];
    for (const input of cases) assert.deepEqual(calls(input), [BAD_ARGS], JSON.stringify(input));
  });

  it("explains bad arguments in the detail", () => {
    const { rec } = parseChunks(["PUB foo abc\r\n"]);
    assert.match(rec.errors[0]!.detail, /Bad or Missing Size/);
    const r2 = parseChunks(["HPUB foo 12 10\r\n"]).rec;
    assert.match(r2.errors[0]!.detail, /Header Size larger than Total Size/);
  });

  it("sends Maximum Payload Violation above max_payload (HPUB: the total)", () => {
    assert.deepEqual(calls("PUB foo 1048577\r\n"), [MAX_PAYLOAD]);
    assert.deepEqual(calls("PUB foo 999999999\r\n"), [MAX_PAYLOAD]);
    assert.deepEqual(calls("HPUB foo 12 1048577\r\n"), [MAX_PAYLOAD]);
    assert.deepEqual(calls("HPUB foo 1048576 1048576\r\n"), []);
    // Exactly max_payload is fine (the payload is simply still pending here).
    assert.deepEqual(calls("PUB foo 1048576\r\n"), []);
    // Checked when the line is complete, not before.
    assert.deepEqual(calls("PUB foo 1048577"), []);
    const small = { maxControlLine: 4096, maxPayload: 3 };
    assert.deepEqual(calls("PUB a 3\r\nabc\r\nPUB a 4\r\nabcd\r\n", small), [
      ["pub", "a", undefined, "abc"],
      MAX_PAYLOAD,
    ]);
    assert.deepEqual(calls("HPUB a 2 4\r\nabcd\r\n", small), [MAX_PAYLOAD]);
  });

  it("treats a negative max_payload as unlimited", () => {
    const big = 2 * 1024 * 1024;
    const input = Buffer.concat([bytes(`PUB a ${big}\r\n`), Buffer.alloc(big, 0x41), bytes("\r\n")]);
    const got = calls(input, { maxControlLine: 4096, maxPayload: -1 });
    assert.equal(got.length, 1);
    assert.equal(got[0]![0], "pub");
  });

  it("checks the payload trailer byte for byte", () => {
    assert.deepEqual(calls("PUB foo 5\r\nhelloXY\r\n"), [UNKNOWN]);
    assert.deepEqual(calls("PUB foo 5\r\nhello\nPING\r\n"), [UNKNOWN]);
    assert.deepEqual(calls("PUB foo 5\r\nhello\rX"), [UNKNOWN]);
    assert.deepEqual(calls("PUB foo 5\r\nhello!\r\n"), [UNKNOWN]);
    assert.deepEqual(calls("HPUB foo 2 2\r\nhh\n\r"), [UNKNOWN]);
    // Not delivered before its trailer is seen.
    assert.deepEqual(calls("PUB foo 5\r\nhello"), []);
    assert.deepEqual(calls("PUB foo 5\r\nhello\r"), []);
  });

  it("reports a client -ERR as client_error without -ERR of its own", () => {
    // nats-server logs "Client Error ..." and closes (reason Parse Error), sending nothing.
    assert.deepEqual(calls("-ERR 'foo'\r\nPING\r\n"), [CLIENT_ERR]);
    assert.deepEqual(calls("-err\tfoo\n"), [CLIENT_ERR]);
    assert.deepEqual(calls("-ERR 'foo'"), []);
    const { rec } = parseChunks(["-ERR 'Stale'\r\n"]);
    assert.equal(rec.errors[0]!.detail, "Client Error 'Stale'");
  });

  it("stops for good after an error", () => {
    const { rec, parser } = parseChunks(["PING\r\nFOO\r\nPING\r\n", "PING\r\n"]);
    assert.deepEqual(rec.calls, [["ping"], UNKNOWN]);
    assert.equal(parser.closed, true);
    parser.parse(bytes("PING\r\n"));
    parser.resume();
    assert.deepEqual(rec.calls, [["ping"], UNKNOWN]);
  });
});

describe("Parser: max control line", () => {
  const sub = (n: number) => `SUB ${"a".repeat(n - 2)} 1`; // argument part of exactly n bytes

  it("limits the argument part, inclusive", () => {
    assert.deepEqual(calls(`${sub(4096)}\r\nPING\r\n`), [
      ["sub", "a".repeat(4094), undefined, "1"],
      ["ping"],
    ]);
    assert.deepEqual(calls(`${sub(4097)}\r\n`), [MAX_CONTROL]);
    assert.deepEqual(calls(`${sub(4096)}\n`).length, 1);
    assert.deepEqual(calls(`${sub(4097)}\n`), [MAX_CONTROL]);
  });

  it("does not count the spaces after the op, but counts trailing ones", () => {
    assert.deepEqual(calls(`SUB ${" ".repeat(10000)}${"a".repeat(4094)} 1\r\n`).length, 1);
    assert.deepEqual(calls(`${sub(4095)} \r\n`).length, 1);
    assert.deepEqual(calls(`${sub(4095)}  \r\n`), [MAX_CONTROL]);
  });

  it("does not count the dropped byte before \\n", () => {
    // 4096 bytes + "\r\r\n": one \r dropped, the other counted.
    assert.deepEqual(calls(`${sub(4095)}\r\r\n`).length, 1);
    // Mid-line \r: "<4093 a>\r 12\n" is 4096 bytes after dropping the "2" (nats-server: SUB with sid 1).
    assert.deepEqual(calls(`SUB ${"a".repeat(4093)}\r 12\n`), [["sub", "a".repeat(4093), undefined, "1"]]);
  });

  it("reports a line without \\n as soon as it is over the limit", () => {
    assert.deepEqual(calls(`SUB ${"a".repeat(4097)}`), [MAX_CONTROL]);
    assert.deepEqual(calls(`SUB ${"a".repeat(4096)}`), []);
    // A trailing \r may still be the one dropped.
    assert.deepEqual(calls(`SUB ${"a".repeat(4096)}\r`), []);
    assert.deepEqual(parseChunks([`SUB ${"a".repeat(3000)}`, "b".repeat(1096)]).rec.calls, []);
    assert.deepEqual(parseChunks([`SUB ${"a".repeat(3000)}`, "b".repeat(1097)]).rec.calls, [MAX_CONTROL]);
    assert.deepEqual(parseChunks([`SUB ${"a".repeat(3000)}`, "b".repeat(2000), "\r\n"]).rec.calls, [
      MAX_CONTROL,
    ]);
  });

  it("applies to CONNECT, INFO, PUB, HPUB, UNSUB and -ERR", () => {
    const big = "a".repeat(5000);
    for (const input of [`CONNECT {"n":"${big}"}\r\n`, `INFO {"n":"${big}"}\r\n`, `PUB foo ${big} 1\r\n`]) {
      assert.deepEqual(calls(input), [MAX_CONTROL], input.slice(0, 10));
    }
    for (const input of [`HPUB foo ${big} 1 1\r\n`, `UNSUB ${big}\r\n`, `-ERR ${big}\r\n`, `-ERR ${big}`]) {
      assert.deepEqual(calls(input), [MAX_CONTROL], input.slice(0, 10));
    }
    assert.deepEqual(calls(`CONNECT ${"a".repeat(4097)}`), [MAX_CONTROL]);
  });

  it("does not apply to PING, PONG and +OK, which keep nothing", () => {
    const big = "a".repeat(100000);
    assert.deepEqual(calls(`PING ${big}\r\nPONG ${big}\n+OK ${big}\r\nPING\r\n`), [
      ["ping"],
      ["pong"],
      ["ping"],
    ]);
  });

  it("is the limit given, changeable with setLimits", () => {
    const limits = { maxControlLine: 10, maxPayload: 100 };
    assert.deepEqual(calls("SUB 1234567 89\r\n", limits).length, 1);
    assert.deepEqual(calls("SUB 1234567 890\r\n", limits), [MAX_CONTROL]);
    const rec = new Recorder();
    const p = new Parser(rec, limits);
    p.parse(bytes("PUB a 50\r\n"));
    p.parse(bytes(`${"x".repeat(50)}\r\n`));
    p.setLimits({ maxPayload: 10 });
    p.parse(bytes("PUB a 11\r\n"));
    assert.deepEqual(rec.calls, [["pub", "a", undefined, "x".repeat(50)], MAX_PAYLOAD]);
  });
});

describe("Parser: partial input", () => {
  it("handles a frame split at every possible point", () => {
    const input = bytes(
      'CONNECT {"a":1}\r\nHPUB foo.bar r 3 5\r\nhhhpp\r\nSUB x q 1\r\nUNSUB 1 2\r\nPING x\r\n',
    );
    const whole = calls(input);
    assert.equal(whole.length, 5);
    for (let i = 1; i < input.length; i++) {
      for (let j = i; j < input.length; j++) {
        const got = parseChunks([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]).rec.calls;
        assert.deepEqual(got, whole, `cuts at ${i}, ${j}`);
      }
    }
  });

  it("handles 1-byte chunks", () => {
    const input = bytes("PUB foo 5\r\nhello\r\nsub a b c\npong\n");
    const chunks = [...input].map((b) => Buffer.from([b]));
    assert.deepEqual(parseChunks(chunks).rec.calls, calls(input));
  });

  it("accumulates a large payload arriving in many chunks", () => {
    const size = 3 * 1024 * 1024;
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
    const input = Buffer.concat([bytes(`PUB big ${size}\r\n`), payload, bytes("\r\nPING\r\n")]);
    const got: Buffer[] = [];
    const rec = new Recorder();
    rec.onPub = (_s, _r, buf, start, end) => void got.push(Buffer.from(buf.subarray(start, end)));
    const p = new Parser(rec, { maxControlLine: 4096, maxPayload: size });
    for (let o = 0; o < input.length; o += 65536) p.parse(input.subarray(o, o + 65536));
    assert.equal(got.length, 1);
    assert.ok(got[0]!.equals(payload));
    assert.deepEqual(rec.calls, [["ping"]]);
    assert.equal(p.msgsIn, 1);
    assert.equal(p.msgBytesIn, size);
    assert.equal(p.bytesIn, input.length);
  });

  it("delivers a frame whose payload starts in a later chunk without copying it", () => {
    const second = bytes("abc\r\n");
    let seen: Buffer | undefined;
    const rec = new Recorder();
    rec.onPub = (_s, _r, buf) => {
      seen = buf;
    };
    const p = new Parser(rec, DEFAULT_LIMITS);
    p.parse(bytes("PUB a 3\r\n"));
    p.parse(second);
    assert.equal(seen, second);
  });

  it("reports an error in a later chunk after the earlier frames", () => {
    assert.deepEqual(parseChunks(["PUB foo 1\r\nx\r", "XPING\r\n"]).rec.calls, [UNKNOWN]);
    assert.deepEqual(parseChunks(["PING\r\nPU", "X"]).rec.calls, [["ping"], UNKNOWN]);
  });

  it("keeps nothing while skipping long runs of spaces or PING junk", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    p.parse(bytes("SUB "));
    for (let i = 0; i < 100; i++) p.parse(bytes(" ".repeat(10000)));
    p.parse(bytes("foo 1\r\nPING"));
    for (let i = 0; i < 100; i++) p.parse(bytes("x".repeat(10000)));
    p.parse(bytes("\r\n"));
    assert.deepEqual(rec.calls, [["sub", "foo", undefined, "1"], ["ping"]]);
  });

  it("is not affected by the caller reusing its buffer after parse()", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    const buf = bytes("SUB foo.ba");
    p.parse(buf);
    buf.fill(0x41);
    p.parse(bytes("r 1\r\nPUB a 4\r\nab"));
    p.parse(bytes("cd\r\n"));
    assert.deepEqual(rec.calls, [
      ["sub", "foo.bar", undefined, "1"],
      ["pub", "a", undefined, "abcd"],
    ]);
  });
});

describe("Parser: pause/resume", () => {
  it("stops after the op whose handler paused, keeping the rest until resume()", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    rec.after = (c) => {
      if (c[0] === "connect") p.pause();
    };
    const input = bytes("CONNECT {}\r\nPING\r\nPUB a 1\r\nx\r\n");
    p.parse(input);
    assert.deepEqual(rec.calls, [["connect", "{}"]]);
    assert.equal(p.isPaused, true);
    input.fill(0); // kept bytes are our own copy
    p.parse(bytes("SUB b 1\r\n"));
    assert.deepEqual(rec.calls, [["connect", "{}"]]);
    p.resume();
    assert.equal(p.isPaused, false);
    assert.deepEqual(rec.calls, [
      ["connect", "{}"],
      ["ping"],
      ["pub", "a", undefined, "x"],
      ["sub", "b", undefined, "1"],
    ]);
    p.parse(bytes("PONG\r\n"));
    assert.equal(rec.calls.length, 5);
  });

  it("can pause again while resuming", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    rec.after = (c) => {
      if (c[0] === "ping") p.pause();
    };
    p.parse(bytes("PING\r\nPONG\r\nPING\r\nPONG\r\n"));
    assert.equal(rec.calls.length, 1);
    p.resume();
    assert.equal(rec.calls.length, 3);
    p.resume();
    assert.equal(rec.calls.length, 4);
    p.resume(); // not paused: no-op
    assert.equal(rec.calls.length, 4);
  });

  it("continues at once when resumed from inside the same handler call", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    rec.after = (c) => {
      if (c[0] === "connect") {
        p.pause();
        p.resume(); // e.g. authentication that completed synchronously
      }
    };
    p.parse(bytes("CONNECT {}\r\nPING\r\n"));
    assert.deepEqual(rec.calls, [["connect", "{}"], ["ping"]]);
  });

  it("pauses after a message whose payload was split", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    rec.after = (c) => {
      if (c[0] === "pub") p.pause();
    };
    p.parse(bytes("PUB a 4\r\nab"));
    p.parse(bytes("cd\r\nPING\r\n"));
    assert.deepEqual(rec.calls, [["pub", "a", undefined, "abcd"]]);
    p.resume();
    assert.deepEqual(rec.calls, [["pub", "a", undefined, "abcd"], ["ping"]]);
  });

  it("keeps partial frames across pause and reports errors in kept bytes on resume", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    p.pause();
    p.parse(bytes("PUB a 2\r\nx"));
    p.parse(bytes("y\r\nFOO"));
    assert.deepEqual(rec.calls, []);
    p.resume();
    assert.deepEqual(rec.calls, [["pub", "a", undefined, "xy"], UNKNOWN]);
    assert.equal(p.closed, true);
  });

  it("queues chunks parsed re-entrantly from a handler after the current ones", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    let once = true;
    rec.after = () => {
      if (once) {
        once = false;
        p.parse(bytes("PONG\r\n"));
      }
    };
    p.parse(bytes("PING\r\nSUB a 1\r\n"));
    assert.deepEqual(rec.calls, [["ping"], ["sub", "a", undefined, "1"], ["pong"]]);
  });
});

describe("Parser: misc", () => {
  it("counts bytes and messages", () => {
    const { parser } = parseChunks(["PUB a 3\r\nabc\r\nHPUB a 2 5\r\nhhabc\r\n", "PING\r\n"]);
    assert.equal(parser.bytesIn, 39);
    assert.equal(parser.msgsIn, 2);
    assert.equal(parser.msgBytesIn, 8);
  });

  it("stops delivering at once when a handler closes it", () => {
    for (const trigger of ["connect", "sub", "pub", "ping"]) {
      const rec = new Recorder();
      const p = new Parser(rec, DEFAULT_LIMITS);
      rec.after = (c) => {
        if (c[0] === trigger) p.close();
      };
      p.parse(bytes("CONNECT {}\r\nSUB a 1\r\nPUB a 2\r\nx"));
      p.parse(bytes("y\r\nPING\r\nPONG\r\n"));
      p.parse(bytes("PONG\r\n"));
      assert.equal(rec.calls[rec.calls.length - 1]![0], trigger);
      assert.equal(p.closed, true);
    }
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    p.pause();
    p.parse(bytes("PING\r\n"));
    p.close();
    p.resume();
    assert.deepEqual(rec.calls, []);
  });

  it("closes when a handler throws, and rethrows", () => {
    const rec = new Recorder();
    const p = new Parser(rec, DEFAULT_LIMITS);
    rec.after = () => {
      throw new Error("boom");
    };
    assert.throws(() => p.parse(bytes("PING\r\nPING\r\n")), /boom/);
    assert.equal(p.closed, true);
    p.parse(bytes("PING\r\n"));
    assert.equal(rec.calls.length, 1);
  });

  it("reuses the previous subject string only for identical bytes", () => {
    const subjects = [
      "a.b",
      "a.b",
      "a.c",
      "b.b",
      "ab",
      "a.bb",
      "日.b",
      "日.b",
      "foo.bar",
      "foo.baz",
      "fo.obar",
      "é",
    ];
    let input = Buffer.alloc(0);
    for (const s of subjects) input = Buffer.concat([input, Buffer.from(`PUB ${s} 0\r\n\r\n`, "utf8")]);
    // "é" is C3 A9; a lone E9 byte must not be mistaken for it (it is invalid UTF-8).
    input = Buffer.concat([input, bytes("PUB \xe9 0\r\n\r\nPUB \xe9 0\r\n\r\nPUB a 0\r\n\r\n")]);
    const got = calls(input).map((c) => c[1]);
    assert.deepEqual(got, [...subjects, "\ufffd", "\ufffd", "a"]);
  });
});
