// The same operator-mode scenarios against Lattice and the reference nats-server 2.9.10 (skipped when it
// is not installed): each ends in the same outcome (connected, or the same error text).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAccount, createUser } from "@nats-io/nkeys";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import {
  hasNatsServer,
  RawClient,
  startLattice,
  startNatsServer,
  type TestServer,
} from "../helpers/servers.js";
import { nowSeconds, Operator, user, withHeader } from "./jwt-fixtures.js";

type Probe = (url: string) => Promise<string>;

/** Connects, optionally does something, and describes what happened in words both servers must share. */
async function outcome(
  url: string,
  jwt: string,
  seed?: Uint8Array,
  act?: (nc: Awaited<ReturnType<typeof connect>>) => Promise<string>,
): Promise<string> {
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({ servers: url, authenticator: jwtAuthenticator(jwt, seed), reconnect: false });
  } catch (err) {
    return `refused: ${(err as Error).message}`;
  }
  try {
    return act ? await act(nc) : "connected";
  } finally {
    await nc.close().catch(() => {});
  }
}

/**
 * CONNECT over a raw socket: the -ERR text, or "ok". (nats-server may close before a client finished
 * writing, and nats.js then reports the broken pipe rather than the error line.)
 */
async function rawOutcome(url: string, jwt: string): Promise<string> {
  const raw = await RawClient.connect(Number(new URL(url).port));
  raw.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, jwt })}\r\nPING\r\n`);
  const text = await raw.waitFor((t) => t.includes("PONG") || t.includes("-ERR"), 2000);
  raw.close();
  return /-ERR '([^']*)'/.exec(text)?.[1] ?? (text.includes("PONG") ? "ok" : "nothing");
}

function confText(conf: Record<string, unknown>): string {
  const json = JSON.stringify(conf, null, 1);
  return json.slice(1, -1);
}

async function both(conf: Record<string, unknown>, probe: Probe): Promise<[string, string]> {
  const lattice = await startLattice(conf);
  let ours: string;
  try {
    ours = await probe(lattice.url);
  } finally {
    await lattice.close();
  }
  const ref: TestServer = await startNatsServer(confText(conf));
  try {
    return [ours, await probe(ref.url)];
  } finally {
    await ref.close();
  }
}

describe("operator mode matches nats-server 2.9.10", { skip: !hasNatsServer() }, () => {
  it("in who may connect", async () => {
    const op = await Operator.create();
    const a = await op.account("A");
    const strict = await op.account("S", {
      limits: { conn: -1, subs: -1, payload: -1, disallow_bearer: true },
    });
    const noLimits = await op.account("N", { limits: {} });
    const sk = createAccount();
    const scoped = await op.account("SC", {
      signing_keys: [
        { kind: "user_scope", key: sk.getPublicKey(), role: "r", template: { subs: -1, payload: -1 } },
      ],
    });
    const cases: Array<[string, Probe]> = [];
    const add = (name: string, p: Probe) => cases.push([name, p]);
    const valid = await user(a.kp);
    add("valid", (u) => outcome(u, valid.jwt, valid.seed));
    add("wrong seed", (u) => outcome(u, valid.jwt, createUser().getSeed()));
    add("no signature", (u) => outcome(u, valid.jwt));
    const bearer = await user(a.kp, { bearer_token: true });
    add("bearer", (u) => outcome(u, bearer.jwt));
    const sb = await user(strict.kp, { bearer_token: true });
    add("disallowed bearer", (u) => outcome(u, sb.jwt));
    const expired = await user(a.kp, { bearer_token: true }, { exp: nowSeconds() - 10 });
    add("expired", (u) => outcome(u, expired.jwt));
    const nl = await user(noLimits.kp, { bearer_token: true });
    add("account without limits", (u) => rawOutcome(u, nl.jwt));
    const src = await user(a.kp, { bearer_token: true, src: ["192.0.2.0/24"] });
    add("source network", (u) => outcome(u, src.jwt));
    const ws = await user(a.kp, { bearer_token: true, allowed_connection_types: ["WEBSOCKET"] });
    add("websocket only", (u) => outcome(u, ws.jwt));
    const scopedPerms = await user(
      sk,
      { bearer_token: true, pub: { allow: ["x"], deny: [] } },
      { issuerAccount: scoped.key },
    );
    add("scoped user with permissions", (u) => outcome(u, scopedPerms.jwt));
    const scopedOk = await user(sk, {}, { issuerAccount: scoped.key, scoped: true });
    add("scoped user", (u) => outcome(u, scopedOk.jwt, scopedOk.seed));
    const scopedLimits = await user(sk, {}, { issuerAccount: scoped.key });
    add("scoped user with -1 limits", (u) => outcome(u, scopedLimits.jwt, scopedLimits.seed));
    add("HS256 header", (u) => outcome(u, withHeader(valid.jwt, { typ: "JWT", alg: "HS256" }), valid.seed));
    const stranger = await user(createAccount(), { bearer_token: true });
    add("unknown account", (u) => outcome(u, stranger.jwt));
    const conf = op.config();
    for (const [name, probe] of cases) {
      const [ours, theirs] = await both(conf, probe);
      assert.equal(ours, theirs, name);
    }
  });

  it("in limits and permissions once connected", async () => {
    const op = await Operator.create();
    const a = await op.account("A", {
      limits: { conn: 1, subs: 1, payload: 64 },
      default_permissions: { pub: { allow: ["p.>"], deny: [] } },
    });
    const u = await user(a.kp, { bearer_token: true });
    const probe: Probe = (url) =>
      outcome(url, u.jwt, undefined, async (nc) => {
        const errors: string[] = [];
        (async () => {
          for await (const s of nc.status())
            if (s.type === "error") errors.push(String((s.error as Error).message));
        })().catch(() => {});
        const second = await rawOutcome(url, u.jwt);
        nc.subscribe("one");
        nc.subscribe("two");
        nc.publish("p.ok");
        nc.publish("q.no");
        await nc.flush();
        await new Promise((r) => setTimeout(r, 200));
        return JSON.stringify({ second, max_payload: nc.info?.max_payload, errors: errors.sort() });
      });
    const [ours, theirs] = await both(op.config(), probe);
    assert.equal(ours, theirs);
  });
});
