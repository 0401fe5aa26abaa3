import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import { startLattice } from "../helpers/servers.js";
import { isAuthError, Operator, user } from "./jwt-fixtures.js";

describe("account resolvers", () => {
  it("a full (directory) resolver keeps pushed account JWTs across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-resolver-"));
    try {
      const op = await Operator.create({ system: true });
      const a = await op.account("A");
      const b = await op.account("B");
      // B is not preloaded: it arrives through a claims update.
      const preload = { [a.key]: a.jwt, [op.system!.key]: op.system!.jwt };
      const conf = {
        operator: op.jwt,
        system_account: op.system!.key,
        resolver: { type: "full", dir, allow_delete: false },
        resolver_preload: preload,
      };
      let srv = await startLattice(conf);
      const ub = await user(b.kp, { bearer_token: true });
      try {
        assert.ok(existsSync(join(dir, `${a.key}.jwt`)));
        await assert.rejects(
          connect({ servers: srv.url, authenticator: jwtAuthenticator(ub.jwt), reconnect: false }),
          isAuthError,
        );
        const su = await user(op.system!.kp, { bearer_token: true });
        const sys = await connect({ servers: srv.url, authenticator: jwtAuthenticator(su.jwt) });
        const r = await sys.request(`$SYS.REQ.ACCOUNT.${b.key}.CLAIMS.UPDATE`, b.jwt, { timeout: 2000 });
        assert.equal(r.json<{ data: { code: number } }>().data.code, 200);
        assert.equal(readFileSync(join(dir, `${b.key}.jwt`), "utf8"), b.jwt);
        const lookup = await sys.request(`$SYS.REQ.ACCOUNT.${b.key}.CLAIMS.LOOKUP`, "", { timeout: 2000 });
        assert.equal(lookup.string(), b.jwt);
        await sys.close();
        const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(ub.jwt) });
        await nc.close();
      } finally {
        await srv.close();
      }
      // Restarted without the preload of B: it comes from the directory.
      srv = await startLattice({ ...conf, resolver_preload: {} });
      try {
        const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(ub.jwt) });
        await nc.close();
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a MEMORY resolver applies newer preloaded JWTs on reload", async () => {
    const op = await Operator.create();
    const a = await op.account("A", { limits: { conn: -1, subs: -1, payload: -1 } });
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, { bearer_token: true });
      const nc = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(u.jwt),
        reconnect: false,
      });
      await new Promise((r) => setTimeout(r, 1100));
      const { reloadServer } = await import("../../src/server/reload.js");
      const { applyConfig, validateOptions } = await import("../../src/config/server-options.js");
      const { defaultOptions } = await import("../../src/server/options.js");
      const revoked = await op.reissue(a, "A", {
        limits: { conn: -1, subs: -1, payload: -1 },
        revocations: { [u.kp.getPublicKey()]: Math.floor(Date.now() / 1000) },
      });
      const next = applyConfig(
        { ...defaultOptions(), host: "127.0.0.1", port: srv.port },
        op.config(),
        () => {},
      );
      validateOptions(next);
      assert.equal(next.operator?.preload[a.key], revoked);
      const closed = nc.closed();
      await reloadServer(srv.server, next);
      assert.match(String(await closed), /User Authentication Revoked/);
    } finally {
      await srv.close();
    }
  });
});
