// Websocket authorization overrides against the reference nats-server 2.9.10 (skipped when not installed):
// the same configurations give websocket clients the same outcomes and the same INFO auth_required.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { type ConnectionOptions, type WsSocketFactory, wsconnect } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";

type W3CWebSocket = Awaited<ReturnType<WsSocketFactory>>["socket"];

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** "ok auth_required=<bool>" or the error. */
async function outcome(url: string, opts: Partial<ConnectionOptions>): Promise<string> {
  try {
    const nc = await wsconnect({
      servers: url,
      reconnect: false,
      ...opts,
      wsFactory: async (u: string) => ({
        socket: new WebSocket(u, { perMessageDeflate: false }) as unknown as W3CWebSocket,
        encrypted: false,
      }),
    });
    const required = nc.info?.auth_required === true;
    await nc.close();
    return `ok auth_required=${required}`;
  } catch (err) {
    return `refused: ${String((err as Error).message).toLowerCase()}`;
  }
}

const CASES: Array<[string, Record<string, unknown>, Partial<ConnectionOptions>[]]> = [
  [
    "websocket user over the server user",
    {
      authorization: { user: "main", password: "mp" },
      websocket: { authorization: { user: "w", password: "wp" } },
    },
    [{ user: "w", pass: "wp" }, { user: "main", pass: "mp" }, {}],
  ],
  [
    "websocket token only",
    { websocket: { authorization: { token: "tok" } } },
    [{ token: "tok" }, { token: "x" }, {}],
  ],
  [
    "websocket no_auth_user",
    {
      authorization: {
        users: [
          { user: "a", password: "a" },
          { user: "b", password: "b" },
        ],
      },
      websocket: { no_auth_user: "b" },
    },
    [{}, { user: "a", pass: "a" }, { user: "a", pass: "wrong" }],
  ],
  [
    "no override",
    { authorization: { users: [{ user: "a", password: "a" }] } },
    [{}, { user: "a", pass: "a" }],
  ],
];

describe("websocket authorization matches nats-server 2.9.10", { skip: !hasNatsServer() }, () => {
  for (const [name, conf, attempts] of CASES) {
    it(name, async () => {
      const wsPort = await freePort();
      const full = {
        ...conf,
        websocket: { host: "127.0.0.1", port: wsPort, no_tls: true, ...(conf.websocket as object) },
      };
      const url = `ws://127.0.0.1:${wsPort}`;
      const ours: string[] = [];
      const srv = await startLattice(full);
      try {
        for (const a of attempts) ours.push(await outcome(url, a));
      } finally {
        await srv.close();
      }
      const theirs: string[] = [];
      const ref = await startNatsServer(JSON.stringify(full, null, 1).slice(1, -1));
      try {
        for (const a of attempts) theirs.push(await outcome(url, a));
      } finally {
        await ref.close();
      }
      assert.deepEqual(ours, theirs);
    });
  }
});
