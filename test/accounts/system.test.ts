// The system account: connect/disconnect events, STATSZ, the $SYS.REQ.SERVER.PING.* requests answered with
// the monitoring endpoints' JSON, account-scoped requests and $SYS.REQ.USER.INFO. Shapes are compared with
// nats-server 2.9.10 where it has the same feature.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";
import { confText } from "./helpers.js";

// Replies are JSON whose shape the assertions below explore.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON under test
type Any = any;

const conf = {
  accounts: {
    SYS: { users: [{ user: "sys", password: "sys" }] },
    A: {
      users: [
        { user: "a", password: "a" },
        {
          user: "limited",
          password: "l",
          permissions: { publish: { allow: ["x.>", "$SYS.REQ.USER.INFO"] }, subscribe: ["_INBOX.>"] },
        },
      ],
    },
  },
  system_account: "SYS",
};

async function collect(nc: NatsConnection, subject: string): Promise<Msg[]> {
  const got: Msg[] = [];
  nc.subscribe(subject, { callback: (_e, m) => void got.push(m) });
  await nc.flush();
  return got;
}

function keys(o: unknown): string[] {
  return Object.keys(o as object).sort();
}

/** Connect events' field names, nested one level, as both servers produce them. */
async function eventShapes(url: string): Promise<Record<string, string[]>> {
  const sys = await connect({ servers: url, user: "sys", pass: "sys" });
  const events = await collect(sys, "$SYS.ACCOUNT.A.>");
  const a = await connect({ servers: url, user: "a", pass: "a", name: "app" });
  await a.flush();
  await a.close();
  const deadline = Date.now() + 3000;
  while (events.filter((m) => /CONNECT$/.test(m.subject)).length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const statsz = (await sys.request("$SYS.REQ.SERVER.PING", "", { timeout: 2000 })).json<
    Record<string, unknown>
  >();
  await sys.close();
  const out: Record<string, string[]> = {
    "PING statsz": keys(statsz),
    "PING statsz.statsz": keys(statsz.statsz),
  };
  for (const m of events) {
    const body = m.json<Record<string, unknown>>();
    const name = m.subject.replace(/^\$SYS\.ACCOUNT\.A\./, "");
    out[name] = keys(body);
    if (body.client) out[`${name}.client`] = keys(body.client);
    out[`${name}.server`] = keys(body.server);
  }
  return out;
}

describe("system account", () => {
  it("publishes CONNECT/DISCONNECT events for clients of every account", async () => {
    const srv = await startLattice(conf);
    try {
      const sys = await connect({ servers: srv.url, user: "sys", pass: "sys" });
      const events = await collect(sys, "$SYS.ACCOUNT.*.*");
      const a = await connect({ servers: srv.url, user: "a", pass: "a", name: "app" });
      await a.flush();
      await a.close();
      const deadline = Date.now() + 2000;
      while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const [c, d] = events.map((m) => ({ subject: m.subject, body: m.json<Record<string, Any>>() }));
      assert.equal(c.subject, "$SYS.ACCOUNT.A.CONNECT");
      assert.equal(c.body.type, "io.nats.server.advisory.v1.client_connect");
      assert.equal(c.body.client.acc, "A");
      assert.equal(c.body.client.user, "a");
      assert.equal(c.body.client.name, "app");
      assert.equal(c.body.server.id, srv.server.id);
      assert.equal(d.subject, "$SYS.ACCOUNT.A.DISCONNECT");
      assert.equal(d.body.type, "io.nats.server.advisory.v1.client_disconnect");
      assert.equal(d.body.reason, "Client Closed");
      assert.ok(d.body.sent && d.body.received);
      // Users outside the system account see none of it.
      const other = await connect({ servers: srv.url, user: "a", pass: "a" });
      const seen = await collect(other, "$SYS.>");
      const b = await connect({ servers: srv.url, user: "a", pass: "a" });
      await b.close();
      await other.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(seen.length, 0);
      await other.close();
      // A refused login is reported too.
      const refused = await collect(sys, `$SYS.SERVER.${srv.server.id}.CLIENT.AUTH.ERR`);
      await assert.rejects(connect({ servers: srv.url, user: "a", pass: "wrong", reconnect: false }));
      const until = Date.now() + 2000;
      while (refused.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(refused[0]?.json<{ reason: string }>().reason, "Authentication Failure");
      await sys.close();
    } finally {
      await srv.close();
    }
  });

  it("answers $SYS.REQ.SERVER.PING.* with the monitoring endpoints' JSON", async () => {
    const srv = await startLattice({ ...conf, http_port: -1 });
    try {
      const sys = await connect({ servers: srv.url, user: "sys", pass: "sys" });
      const a = await connect({ servers: srv.url, user: "a", pass: "a" });
      a.subscribe("watched");
      await a.flush();
      const ask = async (subject: string, body = "") =>
        (await sys.request(subject, body, { timeout: 2000 })).json<Record<string, Any>>();
      const httpBase = srv.server.listenerUrls().monitoring![0];
      const http = async (path: string) =>
        (await fetch(`${httpBase}${path}`)).json() as Promise<Record<string, Any>>;

      const varz = await ask("$SYS.REQ.SERVER.PING.VARZ");
      assert.equal(varz.server.id, srv.server.id);
      assert.deepEqual(keys(varz.data), keys(await http("/varz")));
      const connz = await ask(
        "$SYS.REQ.SERVER.PING.CONNZ",
        JSON.stringify({ subscriptions: true, auth: true }),
      );
      const mine = connz.data.connections.find((c: Record<string, unknown>) => c.authorized_user === "a");
      assert.deepEqual(mine.subscriptions_list, ["watched"]);
      assert.equal(mine.account, "A");
      const byId = await ask(`$SYS.REQ.SERVER.${srv.server.id}.CONNZ`);
      assert.equal(byId.data.num_connections, 2);
      const subsz = await ask(
        "$SYS.REQ.SERVER.PING.SUBSZ",
        JSON.stringify({ subscriptions: true, test: "watched" }),
      );
      assert.equal(subsz.data.total, 1);
      const accountz = await ask("$SYS.REQ.SERVER.PING.ACCOUNTZ");
      assert.equal(accountz.data.system_account, "SYS");
      assert.deepEqual([...accountz.data.accounts].sort(), ["$G", "A", "SYS"]);
      assert.deepEqual((await ask("$SYS.REQ.SERVER.PING.HEALTHZ")).data, { status: "ok" });
      assert.equal((await ask("$SYS.REQ.SERVER.PING.JSZ")).data.disabled, true);
      const stats = await ask("$SYS.REQ.SERVER.PING");
      assert.equal(stats.statsz.connections, 2);
      const bad = await ask("$SYS.REQ.SERVER.PING.NOPE");
      assert.equal(bad.error.code, 400);
      // Account-scoped: only that account's connections.
      const accConnz = await ask("$SYS.REQ.ACCOUNT.A.CONNZ");
      assert.equal(accConnz.data.num_connections, 1);
      const missing = await ask("$SYS.REQ.ACCOUNT.NOPE.CONNZ");
      assert.equal(missing.error.code, 404);
      await a.close();
      await sys.close();
    } finally {
      await srv.close();
    }
  });

  it("tells any user who it is with $SYS.REQ.USER.INFO", async () => {
    const srv = await startLattice(conf);
    try {
      const nc = await connect({ servers: srv.url, user: "limited", pass: "l" });
      const info = (await nc.request("$SYS.REQ.USER.INFO", "", { timeout: 2000 })).json<
        Record<string, Any>
      >();
      assert.equal(info.data.user, "limited");
      assert.equal(info.data.account, "A");
      assert.deepEqual(info.data.permissions.publish, { allow: ["x.>", "$SYS.REQ.USER.INFO"] });
      assert.deepEqual(info.data.permissions.subscribe, { allow: ["_INBOX.>"] });
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("runs without a system account when no_system_account is set", async () => {
    const srv = await startLattice({ no_system_account: true });
    try {
      assert.deepEqual([...srv.server.accounts.keys()], ["$G"]);
      const nc = await connect({ servers: srv.url });
      await assert.rejects(nc.request("$SYS.REQ.USER.INFO", "", { timeout: 500 }));
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("sends events with the fields nats-server 2.9.10 sends", { skip: !hasNatsServer() }, async () => {
    const srv = await startLattice(conf);
    let ours: Record<string, string[]>;
    try {
      ours = await eventShapes(srv.url);
    } finally {
      await srv.close();
    }
    const ref = await startNatsServer(confText(conf));
    try {
      assert.deepEqual(ours, await eventShapes(ref.url));
    } finally {
      await ref.close();
    }
  });
});
