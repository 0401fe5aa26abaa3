// Elections: timeouts, terms, votes and the election restriction (Raft §5.2, §5.4.1).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message, VoteMessage } from "../../src/raft/index.js";
import { cluster, ELECTION, newRaft, TestNet } from "./helpers.js";

const ABC = ["a", "b", "c"];

function voteRequest(
  from: string,
  to: string,
  term: number,
  lastIndex: number,
  lastTerm: number,
): VoteMessage {
  return { type: "vote", from, to, term, lastIndex, lastTerm, transfer: false };
}

function responses(msgs: readonly Message[], type: Message["type"]): Message[] {
  return msgs.filter((m) => m.type === type);
}

describe("raft elections", () => {
  it("a follower that hears nothing for an election timeout campaigns and wins", () => {
    const net = cluster(ABC);
    net.tick(ELECTION - 1, ["a"]);
    assert.equal(net.node("a").currentRole, "follower");
    net.tick(1, ["a"]);
    assert.equal(net.node("a").currentRole, "leader");
    assert.equal(net.node("a").currentTerm, 1);
    assert.equal(net.node("b").leader, "a");
    // The new leader's first entry is an empty one of its own term, committed everywhere.
    assert.equal(net.node("c").log.committed, 1);
    assert.equal(net.node("c").log.term(1), 1);
  });

  it("a candidate raises its term and votes for itself; the vote is persisted before requests go out", () => {
    const a = newRaft("a", ABC, { preVote: false });
    a.campaign();
    assert.equal(a.currentRole, "candidate");
    assert.equal(a.currentTerm, 1);
    const rd = a.ready();
    assert.deepEqual(rd.hardState, { term: 1, vote: "a", commit: 0, logDamaged: false });
    assert.deepEqual(
      responses(rd.messages, "vote").map((m) => m.to),
      ["b", "c"],
    );
    a.advance(rd);
  });

  it("grants one vote per term, and answers a repeated request from the same candidate again", () => {
    const c = newRaft("c", ABC);
    c.step(voteRequest("a", "c", 1, 0, 0));
    c.step(voteRequest("b", "c", 1, 0, 0));
    c.step(voteRequest("a", "c", 1, 0, 0));
    const rd = c.ready();
    assert.deepEqual(
      rd.messages.map((m) => [m.to, m.type === "voteResponse" && m.reject]),
      [
        ["a", false],
        ["b", true],
        ["a", false],
      ],
    );
    assert.equal(rd.hardState?.vote, "a");
  });

  it("refuses candidates whose log is less up to date (lower last term, or same term and shorter)", () => {
    const cases: [number, number, boolean][] = [
      [3, 1, false], // lower last term, longer log
      [1, 2, false], // same last term, shorter
      [2, 2, true], // same
      [3, 2, true], // longer
      [1, 3, true], // higher last term, shorter
    ];
    for (const [lastIndex, lastTerm, granted] of cases) {
      const c = newRaft("c", ABC, {
        terms: [1, 2],
        hardState: { term: 2, vote: "", commit: 0, logDamaged: false },
      });
      c.step(voteRequest("a", "c", 3, lastIndex, lastTerm));
      const [resp] = c.ready().messages;
      assert.equal(resp?.type === "voteResponse" && !resp.reject, granted, `last ${lastIndex}@${lastTerm}`);
    }
  });

  it("a candidate learning of a leader in its term becomes its follower", () => {
    const net = cluster(ABC, { preVote: false });
    net.node("a").campaign();
    net.node("b").campaign(); // both term 1: b cannot get a's vote, and a cannot get b's
    net.settle();
    const leaders = net.leaders();
    assert.ok(leaders.length <= 1);
    net.tick(3 * ELECTION);
    assert.equal(net.leaders().length, 1);
    const leader = net.leaders()[0]!;
    for (const id of ABC) assert.equal(net.node(id).leader, leader);
  });

  it("a candidate rejected by a quorum goes back to being a follower", () => {
    const a = newRaft("a", ABC, { preVote: false });
    a.campaign();
    a.advance(a.ready());
    a.step({ type: "voteResponse", from: "b", to: "a", term: 1, reject: true });
    assert.equal(a.currentRole, "candidate");
    a.step({ type: "voteResponse", from: "c", to: "a", term: 1, reject: true });
    assert.equal(a.currentRole, "follower");
    assert.equal(a.currentTerm, 1);
  });

  it("a single voter elects itself and commits only what it has persisted", () => {
    const a = newRaft("a", ["a"]);
    a.campaign();
    assert.equal(a.currentRole, "leader");
    const net = new TestNet([a]);
    net.settle();
    const result = a.propose(new TextEncoder().encode("x"));
    assert.ok(result.ok);
    assert.equal(a.log.committed, 1, "not committed before the driver persisted it");
    const rd = a.ready();
    assert.equal(rd.entries.length, 1);
    assert.equal(rd.committedEntries.length, 0);
    a.advance(rd);
    assert.equal(a.log.committed, 2);
    assert.deepEqual(
      a.ready().committedEntries.map((e) => e.index),
      [2],
    );
  });

  it("a higher term in any message makes a leader step down", () => {
    const net = cluster(ABC);
    net.campaign("a");
    assert.equal(net.node("a").currentRole, "leader");
    net.node("a").step({ type: "heartbeatResponse", from: "b", to: "a", term: 5 });
    assert.equal(net.node("a").currentRole, "follower");
    assert.equal(net.node("a").currentTerm, 5);
  });

  it("ignores messages of older terms", () => {
    const b = newRaft("b", ABC, { hardState: { term: 3, vote: "", commit: 0, logDamaged: false } });
    b.step({ type: "heartbeat", from: "a", to: "b", term: 2, commit: 0 });
    assert.equal(b.leader, "");
    // ... but tells an old leader its term, so that leader steps down.
    const [resp] = b.ready().messages;
    assert.equal(resp?.type, "appendResponse");
    assert.equal(resp?.term, 3);
  });
});
