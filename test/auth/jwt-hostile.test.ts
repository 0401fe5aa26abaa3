// Hostile CONNECTs against an operator-mode server: each ends with a clear error (or nats-server's silent
// close for JSON that is not JSON) and a closed connection, and the server keeps serving.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import { RawClient, startLattice } from "../helpers/servers.js";
import { Operator, user } from "./jwt-fixtures.js";

async function session(port: number, lines: string): Promise<{ text: string; closed: boolean }> {
  const raw = await RawClient.connect(port);
  raw.write(lines);
  const text = await raw.settle(150);
  const closed = raw.closed;
  raw.close();
  return { text: text.slice(text.indexOf("\r\n") + 2), closed };
}

function connectLine(fields: Record<string, unknown>): string {
  return `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, ...fields })}\r\nPING\r\n`;
}

/** Change the signature's first character: every bit of it counts (the last one may be padding bits). */
function tamperSignature(jwt: string): string {
  const dot = jwt.lastIndexOf(".") + 1;
  const c = jwt[dot] === "A" ? "B" : "A";
  return jwt.slice(0, dot) + c + jwt.slice(dot + 1);
}

describe("operator mode: hostile input", () => {
  it("closes on malformed CONNECT JSON, wrong field types, garbage JWTs and ops before CONNECT", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const good = await user(a.kp, { bearer_token: true });
    const srv = await startLattice(op.config({ max_control_line: 1024 * 1024 }));
    try {
      const port = srv.port;
      const violation = "-ERR 'Authorization Violation'";
      // Not JSON at all: closed without a word, as nats-server does.
      let r = await session(port, 'CONNECT {"jwt": "abc", \r\nPING\r\n');
      assert.equal(r.closed, true);
      assert.ok(!r.text.includes("PONG"));
      for (const jwt of [
        5,
        { a: 1 },
        ["x"],
        null,
        "",
        "a.b",
        "a.b.c.d",
        "...",
        "e30.e30.e30",
        "eyJ0eXAiOiJKV1QifQ.e30.AAAA",
      ]) {
        r = await session(port, connectLine({ jwt }));
        assert.equal(r.closed, true, JSON.stringify(jwt));
        assert.ok(r.text.includes(violation), `${JSON.stringify(jwt)}: ${r.text}`);
      }
      // A user JWT whose body is deeply nested JSON.
      const deep = `${Buffer.from('{"typ":"JWT","alg":"ed25519-nkey"}').toString("base64url")}.${Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`).toString("base64url")}.AAAA`;
      r = await session(port, connectLine({ jwt: deep }));
      assert.ok(r.text.includes(violation));
      // A huge one.
      r = await session(port, connectLine({ jwt: `${"A".repeat(400_000)}.B.C` }));
      assert.ok(r.text.includes(violation));
      // Random bytes and random base64url in the three parts.
      for (let i = 0; i < 50; i++) {
        const part = () => randomBytes(1 + (i % 40) * 7).toString(i % 2 ? "base64url" : "latin1");
        r = await session(port, connectLine({ jwt: `${part()}.${part()}.${part()}`, sig: part() }));
        assert.equal(r.closed, true);
        assert.ok(r.text.includes(violation), r.text);
      }
      // Before CONNECT nothing else is accepted.
      r = await session(port, "PUB foo 1\r\nx\r\n");
      assert.ok(r.text.includes(violation));
      // A valid user still gets in.
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(good.jwt) });
      await nc.flush();
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("refuses a CONNECT longer than max_control_line with nats-server's error", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const srv = await startLattice(op.config());
    try {
      const u = await user(a.kp, {
        bearer_token: true,
        pub: { allow: Array.from({ length: 400 }, (_, i) => `subject.${i}`), deny: [] },
      });
      const r = await session(srv.port, connectLine({ jwt: u.jwt }));
      assert.equal(r.closed, true);
      assert.match(r.text, /-ERR 'maximum control line exceeded'/);
    } finally {
      await srv.close();
    }
  });

  it("answers garbage claim updates with an error and keeps the account as it was", async () => {
    const op = await Operator.create({ system: true });
    const a = await op.account("A");
    const srv = await startLattice(op.config());
    try {
      const su = await user(op.system!.kp, { bearer_token: true });
      const sys = await connect({ servers: srv.url, authenticator: jwtAuthenticator(su.jwt) });
      for (const body of [
        "",
        "{}",
        "x".repeat(300_000),
        tamperSignature(a.jwt),
        randomBytes(100).toString("latin1"),
      ]) {
        const r = await sys.request(`$SYS.REQ.ACCOUNT.${a.key}.CLAIMS.UPDATE`, body, { timeout: 2000 });
        assert.ok(r.json<{ error?: { code: number } }>().error, body.slice(0, 20));
      }
      // An update for a subject that is not an account key.
      const r = await sys.request("$SYS.REQ.ACCOUNT.nonsense.CLAIMS.UPDATE", a.jwt, { timeout: 2000 });
      assert.ok(r.json<{ error?: unknown }>().error);
      const u = await user(a.kp, { bearer_token: true });
      const nc = await connect({ servers: srv.url, authenticator: jwtAuthenticator(u.jwt) });
      await nc.close();
      await sys.close();
    } finally {
      await srv.close();
    }
  });
});
