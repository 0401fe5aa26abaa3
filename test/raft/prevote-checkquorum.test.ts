// PreVote and CheckQuorum: a node cut off from the cluster cannot disrupt a healthy leader when it
// returns, and a leader that lost its quorum steps down.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, ELECTION, newRaft, TestNet } from "./helpers.js";

const ABC = ["a", "b", "c"];

describe("raft prevote", () => {
  it("a partitioned node keeps its term, and does not unseat the leader when it returns", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.tick(5 * ELECTION, ["c"]);
    assert.equal(net.node("c").currentTerm, 1, "pre-votes do not raise the term");
    assert.equal(net.node("c").currentRole, "preCandidate");
    net.heal();
    net.tick(1);
    assert.equal(net.node("a").currentRole, "leader");
    assert.equal(net.node("a").currentTerm, 1);
    assert.equal(net.node("c").leader, "a");
  });

  it("without prevote, the returning node's higher term forces an election", () => {
    const net = cluster(ABC, { preVote: false, checkQuorum: false });
    net.campaign("a");
    net.isolate("c");
    net.tick(3 * ELECTION, ["c"]);
    assert.ok(net.node("c").currentTerm > 1);
    net.heal();
    net.tick(2 * ELECTION);
    assert.ok(net.node("a").currentTerm > 1, "the leader saw the higher term and stepped down");
  });

  it("a pre-candidate that wins the pre-vote campaigns for real", () => {
    const net = new TestNet([newRaft("a", ABC), newRaft("b", ABC), newRaft("c", ABC, { random: () => 0.5 })]);
    net.campaign("a");
    net.isolate("a"); // the leader dies
    net.tick(ELECTION - 1, ["b", "c"]);
    assert.equal(net.node("b").currentTerm, 1);
    net.tick(1, ["b", "c"]);
    assert.equal(net.node("b").currentRole, "leader");
    assert.equal(net.node("b").currentTerm, 2);
  });

  it("a node with a stale log wins no pre-vote", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    net.isolate("a");
    net.heal();
    net.isolate("a");
    // c is behind b: c's pre-vote fails, b's succeeds.
    net.tick(ELECTION, ["c"]);
    assert.notEqual(net.node("c").currentRole, "leader");
    assert.equal(net.node("c").currentTerm, 1);
    net.tick(2 * ELECTION, ["b"]);
    assert.equal(net.node("b").currentRole, "leader");
  });
});

describe("raft check quorum", () => {
  it("a leader that hears from no quorum for an election timeout steps down", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("a");
    net.tick(ELECTION, ["a"]);
    assert.equal(net.node("a").currentRole, "leader", "heard from a quorum during the first period");
    net.tick(ELECTION, ["a"]);
    assert.equal(net.node("a").currentRole, "follower");
    assert.equal(net.node("a").leader, "");
  });

  it("a leader that keeps its quorum stays", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.tick(5 * ELECTION, ["a", "b"]);
    assert.equal(net.node("a").currentRole, "leader");
  });

  it("followers that heard from a leader recently ignore vote requests (the leader's lease)", () => {
    const net = cluster(ABC, { preVote: false });
    net.campaign("a");
    const b = net.node("b");
    b.step({ type: "vote", from: "c", to: "b", term: 5, lastIndex: 10, lastTerm: 5, transfer: false });
    assert.equal(b.currentTerm, 1);
    assert.equal(b.hasReady(), false, "not even answered");
  });

  it("a vote request for a leadership transfer overrides the lease", () => {
    const net = cluster(ABC, { preVote: false });
    net.campaign("a");
    const b = net.node("b");
    b.step({ type: "vote", from: "c", to: "b", term: 5, lastIndex: 10, lastTerm: 5, transfer: true });
    assert.equal(b.currentTerm, 5);
    assert.equal(b.status().vote, "c");
  });
});
