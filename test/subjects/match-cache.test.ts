import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MatchCache, patternMatchesSubject } from "../../src/subjects/match-cache.js";
import { naiveMatches, propertySeeds, randomLiteralSubject, randomPattern, withSeed } from "./helpers.js";

describe("MatchCache", () => {
  it("evicts the oldest quarter when full", () => {
    const cache = new MatchCache<number>(8);
    for (let i = 0; i < 8; i++) cache.set(`s${i}`, i);
    assert.equal(cache.size, 8);
    cache.set("s8", 8);
    assert.equal(cache.size, 7);
    for (const k of ["s0", "s1"]) assert.equal(cache.get(k), undefined);
    for (const k of ["s2", "s7", "s8"]) assert.notEqual(cache.get(k), undefined);
  });

  it("stores nothing with capacity 0 and rejects bad capacities", () => {
    const cache = new MatchCache<number>(0);
    cache.set("a", 1);
    assert.equal(cache.size, 0);
    assert.throws(() => new MatchCache(-1), RangeError);
    assert.throws(() => new MatchCache(1.5), RangeError);
  });

  it("invalidates literals and patterns precisely", () => {
    const cache = new MatchCache<number>(100);
    const keys = ["a", "a.b", "a.c", "a.b.c", "b.b", "x.y.z"];
    for (const k of keys) cache.set(k, 1);
    cache.invalidateLiteral("a.b");
    cache.invalidateLiteral("not.there");
    assert.equal(cache.size, 5);
    cache.invalidatePattern(["*", "b", ">"]);
    assert.deepEqual(
      keys.filter((k) => cache.get(k) !== undefined),
      ["a", "a.c", "b.b", "x.y.z"],
    );
    cache.invalidatePattern([">"]);
    assert.equal(cache.size, 0);
  });
});

describe("patternMatchesSubject", () => {
  it("handles boundaries of the in-place scan", () => {
    assert.equal(patternMatchesSubject(["foo"], "foo"), true);
    assert.equal(patternMatchesSubject(["foo"], "foobar"), false);
    assert.equal(patternMatchesSubject(["foo"], "fo"), false);
    assert.equal(patternMatchesSubject(["foo", ">"], "foo"), false);
    assert.equal(patternMatchesSubject(["foo", ">"], "foo.x"), true);
    assert.equal(patternMatchesSubject(["*"], "foo.bar"), false);
    assert.equal(patternMatchesSubject(["*", "*"], "foo"), false);
    assert.equal(patternMatchesSubject(["ab", "*"], "abc.d"), false);
    // a lenient publish subject's "*" token is literal data
    assert.equal(patternMatchesSubject(["foo", "*"], "foo.*"), true);
    assert.equal(patternMatchesSubject(["foo", "bar"], "foo.*"), false);
  });

  it("agrees with the naive matcher", () => {
    for (const seed of propertySeeds([51, 52])) {
      withSeed(seed, (rng) => {
        for (let i = 0; i < 20_000; i++) {
          const p = randomPattern(rng, 5);
          const s = randomLiteralSubject(rng, 6);
          assert.equal(patternMatchesSubject(p.split("."), s), naiveMatches(p, s), `${p} vs ${s}`);
        }
      });
    }
  });
});
