// Leadership transfer: the leader catches the target up, stops taking proposals and sends TimeoutNow.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytes, cluster, ELECTION } from "./helpers.js";

const ABC = ["a", "b", "c"];

describe("raft leadership transfer", () => {
  it("hands leadership to an up-to-date follower at once", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.propose("a", "x");
    assert.ok(net.node("a").transferLeadership("b").ok);
    net.settle();
    assert.equal(net.node("b").currentRole, "leader");
    assert.equal(net.node("b").currentTerm, 2);
    assert.equal(net.node("a").currentRole, "follower");
    assert.equal(net.node("a").leader, "b");
    net.propose("b", "y");
    for (const id of ABC) assert.deepEqual(net.applied(id), ["x", "y"]);
  });

  it("catches a lagging target up before telling it to campaign", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    net.propose("a", "x");
    net.propose("a", "y");
    net.heal();
    const timeoutNows: number[] = [];
    const deliver = net.deliver.bind(net);
    net.deliver = (m) => {
      if (m.type === "timeoutNow") timeoutNows.push(net.node("c").log.lastIndex());
      deliver(m);
    };
    assert.ok(net.node("a").transferLeadership("c").ok);
    net.settle();
    assert.deepEqual(timeoutNows, [net.node("a").log.lastIndex() - 1], "sent once c held a's whole log");
    assert.equal(net.node("c").currentRole, "leader");
  });

  it("refuses proposals while a transfer is under way, and gives up after an election timeout", () => {
    const net = cluster(ABC);
    net.campaign("a");
    net.isolate("c");
    const a = net.node("a");
    assert.ok(a.transferLeadership("c").ok);
    net.settle();
    const refused = a.propose(bytes("x"));
    assert.equal(refused.ok, false);
    net.tick(ELECTION, ["a", "b"]);
    assert.equal(a.currentRole, "leader");
    assert.ok(a.propose(bytes("x")).ok);
  });

  it("refuses to transfer to a non-voter or from a follower", () => {
    const net = cluster(ABC);
    net.campaign("a");
    assert.equal(net.node("a").transferLeadership("z").ok, false);
    assert.equal(net.node("b").transferLeadership("c").ok, false);
  });

  it("a node whose log is damaged ignores TimeoutNow", () => {
    const net = cluster(ABC);
    net.campaign("a");
    const b = net.node("b");
    (b as unknown as { logDamaged: boolean }).logDamaged = true;
    b.step({ type: "timeoutNow", from: "a", to: "b", term: 1 });
    assert.equal(b.currentRole, "follower");
    assert.equal(b.currentTerm, 1);
  });
});
