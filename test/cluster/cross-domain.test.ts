// JetStream across leaf nodes by domain: a KV bucket on a leaf mirrors one in the hub's domain through
// `$JS.<domain>.API` (a push consumer at the hub, deliveries crossing the leaf link with their stream subject).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { startServer } from "../../src/index.js";
import { waitFor } from "../helpers/wait.js";

describe("JetStream across domains", () => {
  it("mirrors a hub bucket into a leaf's domain, across deleted sequences and live updates", async () => {
    const dirs = [mkdtempSync(join(tmpdir(), "xd-hub-")), mkdtempSync(join(tmpdir(), "xd-leaf-"))];
    const hub = await startServer({
      server_name: "HUB",
      jetstream: { domain: "HUB", store_dir: dirs[0] },
      leafnodes: { listen: "127.0.0.1:-1" },
    });
    const leaf = await startServer({
      server_name: "LEAF",
      jetstream: { domain: "LEAF", store_dir: dirs[1] },
      leafnodes: { remotes: [{ url: `nats-leaf://127.0.0.1:${hub.server.leafnodes!.port}` }] },
    });
    const nc = await connect({ servers: hub.url });
    const lnc = await connect({ servers: leaf.url });
    try {
      await waitFor(() => [...leaf.server.leafnodes!.connections].some((l) => l.registered), {
        what: "the leaf link",
      });
      const kv = await new Kvm(jetstream(nc)).create("TEST");
      await kv.put("name", "derek");
      await kv.put("age", "22");
      await kv.put("v", "v");
      await kv.delete("v"); // the origin now has sequences 1, 2 and 4

      await new Kvm(jetstream(lnc)).create("MIRROR", { mirror: { name: "TEST", domain: "HUB" } });
      const jsm = await jetstreamManager(lnc);
      await waitFor(async () => (await jsm.streams.info("KV_MIRROR")).state.messages === 3, {
        timeoutMs: 5000,
        what: "the mirror to catch up",
      });
      const info = await jsm.streams.info("KV_MIRROR");
      assert.equal(info.state.last_seq, 4, "a mirror keeps the origin's sequences");
      assert.equal(info.mirror?.error, undefined);

      await kv.put("name", "rip");
      await waitFor(async () => (await jsm.streams.info("KV_MIRROR")).state.last_seq === 5, {
        timeoutMs: 5000,
        what: "a live update to reach the mirror",
      });
      const last = await jsm.streams.getMessage("KV_MIRROR", { last_by_subj: "$KV.TEST.name" });
      assert.equal(last?.string(), "rip");
      // A client binding to the mirror bucket (create reads its config) sees the origin's keys.
      const mirror = await new Kvm(jetstream(lnc)).create("MIRROR");
      assert.equal((await mirror.get("name"))?.string(), "rip");
      assert.equal((await mirror.get("age"))?.string(), "22");
    } finally {
      await nc.close();
      await lnc.close();
      await leaf.close();
      await hub.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
