// Sequences mirror what nats-server 2.9.10 did for a responder with `allow_responses`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Permissions } from "../../src/auth/permissions.js";
import { DEFAULT_RESPONSE_LIMITS, ResponsePermissions } from "../../src/auth/response-permissions.js";

/** The server's PUB check: static permissions first, then a response grant. */
function mayPublish(
  p: Permissions,
  r: ResponsePermissions | undefined,
  subject: string,
  now: number,
): boolean {
  return p.canPublish(subject) || (r?.tryUse(subject, now) ?? false);
}

describe("ResponsePermissions", () => {
  it("defaults: one response per received reply subject, within 2 minutes", () => {
    assert.deepEqual(DEFAULT_RESPONSE_LIMITS, { max: 1, expiresMs: 120_000 });
    const r = new ResponsePermissions(DEFAULT_RESPONSE_LIMITS);
    assert.equal(r.tryUse("_INBOX.a", 0), false, "never received");
    r.grant("_INBOX.a", 0);
    assert.equal(r.tryUse("_INBOX.other", 1), false);
    assert.equal(r.tryUse("_INBOX.a", 1), true);
    assert.equal(r.tryUse("_INBOX.a", 2), false, "used up");
    r.grant("_INBOX.b", 0);
    assert.equal(r.tryUse("_INBOX.b", 120_000), true, "exactly at the deadline");
    r.grant("_INBOX.c", 0);
    assert.equal(r.tryUse("_INBOX.c", 120_001), false, "expired");
  });

  it("any reply subject can be granted, not only _INBOX", () => {
    const r = new ResponsePermissions({ max: 1, expiresMs: 0 });
    r.grant("weird.reply", 0);
    assert.equal(r.tryUse("weird.reply", 1), true);
  });

  it("re-delivery of the same reply resets the count rather than adding to it", () => {
    const r = new ResponsePermissions({ max: 2, expiresMs: 500 });
    r.grant("R", 0);
    r.grant("R", 10);
    assert.equal(r.tryUse("R", 20), true);
    assert.equal(r.tryUse("R", 30), true);
    assert.equal(r.tryUse("R", 40), false);
  });

  it("max 2 / 500 ms", () => {
    const r = new ResponsePermissions({ max: 2, expiresMs: 500 });
    r.grant("R1", 0);
    assert.equal(r.tryUse("R1", 100), true);
    assert.equal(r.tryUse("R1", 200), true);
    assert.equal(r.tryUse("R1", 300), false);
    r.grant("R2", 1000);
    assert.equal(r.tryUse("R2", 1700), false);
  });

  it("max <= 0 and expiresMs <= 0 mean unlimited", () => {
    const r = new ResponsePermissions({ max: -1, expiresMs: 0 });
    r.grant("R", 0);
    for (let i = 1; i <= 10; i++) assert.equal(r.tryUse("R", i * 3_600_000), true);
  });

  it("prune drops expired grants, grant prunes periodically and the map is bounded", () => {
    const r = new ResponsePermissions({ max: 1, expiresMs: 100 });
    for (let i = 0; i < 10; i++) r.grant(`R${i}`, 0);
    assert.equal(r.size, 10);
    r.prune(50);
    assert.equal(r.size, 10);
    r.prune(101);
    assert.equal(r.size, 0);
    for (let i = 0; i < 10; i++) r.grant(`S${i}`, 0);
    r.grant("late", 2000); // more than a second since the last prune: prunes the expired ones
    assert.equal(r.size, 1);

    const unlimited = new ResponsePermissions({ max: 0, expiresMs: 0 });
    for (let i = 0; i < 70_000; i++) unlimited.grant(`U${i}`, i);
    assert.ok(unlimited.size <= 65_536);
    assert.equal(unlimited.tryUse("U69999", 0), true, "newest kept");
    assert.equal(unlimited.tryUse("U0", 0), false, "oldest evicted");
  });
});

describe("allow_responses with Permissions (nats-server 2.9.10 sequences)", () => {
  it("allow_responses: true with subscribe-only permissions", () => {
    const p = Permissions.from({ subscribe: { allow: ["svc"] }, allowResponses: true })!;
    const r = p.createResponsePermissions();
    assert.ok(r);
    assert.equal(mayPublish(p, r, "random", 0), false);
    r.grant("_INBOX.R.1", 0);
    assert.equal(mayPublish(p, r, "_INBOX.R.1", 1), true);
    assert.equal(mayPublish(p, r, "_INBOX.R.1", 2), false);
    assert.equal(mayPublish(p, r, "_INBOX.R.other", 3), false);
    r.grant("_INBOX.R.4", 0);
    assert.equal(mayPublish(p, r, "_INBOX.R.4", 700), true, "not expired after 700 ms");
  });

  it("a response grant overrides a publish deny rule", () => {
    const p = Permissions.from({ publish: { deny: ["_INBOX.>"] }, allowResponses: true })!;
    const r = p.createResponsePermissions()!;
    assert.equal(mayPublish(p, r, "_INBOX.x", 0), false);
    r.grant("_INBOX.x", 0);
    assert.equal(mayPublish(p, r, "_INBOX.x", 1), true);
    assert.equal(mayPublish(p, r, "_INBOX.x", 2), false);
  });

  it("publish allow list plus responses", () => {
    const p = Permissions.from({ publish: { allow: ["foo"] }, allowResponses: true })!;
    const r = p.createResponsePermissions()!;
    r.grant("_INBOX.y", 0);
    assert.equal(mayPublish(p, r, "foo", 1), true);
    assert.equal(mayPublish(p, r, "foo", 2), true);
    assert.equal(mayPublish(p, r, "bar", 3), false);
    assert.equal(mayPublish(p, r, "_INBOX.y", 4), true);
  });
});
