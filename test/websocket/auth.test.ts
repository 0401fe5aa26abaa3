// Websocket-specific authentication: `websocket { authorization { user, password, token, timeout },
// no_auth_user }` override the server's single user/token and no_auth_user for websocket clients only.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ConnectionOptions,
  connect,
  type NatsConnection,
  type WsSocketFactory,
  wsconnect,
} from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { startLattice } from "../helpers/servers.js";

type W3CWebSocket = Awaited<ReturnType<WsSocketFactory>>["socket"];

function wsConnect(url: string, opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  return wsconnect({
    servers: url,
    reconnect: false,
    ...opts,
    wsFactory: async (u: string) => ({
      socket: new WebSocket(u, { perMessageDeflate: false }) as unknown as W3CWebSocket,
      encrypted: false,
    }),
  });
}

async function start(conf: Record<string, unknown>, ws: Record<string, unknown>) {
  const srv = await startLattice({
    ...conf,
    websocket: { host: "127.0.0.1", port: -1, no_tls: true, ...ws },
  });
  const wsUrl = srv.server.listenerUrls().websocket?.[0];
  assert.ok(wsUrl);
  return { srv, wsUrl };
}

const refused = (err: unknown) => /authorization violation/i.test(String((err as Error)?.message ?? err));

describe("websocket authorization", () => {
  it("a websocket user replaces the server's user for websocket clients only", async () => {
    const { srv, wsUrl } = await start(
      { authorization: { user: "main", password: "mp" } },
      { authorization: { user: "wsu", password: "wsp" } },
    );
    try {
      const w = await wsConnect(wsUrl, { user: "wsu", pass: "wsp" });
      assert.equal(w.info?.auth_required, true);
      await w.close();
      await assert.rejects(wsConnect(wsUrl, { user: "main", pass: "mp" }), refused);
      const t = await connect({ servers: srv.url, user: "main", pass: "mp", reconnect: false });
      await t.close();
      await assert.rejects(
        connect({ servers: srv.url, user: "wsu", pass: "wsp", reconnect: false }),
        refused,
      );
    } finally {
      await srv.close();
    }
  });

  it("a websocket token requires authentication on websocket only", async () => {
    const { srv, wsUrl } = await start({}, { authorization: { token: "s3cr3t" } });
    try {
      await assert.rejects(wsConnect(wsUrl), refused);
      await assert.rejects(wsConnect(wsUrl, { token: "wrong" }), refused);
      const w = await wsConnect(wsUrl, { token: "s3cr3t" });
      await w.close();
      const t = await connect({ servers: srv.url, reconnect: false });
      assert.notEqual(t.info?.auth_required, true);
      await t.close();
    } finally {
      await srv.close();
    }
  });

  it("websocket no_auth_user picks the websocket clients' identity", async () => {
    const { srv, wsUrl } = await start(
      {
        accounts: {
          A: { users: [{ user: "a", password: "a" }] },
          B: { users: [{ user: "b", password: "b" }] },
        },
        no_auth_user: "a",
      },
      { no_auth_user: "b" },
    );
    try {
      const inB = await connect({ servers: srv.url, user: "b", pass: "b", reconnect: false });
      const inA = await connect({ servers: srv.url, reconnect: false }); // the server's no_auth_user: a
      const seenB = inB.subscribe("hello", { max: 1 });
      const seenA = inA.subscribe("hello", { max: 1, timeout: 500 });
      await inB.flush();
      await inA.flush();
      const w = await wsConnect(wsUrl);
      assert.equal(w.info?.auth_required, true);
      w.publish("hello", "from ws");
      await w.flush();
      for await (const m of seenB) assert.equal(m.string(), "from ws");
      await assert.rejects(
        (async () => {
          for await (const _ of seenA) return;
        })(),
        /timeout/i,
      );
      // Credentials still work on websocket.
      const wa = await wsConnect(wsUrl, { user: "a", pass: "a" });
      await Promise.all([w.close(), wa.close(), inA.close(), inB.close()]);
    } finally {
      await srv.close();
    }
  });

  it("the websocket auth timeout applies to websocket clients", async () => {
    const { srv, wsUrl } = await start(
      { authorization: { user: "u", password: "p", timeout: 5 } },
      { authorization: { timeout: 0.3 } },
    );
    try {
      const socket = new WebSocket(wsUrl);
      const started = Date.now();
      let text = "";
      socket.on("message", (d: Buffer) => {
        text += d.toString();
      });
      await new Promise((r) => socket.once("close", r));
      const took = Date.now() - started;
      assert.match(text, /Authentication Timeout/);
      assert.ok(took < 3000, `closed after ${took} ms`);
    } finally {
      await srv.close();
    }
  });

  it("refuses configurations nats-server refuses", async () => {
    const ws = { host: "127.0.0.1", port: -1, no_tls: true };
    await assert.rejects(
      startLattice({ websocket: { ...ws, authorization: { users: [{ user: "x", password: "y" }] } } }),
      /websocket\.authorization: unknown field "users"/,
    );
    await assert.rejects(
      startLattice({
        authorization: { users: [{ user: "x", password: "y" }] },
        websocket: { ...ws, authorization: { user: "w", password: "w" } },
      }),
      /websocket authentication username not compatible with presence of users\/nkeys/,
    );
    await assert.rejects(
      startLattice({
        authorization: { users: [{ user: "x", password: "y" }] },
        websocket: { ...ws, no_auth_user: "z" },
      }),
      /no_auth_user: "z" not present as user or nkey/,
    );
    await assert.rejects(
      startLattice({ websocket: { ...ws, no_auth_user: "z" } }),
      /no_auth_user: "z" present, but users\/nkeys are not defined/,
    );
  });
});
