// A hub applies its leaf user's permissions to the leaf link. `publish` is what the leaf may send into the
// account, `subscribe` what it may receive: the hub announces interest to the leaf only where the leaf may
// publish, delivers to it only what it may receive, and answers a literal LS+ it may not receive with -ERR
// and a close; its second INFO hands the rules to the spoke (`export`/`import`), which applies them too.
// Checked on Lattice and nats-server 2.9.10 hubs, with Lattice and nats-server spokes.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jwtAuthenticator, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { RunningServer } from "../../src/index.js";
import { Operator, user } from "../auth/jwt-fixtures.js";
import { freePort, type NatsServerProcess, startNatsServerProcess } from "../helpers/nats-cluster.js";
import { hasNatsServer } from "../helpers/servers.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { Env, pinned, T } from "./helpers.js";
import { reachable } from "./leaf-traffic.js";

const LEAF_PERMISSIONS = {
  publish: { allow: ["up.>", "_INBOX.>"] },
  subscribe: { allow: ["down.>", "rpc.>", "svc.exact", "_INBOX.>"], deny: ["down.secret"] },
};

const APP = { user: "app", password: "pw" };
const LEAF = { user: "leaf", password: "pw", permissions: LEAF_PERMISSIONS };

/** The hub's account A, with the leaf user among its client users (the form nats-server accepts). */
function latticeHubConfig(leafPort: number | string = "127.0.0.1:-1") {
  return { server_name: "hub", accounts: { A: { users: [APP, LEAF] } }, leafnodes: { listen: leafPort } };
}

const NATS_HUB_ACCOUNTS = `accounts { A { users [
  { user: app, password: pw }
  { user: leaf, password: pw, permissions ${JSON.stringify(LEAF_PERMISSIONS)} }
] } }`;

/** Whether a message published on `subject` by `from` reaches `to`'s subscription on `pattern`. */
async function arrives(
  from: NatsConnection,
  to: NatsConnection,
  pattern: string,
  subject: string,
): Promise<boolean> {
  let got = false;
  const sub = to.subscribe(pattern, {
    callback: () => {
      got = true;
    },
  });
  await to.flush();
  await sleep(250); // interest crosses the link, when it may
  from.publish(subject, "x");
  await from.flush();
  await sleep(250);
  sub.unsubscribe();
  await to.flush();
  return got;
}

/** What the permissions let through between a hub client and a leaf client (the link must stay up). */
async function checkFiltering(hub: NatsConnection, leaf: NatsConnection, queueExact: boolean): Promise<void> {
  // From the leaf: only what it may publish, whatever the hub's clients listen to.
  assert.equal(await arrives(leaf, hub, "up.>", "up.a"), true, "leaf -> hub up.a");
  assert.equal(await arrives(leaf, hub, ">", "side.a"), false, "leaf -> hub side.a (hub on >)");
  assert.equal(await arrives(leaf, hub, "side.a", "side.a"), false, "leaf -> hub side.a (literal)");
  // To the leaf: only what it may receive.
  assert.equal(await arrives(hub, leaf, "down.a", "down.a"), true, "hub -> leaf down.a");
  assert.equal(await arrives(hub, leaf, "down.>", "down.secret"), false, "hub -> leaf down.secret");
  assert.equal(await arrives(hub, leaf, "side.b", "side.b"), false, "hub -> leaf side.b");
  // Request-reply both ways (the replies ride on _INBOX.>, which the leaf may publish and receive).
  const answer = (who: string) => ({
    callback: (_e: Error | null, m: Msg) => {
      m.respond(`${who}:${m.string()}`);
    },
  });
  const service = leaf.subscribe("rpc.echo", answer("leaf"));
  const hubService = hub.subscribe("up.svc", answer("hub"));
  await Promise.all([leaf.flush(), hub.flush()]);
  await reachable(hub, "rpc.echo", "the leaf's service");
  await reachable(leaf, "up.svc", "the hub's service");
  assert.equal((await hub.request("rpc.echo", "1", { timeout: 2000 })).string(), "leaf:1");
  assert.equal((await leaf.request("up.svc", "2", { timeout: 2000 })).string(), "hub:2");
  service.unsubscribe();
  hubService.unsubscribe();
  if (queueExact) {
    // nats-server #6281: a queue subscription on a subject allowed exactly still reaches the hub.
    const member = leaf.subscribe("svc.exact", { queue: "workers", ...answer("q") });
    await leaf.flush();
    await reachable(hub, "svc.exact", "the leaf's queue member on an exactly allowed subject");
    assert.equal((await hub.request("svc.exact", "", { timeout: 2000 })).string(), "q:");
    member.unsubscribe();
  }
}

/** A spoke's registered link to its hub. */
function spokeLink(spoke: RunningServer) {
  const c = spoke.server.leafnodes?.remoteLinks[0]?.connection;
  return c?.registered && !c.closed ? c : undefined;
}

function latticeSpokeConfig(hubLeafPort: number) {
  return {
    server_name: "spoke",
    leafnodes: { reconnect: "250ms", remotes: [{ url: `nats-leaf://leaf:pw@127.0.0.1:${hubLeafPort}` }] },
  };
}

/** A hand-made spoke: CONNECT as the leaf user, then collect what the hub says. */
class RawSpoke {
  text = "";
  closed = false;
  private readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect({ host: "127.0.0.1", port });
    this.socket.on("data", (d) => {
      this.text += d.toString();
    });
    this.socket.on("close", () => {
      this.closed = true;
    });
    this.socket.on("error", () => {});
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** The JSON of the hub's INFO that follows the CONNECT (`connect_info`). */
  boundInfo(): Record<string, unknown> | undefined {
    for (const m of this.text.matchAll(/^INFO (.*)\r$/gm)) {
      const info = JSON.parse(m[1]!) as Record<string, unknown>;
      if (info.connect_info === true) return info;
    }
    return undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Raw-protocol behaviour every hub must show: the rules in INFO, interest filtered, a bad LS+ refused. */
async function checkHubProtocol(leafPort: number, app: NatsConnection): Promise<void> {
  // Hub clients on `>` and on a literal the leaf may not publish to.
  app.subscribe(">", { callback: () => {} });
  app.subscribe("side.lit", { callback: () => {} });
  await app.flush();
  const raw = new RawSpoke(leafPort);
  try {
    await waitFor(() => raw.text.startsWith("INFO "), { what: "the hub's INFO" });
    raw.send('CONNECT {"user":"leaf","pass":"pw","name":"raw","protocol":1,"headers":true}');
    await waitFor(() => raw.boundInfo() !== undefined, { what: "the INFO after CONNECT" });
    const info = raw.boundInfo()!;
    assert.deepEqual(info.export, LEAF_PERMISSIONS.publish);
    assert.deepEqual(info.import, LEAF_PERMISSIONS.subscribe);
    assert.equal(info.remote_account, "A");
    await waitFor(() => /^LS\+ >\r$/m.test(raw.text), {
      what: "LS+ > (it covers what the leaf may publish)",
    });
    await sleep(100);
    assert.doesNotMatch(raw.text, /^LS\+ side\.lit/m, "no interest the leaf may not publish to");
    raw.send("LS+ down.ok");
    raw.send("LS+ down.>");
    raw.send("LS+ side.x");
    await waitFor(() => raw.closed, { what: "the hub to close the link" });
    assert.match(raw.text, /-ERR 'Permissions Violation for Subscription to "side\.x"'\r\n/);
  } finally {
    raw.close();
  }
}

describe("the hub enforces the leaf user's permissions", () => {
  it("Lattice hub: the rules in INFO, filtered interest, a refused LS+", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server(latticeHubConfig());
      const app = await env.client(hub, { user: "app", pass: "pw" });
      await checkHubProtocol(hub.server.leafnodes!.port, app);
    } finally {
      await env.close();
    }
  });

  it(
    "Lattice hub drops messages the leaf may not publish, even from a spoke that sends them",
    T,
    async () => {
      const env = new Env(pinned);
      try {
        const hub = await env.server(latticeHubConfig());
        const app = await env.client(hub, { user: "app", pass: "pw" });
        const got: string[] = [];
        app.subscribe(">", {
          callback: (_e, m) => {
            got.push(m.subject);
          },
        });
        await app.flush();
        const raw = new RawSpoke(hub.server.leafnodes!.port);
        try {
          await waitFor(() => raw.text.startsWith("INFO "));
          raw.send('CONNECT {"user":"leaf","pass":"pw","name":"raw","protocol":1,"headers":true}');
          await waitFor(() => raw.boundInfo() !== undefined);
          raw.send("LMSG side.y 2\r\nno");
          raw.send("LMSG up.z 2\r\nok");
          await waitFor(() => got.includes("up.z"), { what: "the permitted message" });
          await sleep(100);
          assert.deepEqual(got, ["up.z"]);
        } finally {
          raw.close();
        }
      } finally {
        await env.close();
      }
    },
  );

  it("Lattice hub, Lattice spoke: pub/sub and request-reply filtered both ways", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server(latticeHubConfig());
      const spoke = await env.server(latticeSpokeConfig(hub.server.leafnodes!.port));
      await waitFor(() => spokeLink(spoke) !== undefined, { what: "the link" });
      const link = spokeLink(spoke);
      const hubNc = await env.client(hub, { user: "app", pass: "pw" });
      await checkFiltering(hubNc, await env.client(spoke), true);
      assert.equal(spokeLink(spoke), link, "the link stayed up");
    } finally {
      await env.close();
    }
  });

  it("leafnodes.authorization users with permissions (a Lattice addition)", T, async () => {
    const env = new Env(pinned);
    try {
      const hub = await env.server({
        server_name: "hub",
        accounts: { A: { users: [APP] } },
        leafnodes: {
          listen: "127.0.0.1:-1",
          authorization: { users: [{ ...LEAF, account: "A" }] },
        },
      });
      const spoke = await env.server(latticeSpokeConfig(hub.server.leafnodes!.port));
      await waitFor(() => spokeLink(spoke) !== undefined, { what: "the link" });
      assert.deepEqual(spokeLink(spoke)!.remoteInfo?.export, LEAF_PERMISSIONS.publish);
      const hubNc = await env.client(hub, { user: "app", pass: "pw" });
      const leafNc = await env.client(spoke);
      assert.equal(await arrives(leafNc, hubNc, ">", "side.a"), false);
      assert.equal(await arrives(leafNc, hubNc, ">", "up.a"), true);
      assert.equal(await arrives(hubNc, leafNc, "down.>", "down.secret"), false);
      assert.equal(await arrives(hubNc, leafNc, "down.>", "down.a"), true);
    } finally {
      await env.close();
    }
  });

  it("the permissions of a user JWT the leaf connects with (operator mode hub)", T, async () => {
    const env = new Env(pinned);
    try {
      const op = await Operator.create();
      const a = await op.account("A");
      const leafUser = await user(a.kp, {
        pub: LEAF_PERMISSIONS.publish,
        sub: LEAF_PERMISSIONS.subscribe,
      });
      const app = await user(a.kp);
      const hub = await env.server({
        server_name: "hub",
        ...op.config(),
        leafnodes: { listen: "127.0.0.1:-1" },
      });
      const creds = join(env.dir("leaf-jwt-"), "leaf.creds");
      writeFileSync(creds, leafUser.creds);
      const spoke = await env.server({
        server_name: "spoke",
        leafnodes: {
          reconnect: "250ms",
          remotes: [{ url: `nats-leaf://127.0.0.1:${hub.server.leafnodes!.port}`, credentials: creds }],
        },
      });
      await waitFor(() => spokeLink(spoke) !== undefined, { what: "the link" });
      assert.deepEqual(spokeLink(spoke)!.remoteInfo?.import, LEAF_PERMISSIONS.subscribe);
      const hubNc = await env.client(hub, { authenticator: jwtAuthenticator(app.jwt, app.seed) });
      await checkFiltering(hubNc, await env.client(spoke), true);
    } finally {
      await env.close();
    }
  });

  describe("with nats-server 2.9.10", { skip: !hasNatsServer() && "nats-server is not installed" }, () => {
    async function natsHub(): Promise<{ hub: NatsServerProcess; leafPort: number }> {
      const leafPort = await freePort();
      const hub = await startNatsServerProcess({
        name: "ns-hub",
        conf: `${NATS_HUB_ACCOUNTS}\nleafnodes { listen: "127.0.0.1:${leafPort}" }`,
      });
      return { hub, leafPort };
    }

    it("nats-server hub: the same rules in INFO, filtered interest and refused LS+", T, async () => {
      const env = new Env(pinned);
      let hub: NatsServerProcess | undefined;
      try {
        const ns = await natsHub();
        hub = ns.hub;
        const app = await env.client(hub.url, { user: "app", pass: "pw" });
        await checkHubProtocol(ns.leafPort, app);
      } finally {
        await env.close();
        await hub?.close();
      }
    });

    it("nats-server hub, Lattice spoke: filtered both ways, the link stays up", T, async () => {
      const env = new Env(pinned);
      let hub: NatsServerProcess | undefined;
      try {
        const ns = await natsHub();
        hub = ns.hub;
        const spoke = await env.server(latticeSpokeConfig(ns.leafPort));
        await waitFor(() => spokeLink(spoke) !== undefined, { what: "the link" });
        const link = spokeLink(spoke);
        const hubNc = await env.client(hub.url, { user: "app", pass: "pw" });
        await checkFiltering(hubNc, await env.client(spoke), true);
        assert.equal(spokeLink(spoke), link, "the link stayed up");
      } finally {
        await env.close();
        await hub?.close();
      }
    });

    it("Lattice hub, nats-server spoke: filtered both ways", T, async () => {
      const env = new Env(pinned);
      let spoke: NatsServerProcess | undefined;
      try {
        const hub = await env.server(latticeHubConfig());
        spoke = await startNatsServerProcess({
          name: "ns-spoke",
          conf: `leafnodes { remotes [ { url: "nats-leaf://leaf:pw@127.0.0.1:${hub.server.leafnodes!.port}" } ] }`,
        });
        const links = () => [...hub.server.leafnodes!.connections].filter((c) => c.registered && !c.closed);
        await waitFor(() => links().length === 1, { timeoutMs: 8000, what: "the nats-server spoke" });
        const link = links()[0];
        const hubNc = await env.client(hub, { user: "app", pass: "pw" });
        // 2.9.10 checks a queue subscription's "subject queue" against the rules (nats-server #6281):
        // its queue member on svc.exact never reaches the hub, so that case is left out here.
        await checkFiltering(hubNc, await env.client(spoke.url), false);
        assert.equal(links()[0], link, "the link stayed up");
      } finally {
        await env.close();
        await spoke?.close();
      }
    });
  });
});
