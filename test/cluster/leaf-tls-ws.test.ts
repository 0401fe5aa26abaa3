// Leaf remotes over TLS and WebSocket: a Lattice spoke dialling a Lattice hub (tls://, ws://, wss://) and a
// nats-server 2.9.10 hub (tls://, ws://); a hub certificate from an unknown CA is refused and retried; the
// link comes back after the hub restarts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../../src/index.js";
import { freePort, type NatsServerProcess, startNatsServerProcess } from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { type CertFiles, hasOpenssl, makeCerts } from "../tls/certs.js";
import { Env, pinned, T } from "./helpers.js";
import { trafficBothWays } from "./leaf-traffic.js";

/** The spoke's link to its (first) hub, once registered. */
function link(spoke: RunningServer) {
  const c = spoke.server.leafnodes?.remoteLinks[0]?.connection;
  return c?.registered && !c.closed ? c : undefined;
}

async function linked(spoke: RunningServer, what: string): Promise<void> {
  await waitFor(() => link(spoke) !== undefined, { timeoutMs: 8000, intervalMs: 50, what });
}

function spokeConfig(remote: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { server_name: "spoke", ...extra, leafnodes: { reconnect: "250ms", remotes: [remote] } };
}

describe("leaf remotes over TLS and websocket", {
  skip: !hasOpenssl() && "needs the openssl command to make test certificates",
}, () => {
  let certs: CertFiles;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.remove());

  const hubTls = () => ({ cert_file: certs.serverCert, key_file: certs.serverKey });

  it("tls:// to a Lattice hub: the hub's certificate is checked against ca_file", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: hubTls() },
      });
      const url = `tls://127.0.0.1:${hub.server.leafnodes!.port}`;
      const spoke = await env.server(spokeConfig({ url, tls: { ca_file: certs.ca } }));
      await linked(spoke, "the TLS link");
      assert.equal(link(spoke)!.transport.tls?.version.startsWith("1."), true);
      const hubSide = [...hub.server.leafnodes!.connections][0]!;
      assert.ok(hubSide.transport.tls, "the hub's side is TLS too");
      await trafficBothWays(await env.client(hub), await env.client(spoke), "tls");
    } finally {
      await env.close();
    }
  });

  it("a plain nats-leaf:// URL follows the hub's tls_required (with the remote's tls block)", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: hubTls() },
      });
      const url = `nats-leaf://localhost:${hub.server.leafnodes!.port}`;
      const spoke = await env.server(spokeConfig({ url, tls: { ca_file: certs.ca } }));
      await linked(spoke, "the link upgraded on the hub's INFO");
      assert.ok(link(spoke)!.transport.tls);
      await trafficBothWays(await env.client(hub), await env.client(spoke), "upgrade");
    } finally {
      await env.close();
    }
  });

  it("handshake_first on both sides: TLS before the hub's INFO", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: { ...hubTls(), handshake_first: true } },
      });
      const url = `tls://127.0.0.1:${hub.server.leafnodes!.port}`;
      const spoke = await env.server(spokeConfig({ url, tls: { ca_file: certs.ca, handshake_first: true } }));
      await linked(spoke, "the TLS-first link");
      assert.ok(link(spoke)!.transport.tls);
      await trafficBothWays(await env.client(hub), await env.client(spoke), "first");
    } finally {
      await env.close();
    }
  });

  it("the remote's certificate for a hub that verifies clients; the hub's name is checked", T, async () => {
    const env = new Env(pinned);
    try {
      const logFile = join(env.dir("leaf-verify-"), "spoke.log");
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: { ...hubTls(), ca_file: certs.ca, verify: true } },
      });
      const port = hub.server.leafnodes!.port;
      const spoke = await env.server(
        spokeConfig({
          url: `tls://localhost:${port}`,
          tls: { ca_file: certs.ca, cert_file: certs.aliceCert, key_file: certs.aliceKey },
        }),
      );
      await linked(spoke, "the link with a client certificate");
      await trafficBothWays(await env.client(hub), await env.client(spoke), "verify");

      // A hub certificate made for another name is refused, whoever signed it.
      const other = await env.server({
        server_name: "other",
        leafnodes: {
          listen: "127.0.0.1:-1",
          tls: { cert_file: certs.otherServerCert, key_file: certs.otherServerKey },
        },
      });
      const misnamed = await env.server({
        server_name: "misnamed",
        log_file: logFile,
        leafnodes: {
          reconnect: "250ms",
          remotes: [{ url: `tls://127.0.0.1:${other.server.leafnodes!.port}`, tls: { ca_file: certs.ca } }],
        },
      });
      await waitFor(
        () => /TLS leafnode handshake error: x509: .*altnames/.test(readFileSync(logFile, "utf8")),
        {
          what: "the name mismatch in the log",
        },
      );
      assert.equal(link(misnamed), undefined);
    } finally {
      await env.close();
    }
  });

  it("insecure: a certificate from an unknown CA is accepted", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: hubTls() },
      });
      const url = `tls://127.0.0.1:${hub.server.leafnodes!.port}`;
      const spoke = await env.server(spokeConfig({ url, tls: { ca_file: certs.otherCa, insecure: true } }));
      await linked(spoke, "the unchecked TLS link");
    } finally {
      await env.close();
    }
  });

  it("ws:// and wss:// to a Lattice hub's /leafnode path", T, async () => {
    const env = new Env(pinned);
    try {
      const plainHub = await env.server({
        server_name: "ws-hub",
        leafnodes: { listen: "127.0.0.1:-1" },
        websocket: { host: "127.0.0.1", port: -1, no_tls: true, compression: true },
      });
      const wsUrl = plainHub.server.listenerUrls().websocket![0]!;
      const wsSpoke = await env.server(spokeConfig({ url: wsUrl, ws_compression: true }));
      await linked(wsSpoke, "the ws link");
      assert.equal(link(wsSpoke)!.transport.kind, "websocket");
      await trafficBothWays(await env.client(plainHub), await env.client(wsSpoke), "ws");

      const tlsHub = await env.server({
        server_name: "wss-hub",
        leafnodes: { listen: "127.0.0.1:-1" },
        websocket: { host: "127.0.0.1", port: -1, tls: hubTls() },
      });
      const wssUrl = tlsHub.server.listenerUrls().websocket![0]!;
      assert.match(wssUrl, /^wss:/);
      const wssSpoke = await env.server({
        ...spokeConfig({ url: wssUrl, tls: { ca_file: certs.ca } }),
        server_name: "wss-spoke",
      });
      await linked(wssSpoke, "the wss link");
      assert.ok(link(wssSpoke)!.transport.tls);
      await trafficBothWays(await env.client(tlsHub), await env.client(wssSpoke), "wss");
    } finally {
      await env.close();
    }
  });

  it("a hub certificate from an unknown CA is refused, logged and retried with back-off", T, async () => {
    const env = new Env(pinned);
    try {
      const dir = env.dir("leaf-bad-ca-");
      const logFile = join(dir, "spoke.log");
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1", tls: hubTls() },
      });
      const url = `tls://127.0.0.1:${hub.server.leafnodes!.port}`;
      const spoke = await env.server({
        server_name: "spoke",
        log_file: logFile,
        leafnodes: { reconnect: "1s", remotes: [{ url, tls: { ca_file: certs.otherCa } }] },
      });
      const refusals = () =>
        readFileSync(logFile, "utf8")
          .split("\n")
          .filter((l) =>
            l.includes("TLS leafnode handshake error: x509: certificate signed by unknown authority"),
          );
      const t0 = Date.now();
      await waitFor(() => refusals().length >= 3, { timeoutMs: 8000, what: "three refused handshakes" });
      const elapsed = Date.now() - t0;
      // Back-off: 250 ms doubling towards the 1 s reconnect interval, not a tight loop.
      assert.ok(elapsed >= 400, `three attempts took ${elapsed} ms`);
      await sleep(1000);
      assert.ok(refusals().length <= 6, `${refusals().length} attempts in about ${Date.now() - t0} ms`);
      assert.equal(link(spoke), undefined);
      assert.equal([...hub.server.leafnodes!.connections].filter((c) => c.registered).length, 0);
    } finally {
      await env.close();
    }
  });

  it("wss:// to a hub whose certificate comes from an unknown CA is refused and logged", T, async () => {
    const env = new Env(pinned);
    try {
      const logFile = join(env.dir("leaf-wss-bad-ca-"), "spoke.log");
      const hub = await env.server({
        server_name: "hub",
        leafnodes: { listen: "127.0.0.1:-1" },
        websocket: { host: "127.0.0.1", port: -1, tls: hubTls() },
      });
      const url = hub.server.listenerUrls().websocket![0]!;
      const spoke = await env.server({
        server_name: "spoke",
        log_file: logFile,
        leafnodes: { reconnect: "250ms", remotes: [{ url, tls: { ca_file: certs.otherCa } }] },
      });
      const refusals = () =>
        readFileSync(logFile, "utf8")
          .split("\n")
          .filter((l) =>
            l.includes("Error soliciting websocket connection: x509: certificate signed by unknown"),
          );
      await waitFor(() => refusals().length >= 2, { timeoutMs: 8000, what: "two refused wss handshakes" });
      assert.equal(link(spoke), undefined);
    } finally {
      await env.close();
    }
  });

  it("the TLS link comes back after the hub restarts", T, async () => {
    const env = new Env(pinned);
    try {
      const port = await freePort();
      const hubOptions = {
        server_name: "hub",
        leafnodes: { listen: `127.0.0.1:${port}`, tls: hubTls() },
      };
      let hub = await env.server(hubOptions);
      const spoke = await env.server(
        spokeConfig({ url: `tls://127.0.0.1:${port}`, tls: { ca_file: certs.ca } }),
      );
      await linked(spoke, "the first link");
      const first = link(spoke);
      await hub.close();
      await waitFor(() => link(spoke) === undefined, { what: "the link to drop" });
      hub = await env.server(hubOptions);
      await linked(spoke, "the link after the restart");
      assert.notEqual(link(spoke), first);
      await trafficBothWays(await env.client(hub), await env.client(spoke), "restart");
    } finally {
      await env.close();
    }
  });

  describe("a nats-server 2.9.10 hub", { skip: !hasNatsServer() && "nats-server is not installed" }, () => {
    it("tls:// with ca_file; the hub restarts and the link comes back", T, async () => {
      const env = new Env(pinned);
      let hub: NatsServerProcess | undefined;
      try {
        const port = await freePort();
        hub = await startNatsServerProcess({
          name: "ns-hub",
          conf: `leafnodes { listen: "127.0.0.1:${port}", tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" } }`,
        });
        const spoke = await env.server(
          spokeConfig({ url: `tls://127.0.0.1:${port}`, tls: { ca_file: certs.ca } }),
        );
        await linked(spoke, "the TLS link to nats-server");
        assert.ok(link(spoke)!.transport.tls);
        assert.equal(link(spoke)!.remoteName, "ns-hub");
        await trafficBothWays(await env.client(hub.url), await env.client(spoke), "nstls");

        const first = link(spoke);
        await hub.restart();
        await waitFor(() => link(spoke) !== undefined && link(spoke) !== first, {
          timeoutMs: 8000,
          what: "the link after nats-server restarted",
        });
        await trafficBothWays(await env.client(hub.url), await env.client(spoke), "nstls2");
      } finally {
        await env.close();
        await hub?.close();
      }
    });

    it("tls:// to a hub that verifies the spoke's certificate", T, async () => {
      const env = new Env(pinned);
      let hub: NatsServerProcess | undefined;
      try {
        const port = await freePort();
        hub = await startNatsServerProcess({
          name: "ns-verify-hub",
          conf: `leafnodes { listen: "127.0.0.1:${port}", tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true } }`,
        });
        const spoke = await env.server(
          spokeConfig({
            url: `tls://localhost:${port}`,
            tls: { ca_file: certs.ca, cert_file: certs.aliceCert, key_file: certs.aliceKey },
          }),
        );
        await linked(spoke, "the verified link to nats-server");
        await trafficBothWays(await env.client(hub.url), await env.client(spoke), "nsverify");
      } finally {
        await env.close();
        await hub?.close();
      }
    });

    it("ws:// to the hub's websocket port", T, async () => {
      const env = new Env(pinned);
      let hub: NatsServerProcess | undefined;
      try {
        const wsPort = await freePort();
        hub = await startNatsServerProcess({
          name: "ns-ws-hub",
          conf: [
            `leafnodes { listen: "127.0.0.1:-1" }`,
            `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: true }`,
          ].join("\n"),
        });
        const spoke = await env.server(
          spokeConfig({ url: `ws://127.0.0.1:${wsPort}`, ws_compression: true }),
        );
        await linked(spoke, "the ws link to nats-server");
        assert.equal(link(spoke)!.transport.kind, "websocket");
        await trafficBothWays(await env.client(hub.url), await env.client(spoke), "nsws");
      } finally {
        await env.close();
        await hub?.close();
      }
    });
  });
});
