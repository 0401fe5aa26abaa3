import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { hasNatsServer, RawClient, startLattice, startNatsServer } from "../helpers/servers.js";
import { confText } from "./helpers.js";

describe("config-file accounts", () => {
  it("binds users to their accounts; no_auth_user maps credential-less clients into one", async () => {
    const srv = await startLattice({
      accounts: {
        A: { users: [{ user: "a", password: "a" }] },
        B: {
          users: [
            { user: "b", password: "b" },
            { user: "anon", password: "x" },
          ],
        },
      },
      no_auth_user: "anon",
    });
    try {
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      const anon = await connect({ servers: srv.url });
      const b = await connect({ servers: srv.url, user: "b", pass: "b" });
      const got: string[] = [];
      b.subscribe(">", { callback: (_e, m) => void got.push(m.subject) });
      await b.flush();
      a.publish("from.a");
      anon.publish("from.anon");
      await a.flush();
      await anon.flush();
      await b.flush();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got, ["from.anon"]);
      const names = [...srv.server.clients.values()].map((c) => `${c.user}@${c.account?.name}`).sort();
      assert.deepEqual(names, ["a@A", "anon@B", "b@B"]);
      await assert.rejects(connect({ servers: srv.url, user: "a", pass: "wrong", reconnect: false }));
      await a.close();
      await b.close();
      await anon.close();
    } finally {
      await srv.close();
    }
  });

  it("gives users without permissions the account's default_permissions", async () => {
    const srv = await startLattice({
      accounts: {
        A: {
          default_permissions: { publish: "ok.>" },
          users: [
            { user: "d", password: "d" },
            { user: "own", password: "o", permissions: { publish: ">" } },
          ],
        },
      },
    });
    try {
      const d = await connect({ servers: srv.url, user: "d", pass: "d" });
      const errors: string[] = [];
      (async () => {
        for await (const s of d.status()) if (s.type === "error") errors.push(String(s.error));
      })().catch(() => {});
      d.publish("ok.1");
      d.publish("no");
      await d.flush();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(errors.length, 1);
      const own = await connect({ servers: srv.url, user: "own", pass: "o" });
      own.publish("no");
      await own.flush();
      await own.close();
      await d.close();
    } finally {
      await srv.close();
    }
  });

  it("rejects duplicate users across accounts and unknown fields", async () => {
    const { startServer } = await import("../../src/index.js");
    await assert.rejects(
      startServer({
        accounts: {
          A: { users: [{ user: "x", password: "1" }] },
          B: { users: [{ user: "x", password: "2" }] },
        },
      }),
      /Duplicate user "x"/,
    );
    await assert.rejects(startServer({ accounts: { A: { colour: "blue" } } }), /unknown field/);
    await assert.rejects(startServer({ accounts: { $G: {} } }), /reserved/);
    await assert.rejects(startServer({ system_account: "NOPE", accounts: { A: {} } }), /not defined/);
  });

  it("enforces account limits with nats-server's errors", async () => {
    const conf = {
      accounts: {
        A: {
          limits: { max_connections: 1, max_subscriptions: 1, max_payload: 8 },
          users: [{ user: "a", password: "a" }],
        },
      },
    };
    const script = async (port: number): Promise<string[]> => {
      const first = await RawClient.connect(port);
      first.write(
        'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"user":"a","pass":"a"}\r\nSUB x 1\r\nSUB y 2\r\nPING\r\n',
      );
      await first.waitFor((t) => t.includes("PONG"), 2000);
      const second = await RawClient.connect(port);
      second.write('CONNECT {"verbose":false,"pedantic":false,"user":"a","pass":"a"}\r\nPING\r\n');
      const t2 = await second.settle(200);
      first.write("PUB x 9\r\n123456789\r\n");
      const t3 = await first.settle(200);
      first.close();
      second.close();
      const errs = (t: string) => t.split("\r\n").filter((l) => l.startsWith("-ERR") || l.startsWith("INFO"));
      // Sorted: nats-server sends the INFO with the smaller max_payload at no fixed point.
      return [
        ...errs(t3).map((l) =>
          l.startsWith("INFO") ? `max_payload ${JSON.parse(l.slice(5)).max_payload}` : l,
        ),
        ...errs(t2).filter((l) => l.startsWith("-ERR")),
        `second closed: ${second.closed}`,
      ].sort();
    };
    const srv = await startLattice(conf);
    let ours: string[];
    try {
      ours = await script(srv.port);
    } finally {
      await srv.close();
    }
    assert.deepEqual(ours, [
      "-ERR 'Maximum Payload Violation'",
      "-ERR 'maximum account active connections exceeded'",
      "-ERR 'maximum subscriptions exceeded'",
      "max_payload 1048576",
      "max_payload 8",
      "second closed: true",
    ]);
    if (hasNatsServer()) {
      const ref = await startNatsServer(confText(conf));
      try {
        assert.deepEqual(ours, await script(ref.port));
      } finally {
        await ref.close();
      }
    }
  });
  it("adds accounts and changes imports on a config reload", async () => {
    const { reloadServer } = await import("../../src/server/reload.js");
    const { applyConfig, validateOptions } = await import("../../src/config/server-options.js");
    const { defaultOptions } = await import("../../src/server/options.js");
    const first = {
      accounts: { A: { users: [{ user: "a", password: "a" }], exports: [{ stream: "news.>" }] } },
    };
    const srv = await startLattice(first);
    try {
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      const second = {
        accounts: {
          ...first.accounts,
          B: {
            users: [{ user: "b", password: "b" }],
            imports: [{ stream: { account: "A", subject: "news.>" } }],
          },
        },
      };
      const next = applyConfig({ ...defaultOptions(), host: "127.0.0.1", port: srv.port }, second, () => {});
      validateOptions(next);
      await reloadServer(srv.server, next);
      const b = await connect({ servers: srv.url, user: "b", pass: "b" });
      const sub = b.subscribe("news.>", { max: 1 });
      await b.flush();
      a.publish("news.today", "hi");
      for await (const m of sub) assert.equal(m.string(), "hi");
      await a.close();
      await b.close();
    } finally {
      await srv.close();
    }
  });
  it("accepts variables defined inside the authorization and account blocks", async () => {
    const { parseConfig } = await import("../../src/config/parser.js");
    const { applyConfig, validateOptions } = await import("../../src/config/server-options.js");
    const { defaultOptions } = await import("../../src/server/options.js");
    const conf = parseConfig(`
      authorization {
        PERM = { subscribe: "bar", publish: "foo" }
        users = [ { user: derek, password: foobar, permission: $PERM } ]
      }
      accounts {
        A {
          LIMITED = { publish: "a.>" }
          users = [ { user: a, password: a, permissions: $LIMITED } ]
        }
      }
    `);
    const opts = applyConfig(defaultOptions(), conf, () => {});
    validateOptions(opts);
    const users = opts.authorization?.users ?? [];
    assert.deepEqual(
      users.map((u) => [u.user, u.account, u.permissions?.publish?.allow]),
      [
        ["derek", undefined, ["foo"]],
        ["a", "A", ["a.>"]],
      ],
    );
  });
});
