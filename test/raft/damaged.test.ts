// A node whose stored log lost entries it may have acknowledged stays out of elections until a leader
// has given it a whole log again.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, ELECTION, entriesWithTerms, newRaft, TestNet } from "./helpers.js";

const ABC = ["a", "b", "c"];

describe("raft damaged logs", () => {
  it("records the damage in its hard state before anything else", () => {
    const c = newRaft("c", ABC, {
      entries: entriesWithTerms([1, 1]),
      damagedAfter: 2,
      hardState: { term: 1, vote: "a", commit: 4, logDamaged: false },
    });
    assert.equal(c.isLogDamaged, true);
    const rd = c.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: "a", commit: 2, logDamaged: true });
  });

  it("refuses to be given entries beyond the damage", () => {
    assert.throws(() => newRaft("c", ABC, { entries: entriesWithTerms([1, 1]), damagedAfter: 1 }));
  });

  it("neither campaigns nor votes while damaged", () => {
    const c = newRaft("c", ABC, { entries: entriesWithTerms([1]), damagedAfter: 1 });
    const net = new TestNet([c]);
    net.settle();
    net.tick(5 * ELECTION);
    assert.equal(c.currentRole, "follower");
    assert.equal(c.currentTerm, 0);
    c.step({ type: "preVote", from: "a", to: "c", term: 1, lastIndex: 5, lastTerm: 1, transfer: false });
    c.step({ type: "vote", from: "a", to: "c", term: 1, lastIndex: 5, lastTerm: 1, transfer: false });
    const answers = c.ready().messages;
    assert.deepEqual(
      answers.map((m) => (m.type === "voteResponse" || m.type === "preVoteResponse") && m.reject),
      [true, true],
    );
  });

  it("is repaired by the leader and takes part again once the repaired log is durable", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.propose("a", "x");
    net.propose("a", "y");
    // c restarts having lost its last two entries to corruption.
    const lost = net.node("c");
    const kept = lost.log.slice(1, lost.log.lastIndex() - 2);
    const c = newRaft("c", ABC, {
      entries: kept,
      damagedAfter: kept.length,
      hardState: { term: 1, vote: "a", commit: lost.log.committed, logDamaged: false },
    });
    net.add(c);
    net.settle();
    assert.equal(c.isLogDamaged, true);
    net.tick(1);
    assert.equal(c.isLogDamaged, false);
    assert.equal(c.log.lastIndex(), net.node("a").log.lastIndex());
    assert.equal(net.stored.get("c")!.hardState?.logDamaged, false);
    // The leader had counted c's lost entries: it learned they were gone and resent them.
    assert.equal(net.node("a").progressOf("c")!.match, net.node("a").log.lastIndex());
  });

  it("a leader that learns a follower lost acknowledged entries stops counting them", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.propose("a", "x");
    const a = net.node("a");
    assert.equal(a.progressOf("c")!.match, 2);
    a.step({
      type: "appendResponse",
      from: "c",
      to: "a",
      term: 1,
      index: 2,
      reject: true,
      hintIndex: 1,
      hintTerm: 1,
    });
    assert.equal(a.progressOf("c")!.match, 1);
  });
});
