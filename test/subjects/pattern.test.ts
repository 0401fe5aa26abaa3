import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSubsetMatch, subjectMatches, subjectsCollide } from "../../src/subjects/pattern.js";
import { SubjectIndex } from "../../src/subjects/subject-index.js";
import {
  naiveMatches,
  propertySeeds,
  randomLiteralSubject,
  randomPattern,
  sub,
  type TestSub,
  withSeed,
} from "./helpers.js";

describe("subjectMatches", () => {
  const cases: [pattern: string, subject: string, expected: boolean][] = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo", "foo.bar", false],
    ["foo.bar", "foo", false],
    ["foo.*", "foo.bar", true],
    ["foo.*", "foo", false],
    ["foo.*", "foo.bar.baz", false],
    ["*", "foo", true],
    ["*", "foo.bar", false],
    ["*.bar", "foo.bar", true],
    ["*.*", "a.b", true],
    ["foo.>", "foo", false],
    ["foo.>", "foo.bar", true],
    ["foo.>", "foo.bar.baz", true],
    ["foo.>", "bar.baz", false],
    [">", "foo", true],
    [">", "foo.bar.baz", true],
    ["*.>", "foo", false],
    ["*.>", "foo.bar", true],
    ["foo*", "foo*", true],
    ["foo*", "foox", false],
    ["Foo", "foo", false],
  ];
  for (const [pattern, subject, expected] of cases) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${subject}`, () => {
      assert.equal(subjectMatches(pattern, subject), expected);
    });
  }
});

describe("isSubsetMatch", () => {
  const cases: [sub: string, pattern: string, expected: boolean][] = [
    ["foo.bar", "foo.bar", true],
    ["foo.bar", "foo.*", true],
    ["foo.bar", "foo.>", true],
    ["foo.bar", ">", true],
    ["foo.*", "foo.>", true],
    ["foo.*", "*.*", true],
    ["foo.*", "foo.bar", false],
    ["foo.>", "foo.*", false],
    ["foo.>", "foo.>", true],
    ["foo.>", "*.>", true],
    ["foo.>", ">", true],
    [">", "*.>", false],
    [">", ">", true],
    ["*", "foo", false],
    ["*.*", "foo.>", false],
    ["foo.bar.baz", "foo.*", false],
    ["foo", "foo.>", false],
    ["foo.*.baz", "foo.>", true],
  ];
  for (const [s, p, expected] of cases) {
    it(`${s} ${expected ? "is" : "is not"} a subset of ${p}`, () => {
      assert.equal(isSubsetMatch(s, p), expected);
    });
  }
});

describe("subjectsCollide", () => {
  const cases: [a: string, b: string, expected: boolean][] = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo.*", "foo.bar", true],
    ["foo.*", "*.bar", true],
    ["foo.*", "bar.*", false],
    ["foo.>", "foo", false],
    ["foo.>", "foo.bar.baz", true],
    ["foo.>", "*.*", true],
    ["foo.bar.>", "foo.baz.>", false],
    [">", "anything.at.all", true],
    ["*", "a.b", false],
    ["*.>", "a", false],
    ["a.*.c", "a.b.*", true],
    ["a.*.c", "a.b.d", false],
  ];
  for (const [a, b, expected] of cases) {
    it(`${a} ${expected ? "collides" : "does not collide"} with ${b}`, () => {
      assert.equal(subjectsCollide(a, b), expected);
      assert.equal(subjectsCollide(b, a), expected, "must be symmetric");
    });
  }
});

// Every literal subject over the pattern alphabet plus an outsider token "z", up to one token longer
// than any generated pattern: enough to witness any subset violation or collision between two patterns.
const UNIVERSE: string[] = (() => {
  const tokens = ["a", "b", "c", "z"];
  const out: string[] = [];
  let level = [""];
  for (let len = 1; len <= 5; len++) {
    const next: string[] = [];
    for (const prefix of level) for (const t of tokens) next.push(prefix === "" ? t : `${prefix}.${t}`);
    out.push(...next);
    level = next;
  }
  return out;
})();

describe("pattern property tests", () => {
  it("subjectMatches agrees with the naive matcher", () => {
    for (const seed of propertySeeds([21, 22, 23])) {
      withSeed(seed, (rng) => {
        for (let i = 0; i < 20_000; i++) {
          const p = randomPattern(rng, 5);
          const s = randomLiteralSubject(rng, 6);
          assert.equal(subjectMatches(p, s), naiveMatches(p, s), `${p} vs ${s}`);
        }
      });
    }
  });

  it("subjectMatches agrees with SubjectIndex.match", () => {
    for (const seed of propertySeeds([31, 32, 33])) {
      withSeed(seed, (rng) => {
        for (let round = 0; round < 30; round++) {
          const idx = new SubjectIndex<TestSub>();
          const subs: TestSub[] = [];
          const n = 1 + rng.int(40);
          for (let i = 0; i < n; i++) {
            const s = sub(randomPattern(rng), rng.chance(0.3) ? "q" : undefined);
            subs.push(s);
            idx.insert(s);
          }
          for (let k = 0; k < 100; k++) {
            const subject = randomLiteralSubject(rng, 5);
            const r = idx.match(subject);
            const got = new Set([...r.plain, ...r.queues.flat()]);
            const want = new Set(subs.filter((s) => subjectMatches(s.subject, subject)));
            assert.deepEqual(got, want, `round ${round}: ${subject}`);
          }
        }
      });
    }
  });

  it("isSubsetMatch and subjectsCollide agree with brute force over all short subjects", () => {
    for (const seed of propertySeeds([41, 42])) {
      withSeed(seed, (rng) => {
        for (let i = 0; i < 1500; i++) {
          const a = randomPattern(rng);
          const b = randomPattern(rng);
          let subset = true;
          let collide = false;
          for (const s of UNIVERSE) {
            const ma = naiveMatches(a, s);
            const mb = naiveMatches(b, s);
            if (ma && !mb) subset = false;
            if (ma && mb) collide = true;
          }
          assert.equal(isSubsetMatch(a, b), subset, `isSubsetMatch(${a}, ${b})`);
          assert.equal(subjectsCollide(a, b), collide, `subjectsCollide(${a}, ${b})`);
        }
      });
    }
  });
});
