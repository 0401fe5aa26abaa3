import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Algorithms, encode, encodeUser } from "@nats-io/jwt";
import { createAccount, createUser } from "@nats-io/nkeys";
import {
  connect,
  credsAuthenticator,
  jwtAuthenticator,
  type NatsConnection,
  UserAuthenticationExpiredError,
} from "@nats-io/transport-node";
import { startServer } from "../../src/index.js";
import { RawClient, startLattice } from "../helpers/servers.js";
import { isAuthError, nowSeconds, Operator, tamper, user, withHeader } from "./jwt-fixtures.js";

async function refused(url: string, auth: ReturnType<typeof jwtAuthenticator>): Promise<void> {
  await assert.rejects(connect({ servers: url, authenticator: auth, reconnect: false }), isAuthError);
}

/** The error the server closed the connection with (nats.js reports it through closed()). */
async function closedWith(nc: NatsConnection, timeoutMs = 8000): Promise<Error | undefined> {
  const t = setTimeout(() => nc.close(), timeoutMs);
  const err = await nc.closed();
  clearTimeout(t);
  return err ?? undefined;
}

describe("operator mode: user JWTs", () => {
  it("accepts creds (JWT + nonce signature) and routes messages within the account", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const u = await user(a.kp);
    const srv = await startLattice(op.config());
    try {
      const raw = await RawClient.connect(srv.port);
      const info = JSON.parse(raw.text().slice(5)) as Record<string, unknown>;
      raw.close();
      assert.equal(info.auth_required, true);
      assert.match(String(info.nonce), /^[A-Za-z0-9_-]{15}$/);
      const nc = await connect({ servers: srv.url, authenticator: credsAuthenticator(u.creds) });
      const sub = nc.subscribe("hello", { max: 1 });
      nc.publish("hello", "world");
      for await (const m of sub) assert.equal(m.string(), "world");
      // The account is named after its public key.
      const c = [...srv.server.clients.values()][0];
      assert.equal(c.account?.name, a.key);
      assert.equal(c.user, u.kp.getPublicKey());
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("requires a nonce in INFO and refuses wrong signatures, missing signatures and garbage", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const u = await user(a.kp);
    const other = createUser();
    const srv = await startLattice(op.config());
    try {
      await refused(srv.url, jwtAuthenticator(u.jwt, other.getSeed()));
      await refused(srv.url, jwtAuthenticator(u.jwt));
      await refused(srv.url, jwtAuthenticator("not.a.jwt"));
      await refused(srv.url, jwtAuthenticator("eyJhbGciOiJub25lIn0.e30."));
      // Claims changed after signing.
      const forged = tamper(u.jwt, (c) => {
        (c.nats as Record<string, unknown>).pub = { allow: [">"] };
      });
      await refused(srv.url, jwtAuthenticator(forged, u.seed));
      // Algorithms other than ed25519(-nkey) are refused even with an otherwise valid token.
      await refused(srv.url, jwtAuthenticator(withHeader(u.jwt, { typ: "JWT", alg: "HS256" }), u.seed));
      await refused(srv.url, jwtAuthenticator(withHeader(u.jwt, { typ: "JWT", alg: "none" }), u.seed));
      // A user of an account the resolver does not know.
      const stranger = await user(createAccount());
      await refused(srv.url, jwtAuthenticator(stranger.jwt, stranger.seed));
      // The server is still fine.
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      await nc.flush();
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("refuses accounts signed by an untrusted operator", async () => {
    const op = await Operator.create();
    const rogue = await Operator.create();
    const a = await rogue.account("A");
    const cfg = op.config({ resolver_preload: { [a.key]: a.jwt } });
    const srv = await startLattice(cfg);
    try {
      const u = await user(a.kp);
      await refused(srv.url, jwtAuthenticator(u.jwt, u.seed));
    } finally {
      await srv.close();
    }
  });

  it("accepts accounts signed by an operator signing key and users signed by account signing keys", async () => {
    const op = await Operator.create();
    const sk = createAccount();
    const a = await op.account("A", { signing_keys: [sk.getPublicKey()] }, { bySigningKey: true });
    const u = await user(sk, {}, { issuerAccount: a.key });
    const srv = await startLattice(op.config());
    try {
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      await nc.flush();
      await nc.close();
      // A signing key the account does not list.
      const unknown = createAccount();
      const bad = await user(unknown, {}, { issuerAccount: a.key });
      await refused(srv.url, jwtAuthenticator(bad.jwt, bad.seed));
    } finally {
      await srv.close();
    }
  });

  it("applies a scoped signing key's template instead of the user's own permissions", async () => {
    const op = await Operator.create();
    const sk = createAccount();
    const a = await op.account("A", {
      signing_keys: [
        {
          kind: "user_scope",
          key: sk.getPublicKey(),
          role: "limited",
          template: {
            pub: { allow: ["ok.>"], deny: [] },
            sub: { allow: [], deny: [] },
            subs: -1,
            payload: -1,
          },
        },
      ],
    });
    const srv = await startLattice(op.config());
    try {
      const u = await user(sk, {}, { issuerAccount: a.key, scoped: true });
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      const errors: string[] = [];
      (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
      })().catch(() => {});
      nc.publish("ok.1");
      nc.publish("nope");
      await nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(errors.length, 1);
      assert.match(errors[0], /Permissions Violation for Publish to "nope"/);
      await nc.close();
      // A scoped key's users may not bring permissions of their own.
      const withPerms = await user(sk, { pub: { allow: [">"], deny: [] } }, { issuerAccount: a.key });
      await refused(srv.url, jwtAuthenticator(withPerms.jwt, withPerms.seed));
      // Nor limits, even "unlimited" ones.
      const withLimits = await user(sk, {}, { issuerAccount: a.key });
      await refused(srv.url, jwtAuthenticator(withLimits.jwt, withLimits.seed));
    } finally {
      await srv.close();
    }
  });

  it("enforces user permissions and response permissions from the JWT", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const limited = await user(a.kp, {
      pub: { allow: ["out.>"], deny: ["out.secret"] },
      sub: { allow: ["in.>"], deny: [] },
      resp: { max: 1, ttl: 0 },
    });
    const free = await user(a.kp);
    const srv = await startLattice(op.config());
    try {
      const nc = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(limited.jwt, limited.seed),
      });
      const other = await connect({ servers: srv.url, authenticator: jwtAuthenticator(free.jwt, free.seed) });
      const errors: string[] = [];
      (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
      })().catch(() => {});
      const got: string[] = [];
      other.subscribe("out.>", { callback: (_e, m) => void got.push(m.subject) });
      await other.flush();
      nc.publish("out.a");
      nc.publish("out.secret");
      nc.subscribe("forbidden");
      await nc.flush();
      await other.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, ["out.a"]);
      assert.ok(errors.some((e) => /Publish to "out.secret"/.test(e)));
      assert.ok(errors.some((e) => /Subscription to "forbidden"/.test(e)));
      // allow_responses: the limited user may answer a request it received even outside out.>.
      nc.subscribe("in.service", { callback: (_e, m) => void m.respond("pong") });
      await nc.flush();
      const r = await other.request("in.service", "ping", { timeout: 2000 });
      assert.equal(r.string(), "pong");
      await nc.close();
      await other.close();
    } finally {
      await srv.close();
    }
  });

  it("uses the account's default permissions for users without their own", async () => {
    const op = await Operator.create();
    const a = await op.account("A", { default_permissions: { pub: { allow: ["only"], deny: [] } } });
    const u = await user(a.kp);
    const srv = await startLattice(op.config());
    try {
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      const errors: string[] = [];
      (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
      })().catch(() => {});
      nc.publish("only");
      nc.publish("other");
      await nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(errors.length, 1);
      assert.match(errors[0], /Publish to "other"/);
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("refuses expired user JWTs and disconnects a user when its JWT expires", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const srv = await startLattice(op.config());
    try {
      const old = await user(a.kp, { bearer_token: true }, { exp: nowSeconds() - 5 });
      await refused(srv.url, jwtAuthenticator(old.jwt));
      const notYet = await encodeUser(
        "U",
        createUser(),
        a.kp,
        { bearer_token: true },
        { nbf: nowSeconds() + 60 },
      );
      await refused(srv.url, jwtAuthenticator(notYet));
      const soon = await user(a.kp, { bearer_token: true }, { exp: nowSeconds() + 2 });
      const nc = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(soon.jwt),
        reconnect: false,
      });
      const err = await closedWith(nc);
      assert.ok(err instanceof UserAuthenticationExpiredError, String(err));
      assert.equal(srv.server.closed.list().at(-1)?.closeReason, "Authentication Expired");
    } finally {
      await srv.close();
    }
  });

  it("disconnects every user of an account when the account JWT expires", async () => {
    const op = await Operator.create();
    const a = await op.account("A", {}, { exp: nowSeconds() + 2 });
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, { bearer_token: true });
      const nc = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(u.jwt),
        reconnect: false,
      });
      const err = await closedWith(nc);
      assert.match(String(err), /Account Authentication Expired/);
      await refused(srv.url, jwtAuthenticator(u.jwt));
    } finally {
      await srv.close();
    }
  });

  it("refuses revoked users, and disconnects them when a claims update revokes them", async () => {
    const op = await Operator.create({ system: true });
    const a = await op.account("A");
    const early = await user(a.kp, { bearer_token: true });
    const srv = await startLattice(op.config());
    try {
      const nc = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(early.jwt),
        reconnect: false,
      });
      const sysUser = await user(op.system!.kp, { bearer_token: true });
      const sys = await connect({ servers: srv.url, authenticator: jwtAuthenticator(sysUser.jwt) });
      // Revoke users of `early` issued up to now.
      const updated = await op.reissue(a, "A", { revocations: { [early.kp.getPublicKey()]: nowSeconds() } });
      const r = await sys.request(`$SYS.REQ.ACCOUNT.${a.key}.CLAIMS.UPDATE`, updated, { timeout: 2000 });
      const body = r.json<{ data: { code: number; account: string; message: string } }>();
      assert.deepEqual(body.data, { account: a.key, code: 200, message: "jwt updated" });
      const err = await closedWith(nc);
      assert.match(String(err), /User Authentication Revoked/);
      await refused(srv.url, jwtAuthenticator(early.jwt));
      // A claims update that is not a valid account JWT is refused with an error reply.
      const bad = await sys.request(`$SYS.REQ.ACCOUNT.${a.key}.CLAIMS.UPDATE`, "garbage", { timeout: 2000 });
      const e = bad.json<{ error: { code: number; description: string } }>();
      assert.equal(e.error.code, 400);
      // So is a JWT for another account, or one signed by an untrusted operator.
      const rogue = await Operator.create();
      const ra = await rogue.account("A");
      const wrong = await sys.request(`$SYS.REQ.ACCOUNT.${a.key}.CLAIMS.UPDATE`, ra.jwt, { timeout: 2000 });
      assert.equal(wrong.json<{ error: { code: number } }>().error.code, 400);
      await sys.close();
    } finally {
      await srv.close();
    }
  });

  it("revokes every user issued before a `*` revocation", async () => {
    const op = await Operator.create();
    const a = await op.account("A", { revocations: { "*": nowSeconds() + 1 } });
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, { bearer_token: true });
      await refused(srv.url, jwtAuthenticator(u.jwt));
    } finally {
      await srv.close();
    }
  });

  it("accepts bearer tokens without a signature unless the account disallows them", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const strict = await op.account("S", {
      limits: { conn: -1, subs: -1, payload: -1, disallow_bearer: true },
    });
    const srv = await startLattice(op.config());
    try {
      const b = await user(a.kp, { bearer_token: true });
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(b.jwt) });
      await nc.flush();
      await nc.close();
      const sb = await user(strict.kp, { bearer_token: true });
      await refused(srv.url, jwtAuthenticator(sb.jwt));
    } finally {
      await srv.close();
    }
  });

  it("checks allowed connection types and source networks", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const srv = await startLattice(op.config());
    try {
      const wsOnly = await user(a.kp, { bearer_token: true, allowed_connection_types: ["WEBSOCKET"] });
      await refused(srv.url, jwtAuthenticator(wsOnly.jwt));
      const tcp = await user(a.kp, { bearer_token: true, allowed_connection_types: ["STANDARD"] });
      let nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(tcp.jwt) });
      await nc.close();
      const elsewhere = await user(a.kp, { bearer_token: true, src: ["10.0.0.0/8", "192.0.2.1"] });
      await refused(srv.url, jwtAuthenticator(elsewhere.jwt));
      const local = await user(a.kp, { bearer_token: true, src: ["10.0.0.0/8", "127.0.0.0/8"] });
      nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(local.jwt) });
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("enforces account limits: connections, subscriptions and payload", async () => {
    const op = await Operator.create();
    const a = await op.account("A", { limits: { conn: 1, subs: 2, payload: 16 } });
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, { bearer_token: true });
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt) });
      await assert.rejects(
        connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt), reconnect: false }),
        /maximum account active connections exceeded/,
      );
      // The smaller max_payload is announced, so the client refuses larger messages itself.
      await nc.flush();
      assert.equal(nc.info?.max_payload, 16);
      assert.throws(() => nc.publish("x", new Uint8Array(17)), /payload/i);
      const errors: string[] = [];
      (async () => {
        for await (const s of nc.status()) if (s.type === "error") errors.push(String(s.error));
      })().catch(() => {});
      nc.subscribe("a");
      nc.subscribe("b");
      nc.subscribe("c");
      await nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(
        errors.some((e) => /maximum subscriptions exceeded/i.test(e)),
        errors.join(),
      );
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("reads absent limits of a version 2 account JWT as zero, as nats-server 2.9 does", async () => {
    const op = await Operator.create();
    const a = await op.account("A", { limits: {} });
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, { bearer_token: true });
      await assert.rejects(
        connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt), reconnect: false }),
        /maximum account active connections exceeded/,
      );
    } finally {
      await srv.close();
    }
  });

  it("reads the operator JWT from a file (plain or decorated) and refuses bad operator settings", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const dir = mkdtempSync(join(tmpdir(), "lattice-op-"));
    try {
      const file = join(dir, "op.jwt");
      writeFileSync(
        file,
        `-----BEGIN NATS OPERATOR JWT-----\n${op.jwt}\n------END NATS OPERATOR JWT------\n`,
      );
      const srv = await startServer({ ...op.config(), operator: file });
      try {
        const u = await user(a.kp, { bearer_token: true });
        const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt) });
        await nc.close();
      } finally {
        await srv.close();
      }
      await assert.rejects(startServer({ ...op.config(), operator: join(dir, "missing.jwt") }), /operator/);
      await assert.rejects(startServer({ ...op.config(), operator: a.jwt }), /operator/);
      await assert.rejects(
        startServer({ ...op.config(), resolver_preload: { [a.key]: "garbage" } }),
        /resolver_preload/,
      );
      await assert.rejects(startServer({ operator: op.jwt }), /resolver/);
      await assert.rejects(
        startServer({ ...op.config(), authorization: { users: [{ user: "x", password: "y" }] } }),
        /operator mode/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps separate accounts apart", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const b = await op.account("B");
    const srv = await startLattice(op.config());
    try {
      const ua = await user(a.kp, { bearer_token: true });
      const ub = await user(b.kp, { bearer_token: true });
      const na = await connect({ servers: srv.url, authenticator: jwtAuthenticator(ua.jwt) });
      const nb = await connect({ servers: srv.url, authenticator: jwtAuthenticator(ub.jwt) });
      const got: string[] = [];
      nb.subscribe(">", { callback: (_e, m) => void got.push(m.subject) });
      await nb.flush();
      na.publish("x");
      nb.publish("y");
      await na.flush();
      await nb.flush();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got, ["y"]);
      await na.close();
      await nb.close();
    } finally {
      await srv.close();
    }
  });

  it("accepts version 1 (alg ed25519) user JWTs, whose absent limits mean unlimited", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const srv = await startLattice(op.config());
    try {
      const kp = createUser();
      const claims = { sub: kp.getPublicKey(), name: "v1", type: "user", aud: "", jti: "", iat: 0, iss: "" };
      const v1 = await encode(Algorithms.v1, { ...claims, nats: { pub: {}, sub: {} } }, a.kp);
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(v1, kp.getSeed()) });
      const sub = nc.subscribe("v1", { max: 1 });
      nc.publish("v1", "payload");
      for await (const m of sub) assert.equal(m.string(), "payload");
      await nc.close();
    } finally {
      await srv.close();
    }
  });
});
