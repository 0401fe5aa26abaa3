// Auth callout in operator mode: the account JWT's `authorization` claims send users authenticating into
// it (with a shared sentinel JWT) to its service, which places them in an allowed account.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode, encodeAuthorizationResponse, encodeUser } from "@nats-io/jwt";
import { createAccount, fromPublic, type KeyPair } from "@nats-io/nkeys";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import { startLattice } from "../helpers/servers.js";
import { Operator, type TestAccount, user } from "./jwt-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: request claims are arbitrary JSON
type Json = Record<string, any>;

const refused = (err: unknown) => /authorization violation/i.test(String((err as Error)?.message ?? err));

async function setup() {
  const op = await Operator.create({ system: true });
  const app = await op.account("APP");
  const other = await op.account("OTHER");
  // The AUTH account names its service user as auth user, and APP as the only account it may place users in.
  const authKp = createAccount();
  const service = await user(authKp, {}, { name: "service" });
  const auth: TestAccount = { kp: authKp, key: authKp.getPublicKey(), jwt: "" };
  auth.jwt = await op.reissue(auth, "AUTH", {
    authorization: { auth_users: [service.kp.getPublicKey()], allowed_accounts: [app.key] },
  } as never);
  op.accounts.set("AUTH", auth);
  const sentinel = await user(authKp, { bearer_token: true, pub: { deny: [">"] }, sub: { deny: [">"] } });
  return { op, app, other, auth, service, sentinel };
}

/** Accepts clients named "alice" into `place` (signing the user with `signer`), refuses the others. */
async function runService(
  url: string,
  svc: { jwt: string; seed: Uint8Array },
  auth: KeyPair,
  place: KeyPair,
) {
  const nc = await connect({ servers: url, authenticator: jwtAuthenticator(svc.jwt, svc.seed) });
  const requests: Json[] = [];
  const sub = nc.subscribe("$SYS.REQ.USER.AUTH");
  void (async () => {
    for await (const m of sub) {
      const req = decode<Json>(m.string()) as unknown as Json;
      requests.push(req);
      const userNkey = req.nats.user_nkey as string;
      const data: Json = {};
      if (req.nats.connect_opts.name === "alice") {
        data.jwt = await encodeUser("alice", fromPublic(userNkey), place, {
          pub: { allow: ["app.>"] },
          sub: { allow: ["app.>", "_INBOX.>"] },
        });
      } else {
        data.error = "who are you";
      }
      m.respond(
        await encodeAuthorizationResponse(
          fromPublic(userNkey),
          fromPublic(req.nats.server_id.id),
          auth,
          data,
          {},
        ),
      );
    }
  })();
  await nc.flush();
  return { nc, requests };
}

describe("auth callout in operator mode", () => {
  it("places sentinel users where the account's service says", async () => {
    const { op, app, other, auth, service, sentinel } = await setup();
    const srv = await startLattice(op.config());
    const svc = await runService(srv.url, service, auth.kp, app.kp);
    try {
      const appUser = await user(app.kp);
      const watcher = await connect({
        servers: srv.url,
        authenticator: jwtAuthenticator(appUser.jwt, appUser.seed),
      });
      const seen = watcher.subscribe("app.hi", { max: 1 });
      await watcher.flush();
      const alice = await connect({
        servers: srv.url,
        name: "alice",
        authenticator: jwtAuthenticator(sentinel.jwt),
      });
      alice.publish("app.hi", "from alice");
      for await (const m of seen) assert.equal(m.string(), "from alice");
      assert.equal(svc.requests[0].sub, auth.key);
      await assert.rejects(
        connect({
          servers: srv.url,
          name: "mallory",
          authenticator: jwtAuthenticator(sentinel.jwt),
          reconnect: false,
        }),
        refused,
      );
      await Promise.all([alice.close(), watcher.close()]);
    } finally {
      await svc.nc.close();
      await srv.close();
    }
    // A service placing users in an account it is not allowed to: refused.
    const srv2 = await startLattice(op.config());
    const svc2 = await runService(srv2.url, service, auth.kp, other.kp);
    try {
      await assert.rejects(
        connect({
          servers: srv2.url,
          name: "alice",
          authenticator: jwtAuthenticator(sentinel.jwt),
          reconnect: false,
        }),
        refused,
      );
    } finally {
      await svc2.nc.close();
      await srv2.close();
    }
  });
});
