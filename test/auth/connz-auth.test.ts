// /connz?auth=true identity fields: authorized_user, account, jwt, issuer_key, name_tag, tags and
// tls_peer_certs; JWT users compared with the reference nats-server 2.9.10 when installed.
import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { connect, jwtAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { hasNatsServer, startLattice, startNatsServer } from "../helpers/servers.js";
import { hasOpenssl, makeCerts } from "../tls/certs.js";
import { Operator, user } from "./jwt-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: monitoring replies are arbitrary JSON
type Json = Record<string, any>;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function connzOf(base: string, nc: NatsConnection): Promise<Json> {
  const cid = nc.info?.client_id;
  const r = (await (await fetch(`${base}/connz?auth=true&cid=${cid}`)).json()) as Json;
  return r.connections[0] as Json;
}

const AUTH_FIELDS = ["authorized_user", "account", "jwt", "issuer_key", "name_tag", "tags"];

function pick(c: Json): Json {
  return Object.fromEntries(AUTH_FIELDS.filter((k) => k in c).map((k) => [k, c[k]]));
}

describe("/connz?auth=true", () => {
  it("reports JWT users as nats-server does", async () => {
    const op = await Operator.create({ system: true });
    const a = await op.account("A", { tags: ["team:blue"] });
    const u = await user(a.kp, { tags: ["role:web", "zone:eu"] }, { name: "webuser" });
    const probe = async (url: string, monitor: string) => {
      const nc = await connect({ servers: url, authenticator: jwtAuthenticator(u.jwt, u.seed) });
      try {
        return pick(await connzOf(monitor, nc));
      } finally {
        await nc.close();
      }
    };
    const port = await freePort();
    const conf = { ...op.config(), http_port: port };
    const srv = await startLattice(conf);
    let ours: Json;
    try {
      ours = await probe(srv.url, `http://127.0.0.1:${port}`);
    } finally {
      await srv.close();
    }
    assert.deepEqual(ours, {
      authorized_user: u.kp.getPublicKey(),
      account: a.key,
      jwt: u.jwt,
      issuer_key: a.key,
      name_tag: "webuser",
      tags: ["role:web", "zone:eu"],
    });
    if (!hasNatsServer()) return;
    const refPort = await freePort();
    const ref = await startNatsServer(
      JSON.stringify({ ...op.config(), http: `127.0.0.1:${refPort}` }, null, 1).slice(1, -1),
    );
    try {
      assert.deepEqual(ours, await probe(ref.url, `http://127.0.0.1:${refPort}`));
    } finally {
      await ref.close();
    }
  });

  it("names users and accounts, hides tokens, and only with auth=true", async () => {
    const port = await freePort();
    const srv = await startLattice({
      http_port: port,
      accounts: { A: { users: [{ user: "alice", password: "pw" }] } },
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      const nc = await connect({ servers: srv.url, user: "alice", pass: "pw" });
      const c = await connzOf(base, nc);
      assert.equal(c.authorized_user, "alice");
      assert.equal(c.account, "A");
      assert.equal(c.jwt, undefined);
      const plain = ((await (await fetch(`${base}/connz`)).json()) as Json).connections[0] as Json;
      assert.equal(plain.authorized_user, undefined);
      assert.equal(plain.account, undefined);
      await nc.close();
    } finally {
      await srv.close();
    }
    const tport = await freePort();
    const tsrv = await startLattice({ http_port: tport, authorization: { token: "s3cr3t" } });
    try {
      const nc = await connect({ servers: tsrv.url, token: "s3cr3t" });
      const c = await connzOf(`http://127.0.0.1:${tport}`, nc);
      assert.equal(c.authorized_user, "[REDACTED]");
      assert.ok(!JSON.stringify(c).includes("s3cr3t"));
      await nc.close();
    } finally {
      await tsrv.close();
    }
  });

  it("lists the client certificate in tls_peer_certs", { skip: !hasOpenssl() }, async () => {
    const certs = makeCerts();
    const port = await freePort();
    const srv = await startLattice({
      http_port: port,
      tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca, verify: true },
    });
    try {
      const nc = await connect({
        servers: srv.url,
        tls: { caFile: certs.ca, certFile: certs.aliceCert, keyFile: certs.aliceKey },
      });
      const c = await connzOf(`http://127.0.0.1:${port}`, nc);
      assert.equal(c.tls_peer_certs.length, 1);
      assert.match(c.tls_peer_certs[0].subject, /CN=alice/);
      assert.match(c.tls_peer_certs[0].spki_sha256, /^[0-9a-f]{64}$/);
      assert.match(c.tls_peer_certs[0].cert_sha256, /^[0-9a-f]{64}$/);
      await nc.close();
    } finally {
      await srv.close();
      certs.remove();
    }
  });
});
