import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAccount, createUser, type KeyPair } from "@nats-io/nkeys";
import bcrypt from "bcryptjs";
import { Authenticator, isValidUserNkey } from "../../src/auth/authenticator.js";
import { clearPasswordCache, constantTimeEqual, isBcrypt } from "../../src/auth/passwords.js";
import type { ConnectCredentials } from "../../src/auth/types.js";

const sign = (kp: KeyPair, nonce: string, enc: BufferEncoding = "base64url") =>
  Buffer.from(kp.sign(new TextEncoder().encode(nonce))).toString(enc);

async function accepts(a: Authenticator, creds: ConnectCredentials, nonce?: string, type?: string) {
  return (await a.authenticate(creds, nonce, type)) !== undefined;
}

describe("Authenticator: no auth", () => {
  it("accepts anything and is not required", async () => {
    const a = new Authenticator({});
    assert.equal(a.required, false);
    assert.equal(a.advertiseRequired, false);
    assert.equal(a.needsNonce, false);
    assert.deepEqual(await a.authenticate({ user: "x", pass: "y" }, undefined), {
      user: undefined,
      account: "$G",
      permissions: undefined,
    });
  });

  it("treats an empty users array, empty token and empty user as no auth (as nats-server)", () => {
    assert.equal(new Authenticator({ users: [] }).required, false);
    assert.equal(new Authenticator({ token: "" }).required, false);
    assert.equal(new Authenticator({ user: "" }).required, false);
  });
});

describe("Authenticator: single user and token", () => {
  it("checks a plain user/password", async () => {
    const a = new Authenticator({ user: "a", password: "b" });
    assert.equal(a.required, true);
    assert.equal(a.advertiseRequired, true);
    assert.deepEqual(await a.authenticate({ user: "a", pass: "b" }, undefined), {
      user: "a",
      account: "$G",
      permissions: undefined,
    });
    assert.equal(await accepts(a, { user: "a", pass: "c" }), false);
    assert.equal(await accepts(a, { user: "x", pass: "b" }), false);
    assert.equal(await accepts(a, { auth_token: "b" }), false);
    assert.equal(await accepts(a, {}), false);
  });

  it("does not apply default permissions to the single user", async () => {
    const a = new Authenticator({
      user: "a",
      password: "b",
      defaultPermissions: { publish: { allow: ["x"] } },
    });
    assert.equal((await a.authenticate({ user: "a", pass: "b" }, undefined))?.permissions, undefined);
  });

  it("a user with an empty password accepts an absent or empty pass only", async () => {
    const a = new Authenticator({ user: "a", password: "" });
    assert.equal(await accepts(a, { user: "a" }), true);
    assert.equal(await accepts(a, { user: "a", pass: "" }), true);
    assert.equal(await accepts(a, { user: "a", pass: "x" }), false);
  });

  it("checks a plain token", async () => {
    const a = new Authenticator({ token: "s3cr3t" });
    assert.equal(a.required, true);
    assert.deepEqual(await a.authenticate({ auth_token: "s3cr3t" }, undefined), {
      user: undefined,
      account: "$G",
      permissions: undefined,
    });
    assert.equal(await accepts(a, { auth_token: "s3cr3" }), false);
    assert.equal(await accepts(a, { user: "s3cr3t", pass: "s3cr3t" }), false);
    assert.equal(await accepts(a, {}), false);
  });

  it("checks a bcrypt token, and the hash itself is not a valid token", async () => {
    const hash = bcrypt.hashSync("tok", 4);
    const a = new Authenticator({ token: hash });
    assert.equal(await accepts(a, { auth_token: "tok" }), true);
    assert.equal(await accepts(a, { auth_token: hash }), false);
    assert.equal(await accepts(a, { auth_token: "tok2" }), false);
  });
});

describe("Authenticator: users list", () => {
  const hash = bcrypt.hashSync("secret", 4);

  it("checks plain and bcrypt passwords ($2a$, $2b$, $2x$, $2y$)", async () => {
    const a = new Authenticator({
      users: [
        { user: "plain", password: "pw" },
        { user: "b", password: hash },
        { user: "a", password: hash.replace("$2b$", "$2a$") },
        { user: "x", password: hash.replace("$2b$", "$2x$") },
        { user: "y", password: hash.replace("$2b$", "$2y$") },
      ],
    });
    assert.equal(await accepts(a, { user: "plain", pass: "pw" }), true);
    assert.equal(await accepts(a, { user: "plain", pass: "pW" }), false);
    for (const u of ["a", "b", "x", "y"]) {
      assert.equal(await accepts(a, { user: u, pass: "secret" }), true, u);
      assert.equal(await accepts(a, { user: u, pass: "secreT" }), false, u);
    }
    assert.equal(await accepts(a, { user: "b", pass: hash }), false);
    assert.equal(await accepts(a, { user: "nobody", pass: "secret" }), false);
    assert.equal(await accepts(a, { pass: "secret" }), false);
  });

  it("caches successful bcrypt checks and shares concurrent ones", async () => {
    clearPasswordCache();
    const slow = bcrypt.hashSync("storm", 10);
    const a = new Authenticator({ users: [{ user: "s", password: slow }] });
    const t0 = performance.now();
    const first = await Promise.all(
      Array.from({ length: 20 }, () => accepts(a, { user: "s", pass: "storm" })),
    );
    const storm = performance.now() - t0;
    assert.ok(first.every(Boolean));
    const t1 = performance.now();
    for (let i = 0; i < 50; i++) assert.equal(await accepts(a, { user: "s", pass: "storm" }), true);
    const cached = performance.now() - t1;
    // Per check: a cached one costs a fraction of the bcrypt storm even on a loaded machine.
    assert.ok(cached / 50 < storm, `cached ${cached / 50}ms a check vs first ${storm}ms`);
    // A failure is never cached as success.
    assert.equal(await accepts(a, { user: "s", pass: "storm!" }), false);
  });

  it("returns the user's own permissions, or default_permissions when it has none", async () => {
    const a = new Authenticator({
      users: [
        { user: "own", password: "p", permissions: { publish: { allow: ["own.>"] } } },
        { user: "def", password: "p" },
        { user: "empty", password: "p", permissions: {} },
      ],
      defaultPermissions: { publish: { allow: ["def.>"] } },
    });
    const own = await a.authenticate({ user: "own", pass: "p" }, undefined);
    assert.equal(own?.user, "own");
    assert.equal(own?.permissions?.canPublish("own.x"), true);
    assert.equal(own?.permissions?.canPublish("def.x"), false);
    const def = await a.authenticate({ user: "def", pass: "p" }, undefined);
    assert.equal(def?.permissions?.canPublish("def.x"), true);
    assert.equal(def?.permissions?.canPublish("own.x"), false);
    // An explicit empty permissions block opts out of the defaults (nothing restricted).
    assert.equal((await a.authenticate({ user: "empty", pass: "p" }, undefined))?.permissions, undefined);
    // Connections of one user share one Permissions instance (and its cache).
    assert.equal(
      (await a.authenticate({ user: "def", pass: "p" }, undefined))?.permissions,
      def?.permissions,
    );
  });

  it("reports the user's account, defaulting to $G", async () => {
    const a = new Authenticator({
      users: [
        { user: "a", password: "p", account: "A" },
        { user: "b", password: "p" },
      ],
    });
    assert.equal((await a.authenticate({ user: "a", pass: "p" }, undefined))?.account, "A");
    assert.equal((await a.authenticate({ user: "b", pass: "p" }, undefined))?.account, "$G");
  });

  it("enforces allowed connection types (case-insensitive; empty list = all)", async () => {
    const a = new Authenticator({
      users: [
        { user: "ws", password: "p", allowedConnectionTypes: ["WEBSOCKET"] },
        { user: "any", password: "p", allowedConnectionTypes: [] },
        { user: "std", password: "p", allowedConnectionTypes: ["standard", "mqtt"] },
      ],
    });
    assert.equal(await accepts(a, { user: "ws", pass: "p" }), false);
    assert.equal(await accepts(a, { user: "ws", pass: "p" }, undefined, "WEBSOCKET"), true);
    assert.equal(await accepts(a, { user: "any", pass: "p" }, undefined, "LEAFNODE"), true);
    assert.equal(await accepts(a, { user: "std", pass: "p" }), true);
    assert.equal(await accepts(a, { user: "std", pass: "p" }, undefined, "websocket"), false);
  });
});

describe("Authenticator: nkeys", () => {
  const kp = createUser();
  const pub = kp.getPublicKey();
  const other = createUser();
  const a = new Authenticator({
    users: [
      { nkey: pub, permissions: { subscribe: { allow: ["n.>"] } } },
      { user: "u", password: "p" },
    ],
  });

  it("needs a nonce of 11 random bytes (15 base64url chars)", () => {
    assert.equal(a.needsNonce, true);
    assert.equal(new Authenticator({ users: [{ user: "u" }] }).needsNonce, false);
    const n1 = a.makeNonce();
    assert.match(n1, /^[A-Za-z0-9_-]{15}$/);
    assert.equal(Buffer.from(n1, "base64url").length, 11);
    assert.notEqual(n1, a.makeNonce());
  });

  it("verifies the signature of the nonce text, raw base64url or padded std base64", async () => {
    const nonce = a.makeNonce();
    const r = await a.authenticate({ nkey: pub, sig: sign(kp, nonce) }, nonce);
    assert.equal(r?.nkey, pub);
    assert.equal(r?.user, undefined);
    assert.equal(r?.permissions?.canSubscribe("n.x"), true);
    assert.equal(r?.permissions?.canSubscribe("m.x"), false);
    assert.equal(await accepts(a, { nkey: pub, sig: sign(kp, nonce, "base64") }, nonce), true);
  });

  it("rejects bad signatures and encodings nats-server rejects", async () => {
    const nonce = a.makeNonce();
    const sig = sign(kp, nonce);
    assert.equal(await accepts(a, { nkey: pub }, nonce), false, "missing sig");
    assert.equal(await accepts(a, { nkey: pub, sig }, undefined), false, "no nonce issued");
    assert.equal(await accepts(a, { nkey: pub, sig: sign(kp, `${nonce}x`) }, nonce), false, "other nonce");
    // Padding makes base64url text invalid, unless it has no `-`/`_` (then it *is* padded std base64,
    // which nats-server accepts too): that happens for ~6% of signatures, so check both ways.
    const urlOnly = /[-_]/.test(sig);
    assert.equal(await accepts(a, { nkey: pub, sig: `${sig}==` }, nonce), !urlOnly, "padded base64url");
    // Unpadded std base64 is refused, unless it has no `+`/`/` (then it *is* base64url): ~6% of signatures.
    const stdUnpadded = sign(kp, nonce, "base64").replace(/=+$/, "");
    assert.equal(
      await accepts(a, { nkey: pub, sig: stdUnpadded }, nonce),
      !/[+/]/.test(stdUnpadded),
      "unpadded std base64",
    );
    assert.equal(await accepts(a, { nkey: pub, sig: sig.slice(0, 40) }, nonce), false, "short sig");
    assert.equal(await accepts(a, { nkey: pub, sig: "not base64!" }, nonce), false);
    const signedBytes = Buffer.from(kp.sign(Buffer.from(nonce, "base64url"))).toString("base64url");
    assert.equal(await accepts(a, { nkey: pub, sig: signedBytes }, nonce), false, "decoded nonce bytes");
    assert.equal(await accepts(a, { nkey: other.getPublicKey(), sig: sign(other, nonce) }, nonce), false);
    assert.equal(await accepts(a, { nkey: pub, sig: sign(other, nonce) }, nonce), false);
  });

  it("an nkey decides alone when nkey users exist; user/pass still work without one", async () => {
    const nonce = a.makeNonce();
    assert.equal(await accepts(a, { user: "u", pass: "p" }, nonce), true);
    assert.equal(await accepts(a, { nkey: pub, sig: sign(kp, nonce), user: "zz", pass: "q" }, nonce), true);
    assert.equal(await accepts(a, { nkey: other.getPublicKey(), user: "u", pass: "p" }, nonce), false);
  });

  it("validates user nkeys", () => {
    assert.equal(isValidUserNkey(pub), true);
    assert.equal(isValidUserNkey(createAccount().getPublicKey()), false);
    assert.equal(isValidUserNkey(`${pub.slice(0, 10)}${pub[10] === "A" ? "B" : "A"}${pub.slice(11)}`), false);
    assert.equal(isValidUserNkey(`${pub}A`), false);
    assert.equal(isValidUserNkey("UABC"), false);
  });
});

describe("Authenticator: no_auth_user", () => {
  const a = new Authenticator({
    users: [
      { user: "anon", password: "pa", permissions: { publish: { allow: ["public.>"] } } },
      { user: "b", password: "pb" },
    ],
    noAuthUser: "anon",
  });

  it("is required (auth timer runs) but not advertised", () => {
    assert.equal(a.required, true);
    assert.equal(a.advertiseRequired, false);
    assert.equal(a.hasNoAuthUser, true);
  });

  it("authenticates credential-less clients as that user, with its permissions", async () => {
    const r = await a.authenticate({}, undefined);
    assert.equal(r?.user, "anon");
    assert.equal(r?.permissions?.canPublish("public.x"), true);
    assert.equal(r?.permissions?.canPublish("private"), false);
    // An nkey without nkey users configured is not a credential (nats-server ignores it).
    assert.equal((await a.authenticate({ nkey: "UABC" }, undefined))?.user, "anon");
  });

  it("checks supplied credentials normally", async () => {
    assert.equal((await a.authenticate({ user: "b", pass: "pb" }, undefined))?.user, "b");
    assert.equal(await accepts(a, { user: "anon", pass: "wrong" }), false);
    assert.equal(await accepts(a, { user: "b" }), false);
    assert.equal(await accepts(a, { pass: "pb" }), false);
    assert.equal(await accepts(a, { auth_token: "zzz" }), false);
  });

  it("respects the no-auth user's connection types", async () => {
    const ws = new Authenticator({
      users: [{ user: "anon", allowedConnectionTypes: ["WEBSOCKET"] }],
      noAuthUser: "anon",
    });
    assert.equal(await accepts(ws, {}), false);
    assert.equal(await accepts(ws, {}, undefined, "WEBSOCKET"), true);
  });
});

describe("Authenticator: option validation", () => {
  const pub = createUser().getPublicKey();
  const cases: [string, ConstructorParameters<typeof Authenticator>[0], RegExp][] = [
    ["user+token", { user: "a", password: "b", token: "t" }, /cannot have a user\/password and a token/],
    ["users+token", { token: "t", users: [{ user: "a" }] }, /cannot have a token and a users array/],
    ["users+user", { user: "x", users: [{ user: "a" }] }, /single user\/password and a users array/],
    ["dup user", { users: [{ user: "a" }, { user: "a" }] }, /users\[1\]: duplicate user "a"/],
    ["dup nkey", { users: [{ nkey: pub }, { nkey: pub }] }, /users\[1\]: duplicate nkey/],
    [
      "bad nkey",
      { users: [{ user: "a" }, { nkey: "X" }] },
      /users\[1\]: nkey "X" is not a valid user public key/,
    ],
    [
      "nkey+password",
      { users: [{ nkey: pub, password: "p" }] },
      /nkey users do not take usernames or passwords/,
    ],
    ["no user", { users: [{ password: "p" }] }, /users\[0\]: user entry requires a user or an nkey/],
    [
      "conn type",
      { users: [{ user: "a", allowedConnectionTypes: ["FOO"] }] },
      /invalid connection type "FOO"/,
    ],
    ["no_auth_user missing", { users: [{ user: "a" }], noAuthUser: "zz" }, /no_auth_user: "zz" not present/],
    ["no_auth_user w/o users", { user: "a", noAuthUser: "a" }, /users are not defined/],
    ["no_auth_user nkey", { users: [{ user: "a" }, { nkey: pub }], noAuthUser: pub }, /not present as user/],
    [
      "bad subject",
      { users: [{ user: "a", permissions: { publish: { allow: ["foo..bar"] } } }] },
      /subject "foo\.\.bar" is not a valid subject/,
    ],
    [
      "queue in publish",
      { users: [{ user: "a", permissions: { publish: { allow: ["foo q"] } } }] },
      /permissions\.publish\.allow: subject "foo q"/,
    ],
    [
      "bad default",
      { users: [{ user: "a" }], defaultPermissions: { subscribe: { deny: ["a b c"] } } },
      /default_permissions\.subscribe\.deny/,
    ],
    ["negative timeout", { token: "t", timeoutMs: -1 }, /timeout/],
  ];
  for (const [name, opts, re] of cases) {
    it(name, () => assert.throws(() => new Authenticator(opts), re));
  }

  it("timeout defaults to 2 s", () => {
    assert.equal(new Authenticator({ token: "t" }).timeoutMs, 2000);
    assert.equal(new Authenticator({ token: "t", timeoutMs: 500 }).timeoutMs, 500);
  });
});

describe("password helpers", () => {
  it("recognises bcrypt hashes like nats-server", () => {
    assert.equal(isBcrypt("$2a$10$abc"), true);
    assert.equal(isBcrypt("$2b$04$abc"), true);
    assert.equal(isBcrypt("$2x$04$abc"), true);
    assert.equal(isBcrypt("$2y$12$abc"), true);
    assert.equal(isBcrypt("$2c$12$abc"), false);
    assert.equal(isBcrypt("$2a$1$abc"), false);
    assert.equal(isBcrypt("$plain"), false);
  });

  it("compares plain secrets exactly", () => {
    assert.equal(constantTimeEqual("abc", "abc"), true);
    assert.equal(constantTimeEqual("abc", "abd"), false);
    assert.equal(constantTimeEqual("abc", "abcd"), false);
    assert.equal(constantTimeEqual("", ""), true);
  });
});
