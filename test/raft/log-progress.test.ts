// The in-memory log (stable/unstable tail, commit and apply positions, compaction) and a leader's
// per-peer progress (probe, replicate with an inflight limit, snapshot).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeConfig, Progress, RaftLog, type Snapshot } from "../../src/raft/index.js";
import { bytes, entriesWithTerms } from "./helpers.js";

const base: Snapshot = { meta: { index: 0, term: 0, config: makeConfig(["a"]) }, data: new Uint8Array(0) };

describe("raft log", () => {
  it("hands out only durable committed entries to apply", () => {
    const log = new RaftLog(base, entriesWithTerms([1, 1]), 0, 0);
    log.append(entriesWithTerms([1, 1], 3));
    log.commitTo(4);
    assert.deepEqual(
      log.committedToApply().map((e) => e.index),
      [1, 2],
      "3 and 4 are not persisted yet",
    );
    assert.deepEqual(
      log.unstableEntries().map((e) => e.index),
      [3, 4],
    );
    log.stable = 4;
    assert.equal(log.committedToApply().length, 4);
  });

  it("truncating a tail pulls the stable mark back, and never goes below the commit index", () => {
    const log = new RaftLog(base, entriesWithTerms([1, 1, 1]), 1, 0);
    assert.equal(log.tryAppend(1, 1, entriesWithTerms([2], 2)), 2);
    assert.equal(log.lastIndex(), 2);
    assert.equal(log.stable, 1);
    assert.throws(() => log.append(entriesWithTerms([3], 1)), /committed/);
  });

  it("skips what the leader resends below the commit index, after checking it agrees", () => {
    const log = new RaftLog(base, entriesWithTerms([1, 1, 1]), 2, 0);
    assert.equal(log.tryAppend(0, 0, entriesWithTerms([1, 1, 1, 2])), 4);
    assert.equal(log.term(4), 2);
    assert.throws(() => log.tryAppend(0, 0, entriesWithTerms([1, 5])), /committed entry/);
  });

  it("keeps the commit index within a log shortened by damage", () => {
    const log = new RaftLog(base, entriesWithTerms([1, 1]), 5, 0);
    assert.equal(log.committed, 2);
  });

  it("compacts behind the applied index and answers terms at the snapshot", () => {
    const log = new RaftLog(base, entriesWithTerms([1, 2, 2]), 3, 3);
    log.compact(2, bytes("s"));
    assert.equal(log.firstIndex(), 3);
    assert.equal(log.term(2), 2);
    assert.equal(log.term(1), undefined);
    assert.deepEqual(
      log.slice(1, 3).map((e) => e.index),
      [3],
    );
  });
});

describe("raft progress", () => {
  it("probes one append at a time, then streams up to the inflight limit", () => {
    const pr = new Progress(5, 2);
    assert.equal(pr.isPaused(), false);
    pr.sentAppend(6, 2);
    assert.equal(pr.isPaused(), true, "a probe waits for its answer");
    assert.equal(pr.maybeUpdate(6), true);
    pr.becomeReplicate();
    assert.equal(pr.next, 7);
    pr.sentAppend(8, 2);
    pr.sentAppend(10, 2);
    assert.equal(pr.next, 11);
    assert.equal(pr.isPaused(), true);
    pr.maybeUpdate(8);
    assert.equal(pr.isPaused(), false);
    assert.equal(pr.inflightCount(), 1);
  });

  it("backs off on rejection and ignores stale rejections", () => {
    const pr = new Progress(10, 4);
    pr.match = 3;
    pr.sentAppend(12, 3);
    assert.equal(pr.maybeDecrease(5, 5, 6), false, "answers an older append");
    assert.equal(pr.maybeDecrease(9, 6, 7), true);
    assert.equal(pr.next, 7);
    pr.becomeReplicate();
    assert.equal(pr.maybeDecrease(3, 3, 4), false, "at or below match: stale");
  });

  it("lowers its match when the peer says it lost acknowledged entries", () => {
    const pr = new Progress(10, 4);
    pr.maybeUpdate(9);
    pr.becomeReplicate();
    assert.equal(pr.maybeDecrease(9, 4, 5), true);
    assert.equal(pr.match, 4);
    assert.equal(pr.state, "probe");
    assert.equal(pr.next, 5);
  });

  it("a heartbeat answer frees a full pipeline", () => {
    const pr = new Progress(1, 1);
    pr.becomeReplicate();
    pr.sentAppend(3, 3);
    assert.equal(pr.isPaused(), true);
    pr.onHeartbeatResponse();
    assert.equal(pr.isPaused(), false);
  });
});
