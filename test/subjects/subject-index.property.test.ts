// Random subscribe/unsubscribe/match sequences checked against the naive matcher. A three-letter
// alphabet and short subjects make wildcard overlaps, shared trie paths and cache collisions common.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_MATCH, type MatchResult, SubjectIndex } from "../../src/subjects/subject-index.js";
import {
  assertSameMatch,
  collectMatches,
  propertySeeds,
  type Rng,
  randomLiteralSubject,
  randomPattern,
  sub,
  type TestSub,
  withSeed,
} from "./helpers.js";

const QUEUES = ["q1", "q2", "q3"];

interface Held {
  subject: string;
  result: MatchResult<TestSub>;
  plain: TestSub[];
  queues: TestSub[][];
}

function runSequence(rng: Rng, cacheSize: number, steps: number): void {
  const idx = new SubjectIndex<TestSub>({ cacheSize });
  const live: TestSub[] = [];
  // results handed out earlier, with copies taken at the time, to prove they are never mutated
  const held: Held[] = [];
  let expectedInserts = 0;
  let expectedRemoves = 0;
  let expectedMatches = 0;

  for (let step = 0; step < steps; step++) {
    const ctx = `step ${step}`;
    const r = rng.float();
    if (r < 0.3 || live.length === 0) {
      const s = sub(randomPattern(rng), rng.chance(0.4) ? rng.pick(QUEUES) : undefined);
      idx.insert(s);
      live.push(s);
      expectedInserts++;
    } else if (r < 0.5) {
      const i = rng.int(live.length);
      const [s] = live.splice(i, 1);
      assert.equal(idx.remove(s), true, `${ctx}: remove ${s.subject}`);
      assert.equal(idx.remove(s), false, `${ctx}: second remove ${s.subject}`);
      expectedRemoves++;
    } else if (r < 0.9) {
      const subject = randomLiteralSubject(rng, 5);
      const result = idx.match(subject);
      expectedMatches++;
      const expected = collectMatches(live, subject);
      assertSameMatch(result, expected, `${ctx}: match ${subject}`);
      if (expected.plain.size === 0 && expected.queues.size === 0) {
        assert.equal(result, EMPTY_MATCH, `${ctx}: empty result not shared`);
      }
      if (rng.chance(0.1)) {
        held.push({
          subject,
          result,
          plain: [...result.plain],
          queues: result.queues.map((g) => [...g]),
        });
      }
    } else {
      const subject = randomLiteralSubject(rng, 5);
      const expected = collectMatches(live, subject);
      const want = expected.plain.size > 0 || expected.queues.size > 0;
      assert.equal(idx.hasInterest(subject), want, `${ctx}: hasInterest ${subject}`);
    }

    assert.equal(idx.count, live.length, `${ctx}: count`);
  }

  for (const h of held) {
    assert.deepEqual([...h.result.plain], h.plain, `held result for ${h.subject} was mutated`);
    assert.deepEqual(
      h.result.queues.map((g) => [...g]),
      h.queues,
      `held queue groups for ${h.subject} were mutated`,
    );
  }

  assert.deepEqual(new Set(idx.subscriptions()), new Set(live), "subscriptions() differs from live set");
  const stats = idx.stats();
  assert.equal(stats.inserts, expectedInserts);
  assert.equal(stats.removes, expectedRemoves);
  assert.equal(stats.matches, expectedMatches);
  assert.ok(stats.cacheEntries <= cacheSize, "cache over capacity");
  assert.ok(stats.cacheHits <= stats.matches);

  // draining everything must leave only the root behind
  for (const s of live) assert.equal(idx.remove(s), true);
  assert.equal(idx.count, 0);
  assert.equal(idx.nodeCount(), 1, "trie not pruned after removing every subscription");
  for (let i = 0; i < 50; i++) assert.equal(idx.match(randomLiteralSubject(rng, 5)), EMPTY_MATCH);
}

describe("SubjectIndex property tests", () => {
  const seeds = propertySeeds([1, 2, 3, 42, 1337, 0xdeadbeef, 20240601, 7777777]);

  for (const cacheSize of [1024, 8, 1, 0]) {
    it(`matches the naive matcher (cacheSize ${cacheSize})`, () => {
      for (const seed of seeds) withSeed(seed, (rng) => runSequence(rng, cacheSize, 3000));
    });
  }

  it("matches the naive matcher under heavy churn with a small live set", () => {
    // mostly insert/remove, so the trie repeatedly grows and prunes and cached entries get invalidated
    for (const seed of propertySeeds([11, 12, 13, 14])) {
      withSeed(seed, (rng) => {
        const idx = new SubjectIndex<TestSub>({ cacheSize: 32 });
        const live: TestSub[] = [];
        const subjects = Array.from({ length: 40 }, () => randomLiteralSubject(rng, 4));
        for (let step = 0; step < 5000; step++) {
          if (live.length < 6 || (live.length < 20 && rng.chance(0.5))) {
            const s = sub(randomPattern(rng), rng.chance(0.5) ? rng.pick(QUEUES) : undefined);
            idx.insert(s);
            live.push(s);
          } else {
            const [s] = live.splice(rng.int(live.length), 1);
            assert.equal(idx.remove(s), true);
          }
          // re-query a fixed pool of subjects so many checks go through the cache
          for (let k = 0; k < 3; k++) {
            const subject = rng.pick(subjects);
            assertSameMatch(
              idx.match(subject),
              collectMatches(live, subject),
              `step ${step}: match ${subject}`,
            );
          }
        }
        assert.ok(idx.stats().cacheHits > 0, "cache never hit");
      });
    }
  });
});
