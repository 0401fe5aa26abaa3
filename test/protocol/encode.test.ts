import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  errFrame,
  hmsgFrameLength,
  hmsgHeaderLength,
  infoFrame,
  msgFrameLength,
  msgHeaderLength,
  OK_FRAME,
  PING_FRAME,
  PONG_FRAME,
  type Token,
  uintLength,
  writeCrlf,
  writeHmsg,
  writeHmsgHeader,
  writeMsg,
  writeMsgHeader,
  writeToken,
  writeUint,
} from "../../src/protocol/encode.js";
import { ERR_MAXIMUM_PAYLOAD_VIOLATION } from "../../src/protocol/errors.js";
import { Rng } from "./helpers.js";

/** Writes at a non-zero offset into a buffer filled with a sentinel, and checks nothing else was touched. */
function written(len: number, write: (buf: Buffer, offset: number) => number): string {
  const buf = Buffer.alloc(len + 20, 0xee);
  const end = write(buf, 7);
  assert.equal(end - 7, len, "returned offset matches the computed length");
  assert.ok(
    buf.subarray(0, 7).every((b) => b === 0xee),
    "bytes before offset untouched",
  );
  assert.ok(
    buf.subarray(end).every((b) => b === 0xee),
    "bytes after end untouched",
  );
  return buf.toString("utf8", 7, end);
}

function msgHeader(subject: Token, sid: Token, reply: Token | undefined, size: number): string {
  return written(msgHeaderLength(subject, sid, reply, size), (b, o) =>
    writeMsgHeader(b, o, subject, sid, reply, size),
  );
}

function hmsgHeader(
  subject: Token,
  sid: Token,
  reply: Token | undefined,
  hdr: number,
  total: number,
): string {
  return written(hmsgHeaderLength(subject, sid, reply, hdr, total), (b, o) =>
    writeHmsgHeader(b, o, subject, sid, reply, hdr, total),
  );
}

describe("encode", () => {
  it("writes MSG headers byte-exactly", () => {
    assert.equal(msgHeader("foo.bar", "1", undefined, 5), "MSG foo.bar 1 5\r\n");
    assert.equal(msgHeader("foo", "42", "_INBOX.x.y", 0), "MSG foo 42 _INBOX.x.y 0\r\n");
    assert.equal(msgHeader("föö.日本", "s", "répl", 1048576), "MSG föö.日本 s répl 1048576\r\n");
    assert.equal(
      msgHeader(Buffer.from("pre.enc"), Buffer.from("9"), Buffer.from("r"), 12),
      "MSG pre.enc 9 r 12\r\n",
    );
  });

  it("writes HMSG headers byte-exactly", () => {
    assert.equal(hmsgHeader("foo", "1", undefined, 12, 14), "HMSG foo 1 12 14\r\n");
    assert.equal(hmsgHeader("foo", "1", "r", 16, 16), "HMSG foo 1 r 16 16\r\n");
    assert.equal(hmsgHeader("ü", "1", "日", 0, 0), "HMSG ü 1 日 0 0\r\n");
  });

  it("writes whole frames", () => {
    const payload = Buffer.from("xxhello world, a payload over sixteen bytesxx");
    const size = payload.length - 4;
    assert.equal(
      written(msgFrameLength("a", "1", undefined, size), (b, o) =>
        writeMsg(b, o, "a", "1", undefined, payload, 2, payload.length - 2),
      ),
      `MSG a 1 ${size}\r\nhello world, a payload over sixteen bytes\r\n`,
    );
    assert.equal(
      written(msgFrameLength("a", "1", "r", 2), (b, o) =>
        writeMsg(b, o, "a", "1", "r", Buffer.from("hi"), 0, 2),
      ),
      "MSG a 1 r 2\r\nhi\r\n",
    );
    const hp = Buffer.from("NATS/1.0 503\r\n\r\n");
    assert.equal(
      written(hmsgFrameLength("_INBOX.a", "3", undefined, 16, 16), (b, o) =>
        writeHmsg(b, o, "_INBOX.a", "3", undefined, hp, 0, 16, 16),
      ),
      "HMSG _INBOX.a 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
    );
    assert.equal(
      written(msgFrameLength("e", "1", undefined, 0), (b, o) =>
        writeMsg(b, o, "e", "1", undefined, hp, 0, 0),
      ),
      "MSG e 1 0\r\n\r\n",
    );
  });

  it("writes integers of every width", () => {
    const values = [0, 1, 9, 10, 99, 100, 12345, 999999999, 1000000000, 4294967295, 4294967296, 2 ** 53 - 1];
    for (let v = 1; v < 1e15; v *= 7) values.push(v, v - 1);
    for (const v of values) {
      assert.equal(uintLength(v), String(v).length, `${v}`);
      assert.equal(
        written(String(v).length, (b, o) => writeUint(b, o, v)),
        String(v),
      );
    }
  });

  it("writes tokens of any length and content", () => {
    const rng = new Rng(7);
    const pieces = ["a", "Z", "9", ".", "ü", "日本", "😀", "\u0000", "_"];
    for (let i = 0; i < 300; i++) {
      let s = "";
      const n = rng.int(120);
      for (let k = 0; k < n; k++) s += rng.pick(pieces);
      assert.equal(
        written(Buffer.byteLength(s), (b, o) => writeToken(b, o, s)),
        s,
      );
      assert.equal(
        written(Buffer.byteLength(s), (b, o) => writeToken(b, o, Buffer.from(s))),
        s,
      );
    }
  });

  it("offers the fixed frames", () => {
    assert.equal(PING_FRAME.toString(), "PING\r\n");
    assert.equal(PONG_FRAME.toString(), "PONG\r\n");
    assert.equal(OK_FRAME.toString(), "+OK\r\n");
    assert.equal(errFrame(ERR_MAXIMUM_PAYLOAD_VIOLATION).toString(), "-ERR 'Maximum Payload Violation'\r\n");
    assert.equal(infoFrame('{"a":1}').toString(), 'INFO {"a":1}\r\n');
    assert.equal(
      written(2, (b, o) => writeCrlf(b, o)),
      "\r\n",
    );
  });
});
