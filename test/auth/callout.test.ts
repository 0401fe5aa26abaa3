// Auth callout (config mode): an authorization service in the callout account receives the server-signed
// request on $SYS.REQ.USER.AUTH and answers with a signed authorization response carrying a user JWT.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode, encodeAuthorizationResponse, encodeUser } from "@nats-io/jwt";
import { createAccount, createCurve, fromPublic, type KeyPair } from "@nats-io/nkeys";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startLattice } from "../helpers/servers.js";

// biome-ignore lint/suspicious/noExplicitAny: request claims are arbitrary JSON
type Json = Record<string, any>;

const refused = (err: unknown) => /authorization violation/i.test(String((err as Error)?.message ?? err));

function conf(issuer: KeyPair, extra: Record<string, unknown> = {}) {
  return {
    accounts: {
      AUTH: { users: [{ user: "auth", password: "pwd" }] },
      APP: {},
    },
    authorization: {
      timeout: 1,
      auth_callout: { issuer: issuer.getPublicKey(), account: "AUTH", auth_users: ["auth"], ...extra },
    },
  };
}

interface Service {
  nc: NatsConnection;
  requests: Json[];
  stop(): Promise<void>;
}

/** The authorization service: accepts alice/secret into APP (publish only under app.>), refuses others. */
async function service(url: string, issuer: KeyPair, xkp?: KeyPair): Promise<Service> {
  const nc = await connect({ servers: url, user: "auth", pass: "pwd" });
  const requests: Json[] = [];
  const sub = nc.subscribe("$SYS.REQ.USER.AUTH");
  void (async () => {
    for await (const m of sub) {
      let token = m.string();
      const serverXkey = m.headers?.get("Nats-Server-Xkey");
      if (xkp !== undefined && serverXkey) token = new TextDecoder().decode(xkp.open(m.data, serverXkey)!);
      const req = decode<Json>(token);
      requests.push(req as unknown as Json);
      const userNkey = req.nats.user_nkey as string;
      const serverId = req.nats.server_id.id as string;
      const opts = req.nats.connect_opts as Json;
      const data: Json = {};
      if (opts.user === "alice" && opts.pass === "secret") {
        data.jwt = await encodeUser(
          "alice",
          fromPublic(userNkey),
          issuer,
          { pub: { allow: ["app.>", "_INBOX.>"] }, sub: { allow: ["app.>", "_INBOX.>"] } },
          { aud: "APP" } as never,
        );
      } else {
        data.error = "bad credentials";
      }
      const res = await encodeAuthorizationResponse(
        fromPublic(userNkey),
        fromPublic(serverId),
        issuer,
        data,
        {},
      );
      const body = new TextEncoder().encode(res);
      m.respond(xkp !== undefined && serverXkey ? xkp.seal(body, serverXkey) : body);
    }
  })();
  await nc.flush();
  return { nc, requests, stop: () => nc.close() };
}

describe("auth callout", () => {
  it("places clients where the service says, with the permissions of the returned user JWT", async () => {
    const issuer = createAccount();
    const srv = await startLattice(conf(issuer));
    const svc = await service(srv.url, issuer);
    try {
      const alice = await connect({ servers: srv.url, user: "alice", pass: "secret", name: "alice-app" });
      const watcher = await connect({ servers: srv.url, user: "alice", pass: "secret" });
      const seen = watcher.subscribe("app.hello", { max: 1 });
      await watcher.flush();
      alice.publish("app.hello", "hi");
      for await (const m of seen) assert.equal(m.string(), "hi");
      // Outside the JWT's publish permissions.
      const errs = (async () => {
        for await (const s of alice.status()) if (s.type === "error") return String(s.error);
        return "";
      })();
      alice.publish("other", "x");
      assert.match(await errs, /permissions violation/i);
      // The request: signed by the server, for a fresh user key, describing the client.
      const req = svc.requests[0];
      assert.equal(req.iss, alice.info?.server_id);
      assert.equal(req.sub, issuer.getPublicKey());
      assert.equal(req.aud, "nats-authorization-request");
      assert.equal(req.nats.type, "authorization_request");
      assert.match(req.nats.user_nkey, /^U/);
      assert.equal(req.nats.client_info.name, "alice-app");
      assert.equal(req.nats.client_info.user, "alice");
      await Promise.all([alice.close(), watcher.close()]);
    } finally {
      await svc.stop();
      await srv.close();
    }
  });

  it("refuses what the service refuses, and everyone when no service answers", async () => {
    const issuer = createAccount();
    const srv = await startLattice(conf(issuer));
    try {
      const svc = await service(srv.url, issuer);
      await assert.rejects(
        connect({ servers: srv.url, user: "alice", pass: "wrong", reconnect: false }),
        refused,
      );
      await svc.stop();
      await assert.rejects(
        connect({ servers: srv.url, user: "alice", pass: "secret", reconnect: false }),
        refused,
      );
      // Auth users skip the callout, but still need their password.
      await assert.rejects(
        connect({ servers: srv.url, user: "auth", pass: "nope", reconnect: false }),
        refused,
      );
    } finally {
      await srv.close();
    }
  });

  it("refuses user JWTs from another issuer", async () => {
    const issuer = createAccount();
    const srv = await startLattice(conf(issuer));
    const svc = await service(srv.url, createAccount());
    try {
      await assert.rejects(
        connect({ servers: srv.url, user: "alice", pass: "secret", reconnect: false }),
        refused,
      );
    } finally {
      await svc.stop();
      await srv.close();
    }
  });

  it("encrypts requests to the service's xkey and accepts sealed responses", async () => {
    const issuer = createAccount();
    const xkp = createCurve();
    const srv = await startLattice(conf(issuer, { xkey: xkp.getPublicKey() }));
    const svc = await service(srv.url, issuer, xkp);
    try {
      const nc = await connect({ servers: srv.url, user: "alice", pass: "secret" });
      await nc.flush();
      await nc.close();
      assert.match(svc.requests[0].nats.server_id.xkey, /^X/);
    } finally {
      await svc.stop();
      await srv.close();
    }
  });

  it("checks the configuration as nats-server does", async () => {
    const issuer = createAccount().getPublicKey();
    const base = { accounts: { AUTH: { users: [{ user: "auth", password: "pwd" }] } } };
    await assert.rejects(
      startLattice({ ...base, authorization: { auth_callout: { auth_users: ["auth"] } } }),
      /Authorization callouts require an issuer to be specified/,
    );
    await assert.rejects(
      startLattice({ ...base, authorization: { auth_callout: { issuer } } }),
      /Authorization callouts require authorized users to be specified/,
    );
    await assert.rejects(
      startLattice({ ...base, authorization: { auth_callout: { issuer: "nope", auth_users: ["auth"] } } }),
      /Expected callout user to be a valid public account nkey/,
    );
    await assert.rejects(
      startLattice({
        ...base,
        authorization: { auth_callout: { issuer, auth_users: ["auth"], xkey: "bad" } },
      }),
      /Expected callout xkey to be a valid public xkey/,
    );
  });
});
