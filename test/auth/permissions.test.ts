// Expected values marked "ref" were observed on nats-server 2.9.10 with the same rules.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isReservedQueue, Permissions } from "../../src/auth/permissions.js";
import type { UserPermissions } from "../../src/auth/types.js";

function perms(p: UserPermissions): Permissions {
  const r = Permissions.from(p);
  assert.ok(r, "expected restrictive permissions");
  return r;
}

/** Each case: "subject" or "subject queue" → may subscribe? */
function checkSubs(p: Permissions, cases: Record<string, boolean>): void {
  for (const [spec, expected] of Object.entries(cases)) {
    const [subject, queue] = spec.split(" ");
    assert.equal(p.canSubscribe(subject, queue), expected, `SUB ${spec}`);
  }
}

describe("Permissions.from", () => {
  it("no permissions or nothing restrictive → undefined (everything allowed)", () => {
    assert.equal(Permissions.from(undefined), undefined);
    assert.equal(Permissions.from({}), undefined);
    // ref: `publish: []` and `subscribe: { allow: [], deny: [] }` restrict nothing.
    assert.equal(Permissions.from({ publish: { allow: [] }, subscribe: { allow: [], deny: [] } }), undefined);
    assert.equal(Permissions.from({ allowResponses: false }), undefined);
  });

  it("rejects invalid rules", () => {
    assert.throws(
      () => Permissions.from({ publish: { allow: ["a..b"] } }),
      /publish\.allow: subject "a\.\.b"/,
    );
    assert.throws(() => Permissions.from({ publish: { deny: ["foo q"] } }), /publish\.deny/);
    assert.throws(() => Permissions.from({ subscribe: { allow: ["foo q extra"] } }), /subscribe\.allow/);
    assert.throws(() => Permissions.from({ subscribe: { allow: ["foo.>.x q"] } }), /"foo\.>\.x"/);
  });
});

describe("publish permissions", () => {
  it("allow + deny: deny wins (ref)", () => {
    const p = perms({ publish: { allow: ["foo.>"], deny: ["foo.bar"] } });
    assert.equal(p.canPublish("foo.bar"), false);
    assert.equal(p.canPublish("foo.baz"), true);
    assert.equal(p.canPublish("foo.bar.x"), true);
    assert.equal(p.canPublish("bar"), false);
    assert.equal(p.canPublish("foo"), false);
    // ref: rule tokens match a (non-pedantic) wildcard publish subject's tokens literally.
    assert.equal(p.canPublish("foo.*"), true);
    assert.equal(p.canPublish("foo.>"), true);
  });

  it("deny only: everything else allowed (ref)", () => {
    const p = perms({ publish: { deny: ["foo"] } });
    assert.equal(p.canPublish("foo"), false);
    assert.equal(p.canPublish("bar"), true);
    assert.equal(p.canPublish("foo.x"), true);
  });

  it("wildcard allow rules", () => {
    const p = perms({ publish: { allow: ["a.*.c", "x.>"] } });
    assert.equal(p.canPublish("a.b.c"), true);
    assert.equal(p.canPublish("a.b.d"), false);
    assert.equal(p.canPublish("a.b.c.d"), false);
    assert.equal(p.canPublish("x.y.z"), true);
    assert.equal(p.canPublish("x"), false);
  });

  it("the reply subject is not a publish permission question (ref: PUB svc _INBOX.x allowed)", () => {
    const p = perms({ publish: { allow: ["svc"] }, subscribe: { allow: ["svc"] } });
    assert.equal(p.canPublish("svc"), true);
    assert.equal(p.canPublish("_INBOX.x"), false);
    // ref: so a requester needs SUB permission on its inbox.
    assert.equal(p.canSubscribe("_INBOX.>"), false);
  });

  it("caches results per subject, bounded", () => {
    const p = perms({ publish: { allow: ["k.*"] } });
    for (let i = 0; i < 5000; i++) assert.equal(p.canPublish(`k.${i}`), true);
    for (let i = 0; i < 5000; i++) assert.equal(p.canPublish(`k.${i}.x`), false);
    const cache = (p as unknown as { pubCache: Map<string, boolean> }).pubCache;
    assert.ok(cache.size <= 1024, `cache size ${cache.size}`);
    assert.equal(p.canPublish("k.1"), true);
  });
});

describe("subscribe permissions: allow", () => {
  it("subset matching: allow foo.> admits foo.*, foo.>, foo.bar (ref)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo.>"] } }), {
      "foo.*": true,
      "foo.>": true,
      "foo.bar": true,
      "foo.* q": true,
      foo: false,
      ">": false,
      "*.bar": false,
    });
  });

  it("allow foo.*: admits foo.a and foo.*, refuses foo.a.b, *.* and > (ref)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo.*"] } }), {
      "foo.a": true,
      "foo.*": true,
      "foo.a.b": false,
      "*.*": false,
      ">": false,
    });
  });

  it("allow foo.* refuses SUB foo.> (stricter than nats-server 2.9.10, which admits it and leaks foo.a.b)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo.*"] } }), { "foo.>": false });
    checkSubs(perms({ subscribe: { allow: ["*"] } }), { ">": false, "*": true, a: true });
  });

  it("queue-only allow rule: plain subs refused, other queues refused (ref)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo.> q1"] } }), {
      "foo.x": false,
      "foo.x q1": true,
      "foo.x q2": false,
      "foo.> q1": true,
      "foo.* q1": true,
      "> q1": false,
    });
  });

  it("queue rules covering the subject decide queue subs alone (ref)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo.>", "foo.bar q1"] } }), {
      "foo.bar q2": false,
      "foo.bar q1": true,
      "foo.bar": true,
      "foo.baz q2": true,
      "foo.* q2": true,
      "foo.* q1": true,
      "foo.> q1": true,
    });
  });

  it("queue names in rules may be patterns; literal comparison first (ref)", () => {
    checkSubs(perms({ subscribe: { allow: ["foo q.*", "bar q.>"] } }), {
      "foo q.a": true,
      "foo q.*": true,
      "foo q.a.b": false,
      "foo q": false,
      "foo q.>": false,
      foo: false,
      "bar q.a.b": true,
      "bar q.>": true,
      "bar q.*": true,
    });
  });

  it("the _sys_ queue is reserved (ref, case-sensitive)", () => {
    assert.equal(isReservedQueue("_sys_"), true);
    assert.equal(isReservedQueue("_SYS_"), false);
    checkSubs(perms({ subscribe: { deny: ["nothing"] } }), { "x _sys_": false, "x _SYS_": true });
  });
});

describe("subscribe permissions: deny and delivery filtering", () => {
  it("deny secret.>: covered subs refused, overlapping subs accepted but filtered (ref)", () => {
    const p = perms({ subscribe: { deny: ["secret.>"] } });
    checkSubs(p, {
      ">": true,
      "secret.*": false,
      "secret.>": false,
      "secret.a": false,
      "*.a": true,
      secret: true,
      "*.*.*": true,
    });
    assert.equal(p.needsDeliveryFilter(">"), true);
    assert.equal(p.needsDeliveryFilter("*.a"), true);
    assert.equal(p.needsDeliveryFilter("secret"), false);
    assert.equal(p.needsDeliveryFilter("public.>"), false);
    // ref: SUB > receives other.x and secret, but not secret.x / secret.x.y.
    assert.equal(p.deniesDelivery("secret.x"), true);
    assert.equal(p.deniesDelivery("secret.x.y"), true);
    assert.equal(p.deniesDelivery("other.x"), false);
    assert.equal(p.deniesDelivery("secret"), false);
  });

  it("deny secret.* also refuses SUB secret.> (ref: literal token match), accepts secret.a.b", () => {
    checkSubs(perms({ subscribe: { deny: ["secret.*"] } }), {
      "secret.>": false,
      "secret.*": false,
      ">": true,
      "secret.a.b": true,
      "*.a": true,
    });
  });

  it("allow > deny foo.*: foo.bar, foo.* and foo.> refused (ref)", () => {
    checkSubs(perms({ subscribe: { allow: [">"], deny: ["foo.*"] } }), {
      "foo.bar": false,
      "foo.>": false,
      "foo.*": false,
      ">": true,
    });
  });

  it("partial overlaps are filtered too (nats-server 2.9.10 delivers foo.bar.baz to SUB *.bar.baz)", () => {
    const p = perms({ subscribe: { deny: ["foo.bar.>"] } });
    checkSubs(p, { "*.bar.baz": true, "foo.*.baz": true, "foo.bar.*": false, ">": true });
    assert.equal(p.needsDeliveryFilter("*.bar.baz"), true);
    assert.equal(p.deniesDelivery("foo.bar.baz"), true);
    assert.equal(p.deniesDelivery("x.bar.baz"), false);
  });

  it("queue-specific deny rules (ref for the SUB checks)", () => {
    const p = perms({ subscribe: { deny: ["foo.bar q1"] } });
    checkSubs(p, {
      "foo.bar q1": false,
      "foo.bar q2": true,
      "foo.bar": true,
      "> q1": true,
      "foo.* q1": true,
    });
    // nats-server 2.9.10 delivers foo.bar to `> q1`; Lattice filters it for that queue only.
    assert.equal(p.needsDeliveryFilter(">", "q1"), true);
    assert.equal(p.needsDeliveryFilter(">", "q2"), false);
    assert.equal(p.needsDeliveryFilter(">"), false);
    assert.equal(p.deniesDelivery("foo.bar", "q1"), true);
    assert.equal(p.deniesDelivery("foo.bar", "q2"), false);
    assert.equal(p.deniesDelivery("foo.bar"), false);
  });

  it("a plain deny is not overridden by a queue-specific deny (stricter than nats-server 2.9.10)", () => {
    checkSubs(perms({ subscribe: { deny: ["foo.>", "foo.bar q1"] } }), {
      "foo.bar q2": false, // ref: allowed (queue rule overrides the plain deny)
      "foo.bar q1": false,
      "foo.bar": false,
      "foo.baz q2": false,
      "bar q1": true,
      "foo.* q2": false,
      "> q2": true,
      "> q1": true,
    });
  });

  it("without deny rules nothing is filtered", () => {
    const p = perms({ subscribe: { allow: [">"] } });
    assert.equal(p.needsDeliveryFilter(">"), false);
    assert.equal(p.deniesDelivery("anything"), false);
  });
});

describe("allow_responses in Permissions", () => {
  it("true → max 1, 2 minutes; publish allow list becomes deny-all (ref)", () => {
    const p = perms({ subscribe: { allow: ["svc"] }, allowResponses: true });
    assert.deepEqual(p.allowResponses, { max: 1, expiresMs: 120_000 });
    assert.equal(p.canPublish("random"), false);
    assert.ok(p.createResponsePermissions());
  });

  it("with an explicit publish allow list, that list still applies (ref)", () => {
    const p = perms({ publish: { allow: ["foo"] }, allowResponses: true });
    assert.equal(p.canPublish("foo"), true);
    assert.equal(p.canPublish("bar"), false);
  });

  it("with deny-only publish rules, other publishes are refused too (ref)", () => {
    const p = perms({ publish: { deny: ["x"] }, allowResponses: true });
    assert.equal(p.canPublish("random"), false);
  });

  it("alone it is restrictive; explicit limits are normalised (<= 0 = unlimited)", () => {
    const p = perms({ allowResponses: { max: -1, expiresMs: 0 } });
    assert.deepEqual(p.allowResponses, { max: 0, expiresMs: 0 });
    assert.equal(p.canPublish("x"), false);
    assert.equal(perms({ publish: { deny: ["x"] } }).createResponsePermissions(), undefined);
  });
});
