// ServerParser unit and property tests: framing of route, gateway and leafnode traffic, chunking
// independence, limits, malformed input, pause/resume/close.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type InterestOp,
  type LinkKind,
  type MessageOp,
  type ParseError,
  ServerParser,
  type ServerParserHandler,
  type ServerParserOptions,
} from "../../src/protocol/server-parser.js";
import { Rng, splitAt } from "./helpers.js";

type Call =
  | ["info", string]
  | ["connect", string]
  | ["ping"]
  | ["pong"]
  | ["ok"]
  | ["err", string]
  | ["interest", InterestOp, string[]]
  | ["msg", MessageOp, string[], string, string]
  | ["error", ParseError["kind"], string | undefined];

/** Records calls as plain data; headers and payloads are copied as latin1 strings. */
class Recorder implements ServerParserHandler {
  readonly calls: Call[] = [];
  readonly errors: ParseError[] = [];
  /** Optional hook run after each call is recorded (e.g. to pause the parser). */
  after: ((call: Call) => void) | undefined;

  private add(call: Call): void {
    this.calls.push(call);
    this.after?.(call);
  }
  onInfo(json: string): void {
    this.add(["info", json]);
  }
  onConnect(json: string): void {
    this.add(["connect", json]);
  }
  onPing(): void {
    this.add(["ping"]);
  }
  onPong(): void {
    this.add(["pong"]);
  }
  onOk(): void {
    this.add(["ok"]);
  }
  onErr(text: string): void {
    this.add(["err", text]);
  }
  onInterest(op: InterestOp, args: string[]): void {
    this.add(["interest", op, args]);
  }
  onMessage(op: MessageOp, args: string[], buf: Buffer, start: number, hdrLen: number, end: number): void {
    this.add([
      "msg",
      op,
      args,
      buf.toString("latin1", start, start + hdrLen),
      buf.toString("latin1", start + hdrLen, end),
    ]);
  }
  onParseError(error: ParseError): void {
    this.errors.push(error);
    this.add(["error", error.kind, error.errText]);
  }
}

const LIMITS = { maxControlLine: 4096, maxPayload: 1024 * 1024 };
const UNKNOWN: Call = ["error", "unknown_operation", "Unknown Protocol Operation"];
const BAD_ARGS: Call = ["error", "bad_arguments", undefined];
const MAX_PAYLOAD: Call = ["error", "max_payload", "Maximum Payload Violation"];
const MAX_CONTROL: Call = ["error", "max_control_line", "maximum control line exceeded"];

function opts(kind: LinkKind, limits: Partial<ServerParserOptions> = {}): ServerParserOptions {
  return { kind, ...LIMITS, ...limits };
}

function toBuf(input: string | Buffer): Buffer {
  return typeof input === "string" ? Buffer.from(input, "utf8") : input;
}

function parseChunks(
  kind: LinkKind,
  chunks: readonly (string | Buffer)[],
  limits: Partial<ServerParserOptions> = {},
): { rec: Recorder; parser: ServerParser } {
  const rec = new Recorder();
  const parser = new ServerParser(rec, opts(kind, limits));
  for (const c of chunks) parser.parse(toBuf(c));
  return { rec, parser };
}

function calls(kind: LinkKind, input: string | Buffer, limits: Partial<ServerParserOptions> = {}): Call[] {
  return parseChunks(kind, [input], limits).rec.calls;
}

function oneByteChunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

const KINDS: readonly LinkKind[] = ["route", "gateway", "leaf"];

describe("ServerParser: route ops", () => {
  it("parses every route op", () => {
    const input =
      'INFO {"server_id":"S1","cluster":"c"}\r\n' +
      'CONNECT {"echo":true,"name":"S2"}\r\n' +
      "PING\r\nPONG\r\n+OK\r\n" +
      '-ERR \'Rejecting connection, cluster name "a" does not match "b"\'\r\n' +
      "RS+ $G foo\r\n" +
      "RS+ $G foo.* workers 3\r\n" +
      "RS- $G foo\r\n" +
      "RS- $G foo.* workers\r\n" +
      "LS+ spoke $G bar\r\n" +
      "LS+ spoke $G bar q 2\r\n" +
      "LS- spoke $G bar q\r\n" +
      "A+ $G\r\nA- ACC\r\n" +
      "RMSG $G foo 5\r\nhello\r\n" +
      "RMSG $G foo _INBOX.x 3\r\nabc\r\n" +
      "RMSG $G foo + _INBOX.y q1 q2 2\r\nhi\r\n" +
      "RMSG $G foo | q1 q2 0\r\n\r\n" +
      "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
      "HMSG $G foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n" +
      "LMSG spoke $G foo 0 3\r\nabc\r\n" +
      "LMSG spoke $G foo + rep q1 12 13\r\nNATS/1.0\r\n\r\nx\r\n";
    assert.deepEqual(calls("route", input), [
      ["info", '{"server_id":"S1","cluster":"c"}'],
      ["connect", '{"echo":true,"name":"S2"}'],
      ["ping"],
      ["pong"],
      ["ok"],
      ["err", 'Rejecting connection, cluster name "a" does not match "b"'],
      ["interest", "RS+", ["$G", "foo"]],
      ["interest", "RS+", ["$G", "foo.*", "workers", "3"]],
      ["interest", "RS-", ["$G", "foo"]],
      ["interest", "RS-", ["$G", "foo.*", "workers"]],
      ["interest", "LS+", ["spoke", "$G", "bar"]],
      ["interest", "LS+", ["spoke", "$G", "bar", "q", "2"]],
      ["interest", "LS-", ["spoke", "$G", "bar", "q"]],
      ["interest", "A+", ["$G"]],
      ["interest", "A-", ["ACC"]],
      ["msg", "RMSG", ["$G", "foo"], "", "hello"],
      ["msg", "RMSG", ["$G", "foo", "_INBOX.x"], "", "abc"],
      ["msg", "RMSG", ["$G", "foo", "+", "_INBOX.y", "q1", "q2"], "", "hi"],
      ["msg", "RMSG", ["$G", "foo", "|", "q1", "q2"], "", ""],
      ["msg", "HMSG", ["$G", "foo"], "NATS/1.0\r\n\r\n", "hi"],
      ["msg", "HMSG", ["$G", "foo", "rep"], "NATS/1.0\r\n\r\n", ""],
      ["msg", "LMSG", ["spoke", "$G", "foo"], "", "abc"],
      ["msg", "LMSG", ["spoke", "$G", "foo", "+", "rep", "q1"], "NATS/1.0\r\n\r\n", "x"],
    ]);
  });

  it("parses dedicated-route forms without the account token", () => {
    assert.deepEqual(calls("route", "RS+ foo\r\nRMSG foo 1\r\nx\r\nHMSG foo 2 2\r\nhh\r\n"), [
      ["interest", "RS+", ["foo"]],
      ["msg", "RMSG", ["foo"], "", "x"],
      ["msg", "HMSG", ["foo"], "hh", ""],
    ]);
  });

  it("reports SUB/UNSUB/MSG/PUB/HPUB for the handler to accept or reject", () => {
    const input =
      "SUB foo 1\r\nUNSUB 1 5\r\nMSG foo 1 rep 2\r\nhi\r\nPUB foo 1\r\nx\r\nHPUB foo rep 2 3\r\nhhx\r\n";
    for (const kind of KINDS) {
      assert.deepEqual(calls(kind, input), [
        ["interest", "SUB", ["foo", "1"]],
        ["interest", "UNSUB", ["1", "5"]],
        ["msg", "MSG", ["foo", "1", "rep"], "", "hi"],
        ["msg", "PUB", ["foo"], "", "x"],
        ["msg", "HPUB", ["foo", "rep"], "hh", "x"],
      ]);
    }
  });
});

describe("ServerParser: gateway ops", () => {
  it("parses every gateway op", () => {
    const input =
      'INFO {"gateway":"B","gateway_cmd":2,"gateway_cmd_payload":"JEc="}\r\n' +
      'CONNECT {"gateway":"A"}\r\n' +
      "PING\r\nPONG\r\n+OK\r\n-ERR 'Attempt to connect to gateway \"X\" using wrong port'\r\n" +
      "RS+ $G foo\r\nRS+ $G foo q 1\r\nRS- $G foo\r\nRS- $G foo q\r\nA+ $G\r\nA- $G\r\n" +
      "RMSG $G foo _GR_.abc.def.reply 2\r\nhi\r\nRMSG $G foo | q 1\r\nx\r\n" +
      "HMSG $G foo + r q 2 3\r\nhhp\r\n";
    assert.deepEqual(calls("gateway", input), [
      ["info", '{"gateway":"B","gateway_cmd":2,"gateway_cmd_payload":"JEc="}'],
      ["connect", '{"gateway":"A"}'],
      ["ping"],
      ["pong"],
      ["ok"],
      ["err", 'Attempt to connect to gateway "X" using wrong port'],
      ["interest", "RS+", ["$G", "foo"]],
      ["interest", "RS+", ["$G", "foo", "q", "1"]],
      ["interest", "RS-", ["$G", "foo"]],
      ["interest", "RS-", ["$G", "foo", "q"]],
      ["interest", "A+", ["$G"]],
      ["interest", "A-", ["$G"]],
      ["msg", "RMSG", ["$G", "foo", "_GR_.abc.def.reply"], "", "hi"],
      ["msg", "RMSG", ["$G", "foo", "|", "q"], "", "x"],
      ["msg", "HMSG", ["$G", "foo", "+", "r", "q"], "hh", "p"],
    ]);
  });

  it("rejects leaf-origin ops at their first byte, as nats-server does", () => {
    assert.deepEqual(calls("gateway", "PING\r\nLS+ a $G foo\r\n"), [["ping"], UNKNOWN]);
    assert.deepEqual(calls("gateway", "LMSG a $G foo 0 1\r\nx\r\n"), [UNKNOWN]);
    // The L alone is enough: no need to wait for the rest of the line.
    assert.deepEqual(calls("gateway", "L"), [UNKNOWN]);
  });
});

describe("ServerParser: leaf ops", () => {
  it("parses every leaf op", () => {
    const input =
      'INFO {"server_id":"H","leafnode_urls":[],"client_id":7}\r\n' +
      'CONNECT {"server_id":"S","cluster":"spoke"}\r\n' +
      "PING\r\nPONG\r\n+OK\r\n-ERR 'Loop detected for leafnode account=\"A\". Delaying attempt to reconnect for 30s'\r\n" +
      "LS+ foo\r\nLS+ foo q 2\r\nLS- foo\r\nLS- foo q\r\n" +
      "LMSG foo 5\r\nhello\r\nLMSG foo rep 1\r\nx\r\nLMSG foo + rep q1 q2 1\r\ny\r\nLMSG foo | q1 1\r\nz\r\n" +
      "HMSG foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHMSG foo | q 2 2\r\nhh\r\n";
    assert.deepEqual(calls("leaf", input), [
      ["info", '{"server_id":"H","leafnode_urls":[],"client_id":7}'],
      ["connect", '{"server_id":"S","cluster":"spoke"}'],
      ["ping"],
      ["pong"],
      ["ok"],
      ["err", 'Loop detected for leafnode account="A". Delaying attempt to reconnect for 30s'],
      ["interest", "LS+", ["foo"]],
      ["interest", "LS+", ["foo", "q", "2"]],
      ["interest", "LS-", ["foo"]],
      ["interest", "LS-", ["foo", "q"]],
      ["msg", "LMSG", ["foo"], "", "hello"],
      ["msg", "LMSG", ["foo", "rep"], "", "x"],
      ["msg", "LMSG", ["foo", "+", "rep", "q1", "q2"], "", "y"],
      ["msg", "LMSG", ["foo", "|", "q1"], "", "z"],
      ["msg", "HMSG", ["foo"], "NATS/1.0\r\n\r\n", "hi"],
      ["msg", "HMSG", ["foo", "|", "q"], "hh", ""],
    ]);
  });

  it("counts size fields by link kind for LMSG", () => {
    // Leaf: one size field, so a route-style LMSG line reads its header size as an argument.
    assert.deepEqual(calls("leaf", "LMSG foo 0 3\r\nabc\r\n"), [["msg", "LMSG", ["foo", "0"], "", "abc"]]);
    // Route: two size fields, and both are required.
    assert.deepEqual(calls("route", "LMSG o $G foo 0 3\r\nabc\r\n"), [
      ["msg", "LMSG", ["o", "$G", "foo"], "", "abc"],
    ]);
    assert.deepEqual(calls("route", "LMSG o $G foo x 3\r\nabc\r\n"), [BAD_ARGS]);
  });
});

describe("ServerParser: framing", () => {
  it("matches op names case-insensitively", () => {
    const input =
      "rs+ a b\r\nRs- a b\r\nls+ o a b\r\nlS- o a b\r\na+ x\r\na- x\r\n" +
      "rmsg a b 1\r\nx\r\nhMsG a b 0 1\r\nx\r\nlmsg o a b 0 1\r\nx\r\n" +
      "info {}\r\nconnect {}\r\nping\r\npOnG\r\n+ok\r\n-err 'x'\r\n";
    assert.deepEqual(
      calls("route", input).map((c) => (c[0] === "interest" || c[0] === "msg" ? c[1] : c[0])),
      ["RS+", "RS-", "LS+", "LS-", "A+", "A-", "RMSG", "HMSG", "LMSG"].concat([
        "info",
        "connect",
        "ping",
        "pong",
        "ok",
        "err",
      ]),
    );
  });

  it("splits arguments on runs of spaces and tabs and accepts \\n-only line ends", () => {
    assert.deepEqual(
      calls("route", "RS+\t $G \t foo\tq  1 \nRMSG\t$G  foo\t\t2 \t\nhi\r\nPING\nINFO\t{}\n"),
      [
        ["interest", "RS+", ["$G", "foo", "q", "1"]],
        ["msg", "RMSG", ["$G", "foo"], "", "hi"],
        ["ping"],
        ["info", "{}"],
      ],
    );
  });

  it("drops only a \\r right before \\n and keeps other control bytes in arguments", () => {
    assert.deepEqual(calls("route", "RS+ a b\r \r\nRS+ a\rb c\r\nRS+ a \r\r\n"), [
      ["interest", "RS+", ["a", "b\r"]],
      ["interest", "RS+", ["a\rb", "c"]],
      ["interest", "RS+", ["a", "\r"]],
    ]);
  });

  it("passes INFO/CONNECT arguments verbatim and needs no space after them", () => {
    assert.deepEqual(calls("route", 'INFO{"a":1}\r\nCONNECT \t {"b": 2}  \r\nINFO\r\n'), [
      ["info", '{"a":1}'],
      ["connect", '{"b": 2}  '],
      ["info", ""],
    ]);
  });

  it("strips the quotes around -ERR text, if present", () => {
    assert.deepEqual(calls("leaf", "-ERR 'a b'\r\n-ERR  plain text \r\n-ERR ''\r\n-ERR 'x\r\n"), [
      ["err", "a b"],
      ["err", "plain text"],
      ["err", ""],
      ["err", "x"],
    ]);
  });

  it("ignores anything after PING/PONG/+OK up to \\n", () => {
    assert.deepEqual(calls("route", "PING foo\r\nPINGPONG\nPONGxx\r\n+OKzz\r\n"), [
      ["ping"],
      ["ping"],
      ["pong"],
      ["ok"],
    ]);
  });

  it("decodes arguments as UTF-8", () => {
    const input = Buffer.from(
      "RS+ ÄCC föö.日本 q✓ 1\r\nRMSG ÄCC föö.日本 réply 2\r\nhi\r\nRMSG $G plain 1\r\nx\r\n",
      "utf8",
    );
    assert.deepEqual(calls("route", input), [
      ["interest", "RS+", ["ÄCC", "föö.日本", "q✓", "1"]],
      ["msg", "RMSG", ["ÄCC", "föö.日本", "réply"], "", "hi"],
      ["msg", "RMSG", ["$G", "plain"], "", "x"],
    ]);
    const leaf = Buffer.from(
      "LS+ ü.>\r\nLMSG ü.x 1\r\n!\r\n-ERR 'Permissions Violation for Publish to \"ü\"'\r\n",
    );
    assert.deepEqual(calls("leaf", leaf), [
      ["interest", "LS+", ["ü.>"]],
      ["msg", "LMSG", ["ü.x"], "", "!"],
      ["err", 'Permissions Violation for Publish to "ü"'],
    ]);
  });

  it("does not confuse repeated subjects with similar ones", () => {
    const input =
      "RMSG $G foo.a 1\r\n1\r\nRMSG $G foo.a 1\r\n2\r\nRMSG $H foo.b 1\r\n3\r\nRMSG $G fo 1\r\n4\r\n";
    assert.deepEqual(calls("route", input), [
      ["msg", "RMSG", ["$G", "foo.a"], "", "1"],
      ["msg", "RMSG", ["$G", "foo.a"], "", "2"],
      ["msg", "RMSG", ["$H", "foo.b"], "", "3"],
      ["msg", "RMSG", ["$G", "fo"], "", "4"],
    ]);
  });

  it("keeps payloads opaque", () => {
    assert.deepEqual(calls("route", "RMSG a b 9\r\nPING\r\n\r\n\n\r\nPING\r\n"), [
      ["msg", "RMSG", ["a", "b"], "", "PING\r\n\r\n\n"],
      ["ping"],
    ]);
  });

  it("accepts many queue names", () => {
    const queues = Array.from({ length: 200 }, (_, i) => `q${i}`);
    assert.deepEqual(calls("route", `RMSG $G foo + r ${queues.join(" ")} 1\r\nx\r\n`), [
      ["msg", "RMSG", ["$G", "foo", "+", "r", ...queues], "", "x"],
    ]);
  });

  it("gives a zero-copy view into the input when the message is complete", () => {
    const input = Buffer.from("RMSG $G a 3\r\nabc\r\nHMSG $G b 2 3\r\nhhp\r\n");
    const seen: [Buffer, number, number, number][] = [];
    const rec = new Recorder();
    rec.onMessage = (_op, _args, buf, start, hdr, end) => void seen.push([buf, start, hdr, end]);
    new ServerParser(rec, opts("route")).parse(input);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]![0], input);
    assert.deepEqual(seen[0]!.slice(1), [13, 0, 16]);
    assert.equal(seen[1]![0], input);
    assert.deepEqual(seen[1]!.slice(1), [33, 2, 36]);
  });

  it("counts bytes and messages", () => {
    const input = "RMSG a b 3\r\nabc\r\nPING\r\nHMSG a b 2 5\r\nhhabc\r\n";
    const { parser } = parseChunks("route", [input.slice(0, 7), input.slice(7)]);
    assert.equal(parser.bytesIn, input.length);
    assert.equal(parser.msgsIn, 2);
    assert.equal(parser.msgBytesIn, 8);
  });
});

describe("ServerParser: errors", () => {
  it("rejects unknown ops at the first bad byte", () => {
    for (const kind of KINDS) {
      assert.deepEqual(calls(kind, "PING\r\nX"), [["ping"], UNKNOWN]);
      assert.deepEqual(calls(kind, "RMSGX a 1\r\nx\r\n"), [UNKNOWN]);
      assert.deepEqual(calls(kind, "RS+a b\r\n"), [UNKNOWN]);
      assert.deepEqual(calls(kind, "-ERR\r\n"), [UNKNOWN]);
      assert.deepEqual(calls(kind, "GET / HTTP/1.1\r\n"), [UNKNOWN]);
      assert.deepEqual(calls(kind, "\r\n"), [UNKNOWN]);
    }
  });

  it("rejects bad size fields", () => {
    assert.deepEqual(calls("route", "RMSG $G foo x\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "RMSG $G foo -1\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "RMSG $G foo 1234567890\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "RMSG 5\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "RMSG \r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "HMSG $G foo 5\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "HMSG $G foo 6 5\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "HMSG $G foo x 5\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("leaf", "LMSG 5\r\n"), [BAD_ARGS]);
    assert.deepEqual(calls("route", "RS+ \r\n"), [BAD_ARGS]);
    // Up to 9 digits, leading zeros allowed.
    assert.deepEqual(calls("route", "RMSG $G foo 000000002\r\nhi\r\n"), [
      ["msg", "RMSG", ["$G", "foo"], "", "hi"],
    ]);
  });

  it("enforces maxPayload on the total size, unless negative", () => {
    const limits = { maxPayload: 10 };
    assert.deepEqual(calls("route", "RMSG $G a 10\r\n0123456789\r\n", limits).length, 1);
    assert.deepEqual(calls("route", "RMSG $G a 11\r\n", limits), [MAX_PAYLOAD]);
    assert.deepEqual(calls("route", "HMSG $G a 5 11\r\n", limits), [MAX_PAYLOAD]);
    assert.deepEqual(calls("leaf", "LMSG a 11\r\n", limits), [MAX_PAYLOAD]);
    assert.deepEqual(calls("route", "LMSG o $G a 0 11\r\n", limits), [MAX_PAYLOAD]);
    const big = "x".repeat(5000);
    assert.deepEqual(calls("route", `RMSG $G a 5000\r\n${big}\r\n`, { maxPayload: -1 }), [
      ["msg", "RMSG", ["$G", "a"], "", big],
    ]);
    assert.equal(calls("route", `RMSG $G a 5000\r\n${big}\r\n`, { maxPayload: 0 })[0]![0], "error");
  });

  it("enforces maxControlLine on complete and partial lines, whatever the chunking", () => {
    const limits = { maxControlLine: 20 };
    const ok = `RS+ ${"a".repeat(20)}\r\n`; // exactly 20 argument bytes
    const tooLong = `RS+ ${"a".repeat(21)}\r\n`;
    const info = `INFO ${"b".repeat(21)}\n`;
    for (const [input, want] of [
      [ok, [["interest", "RS+", ["a".repeat(20)]]]],
      [tooLong, [MAX_CONTROL]],
      [info, [MAX_CONTROL]],
      [`RMSG $G ${"s".repeat(20)} 1\r\nx\r\n`, [MAX_CONTROL]],
    ] as [string, Call[]][]) {
      const buf = Buffer.from(input);
      assert.deepEqual(calls("route", buf, limits), want, input);
      assert.deepEqual(parseChunks("route", oneByteChunks(buf), limits).rec.calls, want, input);
      for (let cut = 1; cut < buf.length; cut++) {
        assert.deepEqual(
          parseChunks("route", splitAt(buf, [cut]), limits).rec.calls,
          want,
          `${input} @${cut}`,
        );
      }
    }
  });

  it("fails a line without \\n as soon as it is too long", () => {
    const { rec, parser } = parseChunks("route", ["RS+ ", "a".repeat(15)], { maxControlLine: 10 });
    assert.deepEqual(rec.calls, [MAX_CONTROL]);
    assert.equal(parser.closed, true);
    // A trailing \r may still be the line end: 10 bytes + \r is not over the limit yet.
    const second = parseChunks("route", ["INFO ", "b".repeat(10), "\r"], { maxControlLine: 10 });
    assert.deepEqual(second.rec.calls, []);
    second.parser.parse(Buffer.from("\n"));
    assert.deepEqual(second.rec.calls, [["info", "b".repeat(10)]]);
  });

  it("requires \\r\\n after the payload", () => {
    assert.deepEqual(calls("route", "RMSG $G a 1\r\nxy\r\n"), [UNKNOWN]);
    assert.deepEqual(calls("route", "RMSG $G a 1\r\nx\n"), [UNKNOWN]);
    assert.deepEqual(calls("route", "RMSG $G a 0\r\nPING\r\n"), [UNKNOWN]);
    assert.deepEqual(parseChunks("route", ["RMSG $G a 1\r\nx", "\r", "x"]).rec.calls, [UNKNOWN]);
    assert.deepEqual(calls("leaf", "HMSG a 1 1\r\nh\r\r\n"), [UNKNOWN]);
  });

  it("ignores everything after a parse error", () => {
    const { rec, parser } = parseChunks("route", ["PING\r\nXX\r\nPING\r\n", "PING\r\n"]);
    assert.deepEqual(rec.calls, [["ping"], UNKNOWN]);
    assert.equal(parser.closed, true);
    parser.parse(Buffer.from("PONG\r\n"));
    parser.resume();
    assert.deepEqual(rec.calls, [["ping"], UNKNOWN]);
    assert.equal(rec.errors[0]!.detail.includes("unexpected byte"), true);
  });

  it("stops for good when a handler throws", () => {
    const rec = new Recorder();
    rec.after = (c) => {
      if (c[0] === "pong") throw new Error("boom");
    };
    const parser = new ServerParser(rec, opts("route"));
    assert.throws(() => parser.parse(Buffer.from("PING\r\nPONG\r\nPING\r\n")), /boom/);
    assert.equal(parser.closed, true);
    parser.parse(Buffer.from("PING\r\n"));
    assert.deepEqual(rec.calls, [["ping"], ["pong"]]);
  });
});

describe("ServerParser: pause, resume, close", () => {
  it("holds ops after pause(), including the rest of the current chunk, until resume()", () => {
    const rec = new Recorder();
    const parser = new ServerParser(rec, opts("route"));
    rec.after = (c) => {
      if (c[0] === "connect") parser.pause();
    };
    parser.parse(Buffer.from("INFO {}\r\nCONNECT {}\r\nRS+ $G foo\r\nRMSG $G foo 2\r\nh"));
    assert.deepEqual(rec.calls, [
      ["info", "{}"],
      ["connect", "{}"],
    ]);
    assert.equal(parser.isPaused, true);
    parser.parse(Buffer.from("i\r\nPING\r\n"));
    assert.equal(rec.calls.length, 2);
    rec.after = undefined;
    parser.resume();
    assert.equal(parser.isPaused, false);
    assert.deepEqual(rec.calls.slice(2), [
      ["interest", "RS+", ["$G", "foo"]],
      ["msg", "RMSG", ["$G", "foo"], "", "hi"],
      ["ping"],
    ]);
    parser.parse(Buffer.from("PONG\r\n"));
    assert.deepEqual(rec.calls.at(-1), ["pong"]);
  });

  it("can pause again while resuming, and resume from inside a handler", () => {
    const rec = new Recorder();
    const parser = new ServerParser(rec, opts("leaf"));
    rec.after = (c) => {
      if (c[0] !== "pong") parser.pause();
    };
    parser.parse(Buffer.from("PING\r\nLS+ a\r\nPONG\r\nLMSG a 1\r\nx\r\nPING\r\n"));
    assert.equal(rec.calls.length, 1);
    parser.resume();
    assert.equal(rec.calls.length, 2);
    parser.resume();
    assert.equal(rec.calls.length, 4); // the PONG does not pause, the LMSG does
    rec.after = (c) => {
      if (c[0] === "ping") {
        parser.pause();
        parser.resume(); // a no-op pause: parsing goes on
      }
    };
    parser.resume();
    parser.parse(Buffer.from("PING\r\nPONG\r\n"));
    assert.deepEqual(
      rec.calls.map((c) => c[0]),
      ["ping", "interest", "pong", "msg", "ping", "ping", "pong"],
    );
  });

  it("keeps a copy of chunks held while paused", () => {
    const rec = new Recorder();
    const parser = new ServerParser(rec, opts("route"));
    parser.pause();
    const chunk = Buffer.from("RMSG $G a 1\r\nx\r\n");
    parser.parse(chunk);
    chunk.fill(0x21);
    parser.resume();
    assert.deepEqual(rec.calls, [["msg", "RMSG", ["$G", "a"], "", "x"]]);
  });

  it("close() stops parsing at once, even inside a chunk", () => {
    const rec = new Recorder();
    const parser = new ServerParser(rec, opts("gateway"));
    rec.after = (c) => {
      if (c[0] === "err") parser.close();
    };
    parser.parse(Buffer.from("PING\r\n-ERR 'bye'\r\nPING\r\n"));
    parser.parse(Buffer.from("PING\r\n"));
    parser.resume();
    assert.deepEqual(rec.calls, [["ping"], ["err", "bye"]]);
    assert.equal(parser.closed, true);
  });

  it("close() while paused drops the held bytes", () => {
    const rec = new Recorder();
    const parser = new ServerParser(rec, opts("route"));
    parser.pause();
    parser.parse(Buffer.from("PING\r\n"));
    parser.close();
    parser.resume();
    assert.deepEqual(rec.calls, []);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property-style checks: random valid streams per link kind, split in every way.

const TOKENS = ["a", "foo", "bar", "*", ">", "_INBOX", "$G", "ü", "日本", "x-y", "0", "12"];

function token(rng: Rng): string {
  return rng.pick(TOKENS) + (rng.bool(0.3) ? rng.pick(TOKENS) : "");
}

function subject(rng: Rng): string {
  const parts: string[] = [];
  for (let i = 1 + rng.int(3); i > 0; i--) parts.push(token(rng));
  return parts.join(".");
}

function sep(rng: Rng): string {
  return rng.bool(0.85) ? " " : rng.pick(["\t", "  ", " \t "]);
}

function eol(rng: Rng): string {
  return rng.bool(0.85) ? "\r\n" : "\n";
}

function randomCase(rng: Rng, word: string): string {
  let out = "";
  for (const ch of word) out += rng.bool() ? ch.toLowerCase() : ch.toUpperCase();
  return out;
}

/** `reply | + reply q… | | q…` or nothing. */
function replyForm(rng: Rng): string[] {
  switch (rng.int(4)) {
    case 0:
      return [];
    case 1:
      return [subject(rng)];
    case 2:
      return ["+", subject(rng), ...Array.from({ length: 1 + rng.int(3) }, () => token(rng))];
    default:
      return ["|", ...Array.from({ length: 1 + rng.int(3) }, () => token(rng))];
  }
}

function payload(rng: Rng, max: number): Buffer {
  const n = rng.bool(0.15) ? 0 : rng.int(max + 1);
  return rng.bool(0.3) ? Buffer.from("RMSG a b 1\r\n\r\n".repeat(n).slice(0, n), "latin1") : rng.bytes(n);
}

function randomFrame(rng: Rng, kind: LinkKind, maxPayload: number): { wire: Buffer; calls: Call[] } {
  const parts: Buffer[] = [];
  const out: Call[] = [];
  const line = (op: string, args: string[]) => {
    let s = randomCase(rng, op);
    for (const a of args) s += sep(rng) + a;
    parts.push(Buffer.from(s + (rng.bool(0.1) ? sep(rng) : "") + eol(rng), "utf8"));
  };
  const leaf = kind === "leaf";
  const acc = () => (leaf ? [] : [rng.pick(["$G", "ACC", "$SYS", "äcc"])]);
  switch (rng.int(12)) {
    case 0:
    case 1:
    case 2: {
      // RMSG (routes/gateways) or LMSG (leafs): one size field.
      const op = leaf ? "LMSG" : "RMSG";
      const args = [...acc(), subject(rng), ...replyForm(rng)];
      const p = payload(rng, maxPayload);
      line(op, [...args, String(p.length)]);
      parts.push(p, Buffer.from("\r\n"));
      out.push(["msg", op, args, "", p.toString("latin1")]);
      break;
    }
    case 3:
    case 4: {
      // HMSG everywhere, LMSG with origin on routes: two size fields.
      const op = kind === "route" && rng.bool() ? "LMSG" : "HMSG";
      const args = [...(op === "LMSG" ? [token(rng)] : []), ...acc(), subject(rng), ...replyForm(rng)];
      const hdr = rng.bool(0.2) ? Buffer.alloc(0) : Buffer.from(`NATS/1.0\r\nK: ${token(rng)}\r\n\r\n`);
      const p = payload(rng, maxPayload);
      line(op, [...args, String(hdr.length), String(hdr.length + p.length)]);
      parts.push(hdr, p, Buffer.from("\r\n"));
      out.push(["msg", op, args, hdr.toString("latin1"), p.toString("latin1")]);
      break;
    }
    case 5:
    case 6: {
      const plus = rng.bool();
      const op: InterestOp = leaf ? (plus ? "LS+" : "LS-") : plus ? "RS+" : "RS-";
      const args = [...acc(), subject(rng)];
      if (rng.bool(0.4)) args.push(token(rng), ...(plus ? [String(1 + rng.int(9))] : []));
      line(op, args);
      out.push(["interest", op, args]);
      break;
    }
    case 7: {
      const op: InterestOp = rng.bool() ? "A+" : "A-";
      const args = [rng.pick(["$G", "ACC"])];
      line(op, args);
      out.push(["interest", op, args]);
      break;
    }
    case 8: {
      const json = JSON.stringify({ server_id: token(rng), name: subject(rng), headers: true });
      const op = rng.bool() ? "info" : "connect";
      parts.push(Buffer.from(randomCase(rng, op) + (rng.bool(0.8) ? sep(rng) : "") + json + eol(rng)));
      out.push([op, json]);
      break;
    }
    case 9: {
      const text = `Permissions Violation for Publish to "${subject(rng)}"`;
      parts.push(Buffer.from(`${randomCase(rng, "-err")}${sep(rng)}'${text}'${eol(rng)}`));
      out.push(["err", text]);
      break;
    }
    default: {
      const op = rng.pick(["ping", "pong", "ok"] as const);
      parts.push(Buffer.from(randomCase(rng, op === "ok" ? "+ok" : op) + eol(rng)));
      out.push([op]);
      break;
    }
  }
  return { wire: Buffer.concat(parts), calls: out };
}

function randomStream(rng: Rng, kind: LinkKind, frames: number, maxPayload = 200) {
  const wires: Buffer[] = [];
  const all: Call[] = [];
  for (let i = 0; i < frames; i++) {
    const f = randomFrame(rng, kind, maxPayload);
    wires.push(f.wire);
    all.push(...f.calls);
  }
  return { wire: Buffer.concat(wires), calls: all };
}

describe("ServerParser properties", () => {
  it("gives the same calls for every split of a few inputs into two or three chunks and into bytes", () => {
    const inputs: [LinkKind, string][] = [
      ["route", "RS+ $G foo q 2\r\nRMSG $G foo + r q 3\r\nabc\r\nHMSG $G ü 2 3\r\nhhx\r\nPING\r\n"],
      ["route", "LMSG o $G foo | q 0 2\r\nhi\r\nLS- o $G foo q\r\n-ERR 'x y'\r\n+OK\r\n"],
      ["gateway", 'INFO {"gateway_cmd":2}\r\nA+ $G\r\nRMSG $G 日本 2\r\nhi\r\nPONG\r\n'],
      ["leaf", "CONNECT {}\nLS+ foo\nLMSG foo | q 2\r\nhi\r\nHMSG foo r 1 1\r\nh\r\n"],
    ];
    for (const [kind, text] of inputs) {
      const buf = Buffer.from(text, "utf8");
      const want = calls(kind, buf);
      assert.equal(want.length > 3 && !want.some((c) => c[0] === "error"), true, text);
      assert.deepEqual(parseChunks(kind, oneByteChunks(buf)).rec.calls, want, text);
      for (let i = 1; i < buf.length; i++) {
        assert.deepEqual(parseChunks(kind, splitAt(buf, [i])).rec.calls, want, `${text} @${i}`);
        for (let j = i + 1; j < buf.length; j += 3) {
          assert.deepEqual(parseChunks(kind, splitAt(buf, [i, j])).rec.calls, want, `${text} @${i},${j}`);
        }
      }
    }
  });

  it("parses random valid streams into the generated calls, however they are split", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rng = new Rng(seed);
      const kind = KINDS[seed % 3]!;
      const { wire, calls: want } = randomStream(rng, kind, 30);
      assert.deepEqual(calls(kind, wire), want, `seed ${seed}`);
      for (let round = 0; round < 10; round++) {
        const chunks = splitAt(wire, rng.cuts(wire.length, 1 + rng.int(40)));
        assert.deepEqual(parseChunks(kind, chunks).rec.calls, want, `seed ${seed} round ${round}`);
      }
      if (seed % 6 === 0) assert.deepEqual(parseChunks(kind, oneByteChunks(wire)).rec.calls, want);
    }
  });

  it("gives the same calls with random pauses and resumes", () => {
    for (let seed = 100; seed < 120; seed++) {
      const rng = new Rng(seed);
      const kind = KINDS[seed % 3]!;
      const { wire, calls: want } = randomStream(rng, kind, 25);
      const rec = new Recorder();
      const parser = new ServerParser(rec, opts(kind));
      rec.after = () => {
        if (rng.bool(0.3)) parser.pause();
      };
      for (const chunk of splitAt(wire, rng.cuts(wire.length, 20))) {
        parser.parse(chunk);
        while (parser.isPaused && rng.bool(0.6)) parser.resume();
      }
      while (parser.isPaused) parser.resume();
      assert.deepEqual(rec.calls, want, `seed ${seed}`);
    }
  });

  it("handles payloads far larger than the chunks", () => {
    const rng = new Rng(7);
    const { wire, calls: want } = randomStream(rng, "route", 10, 200_000);
    const chunks = splitAt(wire, rng.cuts(wire.length, 200));
    assert.deepEqual(parseChunks("route", chunks).rec.calls, want);
  });

  it("never throws on mutated streams and agrees across splittings", () => {
    for (let seed = 200; seed < 300; seed++) {
      const rng = new Rng(seed);
      const kind = KINDS[seed % 3]!;
      const { wire } = randomStream(rng, kind, 8);
      const bad = Buffer.from(wire);
      for (let k = 1 + rng.int(3); k > 0; k--)
        bad[rng.int(bad.length)] = rng.pick([0x20, 0x0a, 0x0d, 0x41, 0x31]);
      const limits = { maxControlLine: 40 + rng.int(60), maxPayload: rng.int(300) };
      const want = calls(kind, bad, limits);
      const errors = want.filter((c) => c[0] === "error");
      assert.ok(errors.length <= 1 && (errors.length === 0 || want.at(-1)![0] === "error"), `seed ${seed}`);
      for (let round = 0; round < 4; round++) {
        const chunks = splitAt(bad, rng.cuts(bad.length, 1 + rng.int(30)));
        assert.deepEqual(parseChunks(kind, chunks, limits).rec.calls, want, `seed ${seed} round ${round}`);
      }
    }
  });
});
