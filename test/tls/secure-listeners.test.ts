// TLS on the other listeners: websocket `tls { }` (wss://, with verify) and monitoring over `https_port`
// with the client certificate.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import { after, before, describe, it } from "node:test";
import { type WsSocketFactory, wsconnect } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { startLattice } from "../helpers/servers.js";
import { type CertFiles, hasOpenssl, makeCerts } from "./certs.js";

type W3CWebSocket = Awaited<ReturnType<WsSocketFactory>>["socket"];

function wssConnect(url: string, ca: string, client?: { cert: string; key: string }) {
  return wsconnect({
    servers: url,
    reconnect: false,
    wsFactory: async (u: string) => ({
      socket: new WebSocket(u, {
        ca: readFileSync(ca),
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      }) as unknown as W3CWebSocket,
      encrypted: true,
    }),
  });
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(ca) }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("TLS on the websocket and monitoring listeners", { skip: !hasOpenssl() }, () => {
  let certs: CertFiles;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.remove());

  it("serves wss:// with the websocket tls block", async () => {
    const srv = await startLattice({
      websocket: {
        host: "127.0.0.1",
        port: -1,
        tls: { cert_file: certs.serverCert, key_file: certs.serverKey },
      },
    });
    try {
      const url = srv.server.listenerUrls().websocket?.[0];
      assert.match(url ?? "", /^wss:\/\/127\.0\.0\.1:\d+$/);
      const nc = await wssConnect(url!, certs.ca);
      const sub = nc.subscribe("q", { max: 1 });
      nc.publish("q", "over wss");
      for await (const m of sub) assert.equal(m.string(), "over wss");
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("requires a trusted client certificate on wss:// with verify", async () => {
    const srv = await startLattice({
      websocket: {
        host: "127.0.0.1",
        port: -1,
        tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.ca, verify: true },
      },
    });
    try {
      const url = srv.server.listenerUrls().websocket![0];
      await assert.rejects(wssConnect(url, certs.ca));
      await assert.rejects(wssConnect(url, certs.ca, { cert: certs.malloryCert, key: certs.malloryKey }));
      const nc = await wssConnect(url, certs.ca, { cert: certs.aliceCert, key: certs.aliceKey });
      await nc.flush();
      await nc.close();
    } finally {
      await srv.close();
    }
  });

  it("maps wss:// client certificates to users with verify_and_map", async () => {
    const srv = await startLattice({
      authorization: { users: [{ user: "alice@example.com" }, { user: "bob", password: "pw" }] },
      websocket: {
        host: "127.0.0.1",
        port: -1,
        tls: {
          cert_file: certs.serverCert,
          key_file: certs.serverKey,
          ca_file: certs.ca,
          verify_and_map: true,
        },
      },
    });
    try {
      const url = srv.server.listenerUrls().websocket![0];
      const nc = await wssConnect(url, certs.ca, { cert: certs.aliceCert, key: certs.aliceKey });
      await nc.flush();
      const users = [...srv.server.clients.values()].map((c) => c.user);
      assert.deepEqual(users, ["alice@example.com"]);
      const tlsInfo = [...srv.server.clients.values()][0].transport.tls;
      assert.match(tlsInfo?.version ?? "", /^1\.[23]$/);
      await nc.close();
      // bob's certificate names no configured user.
      await assert.rejects(wssConnect(url, certs.ca, { cert: certs.bobCert, key: certs.bobKey }));
    } finally {
      await srv.close();
    }
  });

  it("refuses websocket without tls unless no_tls", async () => {
    await assert.rejects(startLattice({ websocket: { port: -1 } }), /websocket requires TLS configuration/);
  });

  it("serves monitoring on https_port with the client certificate", async () => {
    const srv = await startLattice({
      https_port: -1,
      tls: { cert_file: certs.serverCert, key_file: certs.serverKey },
    });
    try {
      const base = srv.server.listenerUrls().monitoring?.[0];
      assert.match(base ?? "", /^https:\/\/127\.0\.0\.1:\d+$/);
      const r = await httpsGet(`${base}/varz`, certs.ca);
      assert.equal(r.status, 200);
      const varz = JSON.parse(r.body) as Record<string, unknown>;
      assert.equal(varz.http_port, 0);
      assert.equal(varz.https_port, Number(new URL(base!).port));
    } finally {
      await srv.close();
    }
  });

  it("refuses https_port without TLS, or with http_port", async () => {
    await assert.rejects(startLattice({ https_port: -1 }), /TLS cert and key required for HTTPS/);
    await assert.rejects(
      startLattice({
        http_port: 8222,
        https_port: 8223,
        tls: { cert_file: certs.serverCert, key_file: certs.serverKey },
      }),
      /can't specify both HTTP \(8222\) and HTTPs \(8223\) ports/,
    );
  });
});
