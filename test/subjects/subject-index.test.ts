import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EMPTY_MATCH,
  type MatchResult,
  pickQueueMember,
  SubjectIndex,
  subjectTokens,
} from "../../src/subjects/subject-index.js";
import { sub, type TestSub } from "./helpers.js";

function ids(subs: readonly TestSub[]): number[] {
  return subs.map((s) => s.id).sort((a, b) => a - b);
}

/** Queue groups as { name: sorted ids }, for readable assertions. */
function queueIds(r: MatchResult<TestSub>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const g of r.queues) out[g[0].queue!] = ids(g);
  return out;
}

function indexWith(...subs: TestSub[]): SubjectIndex<TestSub> {
  const idx = new SubjectIndex<TestSub>();
  for (const s of subs) idx.insert(s);
  return idx;
}

describe("SubjectIndex matching", () => {
  it("a match reaching one node reuses that node's result until its subscriptions change", () => {
    const a = sub("_INBOX.x.*");
    const idx = indexWith(a);
    const first = idx.match("_INBOX.x.1", true);
    assert.deepEqual(ids(first.plain), [a.id]);
    assert.equal(idx.match("_INBOX.x.2", true), first, "same node, same result, nothing allocated");
    const b = sub("_INBOX.x.*");
    idx.insert(b);
    assert.deepEqual(ids(idx.match("_INBOX.x.3", true).plain), ids([a, b]));
    const q = sub("_INBOX.x.*", "workers");
    idx.insert(q);
    assert.deepEqual(queueIds(idx.match("_INBOX.x.4", true)), { workers: [q.id] });
    idx.remove(a);
    idx.remove(q);
    const last = idx.match("_INBOX.x.5", true);
    assert.deepEqual(ids(last.plain), [b.id]);
    assert.deepEqual(last.queues, []);
    // Two nodes reached: their subscriptions are merged into a fresh result.
    const c = sub("_INBOX.>");
    idx.insert(c);
    assert.deepEqual(ids(idx.match("_INBOX.x.6", true).plain), ids([b, c]));
  });

  it("matches literal subjects exactly", () => {
    const a = sub("foo.bar");
    const b = sub("foo.baz");
    const c = sub("foo");
    const idx = indexWith(a, b, c);
    assert.deepEqual(ids(idx.match("foo.bar").plain), [a.id]);
    assert.deepEqual(ids(idx.match("foo").plain), [c.id]);
    assert.equal(idx.match("foo.bar.baz"), EMPTY_MATCH);
    assert.equal(idx.match("bar"), EMPTY_MATCH);
  });

  it("is case-sensitive", () => {
    const idx = indexWith(sub("Foo"));
    assert.equal(idx.match("foo"), EMPTY_MATCH);
    assert.equal(idx.match("Foo").plain.length, 1);
  });

  it("'*' matches exactly one token, in any position", () => {
    const a = sub("foo.*");
    const b = sub("*.bar");
    const c = sub("*.*.baz");
    const idx = indexWith(a, b, c);
    assert.deepEqual(ids(idx.match("foo.bar").plain), [a.id, b.id]);
    assert.deepEqual(ids(idx.match("foo.x").plain), [a.id]);
    assert.deepEqual(ids(idx.match("x.y.baz").plain), [c.id]);
    // one token only: not zero, not several
    assert.equal(idx.match("foo"), EMPTY_MATCH);
    assert.equal(idx.match("foo.bar.qux"), EMPTY_MATCH);
  });

  it("'>' matches one or more trailing tokens; 'foo.>' does not match 'foo'", () => {
    const a = sub("foo.>");
    const all = sub(">");
    const idx = indexWith(a, all);
    assert.deepEqual(ids(idx.match("foo").plain), [all.id]);
    assert.deepEqual(ids(idx.match("foo.bar").plain), [a.id, all.id]);
    assert.deepEqual(ids(idx.match("foo.bar.baz.qux").plain), [a.id, all.id]);
    assert.deepEqual(ids(idx.match("bar").plain), [all.id]);
  });

  it("treats partial wildcards like 'foo*' and 'a>b' as literal tokens", () => {
    const a = sub("foo*.bar");
    const b = sub("a>b");
    const idx = indexWith(a, b);
    assert.deepEqual(ids(idx.match("foo*.bar").plain), [a.id]);
    assert.equal(idx.match("foox.bar"), EMPTY_MATCH);
    assert.deepEqual(ids(idx.match("a>b").plain), [b.id]);
    assert.equal(idx.match("a.b"), EMPTY_MATCH);
  });

  it("returns overlapping subscriptions once each", () => {
    const subs = [sub("a.b.c"), sub("a.*.c"), sub("a.>"), sub("*.b.>"), sub(">"), sub("*.*.*"), sub("a.b.*")];
    const idx = indexWith(...subs);
    const r = idx.match("a.b.c");
    assert.equal(r.plain.length, subs.length);
    assert.deepEqual(ids(r.plain), ids(subs));
  });

  it("keeps distinct subscription objects on the same subject apart", () => {
    const a = sub("x");
    const b = sub("x");
    const idx = indexWith(a, b);
    assert.deepEqual(ids(idx.match("x").plain), [a.id, b.id]);
    assert.equal(idx.remove(a), true);
    assert.deepEqual(ids(idx.match("x").plain), [b.id]);
  });

  it("groups queue members by queue name across different patterns", () => {
    const g1 = sub("foo.*", "g");
    const g2 = sub("foo.>", "g");
    const g3 = sub("foo.bar", "g");
    const h1 = sub("foo.bar", "h");
    const p = sub("foo.bar");
    const other = sub("foo.baz", "g");
    const idx = indexWith(g1, g2, g3, h1, p, other);
    const r = idx.match("foo.bar");
    assert.deepEqual(ids(r.plain), [p.id]);
    assert.equal(r.queues.length, 2);
    assert.deepEqual(queueIds(r), { g: [g1.id, g2.id, g3.id], h: [h1.id] });
    // only the '>' member of g matches deeper subjects
    assert.deepEqual(queueIds(idx.match("foo.bar.baz")), { g: [g2.id] });
  });

  it("returns queue-only results with an empty plain list", () => {
    const idx = indexWith(sub("q", "workers"));
    const r = idx.match("q");
    assert.equal(r.plain.length, 0);
    assert.equal(r.queues.length, 1);
  });

  it("treats wildcard tokens in a (lenient) publish subject literally", () => {
    const lit = sub("foo.bar");
    const star = sub("foo.*");
    const fwc = sub("foo.>");
    const idx = indexWith(lit, star, fwc);
    assert.deepEqual(ids(idx.match("foo.*").plain), [star.id, fwc.id]);
    assert.deepEqual(ids(idx.match("foo.>").plain), [star.id, fwc.id]);
  });

  it("matches nothing for subjects with empty tokens", () => {
    const idx = indexWith(sub(">"), sub("*.*"), sub("*"));
    for (const s of ["", ".", "foo.", ".foo", "foo..bar"]) {
      assert.equal(idx.match(s), EMPTY_MATCH, s);
      assert.equal(idx.hasInterest(s), false, s);
    }
    assert.equal(idx.stats().cacheEntries, 0);
  });

  it("rejects invalid subscription subjects on insert", () => {
    const idx = new SubjectIndex<TestSub>();
    for (const s of ["", "foo.", ".foo", "a..b", "a.>.b", "foo bar", ">.a"]) {
      assert.throws(() => idx.insert(sub(s)), TypeError, s);
    }
    assert.equal(idx.count, 0);
    assert.equal(idx.nodeCount(), 1);
  });
});

describe("SubjectIndex results", () => {
  it("shares one frozen empty result", () => {
    const idx = indexWith(sub("foo"));
    const a = idx.match("nothing.here");
    const b = idx.match("other");
    assert.equal(a, EMPTY_MATCH);
    assert.equal(b, EMPTY_MATCH);
    assert.ok(Object.isFrozen(EMPTY_MATCH));
    assert.ok(Object.isFrozen(EMPTY_MATCH.plain));
    assert.ok(Object.isFrozen(EMPTY_MATCH.queues));
    // an index without the cache still shares it
    assert.equal(new SubjectIndex<TestSub>({ cacheSize: 0 }).match("x"), EMPTY_MATCH);
  });

  it("returns frozen results", () => {
    const idx = indexWith(sub("a"), sub("a", "q"));
    const r = idx.match("a");
    assert.ok(Object.isFrozen(r));
    assert.ok(Object.isFrozen(r.plain));
    assert.ok(Object.isFrozen(r.queues));
    assert.ok(Object.isFrozen(r.queues[0]));
    assert.throws(() => (r.plain as TestSub[]).push(sub("a")));
  });

  it("returns the identical object on a cache hit", () => {
    const idx = indexWith(sub("a.b"), sub("a.*", "q"));
    const r1 = idx.match("a.b");
    const r2 = idx.match("a.b");
    assert.equal(r1, r2);
  });

  it("never mutates a result a caller holds when the index changes", () => {
    const a = sub("foo.bar");
    const q = sub("foo.*", "q");
    const idx = indexWith(a, q);
    const before = idx.match("foo.bar");
    const plainBefore = [...before.plain];
    const queuesBefore = before.queues.map((g) => [...g]);

    // simulate handlers subscribing/unsubscribing while the caller iterates
    const seen: TestSub[] = [];
    for (const s of before.plain) {
      seen.push(s);
      idx.insert(sub("foo.bar"));
      idx.insert(sub("foo.>", "q"));
      idx.remove(a);
    }
    assert.deepEqual(seen, plainBefore);
    assert.deepEqual([...before.plain], plainBefore);
    assert.deepEqual(
      before.queues.map((g) => [...g]),
      queuesBefore,
    );

    const after = idx.match("foo.bar");
    assert.notEqual(after, before);
    assert.equal(after.plain.length, 1);
    assert.equal(after.queues[0].length, 2);
  });
});

describe("SubjectIndex removal", () => {
  it("removes by identity and reports presence", () => {
    const a = sub("foo.*", "q");
    const lookalike = sub("foo.*", "q");
    const idx = indexWith(a);
    assert.equal(idx.remove(lookalike), false);
    assert.equal(idx.remove(a), true);
    assert.equal(idx.remove(a), false);
    assert.equal(idx.count, 0);
    assert.equal(idx.match("foo.x"), EMPTY_MATCH);
  });

  it("returns false for subjects never seen, including invalid ones", () => {
    const idx = indexWith(sub("a.b"));
    for (const s of ["a", "a.b.c", "x", "a.*", "a.>", "a..b", ""]) assert.equal(idx.remove(sub(s)), false, s);
    // wrong queue on the right subject
    assert.equal(idx.remove(sub("a.b", "q")), false);
    assert.equal(idx.count, 1);
    assert.equal(idx.stats().removes, 0);
  });

  it("prunes emptied nodes so churn does not grow the trie", () => {
    const idx = new SubjectIndex<TestSub>();
    const keep = sub("keep.me");
    idx.insert(keep);
    const baseline = idx.nodeCount();
    for (let round = 0; round < 5; round++) {
      const subs: TestSub[] = [];
      for (let i = 0; i < 200; i++) {
        subs.push(sub(`_INBOX.${round}.${i}`));
        subs.push(sub(`_INBOX.${round}.${i}.*`, "q"));
        subs.push(sub(`keep.${i}.>`));
        subs.push(sub(`keep.me.${i}`, `q${i % 3}`));
      }
      for (const s of subs) idx.insert(s);
      assert.ok(idx.nodeCount() > baseline);
      for (const s of subs) assert.equal(idx.remove(s), true);
      assert.equal(idx.nodeCount(), baseline);
    }
    assert.equal(idx.count, 1);
    assert.deepEqual([...idx.subscriptions()], [keep]);
  });

  it("keeps interior nodes that still have subscriptions or children", () => {
    const parent = sub("a");
    const child = sub("a.b.c");
    const idx = indexWith(parent, child);
    assert.equal(idx.nodeCount(), 4);
    idx.remove(child);
    assert.equal(idx.nodeCount(), 2);
    assert.deepEqual(ids(idx.match("a").plain), [parent.id]);
    idx.remove(parent);
    assert.equal(idx.nodeCount(), 1);
  });
});

describe("SubjectIndex cache invalidation", () => {
  it("a subscription made after a cached miss appears", () => {
    const idx = new SubjectIndex<TestSub>();
    assert.equal(idx.match("foo.bar"), EMPTY_MATCH);
    assert.equal(idx.stats().cacheEntries, 1);
    const s = sub("foo.bar");
    idx.insert(s);
    assert.deepEqual(ids(idx.match("foo.bar").plain), [s.id]);
    const w = sub("foo.*", "q");
    idx.insert(w);
    assert.deepEqual(queueIds(idx.match("foo.bar")), { q: [w.id] });
  });

  it("an unsubscribe after a cached hit disappears", () => {
    const lit = sub("foo.bar");
    const wc = sub("*.bar");
    const idx = indexWith(lit, wc);
    assert.equal(idx.match("foo.bar").plain.length, 2);
    assert.equal(idx.match("foo.bar").plain.length, 2); // now cached
    idx.remove(lit);
    assert.deepEqual(ids(idx.match("foo.bar").plain), [wc.id]);
    idx.remove(wc);
    assert.equal(idx.match("foo.bar"), EMPTY_MATCH);
    assert.equal(idx.hasInterest("foo.bar"), false);
  });

  it("a wildcard insert invalidates every cached literal it matches, and only those", () => {
    const idx = indexWith(sub("foo.a"));
    const subjects = ["foo.a", "foo.b", "foo.c", "foo.a.x", "bar.a", "foo"];
    const before = new Map(subjects.map((s) => [s, idx.match(s)]));
    assert.equal(idx.stats().cacheEntries, subjects.length);

    const w = sub("foo.*");
    idx.insert(w);
    // the three subjects it matches were dropped, the rest kept
    assert.equal(idx.stats().cacheEntries, 3);
    for (const s of ["foo.a", "foo.b", "foo.c"]) assert.ok(idx.match(s).plain.includes(w), s);
    for (const s of ["foo.a.x", "bar.a", "foo"]) assert.equal(idx.match(s), before.get(s), s);

    const f = sub("foo.>");
    idx.insert(f);
    for (const s of ["foo.a", "foo.b", "foo.c", "foo.a.x"]) assert.ok(idx.match(s).plain.includes(f), s);
    assert.equal(idx.match("foo"), EMPTY_MATCH);

    idx.remove(w);
    for (const s of ["foo.a", "foo.b", "foo.c"]) assert.ok(!idx.match(s).plain.includes(w), s);
  });

  it("a literal insert invalidates only its own subject", () => {
    const idx = indexWith(sub(">"));
    const other = idx.match("a.c");
    idx.match("a.b");
    idx.insert(sub("a.b"));
    assert.equal(idx.stats().cacheEntries, 1);
    assert.equal(idx.match("a.c"), other);
    assert.equal(idx.match("a.b").plain.length, 2);
  });

  it("hasInterest agrees with match with and without a cached entry", () => {
    const idx = indexWith(sub("a.*", "q"), sub("b.>"));
    for (const s of ["a.x", "b.x.y", "a", "b", "c.d", "a.x.y"]) {
      const fresh = idx.hasInterest(s); // not cached yet: walk
      const r = idx.match(s);
      assert.equal(fresh, r !== EMPTY_MATCH, s);
      assert.equal(idx.hasInterest(s), fresh, s); // from cache
    }
  });

  it("bounds the cache and evicts cheaply", () => {
    const idx = new SubjectIndex<TestSub>({ cacheSize: 16 });
    const s = sub("n.*");
    idx.insert(s);
    for (let i = 0; i < 1000; i++) {
      assert.deepEqual(ids(idx.match(`n.${i}`).plain), [s.id]);
      assert.ok(idx.stats().cacheEntries <= 16);
    }
    // recent entries survive and hit
    const hitsBefore = idx.stats().cacheHits;
    idx.match("n.999");
    assert.equal(idx.stats().cacheHits, hitsBefore + 1);
  });

  it("works with the cache disabled", () => {
    const idx = new SubjectIndex<TestSub>({ cacheSize: 0 });
    const a = sub("a.>");
    idx.insert(a);
    assert.deepEqual(ids(idx.match("a.b").plain), [a.id]);
    assert.deepEqual(ids(idx.match("a.b").plain), [a.id]);
    assert.equal(idx.stats().cacheEntries, 0);
    assert.equal(idx.stats().cacheHits, 0);
    assert.throws(() => new SubjectIndex({ cacheSize: -1 }), RangeError);
  });
});

describe("SubjectIndex bookkeeping", () => {
  it("tracks count, subscriptions and stats counters", () => {
    const idx = new SubjectIndex<TestSub>();
    assert.deepEqual(idx.stats(), {
      count: 0,
      cacheEntries: 0,
      inserts: 0,
      removes: 0,
      matches: 0,
      cacheHits: 0,
      maxFanout: 0,
      avgFanout: 0,
    });
    const subs = [sub("a"), sub("a.b"), sub("a.*", "q1"), sub("a.>", "q1"), sub("a.*", "q2"), sub(">")];
    for (const s of subs) idx.insert(s);
    assert.equal(idx.count, 6);
    assert.deepEqual(ids([...idx.subscriptions()]), ids(subs));

    idx.match("a.b"); // miss: plain a.b, > ; groups q1, q2 -> fanout 4
    idx.match("a.b"); // hit
    idx.match("a"); // miss: plain a, > -> fanout 2
    idx.match("zzz"); // miss: plain > -> fanout 1
    idx.match("zzz"); // hit
    idx.hasInterest("a.b"); // not a match
    assert.equal(idx.remove(subs[0]), true); // drops the cached "a"
    assert.equal(idx.remove(subs[0]), false);

    assert.deepEqual(idx.stats(), {
      count: 5,
      cacheEntries: 2,
      inserts: 6,
      removes: 1,
      matches: 5,
      cacheHits: 2,
      maxFanout: 4,
      avgFanout: 2.5,
    });
    assert.equal(idx.count, 5);
  });
});

describe("SubjectIndex.subscriptions", () => {
  it("tolerates removals and inserts while iterating", () => {
    const subs = ["a", "a.b", "a.*", "a.>", "b", "*.c"].map((s) => sub(s, s.length > 1 ? "q" : undefined));
    const idx = indexWith(...subs);
    const seen: TestSub[] = [];
    for (const s of idx.subscriptions()) {
      seen.push(s);
      idx.remove(s);
      if (seen.length === 1) idx.insert(sub("z.z"));
    }
    assert.ok(seen.length >= subs.length);
    for (const s of subs) assert.ok(seen.includes(s));
    assert.equal(idx.count, seen.length === subs.length ? 1 : 0);
  });
});

describe("pickQueueMember", () => {
  it("returns undefined for an empty group", () => {
    assert.equal(pickQueueMember([]), undefined);
    assert.equal(
      pickQueueMember([], () => true),
      undefined,
    );
  });

  it("starts at a random index and skips members canTake rejects, wrapping around", (t) => {
    const members = ["m0", "m1", "m2", "m3"];
    let r = 0.5; // start index 2
    // one mock for the whole test: stacking mocks of the same method does not restore cleanly on Node 20
    t.mock.method(Math, "random", () => r);
    assert.equal(pickQueueMember(members), "m2");
    assert.equal(
      pickQueueMember(members, (m) => m !== "m2"),
      "m3",
    );
    assert.equal(
      pickQueueMember(members, (m) => m === "m0" || m === "m1"),
      "m0",
    );
    assert.equal(
      pickQueueMember(members, () => false),
      undefined,
    );
    r = 0.9999999;
    assert.equal(pickQueueMember(members), "m3");
  });

  it("picks roughly uniformly", () => {
    const members = [0, 1, 2, 3];
    const counts = [0, 0, 0, 0];
    const n = 40_000;
    for (let i = 0; i < n; i++) counts[pickQueueMember(members)!]++;
    for (const c of counts) assert.ok(c > n * 0.2 && c < n * 0.3, `counts ${counts}`);
  });

  it("never returns a rejected member", () => {
    const members = [1, 2, 3, 4, 5, 6];
    for (let i = 0; i < 1000; i++) {
      const m = pickQueueMember(members, (x) => x % 2 === 0);
      assert.ok(m !== undefined && m % 2 === 0);
    }
  });
});

describe("subjectTokens", () => {
  it("splits on dots", () => {
    assert.deepEqual(subjectTokens("a.b.>"), ["a", "b", ">"]);
    assert.deepEqual(subjectTokens("single"), ["single"]);
  });
});
