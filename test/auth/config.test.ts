import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createUser } from "@nats-io/nkeys";
import { Authenticator } from "../../src/auth/authenticator.js";
import { authOptionsFromConfig } from "../../src/auth/config.js";
import { parseGoDuration } from "../../src/auth/duration.js";

function parse(auth: Record<string, unknown>) {
  const warnings: string[] = [];
  const opts = authOptionsFromConfig(auth, (m) => warnings.push(m));
  return { opts, warnings };
}

describe("authOptionsFromConfig", () => {
  const pub = createUser().getPublicKey();

  it("single user, password alias, float timeout", () => {
    const { opts, warnings } = parse({ user: "a", pass: "b", timeout: 0.5 });
    assert.deepEqual(opts, { user: "a", password: "b", timeoutMs: 500 });
    assert.deepEqual(warnings, ["Plaintext passwords detected, use nkeys or bcrypt"]);
    assert.deepEqual(parse({ username: "a", password: "b", timeout: 2 }).opts, {
      user: "a",
      password: "b",
      timeoutMs: 2000,
    });
    assert.equal(parse({ token: "t", timeout: "1.5s" }).opts.timeoutMs, 1500);
  });

  it("token; bcrypt secrets do not warn", () => {
    const { opts, warnings } = parse({ token: "$2a$11$abcdefghijklmnopqrstuv" });
    assert.deepEqual(opts, { token: "$2a$11$abcdefghijklmnopqrstuv" });
    assert.deepEqual(warnings, []);
  });

  it("users with all key spellings, case-insensitive", () => {
    const { opts } = parse({
      USERS: [
        {
          User: "a",
          PASSWORD: "pa",
          Permissions: { PUB: "x.>", sub: ["y", "z q"] },
          allowed_connection_types: ["standard", "WebSocket"],
        },
        { username: "b", pass: "pb", permission: { publish: { allow: "p", deny: ["p.secret"] } } },
        { user: "c", authorization: { import: "i", export: { deny: "e" } } },
        { nkey: pub, permissions: { subscribe: { allow: [], deny: "d" } } },
        { user: "d", allowed_connection_types: "mqtt" },
      ],
      Default_Permissions: { publish: "def" },
    });
    assert.deepEqual(opts, {
      users: [
        {
          user: "a",
          password: "pa",
          permissions: { publish: { allow: ["x.>"] }, subscribe: { allow: ["y", "z q"] } },
          allowedConnectionTypes: ["STANDARD", "WEBSOCKET"],
        },
        { user: "b", password: "pb", permissions: { publish: { allow: ["p"], deny: ["p.secret"] } } },
        { user: "c", permissions: { publish: { allow: ["i"] }, subscribe: { deny: ["e"] } } },
        { nkey: pub, permissions: { subscribe: { allow: [], deny: ["d"] } } },
        { user: "d", allowedConnectionTypes: ["MQTT"] },
      ],
      defaultPermissions: { publish: { allow: ["def"] } },
    });
    // The result is usable as is.
    assert.ok(new Authenticator(opts));
  });

  it("`permissions` at the top of the block is an alias of default_permissions", () => {
    assert.deepEqual(parse({ users: [{ user: "a" }], permissions: { sub: "s" } }).opts.defaultPermissions, {
      subscribe: { allow: ["s"] },
    });
  });

  it("allow_responses forms", () => {
    const ar = (v: unknown) =>
      parse({ users: [{ user: "a", permissions: { allow_responses: v } }] }).opts.users?.[0].permissions
        ?.allowResponses;
    assert.equal(ar(true), true);
    assert.equal(ar(false), undefined);
    assert.deepEqual(ar({ max: 2, expires: "500ms" }), { max: 2, expiresMs: 500 });
    assert.deepEqual(ar({ max_msgs: 3, ttl: "1m30s" }), { max: 3, expiresMs: 90_000 });
    // 0 keeps the default; negative means unlimited (nats-server semantics).
    assert.deepEqual(ar({ max: 0 }), { max: 1, expiresMs: 120_000 });
    assert.deepEqual(ar({ max: -1, expires: "-1s" }), { max: 0, expiresMs: 0 });
    assert.deepEqual(ar({ expires: "0s" }), { max: 1, expiresMs: 120_000 });
    assert.deepEqual(
      parse({ users: [{ user: "a", permissions: { publish_allow_responses: { max: 5 } } }] }).opts.users?.[0]
        .permissions,
      { allowResponses: { max: 5, expiresMs: 120_000 } },
    );
  });

  it("allow_responses expires as a number of seconds, with a warning", () => {
    const { opts, warnings } = parse({
      users: [{ user: "a", password: "$2b$04$x", permissions: { allow_responses: { expires: 5 } } }],
    });
    assert.deepEqual(opts.users?.[0].permissions?.allowResponses, { max: 1, expiresMs: 5000 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /allow_responses\.expires: number taken as seconds/);
  });

  const errors: [string, Record<string, unknown>, RegExp][] = [
    ["not a map", [] as unknown as Record<string, unknown>, /authorization: expected a map/],
    ["unknown field", { users: [], foo: 1 }, /authorization\.foo: unknown field "foo"/],
    ["auth_callout without issuer", { auth_callout: {} }, /callouts require an issuer to be specified/],
    ["user not a string", { user: 5, password: "x" }, /authorization\.user: expected a string, got number 5/],
    ["token not a string", { token: 1234 }, /authorization\.token: expected a string/],
    ["bad timeout", { token: "t", timeout: true }, /authorization\.timeout: expected seconds/],
    ["bad timeout string", { token: "t", timeout: "2 minutes" }, /authorization\.timeout: invalid duration/],
    ["negative timeout", { token: "t", timeout: -1 }, /authorization\.timeout: must not be negative/],
    [
      "users not array",
      { users: { user: "a" } },
      /authorization\.users: expected an array of users, got a map/,
    ],
    ["user not map", { users: ["a"] }, /authorization\.users\[0\]: expected a user map/],
    [
      "unknown user key",
      { users: [{ user: "a", foo: 1 }] },
      /authorization\.users\[0\]\.foo: unknown field "foo"/,
    ],
    [
      "duplicated key",
      { users: [{ user: "a", USER: "b" }] },
      /users\[0\]: field "user" given more than once/,
    ],
    [
      "no user",
      { users: [{ user: "a" }, { password: "b" }] },
      /authorization\.users\[1\]: user entry requires/,
    ],
    ["empty user", { users: [{ user: "", password: "b" }] }, /users\[0\]: user entry requires/],
    [
      "bad nkey",
      { users: [{ user: "a" }, { nkey: "X" }] },
      /authorization\.users\[1\]: nkey "X" is not a valid/,
    ],
    ["nkey+pass", { users: [{ nkey: pub, pass: "p" }] }, /users\[0\]: nkey users do not take usernames/],
    ["duplicate user", { users: [{ user: "a" }, { user: "a" }] }, /users\[1\]: duplicate user "a"/],
    ["user+token", { user: "a", password: "b", token: "t" }, /cannot have a user\/password and a token/],
    ["users+token", { token: "t", users: [{ user: "a" }] }, /cannot have a token and a users array/],
    ["users+user", { user: "x", users: [{ user: "a" }] }, /single user\/password and a users array/],
    [
      "conn types",
      { users: [{ user: "a", allowed_connection_types: ["FOO"] }] },
      /users\[0\]\.allowed_connection_types: invalid connection type "FOO"/,
    ],
    [
      "conn types shape",
      { users: [{ user: "a", allowed_connection_types: 5 }] },
      /users\[0\]\.allowed_connection_types: expected a string or an array/,
    ],
    [
      "permissions not map",
      { users: [{ user: "a", permissions: "x" }] },
      /users\[0\]\.permissions: expected a permissions map/,
    ],
    [
      "unknown permission key",
      { users: [{ user: "a", permissions: { foo: 1 } }] },
      /users\[0\]\.permissions\.foo: unknown field "foo"/,
    ],
    [
      "bad subject permission key",
      { users: [{ user: "a", permissions: { publish: { allow: "x", bad: "y" } } }] },
      /permissions\.publish: unknown field "bad", only "allow" or "deny"/,
    ],
    [
      "subject permission number",
      { users: [{ user: "a", permissions: { publish: 5 } }] },
      /permissions\.publish: expected a subject, an array of subjects or \{ allow, deny \}/,
    ],
    [
      "subject not string",
      { users: [{ user: "a", permissions: { sub: ["ok", 5] } }] },
      /permissions\.sub\[1\]: expected a string/,
    ],
    [
      "invalid subject",
      { users: [{ user: "a" }, { user: "b", permissions: { publish: "foo..bar" } }] },
      /authorization\.users\[1\]\.permissions\.publish: subject "foo\.\.bar" is not a valid subject/,
    ],
    [
      "invalid queue form",
      { users: [{ user: "a", permissions: { subscribe: { deny: ["a", "foo q extra"] } } }] },
      /permissions\.subscribe\.deny\[1\]: subject "foo q extra" is not a valid subject/,
    ],
    [
      "queue form in publish",
      { users: [{ user: "a", permissions: { publish: "foo q" } }] },
      /permissions\.publish: subject "foo q" is not a valid subject/,
    ],
    [
      "allow_responses shape",
      { users: [{ user: "a", permissions: { allow_responses: 5 } }] },
      /permissions\.allow_responses: expected a boolean or a map/,
    ],
    [
      "allow_responses unknown key",
      { users: [{ user: "a", permissions: { allow_responses: { max: 1, foo: 2 } } }] },
      /allow_responses\.foo: unknown field "foo"/,
    ],
    [
      "allow_responses max",
      { users: [{ user: "a", permissions: { allow_responses: { max: "x" } } }] },
      /allow_responses\.max: expected an integer/,
    ],
    [
      "allow_responses expires",
      { users: [{ user: "a", permissions: { allow_responses: { expires: "soon" } } }] },
      /allow_responses\.expires: invalid duration "soon"/,
    ],
    [
      "default permissions",
      { users: [{ user: "a" }], default_permissions: { publish: ["a.>.b"] } },
      /authorization\.default_permissions\.publish\[0\]: subject "a\.>\.b"/,
    ],
  ];
  for (const [name, auth, re] of errors) {
    it(`error: ${name}`, () => assert.throws(() => parse(auth), re));
  }
});

describe("parseGoDuration", () => {
  it("parses Go duration strings into milliseconds", () => {
    assert.equal(parseGoDuration("0"), 0);
    assert.equal(parseGoDuration("1s"), 1000);
    assert.equal(parseGoDuration("500ms"), 500);
    assert.equal(parseGoDuration("1h30m"), 5_400_000);
    assert.equal(parseGoDuration("1.5s"), 1500);
    assert.equal(parseGoDuration("-2m"), -120_000);
    assert.equal(parseGoDuration("+3s"), 3000);
    assert.equal(parseGoDuration("1500us"), 1.5);
    assert.equal(parseGoDuration("2000000ns"), 2);
  });

  it("rejects malformed input", () => {
    for (const bad of ["", "1", "s", "1x", "1s2", "1 s", "-", "1.2.3s"]) {
      assert.throws(() => parseGoDuration(bad), /invalid duration/, bad);
    }
  });
});
