// lattice init: a wasmCloud lattice's streams and buckets in wadm's current layout. (Its event stream sources
// with subject transforms, which need a 2.10+ server: nats-server 2.9.10 is not a reference here.)

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { lattice, latticeTarget, type Target } from "./harness.js";

describe("lattice init", () => {
  let targets: Target[] = [];
  before(async () => {
    targets = [await latticeTarget()];
  });
  after(async () => {
    for (const t of targets) await t.close();
  });

  it("creates wadm's current layout and the host's buckets, and is idempotent", async () => {
    for (const t of targets) {
      const r = await lattice(["-s", t.url, "init", "--lattice", "prod", "--json"]);
      assert.equal(r.code, 0, `${t.name}: ${r.stderr}`);
      const created = JSON.parse(r.stdout) as { resources: { kind: string; name: string; action: string }[] };
      const names = created.resources.map((x) => x.name);
      for (const n of [
        "wadm_commands",
        "wadm_events",
        "wadm_status",
        "wadm_notify",
        "wasmbus_events",
        "wadm_event_consumer",
      ])
        assert.ok(names.includes(n), `${t.name}: ${n}`);
      for (const b of ["LATTICEDATA_prod", "CONFIGDATA_prod", "wadm_state", "wadm_manifests"])
        assert.ok(names.includes(b));
      assert.ok(
        created.resources.every((x) => x.action === "created"),
        `${t.name}: all new`,
      );

      const nc = await connect({ servers: t.url });
      try {
        const jsm = await jetstreamManager(nc);
        const cmds = await jsm.streams.info("wadm_commands");
        assert.equal(cmds.config.retention, "workqueue");
        assert.equal(cmds.config.max_age, 70_000_000_000);
        const status = await jsm.streams.info("wadm_status");
        assert.equal(status.config.max_msgs_per_subject, 10);
        assert.equal(status.config.allow_direct, true);
        const consumer = await jsm.streams.info("wadm_event_consumer");
        assert.deepEqual(consumer.config.sources?.map((s) => s.name).sort(), [
          "wadm_events",
          "wasmbus_events",
        ]);
        const kv = await jsm.streams.info("KV_LATTICEDATA_prod");
        assert.equal(kv.config.max_msgs_per_subject, 1);
        assert.equal(kv.config.allow_direct, true);
      } finally {
        await nc.close();
      }

      const again = await lattice(["-s", t.url, "init", "--lattice", "prod", "--json"]);
      assert.equal(again.code, 0, again.stderr);
      const second = JSON.parse(again.stdout) as { resources: { action: string }[] };
      assert.ok(
        second.resources.every((x) => x.action === "exists"),
        `${t.name}: nothing recreated`,
      );
    }
  });

  it("refuses a bad layout or lattice name with a usage error", async () => {
    const t = targets[0]!;
    assert.equal((await lattice(["-s", t.url, "init", "--layout", "old"])).code, 2);
    assert.equal((await lattice(["-s", t.url, "init", "--lattice", "a.b"])).code, 2);
  });
});
