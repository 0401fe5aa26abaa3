// The small pieces on their own: header blocks, subject transforms, per-message TTL values, Go-style
// times and JSON, config defaults and validation, the error table.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { API_ERRORS, ApiError } from "../../src/jetstream/api-errors.js";
import { checkUpdate, normalizeConfig } from "../../src/jetstream/config-check.js";
import { appendHeaders, buildHeaders, headerValue, parseHeaders } from "../../src/jetstream/headers.js";
import { goJson, parseRfc3339, rfc3339 } from "../../src/jetstream/json.js";
import { parseMsgTtl } from "../../src/jetstream/msg-ttl.js";
import { decodeStreamConfig } from "../../src/jetstream/stream-config.js";
import { SubjectTransform, transformError } from "../../src/jetstream/subject-transform.js";

function configError(body: Record<string, unknown>): string {
  try {
    normalizeConfig(decodeStreamConfig(body));
  } catch (err) {
    return `${(err as ApiError).body.err_code} ${(err as ApiError).body.description}`;
  }
  return "ok";
}

describe("header blocks", () => {
  it("parses status lines and entries, finds values", () => {
    const h = parseHeaders(
      Buffer.from("NATS/1.0 404 Message Not Found\r\nA: 1\r\nB: two words\r\nA: 3\r\n\r\n"),
    );
    assert.equal(h.status, 404);
    assert.equal(h.description, "Message Not Found");
    assert.equal(headerValue(h, "A"), "1");
    assert.equal(headerValue(h, "b"), "two words");
    assert.equal(headerValue(h, "C"), undefined);
  });

  it("appends after stored headers and starts a block when there is none", () => {
    const stored = Buffer.from("NATS/1.0\r\nk: v\r\n\r\n");
    assert.equal(
      appendHeaders(stored, [["Nats-Stream", "S"]]).toString(),
      "NATS/1.0\r\nk: v\r\nNats-Stream: S\r\n\r\n",
    );
    assert.equal(appendHeaders(undefined, [["X", "1"]]).toString(), "NATS/1.0\r\nX: 1\r\n\r\n");
    assert.equal(buildHeaders([], 408, "Bad Request").toString(), "NATS/1.0 408 Bad Request\r\n\r\n");
  });
});

describe("subject transforms", () => {
  it("maps by reference, positionally and with the rest", () => {
    assert.equal(SubjectTransform.create("a.*.*", "b.$2.$1").apply("a.x.y"), "b.y.x");
    assert.equal(SubjectTransform.create("a.*.>", "b.{{wildcard(1)}}.>").apply("a.x.y.z"), "b.x.y.z");
    assert.equal(SubjectTransform.create("a.*", "b.*").apply("a.q"), "b.q");
    assert.equal(SubjectTransform.create("a.>", "b.>").apply("a.q.r"), "b.q.r");
    assert.equal(SubjectTransform.create("", "c.>").apply("any.thing"), "c.any.thing");
    assert.equal(SubjectTransform.create("a.*", "b.*").apply("z.q"), undefined);
  });

  it("rejects impossible destinations", () => {
    assert.match(transformError("a.*", "b.$2") ?? "", /out of range/);
    assert.match(transformError("a.*", "b.>") ?? "", /needs a '>'/);
    assert.match(transformError("a.*", "") ?? "", /invalid destination/);
    assert.match(transformError("a.*", "b.{{partition(3,1)}}") ?? "", /unsupported/);
  });
});

describe("values", () => {
  it("per-message TTL: Go durations, seconds, never, minimum 1s", () => {
    assert.equal(parseMsgTtl("5s"), 5000);
    assert.equal(parseMsgTtl("1m30s"), 90_000);
    assert.equal(parseMsgTtl("10"), 10_000);
    assert.equal(parseMsgTtl("never"), -1);
    assert.equal(parseMsgTtl("0"), 0);
    assert.equal(parseMsgTtl("500ms"), undefined);
    assert.equal(parseMsgTtl("soon"), undefined);
  });

  it("times as Go marshals them", () => {
    assert.equal(rfc3339(0n), "0001-01-01T00:00:00Z");
    assert.equal(rfc3339(1_700_000_000_123_456_789n), "2023-11-14T22:13:20.123456789Z");
    assert.equal(rfc3339(1_700_000_000_100_000_000n), "2023-11-14T22:13:20.1Z");
    assert.equal(rfc3339(1_700_000_000_000_000_000n), "2023-11-14T22:13:20Z");
    assert.equal(parseRfc3339("2023-11-14T22:13:20.123456789Z"), 1_700_000_000_123_456_789n);
    assert.equal(parseRfc3339("2023-11-14T23:13:20+01:00"), 1_700_000_000_000_000_000n);
    assert.equal(parseRfc3339("yesterday"), undefined);
    assert.equal(goJson({ s: "a.>" }), '{"s":"a.\\u003e"}');
  });
});

describe("stream config", () => {
  it("defaults like nats-server", () => {
    const c = normalizeConfig(decodeStreamConfig({ name: "S", max_age: 30e9 }));
    assert.deepEqual(c.subjects, ["S"]);
    assert.equal(c.duplicate_window, 30e9);
    assert.equal(c.max_msgs, -1);
    assert.equal(c.num_replicas, 1);
    const m = normalizeConfig(decodeStreamConfig({ name: "M", mirror: { name: "S" } }));
    assert.equal(m.subjects, undefined);
    assert.equal(m.duplicate_window, undefined);
    const t = normalizeConfig(decodeStreamConfig({ name: "T", subject_delete_marker_ttl: 5e9 }));
    assert.equal(t.allow_msg_ttl, true);
    assert.equal(t.allow_rollup_hdrs, true);
  });

  it("reports impossible configs with nats-server's texts", () => {
    assert.equal(configError({ name: "S", max_msgs: "1" }), "10025 invalid JSON");
    assert.equal(configError({ name: "S", retention: "forever" }), "10025 invalid JSON");
    assert.equal(
      configError({ name: "S.x" }),
      "10052 stream name is required and can not contain '.', '*', '>'",
    );
    assert.equal(configError({ name: "S", max_age: 5 }), "10052 max age needs to be >= 100ms");
    assert.equal(configError({ name: "S", num_replicas: -2 }), "10133 replicas count cannot be negative");
    assert.equal(configError({ name: "S", subjects: ["a", "a"] }), "10052 duplicate subjects detected");
    assert.equal(
      configError({ name: "S", subjects: ["a.*", "a.b"] }),
      '10052 subject "a.*" overlaps with "a.b"',
    );
    assert.equal(
      configError({ name: "S", subjects: [">"] }),
      "10052 subjects that overlap with jetstream api require no-ack to be true",
    );
    assert.equal(configError({ name: "S", subjects: [">"], no_ack: true }), "ok");
    assert.equal(
      configError({ name: "S", sources: [{ name: "A" }, { name: "A" }] }),
      "10052 duplicate source configuration detected",
    );
    assert.equal(
      configError({ name: "S", mirror: { name: "A" }, first_seq: 3 }),
      "10052 stream mirrors can not have first sequence configured",
    );
    assert.equal(
      configError({ name: "S", subject_delete_marker_ttl: 1e8 }),
      "10052 subject delete marker TTL must be at least 1 second",
    );
  });

  it("update rules", () => {
    const old = normalizeConfig(
      decodeStreamConfig({ name: "S", retention: "interest", allow_msg_ttl: true }),
    );
    const toLimits = normalizeConfig(decodeStreamConfig({ name: "S", allow_msg_ttl: true }));
    checkUpdate(old, toLimits);
    const noTtl = normalizeConfig(decodeStreamConfig({ name: "S", retention: "interest" }));
    assert.throws(() => checkUpdate(old, noTtl), /message TTL status can not be disabled/);
  });
});

describe("the error table", () => {
  it("has unique err_codes and fills templates", () => {
    const codes = Object.values(API_ERRORS).map((e) => e.errCode);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(
      new ApiError("StreamWrongLastSequence", { seq: 7 }).body.description,
      "wrong last sequence: 7",
    );
    assert.deepEqual(new ApiError("StreamNotFound").body, {
      code: 404,
      err_code: 10059,
      description: "stream not found",
    });
  });
});
