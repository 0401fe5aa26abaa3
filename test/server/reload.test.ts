import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { applyConfig } from "../../src/config/server-options.js";
import { defaultOptions } from "../../src/server/options.js";
import { reloadServer } from "../../src/server/reload.js";
import { startLattice } from "../helpers/servers.js";

function optionsFrom(conf: Record<string, unknown>) {
  const o = defaultOptions();
  o.host = "127.0.0.1";
  o.quiet = true;
  return applyConfig(o, conf, () => {});
}

describe("config reload", () => {
  it("applies new permissions to connected clients and drops what they no longer allow", async () => {
    const users = [{ user: "a", password: "a" }];
    const srv = await startLattice({ authorization: { users } });
    try {
      const nc = await connect({ servers: srv.url, user: "a", pass: "a" });
      const errors: string[] = [];
      (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error.message));
      })();
      const sub = nc.subscribe("secret.stuff");
      await nc.flush();
      const next = optionsFrom({
        port: srv.port,
        authorization: { users: [{ ...users[0], permissions: { subscribe: { deny: "secret.>" } } }] },
      });
      await reloadServer(srv.server, next);
      await assert.rejects(
        (async () => {
          for await (const _m of sub) break;
        })(),
      );
      assert.ok(
        errors.some((e) => e.includes('Permissions Violation for Subscription to "secret.stuff"')),
        errors.join("|"),
      );
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("disconnects clients whose credentials are no longer valid", async () => {
    const srv = await startLattice({ authorization: { users: [{ user: "old", password: "x" }] } });
    try {
      const nc = await connect({ servers: srv.url, user: "old", pass: "x", reconnect: false });
      await nc.flush();
      await reloadServer(
        srv.server,
        optionsFrom({ port: srv.port, authorization: { users: [{ user: "new", password: "y" }] } }),
      );
      const err = await nc.closed();
      assert.match(String(err?.message), /authorization violation/i);
    } finally {
      await srv.close();
    }
  });
});
