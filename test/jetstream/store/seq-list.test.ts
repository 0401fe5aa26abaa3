// SeqList against a plain sorted array, through runs, gaps, head and middle removals.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SeqList } from "../../../src/jetstream/store/seq-list.js";

function check(l: SeqList, ref: number[]): void {
  assert.equal(l.length, ref.length);
  assert.equal(l.first(), ref[0] ?? 0);
  assert.equal(l.last(), ref.at(-1) ?? 0);
  for (let i = 0; i < ref.length; i++) assert.equal(l.at(i), ref[i]);
  const probes = [0, 1, ...ref, ...ref.map((s) => s + 1), ...ref.map((s) => s - 1), (ref.at(-1) ?? 0) + 5];
  for (const p of probes) {
    const lb = ref.findIndex((s) => s >= p);
    assert.equal(l.lowerBound(p), lb < 0 ? ref.length : lb, `lowerBound ${p}`);
    assert.equal(l.nextFrom(p), lb < 0 ? 0 : ref[lb]);
    const up = ref.filter((s) => s <= p);
    assert.equal(l.lastUpTo(p), up.at(-1) ?? 0);
    assert.equal(l.countFrom(p), ref.filter((s) => s >= p).length);
  }
}

describe("seq list", () => {
  it("matches a sorted array under random pushes and removals", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const l = new SeqList();
      const ref: number[] = [];
      let next = 1 + rnd(5);
      for (let op = 0; op < 60; op++) {
        const r = rnd(10);
        if (r < 6) {
          next += rnd(4) === 0 ? 1 + rnd(3) : 1; // mostly runs, sometimes gaps
          l.push(next);
          ref.push(next);
        } else if (ref.length > 0) {
          const pick = r < 8 ? 0 : r === 8 ? ref.length - 1 : rnd(ref.length);
          const seq = rnd(6) === 0 ? next + 10 : ref[pick];
          const want = ref.includes(seq);
          assert.equal(l.remove(seq), want);
          if (want) ref.splice(ref.indexOf(seq), 1);
        }
        check(l, ref);
      }
    }
  });
});
