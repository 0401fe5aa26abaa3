// The pieces a leaf remote and a leaf user's permissions are made of: how a remote URL is dialled, and what
// the permissions let cross a link.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LeafPermissions } from "../../src/cluster/leaf-permissions.js";
import { parseLeafRemoteUrl } from "../../src/cluster/leaf-remote-url.js";

describe("leaf remote URLs", () => {
  it("schemes, default ports and the websocket path (the URL's path joined with leafnode)", () => {
    const cases: [string, Partial<ReturnType<typeof parseLeafRemoteUrl>>][] = [
      ["nats-leaf://h:1", { host: "h", port: 1, websocket: false, tls: false }],
      ["h", { host: "h", port: 7422, websocket: false, tls: false }],
      ["tls://u:p@h", { port: 7422, tls: true, user: "u", pass: "p" }],
      ["ws://h", { port: 80, websocket: true, tls: false, path: "/leafnode" }],
      ["wss://h/", { port: 443, websocket: true, tls: true, path: "/leafnode" }],
      ["ws://h:8080/edge/", { port: 8080, path: "/edge/leafnode" }],
      ["wss://[::1]:443/leafnode", { host: "::1", path: "/leafnode/leafnode" }],
      ["nats-leaf://tok@h", { user: "tok", pass: undefined }],
    ];
    for (const [text, want] of cases) {
      const u = parseLeafRemoteUrl(text);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(u[k as keyof typeof u], v, `${text}: ${k}`);
    }
  });
});

describe("leaf user permissions on a link", () => {
  const perms = LeafPermissions.from({
    publish: { allow: ["up.>", "svc.exact"], deny: ["up.secret"] },
    subscribe: { allow: ["down.*", "q.exact q1"], deny: ["down.x"] },
  })!;

  it("restrict nothing without rules (an empty allow list is no list)", () => {
    assert.equal(LeafPermissions.from(undefined), undefined);
    assert.equal(LeafPermissions.from({ publish: { allow: [] } }), undefined);
  });

  it("messages: allow then deny, literal subjects", () => {
    assert.equal(perms.mayPublish("up.a.b"), true);
    assert.equal(perms.mayPublish("up.secret"), false);
    assert.equal(perms.mayPublish("side"), false);
    assert.equal(perms.mayReceive("down.a"), true);
    assert.equal(perms.mayReceive("down.x"), false);
    assert.equal(perms.mayReceive("down.a.b"), false);
  });

  it("interest: inside an allow rule, or a wildcard that takes one in", () => {
    assert.equal(perms.publishCovers("up.a"), true);
    assert.equal(perms.publishCovers("up.*"), true);
    assert.equal(perms.publishCovers(">"), true, "a hub client on > is announced");
    assert.equal(perms.publishCovers("svc.exact"), true);
    assert.equal(perms.publishCovers("svc.other"), false);
    assert.equal(perms.publishCovers("up.secret"), false);
    assert.equal(perms.subscribeCovers("down.*"), true);
    assert.equal(perms.subscribeCovers("down.>"), true, "wider, takes down.* in");
    assert.equal(perms.subscribeCovers("side.>"), false);
    assert.equal(perms.subscribeCovers("down.x"), false);
  });

  it("queue-qualified rules play no part; loop and gateway reply subjects always cross", () => {
    assert.equal(perms.subscribeCovers("q.exact"), false);
    assert.equal(perms.mayReceive("q.exact"), false);
    for (const s of ["$LDS.abc", "_GR_.x.y", "$GR.x"]) {
      assert.equal(perms.mayPublish(s), true, s);
      assert.equal(perms.subscribeCovers(s), true, s);
    }
  });

  it("the hub's INFO carries publish as export and subscribe as import", () => {
    assert.deepEqual(perms.toInfo(), {
      export: { allow: ["up.>", "svc.exact"], deny: ["up.secret"] },
      import: { allow: ["down.*"], deny: ["down.x"] },
    });
    const spoke = LeafPermissions.fromInfo({ allow: ["a"] }, { deny: ["b"] })!;
    assert.equal(spoke.mayPublish("a"), true);
    assert.equal(spoke.mayPublish("c"), false);
    assert.equal(spoke.mayReceive("b"), false);
  });
});
