// Log replication: commit rules, follower conflicts, rejection hints and the durability contract
// (Raft §5.3, §5.4.2).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppendMessage, AppendResponse, Entry } from "../../src/raft/index.js";
import { bytes, cluster, entriesWithTerms, newRaft, TestNet } from "./helpers.js";

const ABC = ["a", "b", "c"];

function append(
  to: string,
  term: number,
  prevIndex: number,
  prevTerm: number,
  entries: Entry[],
  commit = 0,
): AppendMessage {
  return {
    type: "append",
    from: "a",
    to,
    term,
    prevIndex,
    prevTerm,
    entries,
    commit,
    leaderLast: prevIndex + entries.length,
  };
}

function hs(term: number, commit = 0) {
  return { term, vote: "", commit, logDamaged: false };
}

describe("raft log replication", () => {
  it("replicates proposals and applies them everywhere once committed", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.propose("a", "x");
    net.propose("a", "y");
    for (const id of ABC) assert.deepEqual(net.applied(id), ["x", "y"]);
  });

  it("commits with a quorum even when one follower is cut off, and catches it up later", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    assert.deepEqual(net.applied("b"), ["x"]);
    assert.deepEqual(net.applied("c"), []);
    net.heal();
    net.tick(1);
    assert.deepEqual(net.applied("c"), ["x"]);
  });

  it("does not commit without a quorum", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("b");
    net.isolate("c");
    const index = net.propose("a", "x");
    assert.ok(net.node("a").log.committed < index);
  });

  it("acknowledges entries in the same Ready that persists them", () => {
    const b = newRaft("b", ABC);
    b.step(append("b", 1, 0, 0, entriesWithTerms([1, 1])));
    const rd = b.ready();
    assert.deepEqual(
      rd.entries.map((e) => e.index),
      [1, 2],
    );
    const ack = rd.messages[0] as AppendResponse;
    assert.equal(ack.type, "appendResponse");
    assert.equal(ack.index, 2);
    assert.deepEqual(rd.hardState, hs(1));
  });

  it("counts the leader's own entries toward a quorum only once persisted", () => {
    const net = cluster(ABC);
    net.campaign("a");
    const a = net.node("a");
    const result = a.propose(bytes("x"));
    assert.ok(result.ok);
    const rd = a.ready(); // not yet persisted: followers' acknowledgements alone are not enough in a 3-node cluster
    const ack = (from: string): AppendResponse => ({
      type: "appendResponse",
      from,
      to: "a",
      term: 1,
      index: result.index,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    a.advance(rd);
    assert.equal(a.log.committed, result.index - 1);
    a.step(ack("b"));
    assert.equal(a.log.committed, result.index);
  });

  it("never commits an entry of an earlier term by counting replicas (Raft figure 8)", () => {
    // a leads term 3 with [1, 2]; the term-2 entry is on a quorum (a, b), but must not be committed
    // until an entry of term 3 is.
    const a = newRaft("a", ABC, { terms: [1, 2], hardState: hs(2, 1) });
    const b = newRaft("b", ABC, { terms: [1, 2], hardState: hs(2, 1) });
    const c = newRaft("c", ABC, { terms: [1], hardState: hs(2, 1) });
    const net = new TestNet([a, b, c]);
    net.dropIf = (m) => m.type === "append" && m.to === "b" && m.entries.some((e) => e.term === 3);
    net.campaign("a");
    assert.equal(a.currentRole, "leader");
    assert.equal(a.currentTerm, 3);
    assert.equal(a.log.committed, 3, "c acknowledged the term-3 entry: it commits, and entry 2 with it");
    net.dropIf = () => false;

    const a2 = newRaft("a", ABC, { terms: [1, 2], hardState: hs(2, 1) });
    const c2 = newRaft("c", ABC, { terms: [1], hardState: hs(2, 1) });
    const net2 = new TestNet([a2, c2]);
    net2.dropIf = (m) => m.type === "append"; // nothing replicates
    net2.campaign("a");
    assert.equal(a2.currentRole, "leader");
    // b answers that it holds entry 2 (term 2): a quorum (a, b) holds it, still it is not committed.
    a2.step({
      type: "appendResponse",
      from: "b",
      to: "a",
      term: 3,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    assert.equal(a2.progressOf("b")!.match, 2);
    assert.equal(a2.log.committed, 1);
    net2.settle();
    // Once b holds the term-3 entry too, both commit.
    a2.step({
      type: "appendResponse",
      from: "b",
      to: "a",
      term: 3,
      index: 3,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    assert.equal(a2.log.committed, 3);
  });

  it("a follower replaces its conflicting uncommitted tail with the leader's entries", () => {
    const b = newRaft("b", ABC, { terms: [1, 1, 2, 2], hardState: hs(2, 2) });
    b.step(append("b", 3, 2, 1, entriesWithTerms([3], 3), 3));
    assert.equal(b.log.lastIndex(), 3);
    assert.equal(b.log.term(3), 3);
    assert.equal(b.log.committed, 3);
    const rd = b.ready();
    assert.deepEqual(
      rd.entries.map((e) => [e.index, e.term]),
      [[3, 3]],
    );
  });

  it("keeps its log when an append only repeats what it holds (a stale or duplicated message)", () => {
    const b = newRaft("b", ABC, { terms: [1, 1, 1], hardState: hs(1) });
    b.step(append("b", 1, 0, 0, entriesWithTerms([1])));
    assert.equal(b.log.lastIndex(), 3, "entries 2 and 3 do not conflict and are kept");
  });

  it("refuses to overwrite a committed entry", () => {
    const b = newRaft("b", ABC, { terms: [1, 1, 1], hardState: hs(1, 3) });
    assert.throws(() => b.step(append("b", 2, 1, 1, entriesWithTerms([2, 2], 2), 3)), /committed entry/);
  });

  it("rejects an append that does not follow on, with a hint that skips the conflicting term", () => {
    const b = newRaft("b", ABC, { terms: [1, 2, 2, 2, 2], hardState: hs(2) });
    b.step(append("b", 4, 7, 4, []));
    const [resp] = b.ready().messages as AppendResponse[];
    assert.equal(resp!.reject, true);
    assert.equal(resp!.index, 7);
    assert.equal(resp!.hintIndex, 5);
    assert.equal(resp!.hintTerm, 2);
  });

  it("a leader repairs a diverged follower in a few round trips", () => {
    // b has a long run of term-2 entries a never had; a holds term-3 entries at those indexes.
    const a = newRaft("a", ABC, { terms: [1, 1, 3, 3, 3, 3, 3], hardState: hs(3, 2) });
    const b = newRaft("b", ABC, { terms: [1, 1, 2, 2, 2, 2, 2, 2, 2, 2], hardState: hs(2, 2) });
    const c = newRaft("c", ABC, { terms: [1, 1, 3], hardState: hs(3, 2) });
    const net = new TestNet([a, b, c]);
    net.campaign("a");
    assert.equal(a.currentRole, "leader");
    const toB = net.delivered.filter((m) => m.type === "append" && m.to === "b").length;
    assert.ok(toB <= 4, `${toB} appends to b`);
    for (let i = 1; i <= a.log.lastIndex(); i++) assert.equal(b.log.term(i), a.log.term(i));
    assert.equal(b.log.lastIndex(), a.log.lastIndex());
  });

  it("heartbeats carry no more commit than the follower is known to hold", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    net.heal();
    net.dropIf = (m) => m.type === "append"; // c gets heartbeats only
    net.tick(1);
    const heartbeat = net.delivered.filter((m) => m.type === "heartbeat" && m.to === "c").at(-1);
    assert.equal(heartbeat?.type === "heartbeat" && heartbeat.commit, 1);
    assert.equal(net.node("c").log.committed, 1);
  });
});
