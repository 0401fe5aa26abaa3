import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/parser.js";
import { fieldOfWarning, locateWarning } from "../../src/config/warning-position.js";

describe("config warnings carry the place of the option they name", () => {
  const conf = parseConfig(
    "port: 4222\nWebSocket {\n  no_tls: true\n  jwt_cookie: x\n}\nusers: [ { user: a }, {\n  nick: b } ]\n",
    {
      filename: "a.conf",
    },
  );

  it("finds the option in each warning shape", () => {
    assert.equal(fieldOfWarning('unknown field "websocket.jwt_cookie"'), "websocket.jwt_cookie");
    assert.equal(
      fieldOfWarning("websocket.jwt_cookie is accepted but has no effect"),
      "websocket.jwt_cookie",
    );
    assert.equal(fieldOfWarning("users[1].nick: deprecated"), "users[1].nick");
    assert.equal(fieldOfWarning('"mqtt" is configured, but MQTT clients are not available'), "mqtt");
    assert.equal(fieldOfWarning("Plaintext passwords detected, use nkeys or bcrypt"), undefined);
  });

  it("prefixes file:line:column, keys matched without case, through arrays", () => {
    assert.equal(
      locateWarning(conf, 'unknown field "websocket.jwt_cookie"'),
      'a.conf:4:3: unknown field "websocket.jwt_cookie"',
    );
    assert.equal(locateWarning(conf, "users[1].nick: deprecated"), "a.conf:7:3: users[1].nick: deprecated");
  });

  it("leaves a warning alone when the option is not in the file", () => {
    assert.equal(locateWarning(conf, 'unknown field "cluster.name"'), 'unknown field "cluster.name"');
    assert.equal(locateWarning(conf, "Plaintext passwords detected"), "Plaintext passwords detected");
  });
});
