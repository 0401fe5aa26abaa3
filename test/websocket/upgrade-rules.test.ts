// The handshake checks on their own: nats-server's RFC 6455 §4.2.1 order and messages, and its origin rules.

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { checkUpgradeRequest, originError, parseAllowedOrigins } from "../../src/websocket/listener.js";

/** Just enough of an IncomingMessage for the checks: method and headers (lower-cased, as Node has them). */
function req(headers: Record<string, string>, method = "GET"): IncomingMessage {
  const lower: Record<string, string> = {};
  const distinct: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    lower[k.toLowerCase()] = v;
    distinct[k.toLowerCase()] = [v];
  }
  return { method, headers: lower, headersDistinct: distinct } as unknown as IncomingMessage;
}

const valid = {
  Host: "127.0.0.1:8080",
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

function without(name: keyof typeof valid): Record<string, string> {
  const h: Record<string, string> = { ...valid };
  delete h[name];
  return h;
}

describe("checkUpgradeRequest", () => {
  it("accepts a valid handshake, with header tokens in any case and list position", () => {
    assert.equal(checkUpgradeRequest(req(valid)), undefined);
    assert.equal(
      checkUpgradeRequest(req({ ...valid, Upgrade: "WebSocket", Connection: "keep-alive, upgrade" })),
      undefined,
    );
  });

  it("rejects like nats-server, first failing rule wins", () => {
    assert.deepEqual(checkUpgradeRequest(req(valid, "POST")), {
      status: 405,
      reason: "request method must be GET",
    });
    assert.deepEqual(checkUpgradeRequest(req(without("Host"))), {
      status: 400,
      reason: "'Host' missing in request",
    });
    assert.deepEqual(checkUpgradeRequest(req({ ...valid, Upgrade: "h2c" })), {
      status: 400,
      reason: "invalid value for header 'Upgrade'",
    });
    assert.deepEqual(checkUpgradeRequest(req({ ...valid, Connection: "keep-alive" })), {
      status: 400,
      reason: "invalid value for header 'Connection'",
    });
    assert.deepEqual(checkUpgradeRequest(req(without("Sec-WebSocket-Key"))), {
      status: 400,
      reason: "key missing",
    });
    assert.deepEqual(checkUpgradeRequest(req({ ...valid, "Sec-WebSocket-Version": "8" })), {
      status: 400,
      reason: "invalid version",
    });
  });
});

describe("originError", () => {
  const none = parseAllowedOrigins([]);

  it("accepts anything when neither same_origin nor allowed_origins is set", () => {
    assert.equal(originError(req({ ...valid, Origin: "http://evil.example" }), false, none), undefined);
  });

  it("accepts a request without Origin even when checking (non-browser clients)", () => {
    assert.equal(originError(req(valid), true, parseAllowedOrigins(["http://a.example"])), undefined);
  });

  it("same_origin compares host and port with the Host header, defaulting ports by scheme", () => {
    const host = { ...valid, Host: "nats.example:8080" };
    assert.equal(originError(req({ ...host, Origin: "http://NATS.example:8080" }), true, none), undefined);
    assert.equal(
      originError(req({ ...host, Origin: "http://nats.example:9090" }), true, none),
      "not same origin",
    );
    assert.equal(
      originError(req({ ...host, Origin: "http://other.example:8080" }), true, none),
      "not same origin",
    );
    const noPort = { ...valid, Host: "nats.example" };
    assert.equal(originError(req({ ...noPort, Origin: "http://nats.example" }), true, none), undefined);
    // https defaults to 443, the plain listener's Host to 80.
    assert.equal(
      originError(req({ ...noPort, Origin: "https://nats.example" }), true, none),
      "not same origin",
    );
  });

  it("allowed_origins matches scheme, host and port", () => {
    const allowed = parseAllowedOrigins(["http://a.example", "https://b.example:8443"]);
    const check = (origin: string) => originError(req({ ...valid, Origin: origin }), false, allowed);
    assert.equal(check("http://a.example"), undefined);
    assert.equal(check("http://a.example:80"), undefined);
    assert.equal(check("https://b.example:8443"), undefined);
    assert.equal(check("https://a.example"), "not in the allowed list");
    assert.equal(check("http://a.example:8080"), "not in the allowed list");
    assert.equal(check("http://b.example:8443"), "not in the allowed list");
    assert.equal(check("http://c.example"), "not in the allowed list");
  });

  it("falls back to Sec-WebSocket-Origin and refuses an unparsable origin", () => {
    const allowed = parseAllowedOrigins(["http://a.example"]);
    assert.equal(
      originError(req({ ...valid, "Sec-WebSocket-Origin": "http://a.example" }), false, allowed),
      undefined,
    );
    assert.match(originError(req({ ...valid, Origin: "null" }), false, allowed) ?? "", /invalid origin/);
  });

  it("reports allowed_origins entries it cannot parse", () => {
    const bad: string[] = [];
    const map = parseAllowedOrigins(["http://ok.example", "not a url"], (o) => bad.push(o));
    assert.deepEqual(bad, ["not a url"]);
    assert.deepEqual([...map.keys()], ["ok.example"]);
  });
});
