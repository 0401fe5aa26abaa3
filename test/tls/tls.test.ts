import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type EmbeddedOptions, type RunningServer, startServer } from "../../src/index.js";
import { RawClient } from "../helpers/servers.js";
import { type CertFiles, hasOpenssl, makeCerts } from "./certs.js";

type Info = Record<string, unknown>;

function infoOf(text: string): Info {
  const m = /^INFO (\{.*\})\r\n/.exec(text);
  assert.ok(m, `no INFO in ${JSON.stringify(text)}`);
  return JSON.parse(m[1]) as Info;
}

async function until(pred: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lastClosedReason(s: RunningServer): string | undefined {
  const list = s.server.closed.list();
  return list[list.length - 1]?.closeReason;
}

async function getJson(s: RunningServer, path: string): Promise<Record<string, unknown>> {
  const base = s.server.listenerUrls().monitoring?.[0];
  assert.ok(base, "monitoring is not on");
  return (await (await fetch(`${base}${path}`)).json()) as Record<string, unknown>;
}

/** A TLS connection by hand, after reading the plain-text INFO (or straight away for TLS-first). */
function tlsConnect(port: number, opts: tls.ConnectionOptions & { first?: boolean }): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, "127.0.0.1");
    const upgrade = () => {
      const s = tls.connect({ socket: raw, servername: "localhost", ...opts }, () => resolve(s));
      s.once("error", reject);
    };
    raw.once("error", reject);
    if (opts.first) raw.once("connect", upgrade);
    else raw.once("data", upgrade);
  });
}

describe("client TLS", { skip: !hasOpenssl() && "openssl is not installed", concurrency: false }, () => {
  let certs: CertFiles;
  let serverTls: Record<string, unknown>;
  before(() => {
    certs = makeCerts();
    serverTls = { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca };
  });
  after(() => certs.remove());

  async function withServer(config: EmbeddedOptions, fn: (s: RunningServer) => Promise<void>): Promise<void> {
    const s = await startServer(config);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  it("connects over TLS and reports the session in INFO, /varz and /connz", async () => {
    await withServer({ tls: serverTls, http: "127.0.0.1:-1" }, async (s) => {
      const nc = await connect({ servers: s.url, name: "tls-1", tls: { caFile: certs.ca } });
      try {
        assert.equal(nc.info?.tls_required, true);
        assert.equal(nc.info?.tls_verify, undefined);
        const sub = nc.subscribe("t.>", { max: 1 });
        nc.publish("t.1", "hello");
        for await (const m of sub) assert.equal(m.string(), "hello");
        const varz = await getJson(s, "/varz");
        assert.equal(varz.tls_required, true);
        assert.equal(varz.tls_timeout, 2);
        assert.equal(varz.auth_timeout, 3);
        const connz = (await getJson(s, "/connz")) as { connections: Info[] };
        const c = connz.connections.find((x) => x.name === "tls-1");
        assert.equal(c?.tls_version, "1.3");
        assert.match(String(c?.tls_cipher_suite), /^TLS_/);
      } finally {
        await nc.close();
      }
    });
  });

  it("sends INFO in plain text, then refuses a client that does not start TLS", async () => {
    await withServer({ tls: serverTls }, async (s) => {
      const c = await RawClient.connect(s.port);
      const info = infoOf(c.text());
      assert.equal(info.tls_required, true);
      assert.equal(typeof info.client_id, "number");
      c.write("CONNECT {}\r\nPING\r\n");
      const text = await c.settle(200);
      assert.ok(c.closed, "connection left open");
      assert.ok(!text.includes("PONG"), text);
      await until(() => lastClosedReason(s) === "TLS Handshake Failure");
    });
  });

  it("gives up on a client that never completes the handshake (tls.timeout)", async () => {
    await withServer({ tls: { ...serverTls, timeout: 0.3 } }, async (s) => {
      const c = await RawClient.connect(s.port);
      const started = Date.now();
      await c.waitFor(() => false, 2000);
      assert.ok(c.closed);
      assert.ok(Date.now() - started < 1500, `closed after ${Date.now() - started}ms`);
      await until(() => lastClosedReason(s) === "TLS Handshake Failure");
    });
  });

  it("fails for a client that does not trust the server's CA", async () => {
    await withServer({ tls: serverTls }, async (s) => {
      await assert.rejects(
        connect({ servers: s.url, reconnect: false }),
        /unable to verify the first certificate/,
      );
      await assert.rejects(connect({ servers: s.url, reconnect: false, tls: { caFile: certs.otherCa } }));
    });
  });

  it("verify requires a client certificate signed by the configured CA", async () => {
    await withServer({ tls: { ...serverTls, verify: true }, http: "127.0.0.1:-1" }, async (s) => {
      const nc = await connect({
        servers: s.url,
        tls: { caFile: certs.ca, certFile: certs.aliceCert, keyFile: certs.aliceKey },
      });
      assert.equal(nc.info?.tls_verify, true);
      await nc.flush();
      await nc.close();
      assert.equal((await getJson(s, "/varz")).tls_verify, true);

      await assert.rejects(connect({ servers: s.url, reconnect: false, tls: { caFile: certs.ca } }));
      await until(() => lastClosedReason(s) === "TLS Handshake Failure");
      await assert.rejects(
        connect({
          servers: s.url,
          reconnect: false,
          tls: { caFile: certs.ca, certFile: certs.malloryCert, keyFile: certs.malloryKey },
        }),
      );
      assert.equal(s.server.clients.size, 0);
    });
  });

  it("handshake_first: TLS before INFO", async () => {
    await withServer({ tls: { ...serverTls, handshake_first: true } }, async (s) => {
      const nc = await connect({ servers: s.url, tls: { handshakeFirst: true, caFile: certs.ca } });
      assert.equal(nc.info?.tls_required, true);
      await nc.flush();
      await nc.close();
      // A client waiting for INFO in plain text waits in vain.
      const raw = net.connect(s.port, "127.0.0.1");
      let got = "";
      raw.on("data", (d) => {
        got += d.toString();
      });
      raw.on("error", () => {});
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(got, "");
      raw.destroy();
      // TLS first by hand: INFO arrives encrypted.
      const t = await tlsConnect(s.port, { first: true, ca: readFileSync(certs.ca) });
      const line = await new Promise<string>((resolve) => t.once("data", (d) => resolve(d.toString())));
      assert.equal(infoOf(line).tls_required, true);
      t.destroy();
    });
  });

  it("handshake_first auto: falls back to INFO first for other clients", async () => {
    await withServer({ tls: { ...serverTls, handshake_first: "auto" } }, async (s) => {
      const first = await connect({ servers: s.url, tls: { handshakeFirst: true, caFile: certs.ca } });
      const classic = await connect({ servers: s.url, tls: { caFile: certs.ca } });
      await first.flush();
      await classic.flush();
      await first.close();
      await classic.close();
    });
  });

  it("allow_non_tls: plain-text and TLS clients on one port", async () => {
    await withServer({ tls: serverTls, allow_non_tls: true }, async (s) => {
      const c = await RawClient.connect(s.port);
      const info = infoOf(c.text());
      assert.equal(info.tls_available, true);
      assert.equal(info.tls_required, undefined);
      c.write('CONNECT {"verbose":false}\r\nPING\r\n');
      assert.match(await c.waitFor((t) => t.includes("PONG")), /PONG/);

      const secure = await connect({ servers: s.url, name: "secure", tls: { caFile: certs.ca } });
      const plain = await connect({ servers: s.url, name: "plain", tls: null });
      await secure.flush();
      await plain.flush();
      const byName = (n: string) => [...s.server.clients.values()].find((x) => x.connect?.name === n);
      assert.ok(byName("secure")?.transport.tls, "secure client is not on TLS");
      assert.equal(byName("plain")?.transport.tls, undefined);
      const sub = plain.subscribe("mixed", { max: 1 });
      secure.publish("mixed", "across");
      for await (const m of sub) assert.equal(m.string(), "across");
      await secure.close();
      await plain.close();
    });
  });

  it("verify_and_map: the certificate names the user, with its permissions", async () => {
    const config = {
      tls: { ...serverTls, verify_and_map: true },
      http: "127.0.0.1:-1",
      authorization: {
        users: [
          {
            user: "alice@example.com",
            permissions: { publish: ["alice.>"], subscribe: ["alice.>", "_INBOX.>"] },
          },
          { user: "CN=bob,OU=dev,O=Lattice,DC=example,DC=org" },
        ],
      },
    };
    await withServer(config, async (s) => {
      const alice = await connect({
        servers: s.url,
        name: "alice",
        tls: { caFile: certs.ca, certFile: certs.aliceCert, keyFile: certs.aliceKey },
      });
      assert.equal(alice.info?.auth_required, true);
      const bob = await connect({
        servers: s.url,
        name: "bob",
        tls: { caFile: certs.ca, certFile: certs.bobCert, keyFile: certs.bobKey },
      });
      const sub = alice.subscribe("alice.in", { max: 1 });
      await alice.flush();
      bob.publish("alice.in", "hi alice");
      for await (const m of sub) assert.equal(m.string(), "hi alice");

      const errors: string[] = [];
      (async () => {
        for await (const st of alice.status()) if (st.type === "error") errors.push(String(st.error));
      })();
      alice.publish("bob.in", "denied");
      await alice.flush();
      await until(() => errors.some((e) => /Permissions Violation for Publish to "bob.in"/.test(e)));

      const connz = (await getJson(s, "/connz?auth=true")) as { connections: Info[] };
      const users = connz.connections.map((c) => c.authorized_user).sort();
      assert.deepEqual(users, ["CN=bob,OU=dev,O=Lattice,DC=example,DC=org", "alice@example.com"]);
      await alice.close();
      await bob.close();
    });
  });

  it("verify_and_map: refuses a trusted certificate that maps to no user", async () => {
    const config = {
      tls: { ...serverTls, verify_and_map: true },
      authorization: { users: [{ user: "alice@example.com" }] },
    };
    await withServer(config, async (s) => {
      await assert.rejects(
        connect({
          servers: s.url,
          reconnect: false,
          user: "alice@example.com",
          tls: { caFile: certs.ca, certFile: certs.bobCert, keyFile: certs.bobKey },
        }),
        /Authorization Violation/i,
      );
      await until(() => lastClosedReason(s) === "Authentication Failure");
    });
  });

  it("pinned_certs: only the pinned client keys get in", async () => {
    const aliceKey = new X509Certificate(readFileSync(certs.aliceCert)).publicKey.export({
      type: "spki",
      format: "der",
    });
    const pin = createHash("sha256").update(aliceKey).digest("hex");
    await withServer({ tls: { ...serverTls, verify: true, pinned_certs: [pin] } }, async (s) => {
      let nc: NatsConnection | undefined = await connect({
        servers: s.url,
        tls: { caFile: certs.ca, certFile: certs.aliceCert, keyFile: certs.aliceKey },
      });
      await nc.close();
      nc = undefined;
      await assert.rejects(
        connect({
          servers: s.url,
          reconnect: false,
          tls: { caFile: certs.ca, certFile: certs.bobCert, keyFile: certs.bobKey },
        }),
      );
    });
  });

  it("connection_rate_limit: throttles new TLS connections in plain text", async () => {
    await withServer({ tls: { ...serverTls, connection_rate_limit: 1 } }, async (s) => {
      const ok = await tlsConnect(s.port, { ca: readFileSync(certs.ca) });
      const c = await RawClient.connect(s.port);
      // A TLS record header is enough to count as a TLS client.
      c.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
      const text = await c.settle(200);
      assert.match(text, /-ERR 'Connection throttling is active. Please try again later.'\r\n$/);
      ok.destroy();
    });
  });

  it("certs: picks the certificate by the name the client asks for", async () => {
    const config = {
      tls: {
        certs: [
          { cert_file: certs.serverCert, key_file: certs.serverKey },
          { cert_file: certs.otherServerCert, key_file: certs.otherServerKey },
        ],
      },
    };
    await withServer(config, async (s) => {
      const ca = readFileSync(certs.ca);
      for (const [servername, cn] of [
        ["other.test", "other.test"],
        ["localhost", "localhost"],
        ["unknown.test", "localhost"],
      ]) {
        const t = await tlsConnect(s.port, { ca, servername, rejectUnauthorized: false });
        assert.equal(t.getPeerCertificate().subject.CN, cn, servername);
        t.destroy();
      }
    });
  });

  it("auth timeout defaults to the TLS timeout plus one second", async () => {
    const config = { tls: { ...serverTls, timeout: 1.5 }, authorization: { user: "u", password: "p" } };
    await withServer(config, async (s) => {
      assert.equal(s.server.authenticator?.timeoutMs, 2500);
    });
  });

  it("refuses to start with a certificate file that does not exist", async () => {
    const missing = `${certs.dir}/missing.pem`;
    await assert.rejects(
      startServer({ tls: { cert_file: missing, key_file: certs.serverKey } }),
      (err: Error) => err.message.includes(missing),
    );
  });
});
