// Subject mappings (`mappings { }`, account mappings, JWT mappings) end to end through the official client,
// and protocol transcripts compared with the reference nats-server 2.9.10 for what it supports.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Account as AccountData } from "@nats-io/jwt";
import { connect, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { type EmbeddedOptions, type RunningServer, startServer } from "../../src/index.js";
import { Operator, user } from "../auth/jwt-fixtures.js";
import { hasNatsServer, RawClient, startNatsServer, type TestServer } from "../helpers/servers.js";

async function withServer(opts: EmbeddedOptions, fn: (srv: RunningServer) => Promise<void>): Promise<void> {
  const srv = await startServer(opts);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

/** Subjects a `>` subscriber sees while the same connection publishes to `subjects`. */
async function received(nc: NatsConnection, subjects: readonly string[], filter = ">"): Promise<string[]> {
  const got: string[] = [];
  const sub = nc.subscribe(filter, {
    callback: (_err, m) => {
      got.push(m.subject);
    },
  });
  await nc.flush();
  for (const s of subjects) nc.publish(s, "x");
  await nc.flush();
  sub.unsubscribe();
  return got;
}

/** Publish `subject` on `pub` until `sub` sees something (interest crossing a link takes a moment). */
async function firstAcross(pub: NatsConnection, sub: NatsConnection, filter: string, subject: string) {
  let got: string | undefined;
  const s = sub.subscribe(filter, {
    callback: (_err, m) => {
      got ??= m.subject;
    },
  });
  await sub.flush();
  const deadline = Date.now() + 10_000;
  while (got === undefined && Date.now() < deadline) {
    pub.publish(subject, "x");
    await pub.flush();
    await new Promise((r) => setTimeout(r, 50));
  }
  s.unsubscribe();
  return got;
}

const GLOBAL_MAPPINGS = {
  "orders.*": "ord.{{partition(3,1)}}.$1",
  plain: "other",
  "a.*.*": "b.$2.$1",
  "keep.>": "kept.>",
  "f.*.>": "g.{{wildcard(1)}}.>",
  "sfl.*": "o.{{splitFromLeft(1,2)}}",
  "sfr.*": "o.{{splitFromRight(1,2)}}",
  "sll.*": "o.{{sliceFromLeft(1,2)}}",
  "slr.*": "o.{{sliceFromRight(1,2)}}",
  "sp.*": "o.{{split(1,_)}}",
};
const GLOBAL_SUBJECTS = [
  "orders.1",
  "orders.2",
  "orders.abc",
  "orders.zz",
  "plain",
  "plainer",
  "a.x.y",
  "keep.1.2",
  "f.x.y.z",
  "sfl.abcde",
  "sfr.abcde",
  "sll.abcde",
  "slr.abcde",
  "sp._a_b__c",
  "unmapped",
];

describe("subject mappings", () => {
  it("maps published subjects of the global account", async () => {
    await withServer({ mappings: GLOBAL_MAPPINGS }, async (srv) => {
      const nc = await connect({ servers: srv.url });
      try {
        assert.deepEqual(await received(nc, GLOBAL_SUBJECTS), [
          // Partitions as nats-server 2.9.10 computes them (the comparison below checks the same).
          "ord.1.1",
          "ord.1.2",
          "ord.2.abc",
          "ord.0.zz",
          "other",
          "plainer",
          "b.y.x",
          "kept.1.2",
          "g.x.y.z",
          "o.ab.cde",
          "o.abc.de",
          "o.ab.cd.e",
          "o.a.bc.de",
          "o.a.b.c",
          "unmapped",
        ]);
      } finally {
        await nc.close();
      }
    });
  });

  it("spreads weighted destinations and keeps the remainder on the original subject", async () => {
    const mappings = {
      w: [
        { destination: "w.a", weight: 30 },
        { destination: "w.b", weight: 20 },
      ],
    };
    await withServer({ mappings }, async (srv) => {
      const nc = await connect({ servers: srv.url });
      try {
        const got = await received(nc, Array(2000).fill("w"));
        const count = (s: string) => got.filter((x) => x === s).length / got.length;
        assert.equal(got.length, 2000);
        assert.ok(Math.abs(count("w.a") - 0.3) < 0.05, `w.a ${count("w.a")}`);
        assert.ok(Math.abs(count("w.b") - 0.2) < 0.05, `w.b ${count("w.b")}`);
        assert.ok(Math.abs(count("w") - 0.5) < 0.05, `w ${count("w")}`);
      } finally {
        await nc.close();
      }
    });
  });

  it("maps per account; the other accounts are not affected", async () => {
    const accounts = {
      A: { users: [{ user: "a", password: "a" }], mappings: { "in.*": "out.$1" } },
      B: { users: [{ user: "b", password: "b" }] },
    };
    await withServer({ accounts }, async (srv) => {
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      const b = await connect({ servers: srv.url, user: "b", pass: "b" });
      try {
        assert.deepEqual(await received(a, ["in.1", "x"]), ["out.1", "x"]);
        assert.deepEqual(await received(b, ["in.1", "x"]), ["in.1", "x"]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  it("a config reload replaces the global and account mappings", async () => {
    const conf = (dest: string) => ({
      mappings: { g: dest },
      accounts: { A: { users: [{ user: "a", password: "a" }], mappings: { a: dest } } },
    });
    await withServer(conf("one"), async (srv) => {
      const { reloadServer } = await import("../../src/server/reload.js");
      const { applyConfig, validateOptions } = await import("../../src/config/server-options.js");
      const { defaultOptions } = await import("../../src/server/options.js");
      const next = applyConfig(
        { ...defaultOptions(), host: "127.0.0.1", port: srv.port },
        conf("two"),
        () => {},
      );
      validateOptions(next);
      await reloadServer(srv.server, next);
      assert.equal(srv.server.globalAccount.mapSubject("g"), "two");
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      try {
        assert.deepEqual(await received(a, ["a"]), ["two"]);
      } finally {
        await a.close();
      }
      const { mappings: _, ...without } = conf("x");
      const last = applyConfig({ ...defaultOptions(), host: "127.0.0.1", port: srv.port }, without, () => {});
      validateOptions(last);
      await reloadServer(srv.server, last);
      assert.equal(srv.server.globalAccount.mapSubject("g"), "g");
    });
  });

  it("refuses to start with an invalid mapping, naming it", async () => {
    await assert.rejects(
      startServer({ mappings: { "a.*": "b.$2" } }),
      /mappings: Error adding mapping for "a\.\*" to "b\.\$2" : invalid mapping destination: wildcard index out of range/,
    );
    await assert.rejects(
      startServer({ accounts: { A: { mappings: { "a.*": "b.{{nope(1)}}" } } } }),
      /accounts\.A\.mappings: Error adding mapping for "a\.\*" to "b\.\{\{nope\(1\)\}\}" : invalid mapping destination: unknown function/,
    );
  });

  it("applies account JWT mappings", async () => {
    const op = await Operator.create();
    const acc = await op.account("A", {
      mappings: { "in.*": [{ subject: "out.$1" }], bad: [{ subject: "x.$1" }] },
    } as Partial<AccountData>);
    await withServer(op.config(), async (srv) => {
      const u = await user(acc.kp);
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      try {
        assert.deepEqual(await received(nc, ["in.1", "bad"]), ["out.1", "bad"]);
      } finally {
        await nc.close();
      }
    });
  });

  it("maps messages entering from a leaf node, in both directions", async () => {
    const hub = await startServer({ leafnodes: { listen: "127.0.0.1:-1" }, mappings: { "h.in": "h.out" } });
    const spoke = await startServer({
      leafnodes: { remotes: [{ url: `nats-leaf://127.0.0.1:${hub.server.leafnodes!.port}` }] },
      mappings: { "s.in": "s.out" },
    });
    const hc = await connect({ servers: hub.url });
    const sc = await connect({ servers: spoke.url });
    try {
      // Published at the hub (no mapping there), mapped as it enters the spoke.
      assert.equal(await firstAcross(hc, sc, "s.>", "s.in"), "s.out");
      // Published at the spoke, mapped as it enters the hub.
      assert.equal(await firstAcross(sc, hc, "h.>", "h.in"), "h.out");
    } finally {
      await Promise.all([hc.close(), sc.close()]);
      await Promise.all([spoke.close(), hub.close()]);
    }
  });

  it("maps once, where the message enters the cluster; cluster-scoped destinations follow the cluster name", async () => {
    const mappings = {
      "r.in": "r.mid",
      "r.mid": "r.out",
      "cs.*": [
        { destination: "cs.east.$1", weight: 100, cluster: "east" },
        { destination: "cs.any.$1", weight: 100 },
      ],
    };
    const a = await startServer({ cluster: { name: "east", listen: "127.0.0.1:-1" }, mappings });
    const b = await startServer({
      cluster: {
        name: "east",
        listen: "127.0.0.1:-1",
        routes: [`nats-route://127.0.0.1:${a.server.cluster!.port}`],
      },
      mappings,
    });
    const ac = await connect({ servers: a.url });
    const bc = await connect({ servers: b.url });
    try {
      assert.equal(await firstAcross(ac, bc, "r.>", "r.in"), "r.mid");
      assert.equal(await firstAcross(ac, bc, "cs.>", "cs.1"), "cs.east.1");
    } finally {
      await Promise.all([ac.close(), bc.close()]);
      await Promise.all([a.close(), b.close()]);
    }
    // Not in a cluster: the unscoped destination.
    await withServer({ mappings }, async (srv) => {
      const nc = await connect({ servers: srv.url });
      try {
        assert.deepEqual(await received(nc, ["cs.1"]), ["cs.any.1"]);
      } finally {
        await nc.close();
      }
    });
  });

  it("a weighted mapping that lists its source drops the remainder", async () => {
    await withServer({ mappings: { loss: [{ destination: "loss", weight: 50 }] } }, async (srv) => {
      const nc = await connect({ servers: srv.url });
      try {
        const got = await received(nc, Array(1000).fill("loss"));
        assert.ok(got.every((s) => s === "loss"));
        assert.ok(got.length > 400 && got.length < 600, `${got.length} delivered`);
      } finally {
        await nc.close();
      }
    });
  });
});

// ---- Compared with nats-server 2.9.10 ----

function natsConf(conf: Record<string, unknown>): string {
  return Object.entries(conf)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join("\n");
}

/**
 * The server's answers to a session (INFO blanked). CONNECT goes first on its own: nats-server decides
 * whether to map per read of the socket, from the account the connection had when the read began.
 */
async function transcript(port: number, connect: string, script: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    c.write(`${connect}PING\r\n`);
    await c.waitFor((t) => t.endsWith("PONG\r\n"), 3000);
    c.write(`${script}PING\r\n`);
    await c.waitFor((t) => t.split("PONG\r\n").length === 3, 3000);
    return c.text().replace(/^INFO \{.*\} ?\r\n/gm, "INFO\r\n");
  } finally {
    c.close();
  }
}

async function compare(conf: Record<string, unknown>, sessions: readonly [string, string][]): Promise<void> {
  const lattice = await startServer(conf);
  let ref: TestServer | undefined;
  try {
    ref = await startNatsServer(natsConf(conf));
    for (const [connect, script] of sessions) {
      const ours = await transcript(lattice.port, connect, script);
      const theirs = await transcript(ref.port, connect, script);
      assert.equal(ours, theirs, `session ${JSON.stringify(connect + script)}`);
      assert.match(ours, /MSG/);
    }
  } finally {
    await lattice.close();
    await ref?.close();
  }
}

const pubs = (subjects: readonly string[]) => subjects.map((s) => `PUB ${s} 1\r\nx\r\n`).join("");

describe("subject mappings against nats-server 2.9.10", { skip: !hasNatsServer() }, () => {
  it("transforms subjects the same way", async () => {
    const C = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
    await compare({ mappings: GLOBAL_MAPPINGS }, [[C, `SUB > 1\r\n${pubs(GLOBAL_SUBJECTS)}`]]);
  });

  it("checks publish permissions on the mapped subject", async () => {
    const conf = {
      authorization: {
        users: [{ user: "u", password: "p", permissions: { publish: "foo", subscribe: ">" } }],
      },
      mappings: { foo: "bar", baz: "foo" },
    };
    const C = 'CONNECT {"verbose":false,"pedantic":false,"user":"u","pass":"p"}\r\n';
    await compare(conf, [[C, `SUB > 1\r\n${pubs(["foo", "baz"])}`]]);
  });

  it("maps per account", async () => {
    const conf = {
      accounts: {
        A: {
          users: [{ user: "a", password: "a" }],
          mappings: { "in.*": "out.$1", "p.*": "p.{{partition(5,1)}}" },
        },
        B: { users: [{ user: "b", password: "b" }] },
      },
    };
    const session = (u: string): [string, string] => [
      `CONNECT {"verbose":false,"pedantic":false,"user":"${u}","pass":"${u}"}\r\n`,
      `SUB > 1\r\n${pubs(["in.1", "p.a", "p.bc", "x"])}`,
    ];
    await compare(conf, [session("a"), session("b")]);
  });
});
