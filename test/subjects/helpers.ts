// Shared test helpers: a seeded PRNG, random subjects over a tiny alphabet (so wildcards collide often),
// and a deliberately naive reference matcher that is independent of both the trie and pattern.ts.

import assert from "node:assert/strict";
import type { IndexedSubscription, MatchResult } from "../../src/subjects/subject-index.js";

/** mulberry32: tiny, fast, good enough to drive property tests reproducibly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * Seeds for a property test: a fixed list for reproducibility plus one fresh seed per run for coverage.
 * SUBJECTS_SEED=<n> replays a single seed printed by a failure.
 */
export function propertySeeds(fixed: readonly number[]): number[] {
  const env = process.env.SUBJECTS_SEED;
  if (env !== undefined && env !== "") return [Number(env) >>> 0];
  return [...fixed, (Date.now() ^ (process.pid << 16)) >>> 0];
}

/** Run `body` for one seed, prefixing any failure with the seed so it can be replayed. */
export function withSeed(seed: number, body: (rng: Rng) => void): void {
  try {
    body(new Rng(seed));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`property failed with seed ${seed} (replay with SUBJECTS_SEED=${seed}): ${msg}`, {
      cause: err,
    });
  }
}

export const ALPHABET = ["a", "b", "c"] as const;

export function randomLiteralSubject(rng: Rng, maxTokens = 4): string {
  const n = 1 + rng.int(maxTokens);
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push(rng.pick(ALPHABET));
  return tokens.join(".");
}

export function randomPattern(rng: Rng, maxTokens = 4): string {
  const n = 1 + rng.int(maxTokens);
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    if (i === n - 1 && r < 0.2) tokens.push(">");
    else if (r < 0.45) tokens.push("*");
    else tokens.push(rng.pick(ALPHABET));
  }
  return tokens.join(".");
}

const splitMemo = new Map<string, string[]>();

/** Memoised split: the property tests reuse a small universe of subjects and patterns. */
function split(subject: string): string[] {
  let tokens = splitMemo.get(subject);
  if (tokens === undefined) {
    tokens = subject.split(".");
    if (splitMemo.size < 100_000) splitMemo.set(subject, tokens);
  }
  return tokens;
}

/** Reference matcher written the slow, obvious way. */
export function naiveMatches(pattern: string, subject: string): boolean {
  const p = split(pattern);
  const s = split(subject);
  if (p[p.length - 1] === ">") {
    if (s.length < p.length) return false;
    for (let i = 0; i < p.length - 1; i++) if (p[i] !== "*" && p[i] !== s[i]) return false;
    return true;
  }
  if (p.length !== s.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== "*" && p[i] !== s[i]) return false;
  return true;
}

export interface NaiveResult<S> {
  plain: Set<S>;
  queues: Map<string, Set<S>>;
}

/** The collectMatches-style naive matcher: scan every live subscription. */
export function collectMatches<S extends IndexedSubscription>(
  subs: Iterable<S>,
  subject: string,
): NaiveResult<S> {
  const plain = new Set<S>();
  const queues = new Map<string, Set<S>>();
  for (const sub of subs) {
    if (!naiveMatches(sub.subject, subject)) continue;
    if (sub.queue === undefined) {
      plain.add(sub);
    } else {
      let g = queues.get(sub.queue);
      if (g === undefined) {
        g = new Set();
        queues.set(sub.queue, g);
      }
      g.add(sub);
    }
  }
  return { plain, queues };
}

/**
 * Set equality of an index result with the naive one: plain subs, and queue groups keyed by name
 * (each group must be non-empty, contain only members of that queue, and contain no duplicates).
 */
export function assertSameMatch<S extends IndexedSubscription>(
  actual: MatchResult<S>,
  expected: NaiveResult<S>,
  context: string,
): void {
  assert.equal(new Set(actual.plain).size, actual.plain.length, `${context}: duplicate plain subs`);
  assert.deepEqual(new Set(actual.plain), expected.plain, `${context}: plain subs differ`);
  const groups = new Map<string, Set<S>>();
  for (const group of actual.queues) {
    assert.ok(group.length > 0, `${context}: empty queue group`);
    const name = group[0].queue;
    assert.ok(name !== undefined, `${context}: plain sub in a queue group`);
    assert.ok(!groups.has(name), `${context}: queue "${name}" split over several groups`);
    for (const s of group) assert.equal(s.queue, name, `${context}: mixed queue names in one group`);
    const set = new Set(group);
    assert.equal(set.size, group.length, `${context}: duplicate members in queue "${name}"`);
    groups.set(name, set);
  }
  assert.deepEqual(groups, expected.queues, `${context}: queue groups differ`);
}

export interface TestSub extends IndexedSubscription {
  readonly id: number;
}

let nextId = 1;

export function sub(subject: string, queue?: string): TestSub {
  return { id: nextId++, subject, queue };
}
