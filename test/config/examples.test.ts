import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ConfigMap, parseConfig } from "../../src/config/index.js";

const parse = (text: string): ConfigMap => parseConfig(text, { env: {} });

describe("config syntax: example configurations from the spec", () => {
  it("parses the minimal example", () => {
    const text = `
server_name: n1
listen: 127.0.0.1:4222
http: 127.0.0.1:8222
jetstream { store_dir: "/data/js", max_mem: 1GB, max_file: 10GB }   # unquoted 1G would be 10^9
cluster { name: c1, listen: 127.0.0.1:6222, routes: [ nats://127.0.0.1:6223 ] }
leafnodes { listen: 127.0.0.1:7422 }
websocket { port: 8080, no_tls: true }
authorization { users: [ {user: app, password: $APP_PASS} ] }
`;
    assert.deepEqual(parseConfig(text, { env: { APP_PASS: "s3cr3t!" } }), {
      server_name: "n1",
      listen: "127.0.0.1:4222",
      http: "127.0.0.1:8222",
      jetstream: { store_dir: "/data/js", max_mem: 1024 ** 3, max_file: 10 * 1024 ** 3 },
      cluster: { name: "c1", listen: "127.0.0.1:6222", routes: ["nats://127.0.0.1:6223"] },
      leafnodes: { listen: "127.0.0.1:7422" },
      websocket: { port: 8080, no_tls: true },
      authorization: { users: [{ user: "app", password: "s3cr3t!" }] },
    });
  });

  it("parses the accounts example", () => {
    const text = `
accounts {
  A: { users: [ {user: a, password: a} ], jetstream: enabled,
       exports: [ {stream: "puba.>"}, {service: "q.>", accounts: [B], response_type: single} ] }
  B: { users: [ {user: b, password: b} ],
       imports: [ {stream: {account: A, subject: "puba.>"}, prefix: from_a},
                  {service: {account: A, subject: "q.x"}, to: "Q"} ] }
  SYS: { users: [ {user: sys, password: sys} ] }
}
system_account: SYS
`;
    assert.deepEqual(parse(text), {
      accounts: {
        A: {
          users: [{ user: "a", password: "a" }],
          jetstream: "enabled",
          exports: [{ stream: "puba.>" }, { service: "q.>", accounts: ["B"], response_type: "single" }],
        },
        B: {
          users: [{ user: "b", password: "b" }],
          imports: [
            { stream: { account: "A", subject: "puba.>" }, prefix: "from_a" },
            { service: { account: "A", subject: "q.x" }, to: "Q" },
          ],
        },
        SYS: { users: [{ user: "sys", password: "sys" }] },
      },
      system_account: "SYS",
    });
  });

  it("parses a nats.js test-harness (nst) style configuration", () => {
    // Layout as the harness writes it: `key {` / ` }` blocks, array items one per line, strings that
    // start with a digit quoted, maps inside arrays introduced by a bare `{`.
    const text = [
      'host: "127.0.0.1"',
      "port: -1",
      'http: "127.0.0.1:-1"',
      "leafnodes {",
      '  listen: "127.0.0.1:-1"',
      " }",
      "websocket {",
      "  port: -1",
      "  no_tls: true",
      " }",
      "server_tags [",
      '  "id:x"',
      "  region:eu",
      " ]",
      "ports_file_dir: /tmp",
      "jetstream {",
      "  store_dir: /tmp/jetstream_a1b2",
      "  max_file_store: 1073741824",
      "  max_mem_store: 536870912",
      " }",
      "cluster {",
      "  name: C_x",
      '  listen: "127.0.0.1:-1"',
      "  routes [",
      "    nats://127.0.0.1:6222",
      "   ]",
      " }",
      "authorization {",
      "  users [",
      "     {",
      "      user: a",
      "      password: b",
      "     }",
      "   ]",
      " }",
    ].join("\n");
    assert.deepEqual(parse(text), {
      host: "127.0.0.1",
      port: -1,
      http: "127.0.0.1:-1",
      leafnodes: { listen: "127.0.0.1:-1" },
      websocket: { port: -1, no_tls: true },
      server_tags: ["id:x", "region:eu"],
      ports_file_dir: "/tmp",
      jetstream: { store_dir: "/tmp/jetstream_a1b2", max_file_store: 1073741824, max_mem_store: 536870912 },
      cluster: { name: "C_x", listen: "127.0.0.1:-1", routes: ["nats://127.0.0.1:6222"] },
      authorization: { users: [{ user: "a", password: "b" }] },
    });
  });

  it("parses the compact one-line harness form", () => {
    assert.deepEqual(
      parse('port: -1, http: "127.0.0.1:-1", websocket { port: -1, no_tls: true }, server_tags [ "id:x" ]'),
      { port: -1, http: "127.0.0.1:-1", websocket: { port: -1, no_tls: true }, server_tags: ["id:x"] },
    );
  });

  it("parses a mixed real-world style file", () => {
    const text = `
# Lattice test node
listen = 0.0.0.0:4222
max_payload = 8MB
ping_interval = "2m"
write_deadline: "10s"
lame_duck_duration: "30s"
debug = false; trace = off
tls {
  cert_file: "./certs/server.pem"
  key_file:  './certs/key.pem'
  timeout: 2.5
}
authorization {
  timeout: 0.5
  users = [
    {user: alice, password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG",
     permissions: {publish: {allow: ["foo.*", "bar.>"], deny: "baz"}, subscribe: "> q"}}
  ]
}
`;
    const conf = parse(text);
    assert.equal(conf.max_payload, 8 * 1024 * 1024);
    assert.equal(conf.trace, false);
    assert.deepEqual(conf.tls, {
      cert_file: "./certs/server.pem",
      key_file: "./certs/key.pem",
      timeout: 2.5,
    });
    assert.deepEqual(conf.authorization, {
      timeout: 0.5,
      users: [
        {
          user: "alice",
          password: "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG",
          permissions: { publish: { allow: ["foo.*", "bar.>"], deny: "baz" }, subscribe: "> q" },
        },
      ],
    });
  });
});
