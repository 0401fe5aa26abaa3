// Certificate rotation on SIGHUP: lattice-server reads the certificate files again; new clients get the
// new certificate (client port, websocket and https monitoring) while established connections carry on.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection, type WsSocketFactory, wsconnect } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { type CertFiles, hasOpenssl, makeCerts } from "./certs.js";

const BIN = fileURLToPath(new URL("../../src/cli/lattice-server.js", import.meta.url));

type W3CWebSocket = Awaited<ReturnType<WsSocketFactory>>["socket"];

async function waitFor<T>(fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tlsClient(url: string, ca: string): Promise<NatsConnection> {
  return connect({ servers: url, tls: { caFile: ca }, reconnect: false });
}

function wssClient(url: string, ca: string): Promise<NatsConnection> {
  return wsconnect({
    servers: url,
    reconnect: false,
    wsFactory: async (u: string) => ({
      socket: new WebSocket(u, { ca: readFileSync(ca) }) as unknown as W3CWebSocket,
      encrypted: true,
    }),
  });
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      // A fresh connection each time (no keep-alive socket from before the reload).
      .get(url, { ca: readFileSync(ca), agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

/** Does a fresh client trusting only `ca` get in everywhere? */
async function trusted(ports: Record<string, string[]>, ca: string): Promise<boolean[]> {
  const tryIt = async (f: () => Promise<unknown>) => {
    try {
      const r = await f();
      if (r && typeof r === "object" && "close" in r) await (r as NatsConnection).close();
      return true;
    } catch {
      return false;
    }
  };
  return [
    await tryIt(() => tlsClient(ports.nats[0], ca)),
    await tryIt(() => wssClient(ports.websocket[0], ca)),
    await tryIt(() => httpsStatus(`${ports.monitoring[0]}/varz`, ca)),
  ];
}

describe("certificate reload on SIGHUP", { skip: !hasOpenssl() }, () => {
  let certs: CertFiles;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.remove());

  it("serves the new certificate to new clients and keeps established connections", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lattice-reload-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    const tlsBlock = `tls { cert_file: "${cert}", key_file: "${key}" }`;
    const conf = join(dir, "server.conf");
    writeFileSync(
      conf,
      `host: 127.0.0.1\nport: -1\nhttps: "127.0.0.1:-1"\nports_file_dir: "${dir}"\n${tlsBlock}\n` +
        `websocket { host: 127.0.0.1, port: -1, ${tlsBlock} }\n`,
    );
    const child = spawn("node", [BIN, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    try {
      const portsFile = join(dir, `nats-server_${child.pid}.ports`);
      const ports = await waitFor(() =>
        existsSync(portsFile) && readFileSync(portsFile, "utf8").length > 0
          ? (JSON.parse(readFileSync(portsFile, "utf8")) as Record<string, string[]>)
          : undefined,
      );
      assert.deepEqual(await trusted(ports, certs.ca), [true, true, true]);
      assert.deepEqual(await trusted(ports, certs.otherCa), [false, false, false]);
      const established = await tlsClient(ports.nats[0], certs.ca);
      const establishedWs = await wssClient(ports.websocket[0], certs.ca);
      let disconnects = 0;
      void (async () => {
        for await (const s of established.status()) if (s.type === "disconnect") disconnects++;
      })();

      copyFileSync(certs.rotatedServerCert, cert);
      copyFileSync(certs.rotatedServerKey, key);
      child.kill("SIGHUP");
      await waitFor(() => (log.includes("Reloaded server configuration") ? true : undefined));

      assert.deepEqual(await trusted(ports, certs.otherCa), [true, true, true]);
      assert.deepEqual(await trusted(ports, certs.ca), [false, false, false]);
      // The connections made before the reload still work, over their original sessions.
      const sub = establishedWs.subscribe("after.reload", { max: 1 });
      await establishedWs.flush();
      established.publish("after.reload", "still here");
      for await (const m of sub) assert.equal(m.string(), "still here");
      assert.equal(disconnects, 0);
      assert.equal(established.isClosed(), false);
      await established.close();
      await establishedWs.close();
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
