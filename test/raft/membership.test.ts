// Membership: one change per entry, in force once in the log; learners catch up before they vote.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyConfChange, type ConfChange, encodeConfEntry, makeConfig } from "../../src/raft/index.js";
import { bytes, cluster, ELECTION, newRaft, type TestNet } from "./helpers.js";

const ABC = ["a", "b", "c"];

function change(net: TestNet, leader: string, cc: ConfChange): void {
  const result = net.node(leader).proposeConfChange(cc);
  if (!result.ok) throw new Error(result.error);
  net.settle();
}

describe("raft membership changes", () => {
  it("adds a learner that receives the log but neither votes nor counts for commits", () => {
    const net = cluster(["a", "b"]);
    net.add(newRaft("l", [], { initialConfig: makeConfig([]) }));
    net.campaign("a");
    change(net, "a", { type: "addLearner", node: "l" });
    net.propose("a", "x");
    assert.deepEqual(net.applied("l"), ["x"]);
    assert.deepEqual(net.node("l").status().config, { voters: ["a", "b"], learners: ["l"] });
    // Without b, a and the learner are no quorum.
    net.isolate("b");
    const index = net.node("a").propose(bytes("y"));
    net.settle();
    assert.ok(index.ok && net.node("a").log.committed < index.index);
    // A learner never campaigns.
    net.isolate("a");
    net.tick(3 * ELECTION, ["l"]);
    assert.equal(net.node("l").currentRole, "follower");
    assert.equal(net.node("l").currentTerm, 1);
  });

  it("promotes a learner once it has caught up, after which it counts", () => {
    const net = cluster(["a", "b"]);
    net.add(newRaft("l", [], { initialConfig: makeConfig([]) }));
    net.campaign("a");
    net.isolate("l");
    change(net, "a", { type: "addLearner", node: "l" });
    net.propose("a", "x");
    const refused = net.node("a").proposeConfChange({ type: "promote", node: "l" });
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? "" : refused.error, /not caught up/);
    net.heal();
    net.tick(1);
    change(net, "a", { type: "promote", node: "l" });
    assert.deepEqual(net.node("l").status().config.voters, ["a", "b", "l"]);
    net.isolate("b");
    net.propose("a", "y");
    assert.deepEqual(net.applied("l"), ["x", "y"], "a and l are a quorum of three");
  });

  it("allows one uncommitted change at a time", () => {
    const net = cluster(ABC);
    net.add(newRaft("d", [], { initialConfig: makeConfig([]) }));
    net.campaign("a");
    net.isolate("b");
    net.isolate("c");
    assert.ok(net.node("a").proposeConfChange({ type: "addLearner", node: "d" }).ok);
    const second = net.node("a").proposeConfChange({ type: "remove", node: "c" });
    assert.equal(second.ok, false);
  });

  it("refuses changes before the leader committed an entry of its term", () => {
    const a = newRaft("a", ABC, { preVote: false });
    a.campaign();
    a.advance(a.ready());
    a.step({ type: "voteResponse", from: "b", to: "a", term: 1, reject: false });
    assert.equal(a.currentRole, "leader");
    const result = a.proposeConfChange({ type: "remove", node: "c" });
    assert.equal(result.ok, false);
  });

  it("removing a voter shrinks the quorum; the leader cannot remove itself", () => {
    const net = cluster(ABC);
    net.campaign("a");
    assert.equal(net.node("a").proposeConfChange({ type: "remove", node: "a" }).ok, false);
    change(net, "a", { type: "remove", node: "c" });
    net.isolate("c");
    net.isolate("b");
    const result = net.node("a").propose(bytes("x"));
    net.settle();
    assert.ok(result.ok && net.node("a").log.committed < result.index, "a alone is not a quorum of a, b");
    net.heal();
    net.isolate("c");
    net.tick(1);
    assert.deepEqual(net.applied("a"), ["x"], "a and b are");
  });

  it("a configuration is in force once appended, and reverts if its entry is replaced", () => {
    const b = newRaft("b", ABC, {
      terms: [1],
      hardState: { term: 1, vote: "", commit: 1, logDamaged: false },
    });
    const config = applyConfChange(makeConfig(ABC), { type: "remove", node: "c" });
    const data = encodeConfEntry({ change: { type: "remove", node: "c" }, config });
    b.step({
      type: "append",
      from: "a",
      to: "b",
      term: 1,
      prevIndex: 1,
      prevTerm: 1,
      entries: [{ index: 2, term: 1, type: "conf", data }],
      commit: 1,
      leaderLast: 2,
    });
    assert.deepEqual(b.status().config.voters, ["a", "b"], "before it commits");
    b.advance(b.ready());
    b.step({
      type: "append",
      from: "c",
      to: "b",
      term: 2,
      prevIndex: 1,
      prevTerm: 1,
      entries: [{ index: 2, term: 2, type: "normal", data: bytes("") }],
      commit: 1,
      leaderLast: 2,
    });
    assert.deepEqual(b.status().config.voters, ABC);
  });

  it("rejects changes that do not apply", () => {
    const net = cluster(ABC);
    net.campaign("a");
    for (const cc of [
      { type: "addLearner", node: "b" },
      { type: "promote", node: "b" },
      { type: "remove", node: "z" },
    ] as const) {
      assert.equal(net.node("a").proposeConfChange(cc).ok, false, `${cc.type} ${cc.node}`);
    }
  });
});
