import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createUser } from "@nats-io/nkeys";
import { connect, nkeyAuthenticator } from "@nats-io/transport-node";
import bcrypt from "bcryptjs";
import { RawClient, startLattice } from "../helpers/servers.js";

const dec = new TextDecoder();

function isAuthError(err: unknown): boolean {
  return /authorization violation/i.test(String((err as Error)?.message ?? err));
}

describe("authentication", () => {
  it("accepts the right user/password and refuses a wrong one", async () => {
    const srv = await startLattice({ authorization: { user: "app", password: "s3cret" } });
    try {
      const nc = await connect({ servers: srv.url, user: "app", pass: "s3cret" });
      await nc.flush();
      await nc.close();
      await assert.rejects(
        connect({ servers: srv.url, user: "app", pass: "nope", reconnect: false }),
        isAuthError,
      );
      await assert.rejects(connect({ servers: srv.url, reconnect: false }), isAuthError);
    } finally {
      await srv.close();
    }
  });

  it("checks bcrypt-hashed passwords", async () => {
    const hash = bcrypt.hashSync("pw", 4);
    const srv = await startLattice({ authorization: { users: [{ user: "b", password: hash }] } });
    try {
      const nc = await connect({ servers: srv.url, user: "b", pass: "pw" });
      await nc.close();
      await assert.rejects(
        connect({ servers: srv.url, user: "b", pass: "px", reconnect: false }),
        isAuthError,
      );
    } finally {
      await srv.close();
    }
  });

  it("accepts tokens", async () => {
    const srv = await startLattice({ authorization: { token: "t0k" } });
    try {
      const nc = await connect({ servers: srv.url, token: "t0k" });
      await nc.close();
      await assert.rejects(connect({ servers: srv.url, token: "bad", reconnect: false }), isAuthError);
    } finally {
      await srv.close();
    }
  });

  it("verifies nkey signatures of the nonce", async () => {
    const kp = createUser();
    const other = createUser();
    const srv = await startLattice({ authorization: { users: [{ nkey: kp.getPublicKey() }] } });
    try {
      const nc = await connect({ servers: srv.url, authenticator: nkeyAuthenticator(kp.getSeed()) });
      await nc.flush();
      await nc.close();
      await assert.rejects(
        connect({ servers: srv.url, authenticator: nkeyAuthenticator(other.getSeed()), reconnect: false }),
        isAuthError,
      );
    } finally {
      await srv.close();
    }
  });

  it("maps credential-less clients to no_auth_user", async () => {
    const srv = await startLattice({
      authorization: { users: [{ user: "anon", password: "x" }] },
      no_auth_user: "anon",
    });
    try {
      const nc = await connect({ servers: srv.url });
      await nc.flush();
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("closes a client that sends nothing before the auth timeout", async () => {
    const srv = await startLattice({ authorization: { user: "a", password: "b", timeout: 0.3 } });
    try {
      const raw = await RawClient.connect(srv.port);
      const text = await raw.waitFor(() => false, 1500);
      assert.match(text, /-ERR 'Authentication Timeout'\r\n$/);
      assert.ok(raw.closed);
    } finally {
      await srv.close();
    }
  });

  it("refuses operations before CONNECT when auth is required", async () => {
    const srv = await startLattice({ authorization: { user: "a", password: "b" } });
    try {
      const raw = await RawClient.connect(srv.port);
      raw.write("SUB foo 1\r\n");
      const text = await raw.settle(200);
      assert.match(text, /-ERR 'Authorization Violation'\r\n$/);
      assert.ok(raw.closed);
    } finally {
      await srv.close();
    }
  });
});

describe("permissions", () => {
  it("enforces publish and subscribe permissions with the exact errors", async () => {
    const srv = await startLattice({
      authorization: {
        users: [
          {
            user: "limited",
            password: "p",
            permissions: {
              publish: { allow: ["allowed.>"], deny: ["allowed.secret"] },
              subscribe: { allow: ["allowed.>", "_INBOX.>"], deny: ["allowed.hidden"] },
            },
          },
          { user: "admin", password: "p" },
        ],
      },
    });
    try {
      const errors: string[] = [];
      const nc = await connect({ servers: srv.url, user: "limited", pass: "p" });
      (async () => {
        for await (const s of nc.status()) {
          if (s.type === "error") errors.push(String((s as { error?: Error }).error?.message));
        }
      })();
      const admin = await connect({ servers: srv.url, user: "admin", pass: "p" });
      const seen: string[] = [];
      admin.subscribe(">", {
        callback: (_e, m) => {
          seen.push(m.subject);
        },
      });
      await admin.flush();
      nc.publish("allowed.x", "ok");
      nc.publish("allowed.secret", "denied");
      nc.publish("other", "denied");
      await nc.flush();
      const sub = nc.subscribe("forbidden.topic");
      await nc.flush();
      await assert.rejects(
        (async () => {
          for await (const _m of sub) break;
        })(),
      );
      await admin.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ["allowed.x"]);
      assert.ok(
        errors.some((e) => e.includes('Permissions Violation for Publish to "allowed.secret"')),
        errors.join("|"),
      );
      assert.ok(
        errors.some((e) => e.includes('Permissions Violation for Publish to "other"')),
        errors.join("|"),
      );
      await nc.close();
      await admin.close();
    } finally {
      await srv.close();
    }
  });

  it("drops deliveries that a wildcard subscription's deny rule covers", async () => {
    const srv = await startLattice({
      authorization: {
        users: [
          { user: "u", password: "p", permissions: { subscribe: { allow: [">"], deny: ["secret.>"] } } },
          { user: "pub", password: "p" },
        ],
      },
    });
    try {
      const nc = await connect({ servers: srv.url, user: "u", pass: "p" });
      const pub = await connect({ servers: srv.url, user: "pub", pass: "p" });
      const got: string[] = [];
      nc.subscribe("*.x", {
        callback: (_e, m) => {
          got.push(`${m.subject}=${dec.decode(m.data)}`);
        },
      });
      await nc.flush();
      pub.publish("public.x", "1");
      pub.publish("secret.x", "2");
      await pub.flush();
      await nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, ["public.x=1"]);
      await nc.close();
      await pub.close();
    } finally {
      await srv.close();
    }
  });
});
