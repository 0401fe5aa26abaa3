import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeAccount, encodeUser } from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { transformSubject } from "../../src/accounts/imports.js";
import { isRevoked, sourceAllowed, tightest, timeWindowEnd } from "../../src/auth/jwt-authenticator.js";
import {
  decodeAccountJwt,
  decodeJwt,
  decodeUserJwt,
  extractJwt,
  JwtError,
  validityProblem,
} from "../../src/auth/jwt-claims.js";

describe("subject transforms for imports", () => {
  it("maps wildcards positionally, by $N and {{wildcard(N)}}, and literals as they are", () => {
    assert.equal(transformSubject("a.b", "a.b", "x.y"), "x.y");
    assert.equal(transformSubject("a.1.2", "a.*.*", "x.*.*"), "x.1.2");
    assert.equal(transformSubject("a.1.2", "a.*.*", "x.$2.$1"), "x.2.1");
    assert.equal(transformSubject("a.1.2", "a.*.*", "x.{{wildcard(2)}}.{{ wildcard(1) }}"), "x.2.1");
    assert.equal(transformSubject("a.b.c.d", "a.>", "x.>"), "x.b.c.d");
    assert.equal(transformSubject("svc.q", "svc.>", "svc.>"), "svc.q");
    assert.equal(transformSubject("ask.time", "ask.>", "svc.>"), "svc.time");
  });
});

describe("JWT claim checks", () => {
  it("combines limits, where a negative limit means none", () => {
    assert.equal(tightest(-1, -1), -1);
    assert.equal(tightest(-1, 5, 10), 5);
    assert.equal(tightest(0, 5), 0);
  });

  it("checks source networks, IPv4-mapped IPv6 included", () => {
    assert.ok(sourceAllowed(["127.0.0.0/8"], "127.0.0.1"));
    assert.ok(sourceAllowed(["127.0.0.0/8"], "::ffff:127.0.0.1"));
    assert.ok(sourceAllowed(["192.0.2.7"], "192.0.2.7"));
    assert.ok(sourceAllowed(["2001:db8::/32"], "2001:db8::1"));
    assert.ok(!sourceAllowed(["10.0.0.0/8"], "127.0.0.1"));
    assert.ok(!sourceAllowed(["garbage", "10.0.0.0/99"], "10.0.0.1"));
    assert.ok(!sourceAllowed(["10.0.0.0/8"], undefined));
  });

  it("finds the end of the connect-time window in the user's time zone", () => {
    const noonUtc = Date.UTC(2024, 0, 1, 12, 0, 0);
    assert.equal(timeWindowEnd([{ start: "11:00:00", end: "13:00:00" }], "UTC", noonUtc), noonUtc + 3600_000);
    assert.equal(timeWindowEnd([{ start: "13:00:00", end: "14:00:00" }], "UTC", noonUtc), undefined);
    // A window over midnight.
    assert.equal(timeWindowEnd([{ start: "22:00:00", end: "13:00:00" }], "UTC", noonUtc), noonUtc + 3600_000);
    // 12:00 UTC is 13:00 in Paris (winter).
    assert.equal(
      timeWindowEnd([{ start: "12:30:00", end: "14:00:00" }], "Europe/Paris", noonUtc),
      noonUtc + 3600_000,
    );
    assert.equal(timeWindowEnd([{ start: "12:30:00", end: "14:00:00" }], "Not/AZone", noonUtc), undefined);
  });

  it("revokes by key or `*`, for tokens issued at or before the revocation", async () => {
    const op = createOperator();
    const acc = createAccount();
    const u = createUser();
    const claims = decodeAccountJwt(
      await encodeAccount("A", acc, { revocations: { [u.getPublicKey()]: 100, "*": 50 } }, { signer: op }),
    );
    assert.ok(isRevoked(claims, { subject: u.getPublicKey(), issuedAt: 100 }));
    assert.ok(!isRevoked(claims, { subject: u.getPublicKey(), issuedAt: 101 }));
    assert.ok(isRevoked(claims, { subject: "UOTHER", issuedAt: 50 }));
    assert.ok(!isRevoked(claims, { subject: "UOTHER", issuedAt: 51 }));
  });

  it("decodes version 2 limits as 0 when absent, and refuses wrong types and tampering", async () => {
    const op = createOperator();
    const acc = createAccount();
    const a = decodeAccountJwt(await encodeAccount("A", acc, { limits: { conn: 3 } }, { signer: op }));
    assert.equal(a.version, 2);
    assert.deepEqual([a.limits.conn, a.limits.subs, a.limits.payload], [3, 0, 0]);
    assert.equal(a.jetstream, undefined);
    const js = decodeAccountJwt(
      await encodeAccount(
        "A",
        acc,
        { limits: { tiered_limits: { R1: { disk_storage: 1024 } } } },
        { signer: op },
      ),
    );
    assert.equal(js.jetstream?.tiers.R1.diskStorage, 1024);
    const ujwt = await encodeUser("U", createUser(), acc, { src: ["10.0.0.0/8"] });
    const u = decodeUserJwt(ujwt);
    assert.deepEqual(u.src, ["10.0.0.0/8"]);
    assert.equal(u.issuer, acc.getPublicKey());
    assert.throws(() => decodeAccountJwt(ujwt), JwtError);
    assert.throws(() => decodeUserJwt(a.jwt), JwtError);
    assert.throws(() => decodeJwt(`${ujwt.slice(0, -4)}AAAA`), JwtError);
    assert.throws(() => decodeJwt(42), JwtError);
    assert.equal(validityProblem({ ...u, expires: 10 }, 20_000), "expired");
    assert.equal(validityProblem({ ...u, notBefore: 30 }, 20_000), "not yet valid");
    assert.equal(validityProblem(u, Date.now()), undefined);
  });

  it("finds the JWT inside creds and decorated files", async () => {
    const jwt = await encodeUser("U", createUser(), createAccount());
    assert.equal(
      extractJwt(`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\nrest`),
      jwt,
    );
    assert.equal(extractJwt(`  ${jwt}\n`), jwt);
  });
});
