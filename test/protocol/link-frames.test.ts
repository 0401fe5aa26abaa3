// The message frames servers send each other, byte for byte: RMSG/HMSG on routes with the account, LMSG
// on leaf links without it, and LMSG on routes naming the leaf cluster a message came from (always with a
// header size, as nats-server reads it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { writeLinkMessage } from "../../src/protocol/link-frames.js";
import { Outbound } from "../../src/server/outbound.js";

function frame(
  ...args: Parameters<typeof writeLinkMessage> extends [unknown, ...infer R] ? R : never
): string {
  const out = new Outbound();
  writeLinkMessage(out, ...args);
  return out.buf.subarray(0, out.len).toString("latin1");
}

describe("link message frames", () => {
  const payload = Buffer.from("NATS/1.0\r\n\r\nhi");
  it("writes route, leaf and leaf-origin forms", () => {
    assert.equal(
      frame(false, "$G", "a.b", "r.1", undefined, payload, 12, 0, 14),
      "RMSG $G a.b r.1 2\r\nhi\r\n",
    );
    assert.equal(
      frame(false, "$G", "a.b", undefined, ["q1", "q2"], payload, 0, 12, 14),
      "HMSG $G a.b | q1 q2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
    );
    assert.equal(frame(true, undefined, "a.b", "r", undefined, payload, 12, 0, 14), "LMSG a.b r 2\r\nhi\r\n");
    assert.equal(
      frame(false, "$G", "a.b", "r", ["q"], payload, 12, 0, 14, "edge"),
      "LMSG edge $G a.b + r q 0 2\r\nhi\r\n",
    );
    assert.equal(
      frame(false, "$G", "a.b", undefined, undefined, payload, 0, 12, 14, "edge"),
      "LMSG edge $G a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
    );
  });
});
