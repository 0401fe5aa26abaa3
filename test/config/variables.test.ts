import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConfigError,
  type ConfigMap,
  isUsedAsVariable,
  keyPosition,
  keysUsedAsVariables,
  parseConfig,
} from "../../src/config/index.js";

const parse = (text: string, env: Record<string, string | undefined> = {}): ConfigMap =>
  parseConfig(text, { env });

describe("config variables: scope", () => {
  it("resolves a key defined earlier in the same map", () => {
    assert.deepEqual(parse("NAME: foo\nserver_name: $NAME"), { NAME: "foo", server_name: "foo" });
  });

  it("searches the innermost map first, then outward", () => {
    const conf = parse("N: 1\na { N: 2, b: $N, c { d: $N } }\ne: $N");
    assert.deepEqual(conf, { N: 1, a: { N: 2, b: 2, c: { d: 2 } }, e: 1 });
  });

  it("sees enclosing maps from inside arrays of maps", () => {
    const conf = parse("PASS: s3cret\nauthorization { users: [ {user: a, password: $PASS} ] }");
    assert.deepEqual(conf.authorization, { users: [{ user: "a", password: "s3cret" }] });
  });

  it("keeps the value's type: numbers, booleans, arrays, maps", () => {
    const conf = parse("n: 1k\nb: on\na: [x, y]\nm: { k: v }\nout: [$n, $b, $a, $m]");
    assert.deepEqual(conf.out, [1000, true, ["x", "y"], { k: "v" }]);
  });

  it("copies referenced arrays and maps instead of sharing them", () => {
    const conf = parse("m: { k: [1] }\nx: $m\ny: $m");
    assert.notEqual(conf.x, conf.m);
    assert.notEqual(conf.x, conf.y);
    assert.deepEqual(conf.x, conf.m);
  });

  it("only sees keys defined before the reference", () => {
    assert.throws(
      () => parse("server_name: $NAME\nNAME: foo"),
      /variable reference for 'NAME' on line 1 can not be found/,
    );
  });

  it("is case-sensitive", () => {
    assert.throws(() => parse("name: x\na: $NAME"), /'NAME'/);
  });

  it("ends the name at whitespace or a terminator", () => {
    assert.deepEqual(parse("X: 1\na: [$X,$X]\nb: $X; c: {d: $X}"), { X: 1, a: [1, 1], b: 1, c: { d: 1 } });
    assert.throws(() => parse("X: 1\na: $X.y"), /variable reference for 'X\.y'/);
  });

  it("ignores inherited object properties when looking up names", () => {
    assert.throws(() => parse("a: $toString"), /variable reference for 'toString'/);
    assert.throws(() => parse("a: $constructor", {}), /can not be found/);
  });
});

describe("config variables: environment", () => {
  it("falls back to the environment and parses the value as config text", () => {
    const env = {
      PORT: "4222",
      ON: "true",
      SIZE: "2kb",
      NAME: "host-1",
      Q: '"quoted # text"',
      T: " padded ",
    };
    const conf = parse("port: $PORT\ndebug: $ON\nmax: $SIZE\nname: $NAME\nq: $Q\nt: $T", env);
    assert.deepEqual(conf, {
      port: 4222,
      debug: true,
      max: 2048,
      name: "host-1",
      q: "quoted # text",
      t: "padded",
    });
  });

  it("parses arrays and maps from the environment", () => {
    const env = { ROUTES: "[nats://a:6222, nats://b:6222]", TLS: "{ verify: true, timeout: 2 }" };
    assert.deepEqual(parse("routes: $ROUTES\ntls: $TLS", env), {
      routes: ["nats://a:6222", "nats://b:6222"],
      tls: { verify: true, timeout: 2 },
    });
  });

  it("prefers config keys over the environment", () => {
    assert.equal(parse("HOME: inside\na: $HOME", { HOME: "/root" }).a, "inside");
  });

  it("gives an empty string for an empty variable and drops a trailing comment", () => {
    assert.deepEqual(parse("a: $E\nb: $C", { E: "", C: "foo # comment\n" }), { a: "", b: "foo" });
  });

  it("expands variables inside environment values from the environment", () => {
    assert.equal(parse("a: $OUTER", { OUTER: "$INNER", INNER: "42" }).a, 42);
  });

  it("reports environment values that are not a single value", () => {
    assert.throws(
      () => parse("\n\na: $BAD", { BAD: "foo bar" }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.line === 3 &&
        err.column === 4 &&
        /variable reference for 'BAD' on line 3 could not be parsed: /.test(err.message),
    );
  });

  it("detects cycles between environment variables", () => {
    assert.throws(() => parse("a: $A", { A: "$B", B: "$A" }), /circular \(A -> B -> A\)/);
    assert.throws(() => parse("a: $SELF", { SELF: "[$SELF]" }), /circular/);
  });

  it("uses process.env when no env option is given", () => {
    const name = `LATTICE_CONFIG_TEST_${process.pid}`;
    process.env[name] = "123";
    try {
      assert.equal(parseConfig(`a: $${name}`).a, 123);
    } finally {
      delete process.env[name];
    }
  });

  it("reports undefined variables with the nats-server wording and a position", () => {
    assert.throws(
      () => parse("a: 1\nb {\n  c: $NOPE\n}"),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.line === 3 &&
        err.column === 6 &&
        err.message === "config:3:6: variable reference for 'NOPE' on line 3 can not be found",
    );
    assert.throws(() => parse("a: $"), /missing variable name/);
    // `${X}` is not shell syntax here: the name runs to the next terminator, as in nats-server.
    assert.throws(() => parse("a: $" + "{X}"), /variable reference for '\{X'/);
  });
});

describe("config variables: tracking keys used as variables", () => {
  it("marks the defining key in the map where it was found", () => {
    const conf = parse("PASS: x\nUNUSED: y\nauthorization { LOCAL: 1, user: u, password: $PASS, n: $LOCAL }");
    assert.deepEqual([...keysUsedAsVariables(conf)], ["PASS"]);
    assert.equal(isUsedAsVariable(conf, "PASS"), true);
    assert.equal(isUsedAsVariable(conf, "UNUSED"), false);
    assert.equal(isUsedAsVariable(conf, "authorization"), false);
    const auth = conf.authorization as ConfigMap;
    assert.deepEqual([...keysUsedAsVariables(auth)], ["LOCAL"]);
  });

  it("does not mark anything for environment lookups or quoted text", () => {
    const conf = parse('X: 1\na: "$X"\nb: $Y', { Y: "2" });
    assert.equal(keysUsedAsVariables(conf).size, 0);
  });

  it("keeps the metadata out of enumeration and JSON", () => {
    const conf = parse("X: 1\na: $X");
    assert.deepEqual(Object.keys(conf), ["X", "a"]);
    assert.equal(JSON.stringify(conf), '{"X":1,"a":1}');
    assert.deepEqual(conf, { X: 1, a: 1 });
  });

  it("answers false/empty for maps that did not come from the parser", () => {
    assert.equal(isUsedAsVariable({ a: 1 }, "a"), false);
    assert.equal(keysUsedAsVariables({}).size, 0);
    assert.equal(keyPosition({ a: 1 }, "a"), undefined);
  });

  it("records where each key was written", () => {
    const conf = parseConfig("a: 1\n  b {\n    c: 2\n  }", { filename: "x.conf", env: {} });
    assert.deepEqual(keyPosition(conf, "a"), { file: "x.conf", line: 1, column: 1 });
    assert.deepEqual(keyPosition(conf, "b"), { file: "x.conf", line: 2, column: 3 });
    assert.deepEqual(keyPosition(conf.b as ConfigMap, "c"), { file: "x.conf", line: 3, column: 5 });
  });
});
