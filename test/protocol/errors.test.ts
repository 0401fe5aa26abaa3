import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as errors from "../../src/protocol/errors.js";
import {
  CLOSING_ERRORS,
  ERR_INVALID_SUBJECT,
  ERR_MAXIMUM_CONTROL_LINE_EXCEEDED,
  ERR_STALE_CONNECTION,
  ERR_UNKNOWN_PROTOCOL_OPERATION,
  errLine,
  goQuote,
  permissionsPublish,
  permissionsPublishReply,
  permissionsSubscribe,
  permissionsSubscribeTooManyTokens,
} from "../../src/protocol/errors.js";

describe("errors", () => {
  it("lists exactly the texts of core-protocol.md §11", () => {
    const texts = Object.entries(errors)
      .filter(([name]) => name.startsWith("ERR_"))
      .map(([, v]) => v as string)
      .sort();
    assert.deepEqual(
      texts,
      [
        "Unknown Protocol Operation",
        "Authorization Violation",
        "Authentication Timeout",
        "User Authentication Expired",
        "Account Authentication Expired",
        "User Authentication Revoked",
        "Maximum Payload Violation",
        "maximum control line exceeded",
        "invalid client protocol",
        "no responders requires headers support",
        "maximum connections exceeded",
        "maximum account active connections exceeded",
        "Secure Connection - TLS Required",
        "Connection throttling is active. Please try again later.",
        "Stale Connection",
        "Failed Account Registration",
        "Invalid Subject",
        "Invalid Publish Subject",
        "maximum subscriptions exceeded",
      ].sort(),
    );
  });

  it("knows which errors close the connection", () => {
    assert.ok(CLOSING_ERRORS.has(ERR_UNKNOWN_PROTOCOL_OPERATION));
    assert.ok(CLOSING_ERRORS.has(ERR_MAXIMUM_CONTROL_LINE_EXCEEDED));
    assert.ok(CLOSING_ERRORS.has(ERR_STALE_CONNECTION));
    assert.ok(!CLOSING_ERRORS.has(ERR_INVALID_SUBJECT));
    assert.equal(CLOSING_ERRORS.size, 16);
  });

  it("formats permission violations as nats-server does", () => {
    // Texts as received from nats-server 2.9.10 with deny permissions.
    assert.equal(permissionsPublish("foo"), 'Permissions Violation for Publish to "foo"');
    assert.equal(permissionsPublish('fo"o'), 'Permissions Violation for Publish to "fo\\"o"');
    assert.equal(permissionsPublish("föö"), 'Permissions Violation for Publish to "föö"');
    assert.equal(permissionsPublish("a\\\\b"), 'Permissions Violation for Publish to "a\\\\\\\\b"');
    assert.equal(permissionsSubscribe("bar"), 'Permissions Violation for Subscription to "bar"');
    assert.equal(
      permissionsSubscribe("bar", "q"),
      'Permissions Violation for Subscription to "bar" using queue "q"',
    );
    assert.equal(permissionsSubscribe('q"x'), 'Permissions Violation for Subscription to "q\\"x"');
    assert.equal(permissionsPublishReply("_R_.x"), 'Permissions Violation for Publish with Reply of "_R_.x"');
    assert.equal(
      permissionsSubscribeTooManyTokens("a.b"),
      'Permissions Violation for Subscription to "a.b", too many tokens',
    );
  });

  it("quotes like Go's %q", () => {
    assert.equal(goQuote(""), '""');
    assert.equal(goQuote("a b"), '"a b"');
    assert.equal(goQuote("\x07\b\f\n\r\t\v"), '"\\a\\b\\f\\n\\r\\t\\v"');
    assert.equal(goQuote("\x00\x1f\x7f"), '"\\x00\\x1f\\x7f"');
    assert.equal(goQuote("\u00a0\u200b"), '"\\u00a0\\u200b"');
    assert.equal(goQuote("日本😀\ufffd"), '"日本😀\ufffd"');
    assert.equal(goQuote("\u{e0001}"), '"\\U000e0001"');
  });

  it("frames -ERR lines", () => {
    assert.equal(errLine(ERR_UNKNOWN_PROTOCOL_OPERATION), "-ERR 'Unknown Protocol Operation'\r\n");
  });
});
