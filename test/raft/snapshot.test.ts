// Snapshots: compaction behind the applied index, and followers too far behind installing the leader's.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Snapshot } from "../../src/raft/index.js";
import { bytes, cluster, newRaft, text } from "./helpers.js";

const ABC = ["a", "b", "c"];

describe("raft snapshots", () => {
  it("compaction drops entries up to the snapshot, keeping their last term", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.propose("a", "x");
    net.propose("a", "y");
    const a = net.node("a");
    assert.throws(() => a.snapshotMetaAt(a.log.lastIndex() + 1));
    const meta = a.snapshotMetaAt(2);
    assert.deepEqual(meta, { index: 2, term: 1, config: { voters: ABC, learners: [] } });
    a.compact(2, bytes("state@2"));
    assert.equal(a.log.firstIndex(), 3);
    assert.equal(a.log.term(2), 1);
    assert.equal(a.log.term(1), undefined);
  });

  it("cannot compact past what was applied", () => {
    const a = newRaft("a", ["a"], { terms: [1, 1] });
    assert.throws(() => a.compact(2, bytes("s")), /only applied/);
  });

  it("a follower behind the leader's snapshot installs it, then follows the log", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    net.propose("a", "y");
    const a = net.node("a");
    a.compact(3, bytes("state@3"));
    net.heal();
    net.tick(1);
    const c = net.node("c");
    const stored = net.stored.get("c")!;
    assert.equal(stored.snapshot?.meta.index, 3);
    assert.equal(text(stored.snapshot!.data), "state@3");
    assert.equal(c.log.committed, 3);
    assert.equal(c.log.applied, 3);
    net.propose("a", "z");
    assert.deepEqual(net.applied("c"), ["z"], "after the snapshot, entries are applied as usual");
  });

  it("a snapshot is persisted and applied through the Ready before it is acknowledged", () => {
    const c = newRaft("c", ABC);
    const snapshot: Snapshot = {
      meta: { index: 5, term: 2, config: { voters: ABC, learners: [] } },
      data: bytes("s"),
    };
    c.step({ type: "snapshot", from: "a", to: "c", term: 2, snapshot });
    const rd = c.ready();
    assert.equal(rd.snapshot, snapshot);
    assert.equal(rd.hardState?.commit, 5);
    const ack = rd.messages[0];
    assert.equal(ack?.type === "appendResponse" && ack.index, 5);
    c.advance(rd);
    assert.equal(c.log.lastIndex(), 5);
  });

  it("ignores a snapshot older than what it has committed", () => {
    const c = newRaft("c", ABC, {
      terms: [1, 1, 1],
      hardState: { term: 1, vote: "", commit: 3, logDamaged: false },
    });
    const snapshot: Snapshot = {
      meta: { index: 2, term: 1, config: { voters: ABC, learners: [] } },
      data: bytes("s"),
    };
    c.step({ type: "snapshot", from: "a", to: "c", term: 1, snapshot });
    const rd = c.ready();
    assert.equal(rd.snapshot, undefined);
    assert.equal(c.log.lastIndex(), 3);
    assert.equal(rd.messages[0]?.type === "appendResponse" && rd.messages[0].index, 3);
  });

  it("a snapshot matching its own log only advances the commit index", () => {
    const c = newRaft("c", ABC, {
      terms: [1, 1, 1, 1],
      hardState: { term: 1, vote: "", commit: 1, logDamaged: false },
    });
    const snapshot: Snapshot = {
      meta: { index: 3, term: 1, config: { voters: ABC, learners: [] } },
      data: bytes("s"),
    };
    c.step({ type: "snapshot", from: "a", to: "c", term: 1, snapshot });
    assert.equal(c.log.lastIndex(), 4, "entry 4 kept");
    assert.equal(c.log.committed, 3);
    assert.equal(c.ready().snapshot, undefined);
  });

  it("the leader resends a snapshot that was lost", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    net.node("a").compact(2, bytes("state@2"));
    net.heal();
    let dropped = 0;
    net.dropIf = (m) => m.type === "snapshot" && dropped++ === 0;
    net.tick(12);
    assert.equal(dropped, 2);
    assert.equal(net.stored.get("c")!.snapshot?.meta.index, 2);
    assert.equal(net.node("c").log.committed, 2);
  });
});
